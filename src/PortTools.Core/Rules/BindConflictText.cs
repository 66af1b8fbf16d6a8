using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace PortTools
{
    /// <summary>
    /// The conflicts of a failed bind in words: one sentence per kind of conflict (TIME-WAIT sockets, or
    /// holders that block for the same cause), several of a kind summarized with a count, then one
    /// remedy. The Conflicts list of the result keeps every socket.
    /// </summary>
    internal static class BindConflictText
    {
        /// <summary>How many kinds of conflict get a sentence of their own; the rest are counted.</summary>
        private const int KindsNamed = 3;

        /// <summary>How many holders a summary names before "and N more".</summary>
        private const int HoldersNamed = 2;

        /// <summary>Appends the causes (sentences without the final stop) and the remedy.</summary>
        public static void Append(StringBuilder text, BindDecision decision, BindRequest request, string? errorName, TargetOS os, bool tentative = false)
        {
            if (tentative)
            {
                // The failure turns on a fact nobody could read: say so before the holders.
                text.Append("bind() may fail with ").Append(errorName).Append(". ");
            }

            string subject = BindExplanation.Endpoint(request.Address, request.Port) + "/" + BindExplanation.Protocol(request.Protocol);
            List<Kind> kinds = Group(decision.Conflicts);
            for (int i = 0; i < kinds.Count && i < KindsNamed; i++)
            {
                text.Append(i == 0 ? string.Empty : ". ");
                Kind kind = kinds[i];
                if (kind.TimeWait)
                {
                    AppendTimeWait(text, decision.Proposed, kind, subject);
                }
                else if (os == TargetOS.Linux)
                {
                    AppendHolders(text, decision.Proposed, kind, subject);
                }
                else
                {
                    // Windows and BSD: the rule set's own words for the first socket of the kind.
                    text.Append(BindExplanation.Why(decision.Proposed, kind.Sockets[0], kind.Cause, os));
                    AppendMoreOfKind(text, kind);
                }

                AppendUnknownOptions(text, kind, os);
            }

            int unnamed = 0;
            for (int i = KindsNamed; i < kinds.Count; i++)
            {
                unnamed += kinds[i].Sockets.Count;
            }

            if (unnamed > 0)
            {
                text.Append(". ").Append(Count(unnamed, "more conflicting socket")).Append(" of other kinds ").Append(unnamed == 1 ? "is" : "are").Append(" in Conflicts");
            }

            if (decision.AtListen)
            {
                text.Append(". bind() succeeds, but listen() fails with ").Append(errorName);
            }

            text.Append(". ").Append(Remedy(decision.Proposed, kinds[0], os));
        }

        /// <summary>
        /// The short name of who holds the port, for the Holder column: "python3 (7865)", "+2" when more
        /// processes or sockets hold it, "uid 1000" when the owner is not known, "TIME-WAIT" for TIME-WAIT
        /// entries, which no process owns, "?" when nothing is known; null when nothing conflicts.
        /// </summary>
        public static string? HolderName(IReadOnlyList<SocketTuple> conflicts) =>
            HolderNames.Short(conflicts, socket => socket.Processes, socket => socket.State == SocketState.TimeWait && socket.Protocol == TransportProtocol.Tcp ? "TIME-WAIT" : HolderNames.User(socket.UserId));

        /// <summary>Kinds of conflict in the order the kernel met them, TIME-WAIT sockets last: a live holder is the one to act on.</summary>
        private static List<Kind> Group(List<(IndexedSocket Socket, ConflictCause Cause)> conflicts)
        {
            var kinds = new List<Kind>();
            foreach ((IndexedSocket socket, ConflictCause cause) in conflicts)
            {
                bool timeWait = socket.State == SocketState.TimeWait && socket.Protocol == TransportProtocol.Tcp;
                Kind? kind = null;
                foreach (Kind known in kinds)
                {
                    if (known.TimeWait == timeWait && known.Cause == cause)
                    {
                        kind = known;
                        break;
                    }
                }

                if (kind is null)
                {
                    kind = new Kind(timeWait, cause);
                    kinds.Add(kind);
                }

                kind.Sockets.Add(socket);
            }

            var ordered = new List<Kind>(kinds.Count);
            ordered.AddRange(kinds.FindAll(k => !k.TimeWait));
            ordered.AddRange(kinds.FindAll(k => k.TimeWait));
            return ordered;
        }

        /// <summary>"127.0.0.1:8000/tcp is held by python3 (pid 7865), listening without SO_REUSEPORT, which ..." or "3 listening sockets hold ...".</summary>
        private static void AppendHolders(StringBuilder text, IndexedSocket proposed, Kind kind, string subject)
        {
            IndexedSocket first = kind.Sockets[0];
            if (kind.Sockets.Count == 1)
            {
                text.Append(BindExplanation.Holder(first));
                string? overlap = BindExplanation.Overlap(proposed, first);
                if (overlap is not null)
                {
                    text.Append(" (").Append(overlap).Append(')');
                }
            }
            else
            {
                bool allListening = kind.Sockets.TrueForAll(s => s.IsListener);
                // Where they all sit on another address that overlaps (a wildcard), say where.
                string local = first.Socket.Local;
                bool elsewhere = BindExplanation.Overlap(proposed, first) is not null && kind.Sockets.TrueForAll(s => s.Socket.Local == local);
                text.Append(Count(kind.Sockets.Count, allListening ? "listening socket" : "socket")).Append(elsewhere ? " on " + local : string.Empty).Append(" hold ").Append(subject).Append(" (");
                AppendOwners(text, kind.Sockets);
                text.Append(')');
            }

            text.Append(Clause(proposed, kind));
        }

        /// <summary>What makes the holders of a kind block the bind, to follow their description.</summary>
        private static string Clause(IndexedSocket proposed, Kind kind)
        {
            IndexedSocket first = kind.Sockets[0];
            bool one = kind.Sockets.Count == 1;
            return kind.Cause switch
            {
                ConflictCause.ReuseAddressVersusListener => ", and SO_REUSEADDR never shares a port with a listening socket",
                ConflictCause.ReuseAddressNotOnBoth => (one ? " without" : ", none with") + " SO_REUSEADDR, which shares a port only when both sockets set it",
                ConflictCause.ReusePortNotOnBoth => (one ? " without" : ", none with") + " SO_REUSEPORT, which shares a port only when both sockets set it",
                ConflictCause.HolderOptionsUnknown => "; " + UnknownOptionText.Why(proposed, first),
                ConflictCause.ReusePortOtherUser => " as " + Uids(kind.Sockets)
                    + ", and SO_REUSEPORT shares a port only between sockets of the same user (uid " + Uid(proposed) + " here, " + Uids(kind.Sockets) + " there)",
                _ => ", and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT",
            };
        }

        /// <summary>"3 TIME-WAIT sockets hold 127.0.0.1:8000/tcp; the last expires in 52 s" or one entry with its connection.</summary>
        private static void AppendTimeWait(StringBuilder text, IndexedSocket proposed, Kind kind, string subject)
        {
            string? expiry = Expiry(kind.Sockets);
            if (kind.Sockets.Count == 1)
            {
                text.Append(subject).Append(" is held by a TIME-WAIT socket of the connection to ").Append(kind.Sockets[0].Socket.Remote);
                if (expiry is not null)
                {
                    text.Append(", which expires ").Append(expiry);
                }
            }
            else
            {
                text.Append(Count(kind.Sockets.Count, "TIME-WAIT socket")).Append(" hold ").Append(subject);
                if (expiry is not null)
                {
                    text.Append("; the last expires ").Append(expiry);
                }
            }

            string? overlap = BindExplanation.Overlap(proposed, kind.Sockets[0]);
            if (overlap is not null && kind.Sockets.Count == 1)
            {
                text.Append(" (").Append(overlap).Append(')');
            }

            if (kind.Cause == ConflictCause.HolderOptionsUnknown)
            {
                text.Append("; ").Append(UnknownOptionText.Why(proposed, kind.Sockets[0]));
            }
            else if (kind.Cause == ConflictCause.ReuseAddressNotOnBoth)
            {
                text.Append(kind.Sockets.Count == 1 ? ", and it keeps" : ", and they keep").Append(" the options of the socket that closed, which did not set SO_REUSEADDR");
            }
            else if (kind.Cause == ConflictCause.ReusePortNotOnBoth)
            {
                text.Append(kind.Sockets.Count == 1 ? ", and it keeps" : ", and they keep").Append(" the options of the socket that closed, which did not set SO_REUSEPORT");
            }
        }

        /// <summary>
        /// When the last TIME-WAIT socket of a kind expires: "in 52 s" for a table read now, "52 s after
        /// the table was read" for one that travelled; null when the table has no timers.
        /// </summary>
        internal static string? Expiry(IEnumerable<IndexedSocket> sockets)
        {
            TimeSpan? last = null;
            bool readHere = true;
            foreach (IndexedSocket socket in sockets)
            {
                if (socket.Socket.Timer == SocketTimer.TimeWait && socket.Socket.TimerExpiresIn is TimeSpan expires)
                {
                    last = last is null || expires > last ? expires : last;
                    readHere &= socket.Socket.ReadHere;
                }
            }

            if (last is null)
            {
                return null;
            }

            string seconds = Math.Ceiling(last.Value.TotalSeconds).ToString("0", CultureInfo.InvariantCulture) + " s";
            return readHere ? "in " + seconds : seconds + " after the table was read";
        }

        /// <summary>"and 2 more like it (see Conflicts)" after a rule set's description of the first socket of a kind.</summary>
        private static void AppendMoreOfKind(StringBuilder text, Kind kind)
        {
            if (kind.Sockets.Count > 1)
            {
                text.Append("; and ").Append(Count(kind.Sockets.Count - 1, "more socket")).Append(" like it (see Conflicts)");
            }
        }

        /// <summary>A certain cause that an unread option does not change says so (another uid refuses SO_REUSEPORT whatever the holder set).</summary>
        private static void AppendUnknownOptions(StringBuilder text, Kind kind, TargetOS os)
        {
            if (os == TargetOS.Linux && kind.Cause == ConflictCause.ReusePortOtherUser)
            {
                text.Append(UnknownOptionText.Irrelevant(kind.Sockets[0]));
            }
        }

        /// <summary>What to do about the first kind of conflict, the one to act on.</summary>
        private static string Remedy(IndexedSocket proposed, Kind kind, TargetOS os)
        {
            if (kind.TimeWait)
            {
                return kind.Cause switch
                {
                    ConflictCause.ReuseAddressNotOnBoth => "Wait, or set SO_REUSEADDR also on the sockets whose connections close.",
                    ConflictCause.ReusePortNotOnBoth => "Wait, or set SO_REUSEPORT also on the sockets whose connections close.",
                    _ when os == TargetOS.Linux => "Wait, or set SO_REUSEADDR, which shares the port with TIME-WAIT sockets whose closed socket had it too.",
                    _ => "Wait, or choose another port.",
                };
            }

            string who = kind.Sockets.Count == 1 ? "it" : "them";
            if (os != TargetOS.Linux)
            {
                return kind.Cause is ConflictCause.WindowsOptionsUnknown or ConflictCause.BsdOptionsUnknown
                    ? "Try the bind on that host (Test-PortBind without -SocketTable), or choose another port."
                    : "Stop " + who + " or choose another port.";
            }

            bool listening = kind.Sockets.TrueForAll(s => s.IsListener);
            return kind.Cause switch
            {
                ConflictCause.ReusePortOtherUser => "Bind as uid " + Uid(kind.Sockets[0]) + ", stop " + who + ", or choose another port.",
                ConflictCause.HolderOptionsUnknown => "Read the holder's options as root or as its owner (Get-SocketTuple reads them where it may), or try the bind on that host (Test-PortBind without -SocketTable).",
                ConflictCause.ReuseAddressNotOnBoth => "Set SO_REUSEADDR on " + (kind.Sockets.Count == 1 ? "its" : "their") + " socket too, stop " + who + ", or choose another port.",
                ConflictCause.ReusePortNotOnBoth => "Set SO_REUSEPORT on " + (kind.Sockets.Count == 1 ? "its socket" : "their sockets") + " too (as uid " + Uid(proposed) + "), stop " + who + ", or choose another port.",
                _ when listening => "Stop " + who + ", choose another port, or set SO_REUSEPORT on both sockets as the same user.",
                _ => "Stop " + who + ", choose another port, or set SO_REUSEADDR on both sockets.",
            };
        }

        /// <summary>
        /// What to do about a Linux failure that no socket causes, by its rule (the rule names are
        /// stable); null where the cause already says it or no remedy applies.
        /// </summary>
        public static string? RemedyForRule(string rule) => rule switch
        {
            "linux.eacces.privileged-port" => "Give the program CAP_NET_BIND_SERVICE, lower net.ipv4.ip_unprivileged_port_start, or choose a port at or above it.",
            "linux.eaddrnotavail.not-local" => "Bind an address of the host or the wildcard, or set IP_FREEBIND (or net.ipv4.ip_nonlocal_bind=1) to bind it before it exists.",
            "linux.eaddrnotavail.not-on-device" => "Bind an address of that device, or tie the socket to the device that has the address.",
            "linux.enodev.device" => "Name an interface of the host.",
            "linux.einval.mapped-v6only" => "Clear IPV6_V6ONLY, or bind an AF_INET socket to the IPv4 address.",
            "linux.einval.multicast-stream" => "Bind a UDP socket to receive multicast.",
            "linux.port0.exhausted" => "Free ports of the range, widen net.ipv4.ip_local_port_range, or bind a port of your own.",
            "linux.enoprotoopt.reuseport-lb" or "linux.enoprotoopt.exclusiveaddruse" => "Leave the option out on Linux.",
            _ => null,
        };

        /// <summary>"python3 (pid 7865), nginx (pid 812) and 3 more": each distinct owner, or a socket's uid when it has none.</summary>
        private static void AppendOwners(StringBuilder text, List<IndexedSocket> sockets)
        {
            // Owners by name; sockets whose owner is not visible counted by uid, so that two of them read as two.
            var names = new List<string>();
            var ownerless = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (IndexedSocket socket in sockets)
            {
                if (socket.Socket.Processes.Count > 0)
                {
                    string name = socket.Socket.Processes[0].ToString();
                    if (!names.Contains(name))
                    {
                        names.Add(name);
                    }

                    continue;
                }

                string owner = socket.UidKnown ? "uid " + Uid(socket) : "an unknown owner";
                if (ownerless.TryGetValue(owner, out int count))
                {
                    ownerless[owner] = count + 1;
                }
                else
                {
                    ownerless.Add(owner, 1);
                    names.Add(owner);
                }
            }

            for (int i = 0; i < names.Count; i++)
            {
                if (ownerless.TryGetValue(names[i], out int count))
                {
                    names[i] = (count == 1 ? "a socket" : count.ToString(CultureInfo.InvariantCulture) + " sockets") + " of " + names[i];
                }
            }

            for (int i = 0; i < names.Count && i < HoldersNamed; i++)
            {
                text.Append(i == 0 ? string.Empty : i == names.Count - 1 ? " and " : ", ").Append(names[i]);
            }

            if (names.Count > HoldersNamed)
            {
                text.Append(" and ").Append((names.Count - HoldersNamed).ToString(CultureInfo.InvariantCulture)).Append(" more");
            }
        }

        private static string Uids(List<IndexedSocket> sockets)
        {
            var uids = new List<string>();
            foreach (IndexedSocket socket in sockets)
            {
                string uid = "uid " + Uid(socket);
                if (!uids.Contains(uid))
                {
                    uids.Add(uid);
                }
            }

            return string.Join(", ", uids);
        }

        private static string Uid(IndexedSocket socket) => socket.Uid.ToString(CultureInfo.InvariantCulture);

        private static string Count(int count, string noun) => count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? string.Empty : "s");

        private sealed class Kind
        {
            public Kind(bool timeWait, ConflictCause cause)
            {
                TimeWait = timeWait;
                Cause = cause;
            }

            public bool TimeWait { get; }

            public ConflictCause Cause { get; }

            public List<IndexedSocket> Sockets { get; } = new List<IndexedSocket>();
        }
    }
}
