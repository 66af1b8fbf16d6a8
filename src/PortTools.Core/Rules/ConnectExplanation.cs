using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;
using PortTools.Rules.Linux;

namespace PortTools
{
    /// <summary>Puts connect() decisions into words: only when a result is built, never on the decision path.</summary>
    internal static class ConnectExplanation
    {
        public static PortConnectResult ToResult(ConnectDecision decision, string? computerName)
        {
            ConnectRequest request = decision.Request;
            (string Name, int Code)? error = ConnectErrors.Describe(decision.OS, decision.Error, decision.BindError);
            var conflicts = new List<SocketTuple>(decision.HasConflicts ? decision.Conflicts.Count : 0);
            if (decision.HasConflicts)
            {
                foreach (IndexedSocket socket in decision.Conflicts)
                {
                    conflicts.Add(socket.Socket);
                }
            }

            // The ports the first call may take, even when a later call of -Count fails.
            bool failed = decision.AvailableMax == 0 || decision.Stage is ConnectStage.Bind or ConnectStage.Route;
            return new PortConnectResult
            {
                Protocol = request.Protocol,
                DestinationAddress = request.Destination.Address,
                DestinationPort = request.Destination.Port,
                Address = request.Binds ? request.Address ?? (request.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any) : null,
                Port = request.Port,
                SourceAddress = decision.Source,
                CanConnect = decision.CanConnect,
                DependsOn = decision.DependsOn.Count > 0 ? decision.DependsOn : Array.Empty<string>(),
                Error = error?.Name,
                ErrorCode = error?.Code,
                SourcePort = failed ? null : decision.SourcePort,
                SourcePorts = failed || decision.Stage == ConnectStage.Prebound ? Array.Empty<int>() : decision.SourcePorts,
                Available = decision.AvailableMin,
                Count = request.Count,
                SearchedRange = decision.Stage is ConnectStage.ConnectPicks or ConnectStage.BindPicks ? decision.Range : null,
                Conflicts = conflicts,
                Rule = decision.Rule,
                Reason = Reason(decision, error?.Name),
                TargetOS = decision.OS,
                Options = Options(request),
                ComputerName = computerName,
            };
        }

        public static string Options(ConnectRequest request)
        {
            var parts = new List<string>(4);
            if (request.Binds)
            {
                IPAddress address = request.Address ?? (request.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
                parts.Add("bind=" + IPAddressText.FormatEndpoint(address, request.Port));
            }

            if (request.ReuseAddress)
            {
                parts.Add("reuseaddr");
            }

            if (request.ReusePort)
            {
                parts.Add("reuseport");
            }

            if (request.BindAddressNoPort)
            {
                parts.Add("bind_address_no_port");
            }

            if (request.LocalPortRange is PortRange range)
            {
                parts.Add("local_port_range=" + range);
            }

            if (request.Count != 1)
            {
                parts.Add("count=" + request.Count.ToString(CultureInfo.InvariantCulture));
            }

            return string.Join(" ", parts);
        }

        /// <summary>The unknown facts an uncertain answer turns on, each as a short phrase naming it and whose it is.</summary>
        public static IEnumerable<string> Unknowns(ConnectDecision decision)
        {
            ConnectUnknowns unknowns = decision.Unknowns;
            string destination = IPAddressText.FormatEndpoint(decision.Request.Destination.Address, decision.Request.Destination.Port);
            if ((unknowns & ConnectUnknowns.Source) != 0)
            {
                yield return decision.SourceChoices.Count > 0
                    ? "the source address the route to " + destination + " gives (the table's connections to it come from " + string.Join(" and ", decision.SourceChoices) + ")"
                    : "the source address the route to " + destination + " gives, which the table does not show";
            }

            if ((unknowns & ConnectUnknowns.TcpTwReuse) != 0)
            {
                yield return "net.ipv4.tcp_tw_reuse of that host, which decides whether connect() takes over the TIME-WAIT entries toward " + destination;
            }

            if ((unknowns & ConnectUnknowns.TcpTimestamps) != 0)
            {
                yield return "net.ipv4.tcp_timestamps of that host, without which no TIME-WAIT entry toward " + destination + " is taken over";
            }

            if ((unknowns & ConnectUnknowns.Timestamps) != 0)
            {
                yield return "whether the connections to " + destination + " now in TIME-WAIT recorded TCP timestamps (both ends must send them), without which none is taken over";
            }

            if ((unknowns & ConnectUnknowns.TimeWaitAge) != 0)
            {
                yield return "how long the TIME-WAIT entries toward " + destination + " have existed: tcp_tw_reuse takes over only those older than tcp_tw_reuse_delay (" + Delay(decision) + ")";
            }

            if ((unknowns & ConnectUnknowns.TcpTwReuseDelay) != 0)
            {
                yield return "net.ipv4.tcp_tw_reuse_delay of that host: tcp_tw_reuse takes over only TIME-WAIT entries toward " + destination + " older than it";
            }

            if ((unknowns & ConnectUnknowns.AutobindReuse) != 0)
            {
                yield return "net.ipv4.ip_autobind_reuse of that host, which lets bind(0) share a port with SO_REUSEADDR sockets once none is free";
            }

            if ((unknowns & ConnectUnknowns.HolderOptions) != 0)
            {
                yield return "SO_REUSEADDR and SO_REUSEPORT of the sockets that hold the range's ports, which the socket table does not show";
            }

            if ((unknowns & ConnectUnknowns.Offset) != 0 && decision.Range is PortRange range)
            {
                yield return "the kernel's per-boot hash of source, destination and port, which decides whether this connect() leaves out port "
                    + range.Start.ToString(CultureInfo.InvariantCulture) + " or " + range.End.ToString(CultureInfo.InvariantCulture) + " of the odd-sized range";
            }

            if ((unknowns & ConnectUnknowns.BindRandom) != 0)
            {
                yield return "which port bind(0) picks at random";
            }
        }

        public static string RangeUnknownPhrase(ConnectDecision decision)
        {
            PortRange defaults = new HostFacts(decision.OS).EphemeralPortRange;
            bool reserved = decision.ReservedUnknown;
            return decision.OS switch
            {
                TargetOS.Linux => "that host's net.ipv4.ip_local_port_range" + (reserved ? " and ip_local_reserved_ports (not known; the Linux default " + defaults + " with none reserved stands in)" : " (not known; the Linux default " + defaults + " stands in)"),
                TargetOS.Windows => "that host's dynamic port range" + (reserved ? " and excluded port ranges (not known; the Windows default " + defaults + " with none excluded stands in)" : " (not known; the Windows default " + defaults + " stands in)"),
                _ => "that host's net.inet.ip.portrange.first and last (not known; the " + OsBindText.Name(decision.OS) + " default " + defaults + " stands in)",
            };
        }

        private static string Delay(ConnectDecision decision) => decision.OS == TargetOS.Linux ? "1000 ms by default" : "1000 ms";

        public static string Reason(ConnectDecision decision, string? errorName)
        {
            var text = new StringBuilder(256);
            ConnectRequest request = decision.Request;
            string destination = IPAddressText.FormatEndpoint(request.Destination.Address, request.Destination.Port);
            switch (decision.Stage)
            {
                case ConnectStage.Bind:
                    string bindReason = decision.Bind is null || decision.BindRequest is null ? string.Empty : BindExplanation.Reason(decision.Bind, decision.BindRequest, errorName, decision.OS);
                    if (decision.Bind?.Otherwise is not null || decision.Bind?.AlsoFails is not null)
                    {
                        // Unknown host facts decide between two failures: the bind's Reason says both.
                        text.Append("bind() before connect() fails whatever the unknown facts are, with one error or another: ").Append(bindReason.TrimEnd('.'));
                        break;
                    }

                    text.Append("bind() before connect() fails with ").Append(errorName).Append(": ");
                    int colon = bindReason.IndexOf(": ", StringComparison.Ordinal);
                    text.Append(colon >= 0 ? bindReason.Substring(colon + 2).TrimEnd('.') : bindReason.TrimEnd('.'));
                    break;
                case ConnectStage.Route:
                    text.Append("there is no route to ").Append(destination).Append(" here, so connect() fails with ").Append(errorName).Append(" whatever the ports say");
                    break;
                case ConnectStage.Prebound:
                    Prebound(text, decision, destination, errorName);
                    break;
                default:
                    Picks(text, decision, destination, errorName);
                    break;
            }

            if (decision.Notes is not null)
            {
                foreach (string note in decision.Notes)
                {
                    text.Append(". ").Append(BindExplanation.Sentence(note));
                }
            }

            if (decision.DependsOn.Count > 0)
            {
                text.Append(". The answer depends on ").Append(string.Join("; and on ", decision.DependsOn));
                if (errorName is not null)
                {
                    text.Append(", and is ").Append(errorName).Append(" if they go against it");
                }
            }

            return text.Append('.').ToString().Replace("..", ".");
        }

        private static void Prebound(StringBuilder text, ConnectDecision decision, string destination, string? errorName)
        {
            ConnectRequest request = decision.Request;
            string port = request.Port.ToString(CultureInfo.InvariantCulture);
            if (request.Protocol == TransportProtocol.Udp)
            {
                text.Append("port ").Append(port).Append(" is bound before connect(), and a UDP connect() only records the peer: nothing about the port can fail");
                if (request.Count > 1)
                {
                    text.Append(request.ReuseAddress || request.ReusePort
                        ? "; further sockets share the port (SO_REUSEADDR or SO_REUSEPORT), so the port sets no limit"
                        : "; a second socket cannot bind the port while the first holds it: EADDRINUSE");
                }

                return;
            }

            text.Append("port ").Append(port).Append(" is bound before connect(), so connect() checks only that the 4-tuple ")
                .Append(Source(decision)).Append(':').Append(port).Append(" -> ").Append(destination).Append(" is free");
            if (!decision.HasConflicts)
            {
                text.Append(": it is");
                return;
            }

            IndexedSocket holder = decision.Conflicts[0];
            if (holder.State == SocketState.TimeWait)
            {
                text.Append(": a TIME-WAIT entry holds it, which connect() takes over when that connection recorded TCP timestamps (tcp_tw_reuse plays no part for a bound port)");
                string? expiry = BindConflictText.Expiry(new[] { holder });
                if (expiry is not null)
                {
                    text.Append("; it expires ").Append(expiry);
                }

                if (errorName is not null && decision.CanConnect == false)
                {
                    text.Append("; it did not: ").Append(errorName);
                }
            }
            else
            {
                text.Append(": ").Append(BindExplanation.Holder(holder)).Append(", so connect() fails with ").Append(errorName ?? "EADDRNOTAVAIL")
                    .Append(". Bind another source port, or 0 to let the kernel pick one");
            }
        }

        private static void Picks(StringBuilder text, ConnectDecision decision, string destination, string? errorName)
        {
            ConnectRequest request = decision.Request;
            PortRange range = decision.Range ?? default;
            string rangeText = range + " (" + RangeSource(decision) + ")";
            bool udp = request.Protocol == TransportProtocol.Udp;
            bool linux = decision.OS == TargetOS.Linux;
            if (decision.Stage == ConnectStage.BindPicks)
            {
                IPAddress address = request.Address ?? IPAddress.Any;
                text.Append("bind(").Append(IPAddressText.FormatHost(address)).Append(", 0) picks the port before connect(): ");
                if (udp)
                {
                    text.Append("a port of ").Append(rangeText).Append(" on which no UDP socket conflicts, from a random start");
                }
                else if (linux)
                {
                    text.Append("a port of ").Append(rangeText).Append(" on which no socket overlaps ").Append(address)
                        .Append(" at all (inet_csk_find_open_port), trying the ").Append(Parity(range.Start + 1)).Append(" ports first (connect() prefers the ").Append(Parity(range.Start)).Append(')')
                        .Append(request.ReuseAddress && range.Count >= 4 ? ", the lower half of the range first (SO_REUSEADDR)" : string.Empty);
                }
                else
                {
                    text.Append("a port of ").Append(rangeText).Append(" as bind(0) finds one");
                }
            }
            else if (udp)
            {
                text.Append(linux ? "connect() on an unbound UDP socket binds it first (inet_autobind): " : "connect() on an unbound UDP socket binds it first: ")
                    .Append("a port of ").Append(rangeText).Append(" on which no UDP socket conflicts with ").Append(request.Binds ? "its address" : "a wildcard bind")
                    .Append(", from a random start; UDP ports are not shared across destinations");
            }
            else if (linux)
            {
                text.Append("connect() picks the source port from ").Append(rangeText);
                if (decision.PerSocketRange)
                {
                    text.Append(", one port after another from a start the per-boot hash decides (IP_LOCAL_PORT_RANGE turns off the parity order)");
                }
                else if (range.Count >= 3)
                {
                    text.Append(", trying the ").Append(Parity(range.Start)).Append(" ports first, then the ").Append(Parity(range.Start + 1)).Append(" ones (bind(0) prefers the ").Append(Parity(range.Start + 1)).Append(')');
                }
            }
            else
            {
                text.Append("connect() picks the source port from ").Append(rangeText);
            }

            text.Append(". ");
            int usable = decision.AvailableMin ?? 0;
            string from = SourcePhrase(decision);
            bool bindPicks = decision.Stage == ConnectStage.BindPicks;
            string serves = udp || bindPicks ? " free" + (bindPicks && !udp ? " for bind()" : string.Empty) : " serve " + destination + from;
            if (decision.AvailableMin is null)
            {
                text.Append("A port is free").Append(from).Append(", and further sockets share it (SO_REUSEADDR or SO_REUSEPORT), so ports set no limit");
            }
            else if (bindPicks && decision.Scan is { Max: 0 } && decision.Relax is { Shared: > 0 })
            {
                text.Append(range.Count == 1 ? "Its one port is not" : "No port of it is").Append(" free for the first round");
                if (decision.AvailableMax > 0)
                {
                    text.Append("; the second round can serve ").Append(destination).Append(" from ").Append(Count(usable, decision.AvailableMax).ToLowerInvariant()).Append(" of them");
                }
            }
            else if (decision.AvailableMax == 0)
            {
                text.Append(range.Count == 1 ? "Its one port" : "No port of it").Append(udp || bindPicks ? (range.Count == 1 ? " is not free" : " is free") + (bindPicks && request.Address is IPAddress bound ? " for " + bound : string.Empty) : (range.Count == 1 ? " cannot serve " : " can serve ") + destination + from).Append(": ").Append(errorName);
            }
            else
            {
                string count = Count(usable, decision.AvailableMax);
                bool one = decision.AvailableMax == 1 && usable == 1;
                text.Append(count).Append(" of its ").Append(range.Count.ToString("N0", CultureInfo.InvariantCulture)).Append(range.Count == 1 ? " port " : " ports ")
                    .Append(one ? (udp || bindPicks ? "is" : "can") : (udp || bindPicks ? "are" : "can")).Append(serves);
                if (decision.SourcePort is int only)
                {
                    text.Append("; the only one it can take is ").Append(only.ToString(CultureInfo.InvariantCulture));
                }
                else if (decision.CanConnect == true && decision.Stage == ConnectStage.ConnectPicks && !udp && linux)
                {
                    text.Append("; which it tries first, the kernel's per-boot hash decides (SourcePorts lists the candidates)");
                }
                else if (decision.CanConnect == true)
                {
                    text.Append("; which one, a random start decides (SourcePorts lists the candidates)");
                }

                if (request.Count > 1)
                {
                    text.Append("; of ").Append(request.Count.ToString(CultureInfo.InvariantCulture)).Append(" calls, ")
                        .Append(decision.CanConnect == true ? "all succeed" : errorName is null ? "some may fail" : "the " + Ordinal(usable + 1) + (decision.CanConnect == false ? " fails with " : " may fail with ") + errorName);
                }
            }

            Breakdown(text, decision, destination);
        }

        /// <summary>What holds the range's ports: reserved, bind(), 4-tuples toward the destination, TIME-WAIT, and the parity quirks.</summary>
        private static void Breakdown(StringBuilder text, ConnectDecision decision, string destination)
        {
            if (decision.Range is not PortRange range)
            {
                return;
            }

            var parts = new List<string>(6);
            ConnectTables? tables = decision.Classifier switch
            {
                LinuxConnectClassifier linux => ConnectTablesOf(linux),
                _ => decision.Tables,
            };
            if (tables is null)
            {
                return;
            }

            int reserved = tables.ReservedIn(range.Start, range.End, 1);
            if (reserved > 0)
            {
                parts.Add(Ports(reserved, "is", "are") + " reserved (" + (decision.OS == TargetOS.Windows ? "excluded port ranges" : "ip_local_reserved_ports") + ")");
            }

            if (decision.Classifier is LinuxConnectClassifier classifier && decision.Stage == ConnectStage.ConnectPicks)
            {
                int held = tables.BlockedIn(range.Start, range.End, 1) - reserved;
                if (held > 0)
                {
                    parts.Add(Ports(held, "is", "are") + " held by bind() (a listener or bound socket: connect() never takes a port whose bind bucket bind() made)");
                }

                (int live, int twBlocked, int twMaybe, int twReused) = TupleCounts(classifier, tables, range, decision.PerSocketRange);
                if (live > 0)
                {
                    parts.Add(Ports(live, "already carries", "already carry") + " a connection from " + SourceText(decision) + " to " + destination + " (the 4-tuple is taken)");
                }

                if (twBlocked > 0)
                {
                    parts.Add(Ports(twBlocked, "holds", "hold") + " a TIME-WAIT entry toward " + destination + " that connect() does not take over (" + TimeWaitWhy(decision) + ")");
                }

                if (twMaybe > 0)
                {
                    parts.Add(Ports(twMaybe, "holds", "hold") + " a TIME-WAIT entry toward " + destination + " that connect() may take over");
                }

                if (twReused > 0)
                {
                    parts.Add(Ports(twReused, "holds", "hold") + " a TIME-WAIT entry toward " + destination + " that connect() takes over (tcp_tw_reuse=" + decision.TcpTwReuse.ToString(CultureInfo.InvariantCulture) + ", timestamps, older than tcp_tw_reuse_delay)");
                }

                int sharedUsable = tables.SharedIn(range.Start, range.End, 1) - live - twBlocked - twMaybe - twReused;
                if (sharedUsable > 0)
                {
                    text.Append(". Of the ports it can take, ").Append(Ports(sharedUsable, "also carries", "also carry"))
                        .Append(" other connections (to other destinations, or from other addresses): connect() shares such a port when connect() chose it for them too, which a socket table cannot show (a port a program bound before connecting serves no other connection)");
                }
            }
            else if (decision.Stage == ConnectStage.BindPicks && decision.OS == TargetOS.Linux && decision.Request.Protocol == TransportProtocol.Tcp)
            {
                int occupied = CountOccupied(tables.TcpPorts, range) - CountReservedOccupied(tables, tables.TcpPorts, range);
                int free = decision.Scan is null ? 0 : decision.Scan.Certain + decision.Scan.Uncertain;
                int taken = range.Count - reserved - free;
                if (taken > 0)
                {
                    parts.Add(Ports(taken, "holds", "hold") + " a socket that overlaps the address (connections to other destinations included: bind() shares no port with them; -BindAddressNoPort, IP_BIND_ADDRESS_NO_PORT, leaves the choice to connect(), which does)");
                }

                if (occupied > taken)
                {
                    parts.Add(Ports(occupied - taken, "holds", "hold") + " only sockets on other addresses, which do not stand in the way");
                }

                if (decision.Relax is (int shared, int unique, int taken4, int uncertain) && shared > 0)
                {
                    text.Append(". With ip_autobind_reuse and SO_REUSEADDR, a second round shares ").Append(shared.ToString("N0", CultureInfo.InvariantCulture))
                        .Append(" of them with SO_REUSEADDR sockets that do not listen: ").Append(unique.ToString("N0", CultureInfo.InvariantCulture))
                        .Append(" leave the 4-tuple to ").Append(destination).Append(" free, ").Append(taken4.ToString("N0", CultureInfo.InvariantCulture))
                        .Append(" already reach it (connect() then fails with EADDRNOTAVAIL)")
                        .Append(uncertain > 0 ? ", " + uncertain.ToString("N0", CultureInfo.InvariantCulture) + " may" : string.Empty);
                }
            }
            else
            {
                int occupied = CountOccupied(tables.PortsOf(decision.Request.Protocol), range) - CountReservedOccupied(tables, tables.PortsOf(decision.Request.Protocol), range);
                int free = decision.Scan is null ? 0 : decision.Scan.Certain;
                int taken = range.Count - reserved - free - (decision.Scan?.Uncertain ?? 0);
                if (taken > 0)
                {
                    parts.Add(Ports(taken, "is", "are") + " held by a socket that stands in the way");
                }

                if (decision.Scan is { Uncertain: > 0 } scan)
                {
                    parts.Add(Ports(scan.Uncertain, "is", "are") + " held by sockets whose sharing options decide");
                }

                if (occupied > taken + (decision.Scan?.Uncertain ?? 0))
                {
                    parts.Add(Ports(occupied - taken - (decision.Scan?.Uncertain ?? 0), "holds", "hold") + " sockets that do not stand in the way");
                }
            }

            if (decision.Scan is ScanAnalysis analysis && analysis.NeverTried > 0)
            {
                parts.Add("port " + range.End.ToString(CultureInfo.InvariantCulture) + " is never tried: the kernel rounds a range of 3 ports down to 2");
            }
            else if (decision.Scan is not null && !decision.PerSocketRange && range.Count >= 5 && (range.Count & 1) == 1 && decision.OS == TargetOS.Linux && decision.Stage == ConnectStage.ConnectPicks)
            {
                parts.Add("the range has an odd number of ports, which the kernel rounds down to even: each call leaves out " + range.Start.ToString(CultureInfo.InvariantCulture)
                    + " or " + range.End.ToString(CultureInfo.InvariantCulture) + " (the per-boot hash decides which)");
            }

            if (parts.Count > 0)
            {
                text.Append(". Of the range's ports: ").Append(string.Join("; ", parts));
            }
        }

        private static ConnectTables ConnectTablesOf(LinuxConnectClassifier classifier) => classifier.Tables;

        private static (int Live, int TimeWaitBlocked, int TimeWaitMaybe, int TimeWaitReused) TupleCounts(LinuxConnectClassifier classifier, ConnectTables tables, PortRange range, bool perSocket)
        {
            int live = 0;
            int blocked = 0;
            int maybe = 0;
            int reused = 0;
            if (classifier.Connections.IsEmpty)
            {
                return (0, 0, 0, 0);
            }

            foreach (IndexedSocket connection in classifier.Connections)
            {
                int port = connection.Port;
                if (port < range.Start || port > range.End || !connection.Local.Equals(classifier.Source) || tables.IsReserved(port) || tables.IsTcpBindHeld(port))
                {
                    continue;
                }

                if (connection.State != SocketState.TimeWait)
                {
                    live++;
                    continue;
                }

                switch (classifier.TimeWaitUse(connection))
                {
                    case PortUse.No:
                        blocked++;
                        break;
                    case PortUse.Maybe:
                        maybe++;
                        break;
                    default:
                        reused++;
                        break;
                }
            }

            return (live, blocked, maybe, reused);
        }

        private static string TimeWaitWhy(ConnectDecision decision)
        {
            int mode = decision.TcpTwReuse;
            return mode switch
            {
                0 => "net.ipv4.tcp_tw_reuse=0",
                2 => "net.ipv4.tcp_tw_reuse=2 takes over only loopback connections; or no timestamps; or younger than tcp_tw_reuse_delay",
                _ => "no TCP timestamps recorded, or younger than tcp_tw_reuse_delay",
            };
        }

        private static int CountOccupied(int[] ports, PortRange range) =>
            ConnectTables.LowerBound(ports, range.End + 1) - ConnectTables.LowerBound(ports, range.Start);

        private static int CountReservedOccupied(ConnectTables tables, int[] ports, PortRange range)
        {
            int count = 0;
            for (int i = ConnectTables.LowerBound(ports, range.Start); i < ports.Length && ports[i] <= range.End; i++)
            {
                count += tables.IsReserved(ports[i]) ? 1 : 0;
            }

            return count;
        }

        private static string RangeSource(ConnectDecision decision)
        {
            string system = decision.OS switch
            {
                TargetOS.Linux => "net.ipv4.ip_local_port_range",
                TargetOS.Windows => "the dynamic port range",
                _ => "net.inet.ip.portrange.first-last",
            };
            return decision.PerSocketRange ? system + " narrowed by IP_LOCAL_PORT_RANGE" : system;
        }

        private static string SourcePhrase(ConnectDecision decision) => decision.SourceKind switch
        {
            SourceKind.Bound => " from " + decision.Source + " (bound)",
            SourceKind.Given => " from " + decision.Source + " (the route's source address)",
            SourceKind.Loopback => " from " + decision.Source + " (the route to loopback)",
            SourceKind.LocalDestination => " from " + decision.Source + " (the destination is an address of this host)",
            SourceKind.Inferred => " from " + decision.Source + " (the address the table's connections to it use)",
            SourceKind.Ambiguous => " from " + string.Join(" or ", decision.SourceChoices) + " (the table's connections to it use each; the route decides)",
            _ => string.Empty,
        };

        private static string SourceText(ConnectDecision decision) => decision.Source?.ToString() ?? "the source address";

        private static string Source(ConnectDecision decision) => decision.Source is IPAddress source ? IPAddressText.FormatHost(source) : "(the route's source)";

        private static string Count(int min, int? max) => max is int top && top > min
            ? "At least " + min.ToString("N0", CultureInfo.InvariantCulture) + " and up to " + top.ToString("N0", CultureInfo.InvariantCulture)
            : min.ToString("N0", CultureInfo.InvariantCulture);

        private static string Parity(int port) => (port & 1) == 0 ? "even" : "odd";

        /// <summary>"1 holds" or "3 hold": a count of ports with its verb.</summary>
        private static string Ports(int count, string one, string many) =>
            count.ToString("N0", CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);

        private static string Ordinal(int n)
        {
            string number = n.ToString(CultureInfo.InvariantCulture);
            int tens = n % 100;
            return number + (tens is >= 11 and <= 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });
        }
    }
}
