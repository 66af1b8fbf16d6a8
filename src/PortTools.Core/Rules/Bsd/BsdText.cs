using System.Globalization;
using System.Text;

namespace PortTools.Rules.Bsd
{
    /// <summary>The words of the FreeBSD and macOS rule sets, built only when a result is (kernel-rules.md 3 and 4).</summary>
    internal static class BsdText
    {
        /// <summary>One conflict: who holds the port, how the bindings meet, and the check that refused it.</summary>
        public static string Why(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause, bool freeBsd)
        {
            var text = new StringBuilder(BindExplanation.Holder(holder));
            string? overlap = BindExplanation.Overlap(proposed, holder);
            if (overlap is not null && cause is not (ConflictCause.BsdDualStackIPv4 or ConflictCause.BsdDualStackOtherUser))
            {
                text.Append(" (").Append(overlap).Append(')');
            }

            string options = freeBsd ? "SO_REUSEADDR, SO_REUSEPORT or SO_REUSEPORT_LB" : "SO_REUSEADDR or SO_REUSEPORT";
            string shared = freeBsd ? "SO_REUSEPORT or SO_REUSEPORT_LB" : "SO_REUSEPORT";
            string users = "uid " + proposed.Uid.ToString(CultureInfo.InvariantCulture) + " here, uid " + holder.Uid.ToString(CultureInfo.InvariantCulture) + " there";
            text.Append("; ").Append(cause switch
            {
                ConflictCause.BsdOptionsUnknown => "whether this bind shares the port turns on " + Unknowns(holder, freeBsd) + ", which the socket table does not show; the bind fails if they go against it",
                ConflictCause.BsdOtherUser => freeBsd
                    ? "it belongs to another user (" + users + "), and FreeBSD's cross-user check refuses an unprivileged socket that overlaps another user's binding (for TCP, an unconnected one), unless both are wildcards and the holder uses SO_REUSEPORT_LB without SO_REUSEPORT (kernel-rules.md 3A step 6)"
                    : "it belongs to another user (" + users + "), and XNU's cross-user check refuses an unprivileged bind that overlaps another user's socket when either address is specific (kernel-rules.md 4A step 8)",
                ConflictCause.BsdDualStackOtherUser => "a dual-stack [::] bind also takes IPv4, and this IPv4 binding belongs to another user (" + users + ")",
                ConflictCause.BsdBestFit => "without " + options + " this socket looks for any overlapping socket (the best-fit lookup, connected and TIME-WAIT ones included), and the holder shares no " + shared + " with it",
                ConflictCause.BsdExact => "the same address and port: " + (proposed.ReuseAddress && !proposed.ReusePort && !proposed.ReusePortLoadBalance
                    ? "SO_REUSEADDR lets a socket share a port with different addresses, connections and TIME-WAIT entries, but an identical binding needs " + shared + " on both sockets"
                    : "an identical binding needs " + shared + " on both sockets, and the holder did not set it"),
                _ => "a dual-stack [::] bind also takes IPv4, and it meets " + (BsdPcb.Inet4(holder) != 0 ? "a specific IPv4 binding" : "another AF_INET6 socket's IPv4 side")
                    + " that shares no " + shared + " with it (" + (freeBsd ? "kernel-rules.md 3A step 8" : "in6_pcbbind") + "; an AF_INET socket on 0.0.0.0 would not block it)",
            });
            if ((cause is ConflictCause.BsdBestFit or ConflictCause.BsdExact or ConflictCause.BsdDualStackIPv4) && !BsdPcb.OptionsKnown(holder, freeBsd))
            {
                text.Append(" (its reuse options are not in the socket table; none of them would let this bind share the port)");
            }

            return text.ToString();
        }

        /// <summary>A DependsOn entry: the reuse options or user of a socket on the port that the table does not show.</summary>
        public static string UnknownFact(IndexedSocket holder, bool freeBsd) =>
            Unknowns(holder, freeBsd) + " of " + DemuxExplanation.Describe(holder) + ", " + (holder.Socket.Source == "Live" ? "which could not be read" : "which the socket table does not show");

        private static string Unknowns(IndexedSocket holder, bool freeBsd)
        {
            SocketTuple socket = holder.Socket;
            var names = new System.Collections.Generic.List<string>(4);
            if (socket.ReuseAddress is null)
            {
                names.Add("SO_REUSEADDR");
            }

            if (socket.ReusePort is null)
            {
                names.Add("SO_REUSEPORT");
            }

            if (freeBsd && socket.ReusePortLoadBalance is null)
            {
                names.Add("SO_REUSEPORT_LB");
            }

            string options = names.Count switch
            {
                0 => string.Empty,
                1 => names[0],
                _ => string.Join(", ", names.GetRange(0, names.Count - 1)) + " and " + names[names.Count - 1],
            };
            return holder.UidKnown ? options : options.Length == 0 ? "the user" : options + " and the user";
        }

        /// <summary>A bind caveat as a sentence; null for flags the BSDs never set.</summary>
        public static string? Caveat(BindCaveats caveat, BindDecision decision, bool freeBsd) => caveat switch
        {
            BindCaveats.MacIPv6Path => "(UNVERIFIED: the spec does not cover XNU's IPv6 bind path, in6_pcbbind; it is taken to apply the IPv4 checks to IPv6 sockets and, for a dual-stack [::], to check IPv4 sockets too, as XNU's source reads)",
            BindCaveats.MacDefaultDualStack => "(UNVERIFIED: a [::] socket whose IPV6_V6ONLY is not given is taken to be dual-stack, as in KAME-derived XNU (ip6_mapped_addr_on = 1); the current macOS default is not confirmed)",
            BindCaveats.MacWildcardLowPort => "Port " + decision.Proposed.Port.ToString(CultureInfo.InvariantCulture) + " is below 1024, but macOS lets any user bind a low port on a wildcard address; only a specific address needs privilege (UNVERIFIED: since about macOS 10.14)",
            BindCaveats.MacBoundIfIgnored => "(UNVERIFIED: IP_BOUND_IF is taken to be ignored by bind(), so sockets tied to different interfaces still conflict; kernel-rules.md row 26)",
            BindCaveats.MacReuseShareUidAbsent => "SOF_REUSESHAREUID, which would exempt the holder from the cross-user check, is not in the socket table and is taken as absent",
            BindCaveats.MacOtherUserWildcardShare => "Another user's socket shares this port: XNU's cross-user check looks only at specific addresses, so two users can both bind a wildcard port when SO_REUSEPORT is shared ([derived], kernel-rules.md 4A)",
            BindCaveats.FreeBsdOtherUserLoadBalance => "Another user's socket shares this port: on FreeBSD two unprivileged users can share a wildcard port only through SO_REUSEPORT_LB ([derived], kernel-rules.md 3A)",
            BindCaveats.FreeBsdDeviceIgnored => "FreeBSD has no SO_BINDTODEVICE: dev= in the socket table was ignored",
            BindCaveats.FreeBsdBindAnyUnprivileged => "IP_BINDANY needs privilege (PRIV_NETINET_BINDANY); without it setsockopt() fails with EPERM, so the bind was checked without it",
            BindCaveats.FreeBsdIPv6Path => "(UNVERIFIED: in6_pcbbind is taken to apply the checks of kernel-rules.md 3A alike to IPv6 sockets)",
            BindCaveats.BsdForeignOptionIgnored => (freeBsd ? "exclusiveaddruse" : "exclusiveaddruse and reuseport_lb") + " in the socket table mean nothing on " + (freeBsd ? "FreeBSD" : "macOS") + " and were ignored",
            BindCaveats.OptionsUnknown => "The reuse options of the socket the lookup found are not in the socket table and were taken as off",
            BindCaveats.UserUnknown => "The user of the overlapping socket is not in the socket table and was taken to be this user, so the cross-user check passed",
            BindCaveats.ListenOnUdp => "listen() applies to TCP only; it was not checked for UDP",
            _ => null,
        };

        /// <summary>The Reason of a FreeBSD or macOS delivery decision, where it differs from the common wording.</summary>
        public static void AppendDemux(StringBuilder text, DemuxDecision decision)
        {
            if (decision.Stage == DemuxStage.LoadBalanceGroup && decision.Socket is null && decision.Sockets is not null)
            {
                var members = decision.Sockets;
                text.Append(DemuxExplanation.Describe(members[0])).Append(" and ").Append((members.Count - 1).ToString(CultureInfo.InvariantCulture))
                    .Append(" more form a SO_REUSEPORT_LB group, which the lookup tries before the wildcard list: FreeBSD gives it to member INP_PCBLBGROUP_PKTHASH(faddr, lport, fport) mod ")
                    .Append(members.Count.ToString(CultureInfo.InvariantCulture)).Append(", a hash keyed per boot, so any of them may receive it (one sender's address and port always reach the same member)");
            }
        }

        /// <summary>A delivery caveat as a sentence; null for flags the BSDs never set.</summary>
        public static string? DemuxCaveat(DemuxCaveats caveat, DemuxDecision decision) => caveat switch
        {
            DemuxCaveats.FreeBsdNewestOfTies => "Several sockets match alike: FreeBSD's wildcard list puts the most recently bound first, and the first match wins ([derived]; the locked fallback lookup keeps the last instead, UNVERIFIED)",
            DemuxCaveats.FreeBsdInetBeforeDualStack => "An AF_INET wildcard comes before a dual-stack [::] wildcard in FreeBSD's wildcard list, so it takes IPv4 first ([derived], kernel-rules.md 3B)",
            DemuxCaveats.MacEarliestWildcard => "Several wildcard sockets match: XNU keeps the last it walks in its head-inserted chain, which is the earliest bound ([derived], kernel-rules.md 4B)",
            DemuxCaveats.MacNewestSpecific => "Several sockets bound to the destination address match: XNU takes the first in its head-inserted chain, the most recently bound ([derived])",
            DemuxCaveats.ReusePortNoBalancing => "SO_REUSEPORT without load balancing: one socket gets everything",
            DemuxCaveats.NotListening => DemuxExplanation.Describe(decision.Marker!) + " comes first in the lookup but does not listen, so the connection is refused ([derived] from tcp_input)",
            DemuxCaveats.FreeBsdIPv6Lookup => "(UNVERIFIED: FreeBSD's IPv6 lookup is taken to mirror its IPv4 lookup; kernel-rules.md 3B)",
            DemuxCaveats.MacIPv6Lookup => "(UNVERIFIED: XNU's IPv6 lookup, in6_pcblookup_hash_locked, is taken to mirror its IPv4 lookup)",
            DemuxCaveats.LoadBalanceGroupTruncated => "A SO_REUSEPORT_LB group holds at most 256 sockets; the ones past that are silently left out",
            DemuxCaveats.MacBoundInterface => "(UNVERIFIED: a socket tied to an interface with IP_BOUND_IF is taken to receive only what arrives on that interface; inp_restricted_recv)",
            DemuxCaveats.MulticastScanStopped => "The scan stopped at " + DemuxExplanation.Describe(decision.Marker!) + ", which has none of SO_REUSEPORT, SO_REUSEPORT_LB and SO_REUSEADDR, so matching sockets after it get no copy (the scan is taken to walk newest first, [derived])",
            DemuxCaveats.MembershipAssumed => "Membership in the multicast group is taken as given",
            DemuxCaveats.TimeWaitSyn => "The 4-tuple is in TIME-WAIT: the SYN is taken to open a new connection as described (UNVERIFIED)",
            DemuxCaveats.NotSyn => "The segment is not a SYN and matches no connection: it is answered with a RST",
            _ => null,
        };
    }
}
