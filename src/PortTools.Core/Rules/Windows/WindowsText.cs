using System.Globalization;
using System.Text;

namespace PortTools.Rules.Windows
{
    /// <summary>The words of the Windows rule set, built only when a result is (kernel-rules.md 2).</summary>
    internal static class WindowsText
    {
        /// <summary>
        /// One conflict: who holds the port, how the bindings meet, the matrix cell and why. "0.0.0.0:80/tcp
        /// is held by httpd (pid 4), listening; Windows' sharing matrix gives INUSE for a plain wildcard
        /// bind after a plain wildcard one: without SO_REUSEADDR on both sockets a binding is not shared".
        /// </summary>
        public static string Why(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause)
        {
            WindowsBindRules.Overlap(proposed, holder, out bool holderWild, out bool proposedWild, out bool viaDualStack);
            var text = new StringBuilder(BindExplanation.Holder(holder));
            string? overlap = BindExplanation.Overlap(proposed, holder);
            if (overlap is not null)
            {
                text.Append(" (").Append(viaDualStack ? "[::] without IPV6_V6ONLY holds the IPv4 port as well" : overlap).Append(')');
            }

            int mine = WindowsBindRules.Option(proposed);
            int theirs = WindowsBindRules.Option(holder);
            if (cause == ConflictCause.WindowsOptionsUnknown)
            {
                text.Append("; ").Append(Undecided(proposed, holder, holderWild, proposedWild));
                return text.ToString();
            }

            if (!WindowsBindRules.OptionsKnown(holder))
            {
                // A certain conflict: whatever the holder set, the matrix refuses; its options are not claimed.
                text.Append("; Windows' sharing matrix refuses a ").Append(OptionName(mine)).Append(proposedWild ? " wildcard" : " specific").Append(" bind after a ")
                    .Append(holderWild ? "wildcard" : proposedWild ? "specific" : "same-address").Append(" one whatever SO_REUSEADDR or SO_EXCLUSIVEADDRUSE that one set (")
                    .Append(WhyUnknown(holder)).Append(") (").Append(cause == ConflictCause.WindowsInUse ? "WSAEADDRINUSE" : "WSAEACCES").Append(')');
                return text.ToString();
            }

            text.Append("; Windows' sharing matrix gives ").Append(cause switch
            {
                ConflictCause.WindowsInUse => "INUSE",
                ConflictCause.WindowsDenied => "DENIED",
                _ => "CHECK",
            });
            text.Append(" for a ").Append(OptionName(mine)).Append(proposedWild ? " wildcard" : " specific").Append(" bind after a ").Append(OptionName(theirs)).Append(holderWild ? " wildcard" : proposedWild ? " specific" : " same-address").Append(" one: ");
            text.Append(cause switch
            {
                ConflictCause.WindowsAccessCheck => "a bind that overlaps another user's binding must pass an access check against that socket's security descriptor, and it belongs to user "
                    + holder.Uid.ToString(CultureInfo.InvariantCulture) + ", not " + proposed.Uid.ToString(CultureInfo.InvariantCulture) + " (WSAEACCES)",
                ConflictCause.WindowsDenied when theirs == 2 => "the holder set SO_EXCLUSIVEADDRUSE, which no other socket may overlap (WSAEACCES)",
                ConflictCause.WindowsDenied when mine == 1 && theirs == 0 => "SO_REUSEADDR takes over a port only when the first socket opted in with SO_REUSEADDR too (enhanced socket security, Windows Server 2003 and later) (WSAEACCES)",
                ConflictCause.WindowsDenied when mine == 0 && theirs == 1 => "the holder set SO_REUSEADDR on that address, but this socket did not, and a plain bind may not join it (WSAEACCES)",
                ConflictCause.WindowsDenied => "these two bindings may not share the port (WSAEACCES)",
                _ when mine == 2 => "SO_EXCLUSIVEADDRUSE is refused while another socket holds an overlapping binding (WSAEADDRINUSE)",
                _ when theirs == 2 => "the holder set SO_EXCLUSIVEADDRUSE, and its binding cannot be made again (WSAEADDRINUSE)",
                _ when mine == 0 && theirs == 1 => "the holder set SO_REUSEADDR, but sharing needs it on this socket too (WSAEADDRINUSE)",
                _ => "without SO_REUSEADDR on both sockets a binding is not shared (WSAEADDRINUSE)",
            });
            return text.ToString();
        }

        /// <summary>A DependsOn entry: the holder's options or user that decide, and why they are not known.</summary>
        public static string UnknownFact(IndexedSocket proposed, IndexedSocket holder)
        {
            WindowsBindRules.Overlap(proposed, holder, out bool holderWild, out bool proposedWild, out _);
            WindowsBindRules.Possible possible = WindowsBindRules.Weigh(proposed, holder, holderWild, proposedWild);
            SocketTuple socket = holder.Socket;
            string options = socket.ReuseAddress is null && socket.ExclusiveAddressUse is null ? "SO_REUSEADDR and SO_EXCLUSIVEADDRUSE"
                : socket.ReuseAddress is null ? "SO_REUSEADDR"
                : socket.ExclusiveAddressUse is null ? "SO_EXCLUSIVEADDRUSE"
                : string.Empty;
            string what = options.Length > 0 && possible.UserDecides ? options + " of " + DemuxExplanation.Describe(holder) + ", and its user,"
                : options.Length > 0 ? options + " of " + DemuxExplanation.Describe(holder) + ","
                : "the user of " + DemuxExplanation.Describe(holder) + ",";
            return what + " " + WhyUnknown(holder);
        }

        /// <summary>"can bind if the holder set SO_REUSEADDR (the socket table does not show its options)".</summary>
        private static string Undecided(IndexedSocket proposed, IndexedSocket holder, bool holderWild, bool proposedWild)
        {
            WindowsBindRules.Possible possible = WindowsBindRules.Weigh(proposed, holder, holderWild, proposedWild);
            var ways = new System.Collections.Generic.List<string>(3);
            if (!WindowsBindRules.OptionsKnown(holder))
            {
                if ((possible.OkOptions & 1) != 0)
                {
                    ways.Add("set neither SO_REUSEADDR nor SO_EXCLUSIVEADDRUSE");
                }

                if ((possible.OkOptions & 2) != 0)
                {
                    ways.Add("set SO_REUSEADDR");
                }

                if ((possible.OkOptions & 4) != 0)
                {
                    ways.Add("set SO_EXCLUSIVEADDRUSE");
                }
            }

            string condition = ways.Count == 0 ? string.Empty : string.Join(" or ", ways);
            if (possible.UserDecides)
            {
                condition = (condition.Length == 0 ? string.Empty : condition + " and ") + "belongs to the same user (an overlapping bind of another user must pass an access check, CHECK)";
            }

            return "this bind shares the port only if the holder " + condition + " (" + WhyUnknown(holder) + "); otherwise it fails with "
                + (possible.FirstFailure == WindowsBindRules.Cell.InUse ? "WSAEADDRINUSE" : "WSAEACCES");
        }

        private static string WhyUnknown(IndexedSocket holder) =>
            holder.Socket.Source == "Live" ? "they could not be read" : "the socket table does not show " + (WindowsBindRules.OptionsKnown(holder) ? "its user" : "them");

        private static string OptionName(int option) => option switch
        {
            1 => "SO_REUSEADDR",
            2 => "SO_EXCLUSIVEADDRUSE",
            _ => "plain",
        };

        /// <summary>A bind caveat as a sentence; null for flags Windows never sets.</summary>
        public static string? Caveat(BindCaveats caveat, BindDecision decision) => caveat switch
        {
            BindCaveats.WindowsTimeWaitIgnored => "TIME-WAIT entries on the port were not counted: Windows is taken to let a new bind through over TIME-WAIT (UNVERIFIED: kernel-rules.md 2F and rows 12-13)",
            BindCaveats.WindowsDualStackHolder => "(UNVERIFIED: a dual-stack [::] socket is taken to hold the port on the IPv4 stack as well, so an AF_INET bind meets it; kernel-rules.md row 18)",
            BindCaveats.WindowsNoPrivilegedPorts => "Port " + decision.Proposed.Port.ToString(CultureInfo.InvariantCulture) + " needs no privilege: Windows is taken to have no privileged ports (UNVERIFIED: kernel-rules.md 2E, row 24)",
            BindCaveats.WindowsConnectionHolder => "(UNVERIFIED: a connection is taken to hold its local address against new binds, as a binding with its own options; the spec does not say)",
            BindCaveats.WindowsErrorsDisagree => "The holders would give different errors; the oldest holder's is reported (UNVERIFIED: the order in which Windows checks them is not documented)",
            BindCaveats.WindowsErrorAtListen => "For a wildcard bind Windows may report WSAEADDRINUSE only at listen() or connect() (the bind error list)",
            BindCaveats.WindowsIndeterminate => "This shares an identical address and port through SO_REUSEADDR: Windows documents the behaviour of all sockets on it as indeterminate, and which one receives traffic is not defined",
            BindCaveats.WindowsForeignOptionIgnored => "reuseport and reuseport_lb in the socket table mean nothing on Windows and were ignored",
            BindCaveats.ListenOnUdp => "listen() applies to TCP only; it was not checked for UDP",
            _ => null,
        };

        /// <summary>The Reason of a Windows delivery decision.</summary>
        public static void AppendDemux(StringBuilder text, DemuxDecision decision)
        {
            if (decision.Outcome != DemuxOutcome.Nondeterministic)
            {
                return;
            }

            var sockets = decision.Sockets!;
            text.Append("Windows does not define which of these ").Append(sockets.Count.ToString(CultureInfo.InvariantCulture))
                .Append(decision.Stage == DemuxStage.BoundAddress ? " sockets bound to the destination address" : " wildcard sockets").Append(" receives it: ");
            for (int i = 0; i < sockets.Count && i < 4; i++)
            {
                text.Append(i == 0 ? string.Empty : "; ").Append(DemuxExplanation.Describe(sockets[i]));
            }

            if (sockets.Count > 4)
            {
                text.Append("; and ").Append((sockets.Count - 4).ToString(CultureInfo.InvariantCulture)).Append(" more (see Sockets)");
            }

            text.Append(". Any of them may; the engine does not guess");
        }

        /// <summary>A delivery caveat as a sentence; null for flags Windows never sets.</summary>
        public static string? DemuxCaveat(DemuxCaveats caveat) => caveat switch
        {
            DemuxCaveats.WindowsReuseAddressTie => "Identical bindings made with SO_REUSEADDR: Windows gives no guarantee which socket receives a unicast datagram or an incoming connection (kernel-rules.md 2B)",
            DemuxCaveats.WindowsUdpTie => "(UNVERIFIED: how Windows chooses among UDP sockets is not documented; kernel-rules.md 2B)",
            DemuxCaveats.WindowsConnectedVersusUnconnected => "(UNVERIFIED: whether Windows prefers a connected UDP socket to an unconnected one is not documented)",
            DemuxCaveats.WindowsFamilyChoice => "(UNVERIFIED: which of an AF_INET socket and a dual-stack [::] socket takes IPv4 traffic is not documented; kernel-rules.md row 23)",
            DemuxCaveats.WindowsSpecificTie => "(UNVERIFIED: how Windows chooses among sockets bound alike is not documented)",
            DemuxCaveats.WindowsBroadcast => "(UNVERIFIED: Windows broadcast delivery is not documented; every socket bound to the wildcard or to the broadcast address is taken to receive a copy)",
            DemuxCaveats.MembershipAssumed => "Membership in the multicast group is taken as given: sockets bound to the wildcard, to the group address or to an address of the arriving interface that joined the group all receive the data (kernel-rules.md 2B)",
            DemuxCaveats.TimeWaitSyn => "The 4-tuple is in TIME-WAIT: the SYN is taken to open a new connection as described (UNVERIFIED)",
            DemuxCaveats.NotSyn => "The segment is not a SYN and matches no connection: it is answered with a RST",
            _ => null,
        };
    }
}
