using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Will the clients on this host run out of source ports? Groups outbound connections by
    /// (protocol, local address, remote address, remote port) and sets each group against the
    /// capacity the OS gives it. A pure function of a socket table and the host facts.
    /// </summary>
    /// <remarks>
    /// A socket counts as outbound when it is connected (any TCP state but LISTEN and BOUND; a
    /// connected UDP socket), its local port lies in the ephemeral range of its protocol and family
    /// outside any reservation, and it is not an accepted child of a local listener on that port (a
    /// listener on the wildcard address owns every local address). Listeners and other bound sockets
    /// whose port lies in the range hold it for every destination: connect() skips ports that bind()
    /// took (Linux: bind buckets with fastreuse >= 0, kernel-rules 1C), so they reduce every capacity.
    /// </remarks>
    public static class EphemeralPortUsageAnalyzer
    {
        /// <summary>The utilization, in percent, past which a destination is flagged.</summary>
        public const double DefaultNearExhaustionPercent = 80;

        /// <summary>Groups the outbound sockets and measures each group, most used first.</summary>
        /// <param name="sockets">A socket table: live, or read from text.</param>
        /// <param name="host">The host's ephemeral ranges and OS; the OS decides how source ports are shared.</param>
        /// <param name="nearExhaustionPercent">Flag groups whose utilization passes this; 80 by default.</param>
        /// <returns>One row per computer, destination and local address, by utilization then ports in use, highest first.</returns>
        public static IReadOnlyList<EphemeralPortUsage> Analyze(IEnumerable<SocketTuple> sockets, HostPortSettings host, double nearExhaustionPercent = DefaultNearExhaustionPercent)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            var measured = new PortUsageHost(host);
            return Analyze(sockets, _ => measured, nearExhaustionPercent);
        }

        /// <summary>Groups the outbound sockets of a host whose facts are given (a SocketHost) and measures each group.</summary>
        /// <param name="sockets">A socket table.</param>
        /// <param name="host">The host's facts: its OS, ephemeral range and reserved ports, tcp_tw_reuse; its OS must be known.</param>
        /// <param name="nearExhaustionPercent">Flag groups whose utilization passes this; 80 by default.</param>
        /// <param name="timeWaitAge">How long each TIME-WAIT entry has existed, when known.</param>
        /// <returns>One row per computer, destination and local address.</returns>
        /// <exception cref="ArgumentException">The SocketHost does not say its OS.</exception>
        public static IReadOnlyList<EphemeralPortUsage> Analyze(IEnumerable<SocketTuple> sockets, SocketHost host, double nearExhaustionPercent = DefaultNearExhaustionPercent, Func<SocketTuple, TimeSpan?>? timeWaitAge = null)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            var measured = new PortUsageHost(HostPortSettings.From(host), host, timeWaitAge);
            return Analyze(sockets, _ => measured, nearExhaustionPercent);
        }

        /// <summary>
        /// Groups and measures sockets that come from several hosts or network namespaces, each
        /// measured against its own settings: sockets for which <paramref name="hostOf"/> gives
        /// another settings object are another table.
        /// </summary>
        /// <param name="sockets">The sockets.</param>
        /// <param name="hostOf">The settings of the host or namespace a socket was read on (one object per host).</param>
        /// <param name="nearExhaustionPercent">Flag groups whose utilization passes this; 80 by default.</param>
        /// <returns>One row per computer, destination and local address, by utilization then ports in use, highest first.</returns>
        public static IReadOnlyList<EphemeralPortUsage> Analyze(IEnumerable<SocketTuple> sockets, Func<SocketTuple, HostPortSettings> hostOf, double nearExhaustionPercent = DefaultNearExhaustionPercent)
        {
            if (hostOf is null)
            {
                throw new ArgumentNullException(nameof(hostOf));
            }

            var measured = new Dictionary<HostPortSettings, PortUsageHost>();
            return Analyze(
                sockets,
                socket =>
                {
                    HostPortSettings settings = hostOf(socket) ?? throw new ArgumentException("No port settings were given for " + socket + ".", nameof(hostOf));
                    if (!measured.TryGetValue(settings, out PortUsageHost? host))
                    {
                        host = new PortUsageHost(settings);
                        measured.Add(settings, host);
                    }

                    return host;
                },
                nearExhaustionPercent);
        }

        /// <summary>
        /// Groups and measures sockets that come from several hosts or network namespaces, each
        /// measured against its own host: sockets for which <paramref name="hostOf"/> gives another
        /// object are another table. <see cref="EphemeralPortUsage.Available"/> comes from the
        /// connect() rules (the computation Test-PortConnect makes, so the two agree) with the
        /// host's facts; facts it does not know are named in <see cref="EphemeralPortUsage.DependsOn"/>.
        /// </summary>
        /// <param name="sockets">The sockets.</param>
        /// <param name="hostOf">The host or namespace a socket was read on (one object per host).</param>
        /// <param name="nearExhaustionPercent">Flag groups whose utilization passes this; 80 by default.</param>
        /// <returns>One row per computer, destination and local address, by utilization then ports in use, highest first.</returns>
        public static IReadOnlyList<EphemeralPortUsage> Analyze(IEnumerable<SocketTuple> sockets, Func<SocketTuple, PortUsageHost> hostOf, double nearExhaustionPercent = DefaultNearExhaustionPercent)
        {
            if (sockets is null)
            {
                throw new ArgumentNullException(nameof(sockets));
            }

            if (hostOf is null)
            {
                throw new ArgumentNullException(nameof(hostOf));
            }

            if (double.IsNaN(nearExhaustionPercent) || nearExhaustionPercent < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(nearExhaustionPercent), nearExhaustionPercent, "The warning threshold is a percentage, 0 or more.");
            }

            // Tables of several hosts (remoting, merged snapshots) are measured host by host, and each
            // network namespace of a host on its own: ports and listeners of one say nothing about another's.
            var computers = new Dictionary<(string Computer, PortUsageHost Host, ulong Namespace), (NetworkNamespaceInfo? Space, List<SocketTuple> Table)>(new TableKeyComparer());
            foreach (SocketTuple socket in sockets)
            {
                if (socket is null)
                {
                    continue;
                }

                var key = (socket.ComputerName ?? string.Empty, hostOf(socket) ?? throw new ArgumentException("No host was given for " + socket + ".", nameof(hostOf)), socket.NetworkNamespace?.Inode ?? 0);
                if (!computers.TryGetValue(key, out (NetworkNamespaceInfo? Space, List<SocketTuple> Table) pool))
                {
                    pool = (socket.NetworkNamespace, new List<SocketTuple>());
                    computers[key] = pool;
                }

                pool.Table.Add(socket);
            }

            var rows = new List<EphemeralPortUsage>();
            foreach (KeyValuePair<(string Computer, PortUsageHost Host, ulong Namespace), (NetworkNamespaceInfo? Space, List<SocketTuple> Table)> computer in computers)
            {
                int first = rows.Count;
                AnalyzeComputer(computer.Value.Table, computer.Key.Computer.Length == 0 ? null : computer.Key.Computer, computer.Key.Host, nearExhaustionPercent, rows);
                for (int i = first; i < rows.Count; i++)
                {
                    rows[i].NetworkNamespace = computer.Value.Space;
                }
            }

            return rows
                .OrderByDescending(r => r.UtilizationPercent)
                .ThenByDescending(r => r.InUse)
                .ThenBy(r => r.ComputerName ?? string.Empty, StringComparer.OrdinalIgnoreCase)
                .ThenBy(r => r.NetworkNamespace?.Inode ?? 0)
                .ThenBy(r => r.Protocol)
                .ThenBy(r => r.LocalAddress.ToString(), StringComparer.Ordinal)
                .ThenBy(r => r.Destination, StringComparer.Ordinal)
                .ToArray();
        }

        private static void AnalyzeComputer(List<SocketTuple> table, string? computerName, PortUsageHost measured, double nearExhaustionPercent, List<EphemeralPortUsage> rows)
        {
            HostPortSettings host = measured.Settings;
            HostFacts facts = FactsOf(measured);
            var indexes = new Dictionary<(int Start, int End, string Reserved), SocketIndex>();

            // Sockets that wait for connections own their port on the addresses they are bound to.
            var listeners = new Dictionary<(TransportProtocol, int), List<IPAddress>>();
            var heldPorts = new Dictionary<TransportProtocol, HashSet<int>>
            {
                [TransportProtocol.Tcp] = new HashSet<int>(),
                [TransportProtocol.Udp] = new HashSet<int>(),
            };
            foreach (SocketTuple socket in table)
            {
                if (IsLocalBind(socket))
                {
                    heldPorts[socket.Protocol].Add(socket.LocalPort);
                    if (socket.State != SocketState.Bound)
                    {
                        if (!listeners.TryGetValue((socket.Protocol, socket.LocalPort), out List<IPAddress>? addresses))
                        {
                            addresses = new List<IPAddress>();
                            listeners[(socket.Protocol, socket.LocalPort)] = addresses;
                        }

                        addresses.Add(socket.LocalAddress);
                    }
                }
            }

            var groups = new Dictionary<(TransportProtocol Protocol, IPAddress Local, IPAddress Remote, int RemotePort), Group>();
            var poolPorts = new Dictionary<(TransportProtocol, AddressFamily), HashSet<int>>();
            foreach (SocketTuple socket in table)
            {
                if (!IsConnection(socket) || IsAcceptedChild(socket, listeners))
                {
                    continue;
                }

                EphemeralPortRange range = host.GetEphemeralRange(socket.Protocol, socket.AddressFamily);
                if (!range.Contains(socket.LocalPort) || range.FindReservation(socket.LocalPort) is not null)
                {
                    continue; // bound explicitly, not taken from the pool
                }

                var key = (socket.Protocol, socket.LocalAddress, socket.RemoteAddress, socket.RemotePort);
                if (!groups.TryGetValue(key, out Group? group))
                {
                    group = new Group();
                    groups[key] = group;
                }

                group.Add(socket);
                if (!poolPorts.TryGetValue((socket.Protocol, socket.AddressFamily), out HashSet<int>? ports))
                {
                    ports = new HashSet<int>();
                    poolPorts[(socket.Protocol, socket.AddressFamily)] = ports;
                }

                ports.Add(socket.LocalPort);
            }

            // Held ports per pool, counted once: connect() can use none of them for any destination.
            var held = new Dictionary<(TransportProtocol, AddressFamily), int>();
            foreach (KeyValuePair<(TransportProtocol Protocol, AddressFamily Family), HashSet<int>> pool in poolPorts)
            {
                EphemeralPortRange range = host.GetEphemeralRange(pool.Key.Protocol, pool.Key.Family);
                held[pool.Key] = heldPorts[pool.Key.Protocol].Count(p => range.Contains(p) && range.FindReservation(p) is null && !pool.Value.Contains(p));
            }

            foreach (KeyValuePair<(TransportProtocol Protocol, IPAddress Local, IPAddress Remote, int RemotePort), Group> pair in groups)
            {
                (TransportProtocol protocol, IPAddress local, IPAddress remote, int remotePort) = pair.Key;
                EphemeralPortRange range = host.GetEphemeralRange(protocol, local.AddressFamily);
                SourcePortPool pool = PoolOf(host.OS, protocol);
                HashSet<int> taken = poolPorts[(protocol, local.AddressFamily)];
                int poolInUse = pool == SourcePortPool.PerDestination ? pair.Value.Ports.Count : taken.Count;
                ConnectDecision? connect = Remaining(table, indexes, host, facts, measured.TimeWaitAge, protocol, local, remote, remotePort);
                rows.Add(new EphemeralPortUsage(
                    host.OS,
                    protocol,
                    local,
                    remote,
                    remotePort,
                    pair.Value.Ports.Count,
                    pair.Value.Established,
                    pair.Value.TimeWait,
                    pair.Value.Other,
                    pool,
                    poolInUse,
                    held[(protocol, local.AddressFamily)],
                    range.UsableCount,
                    range.TimeWaitSeconds,
                    nearExhaustionPercent,
                    RuleOf(host.OS, protocol))
                {
                    ComputerName = computerName,
                    Available = connect?.AvailableMin ?? 0,
                    DependsOn = connect is null ? Array.Empty<string>() : AvailableDependsOn(connect),
                });
            }
        }

        /// <summary>
        /// How many further connect() calls from the local address to the destination succeed: the
        /// connect() rules themselves, on one index per ephemeral range (the ranges of a protocol and
        /// family differ only on Windows).
        /// </summary>
        private static ConnectDecision? Remaining(List<SocketTuple> table, Dictionary<(int, int, string), SocketIndex> indexes, HostPortSettings host, HostFacts facts, Func<SocketTuple, TimeSpan?>? timeWaitAge, TransportProtocol protocol, IPAddress local, IPAddress remote, int remotePort)
        {
            if (remotePort == 0 || IPAddressText.IsWildcard(remote))
            {
                return null;
            }

            EphemeralPortRange range = host.GetEphemeralRange(protocol, local.AddressFamily);
            string reserved = string.Join(",", range.Reserved.Select(r => r.ToString()));
            if (!indexes.TryGetValue((range.Start, range.End, reserved), out SocketIndex? index))
            {
                // The range the settings measure against (which differ by protocol and family only on
                // Windows); whether it is the host's own is what the facts know of it.
                HostFacts rangeFacts = facts.Assume(ephemeralPortRange: new PortRange(range.Start, range.End), reservedPorts: range.Reserved.Select(r => r.Ports).ToArray());
                index = SocketIndex.Build(table, rangeFacts);
                indexes.Add((range.Start, range.End, reserved), index);
            }

            var request = new ConnectRequest
            {
                Protocol = protocol,
                Destination = new IPEndPoint(remote, remotePort),
                SourceAddress = local,
                TimeWaitAge = timeWaitAge,
            };
            return request.Validate() is null ? RuleEngine.DecideConnectCore(index, request) : null;
        }

        /// <summary>What the number of further connect() calls turns on when it is not certain (the decision lists it only when its own answer does).</summary>
        private static IReadOnlyList<string> AvailableDependsOn(ConnectDecision decision)
        {
            if (decision.AvailableMin == decision.AvailableMax)
            {
                return decision.DependsOn.Count == 0 ? Array.Empty<string>() : decision.DependsOn;
            }

            var phrases = new List<string>(decision.DependsOn);
            foreach (string phrase in ConnectExplanation.Unknowns(decision))
            {
                if (!phrases.Contains(phrase))
                {
                    phrases.Add(phrase);
                }
            }

            return phrases;
        }

        /// <summary>The facts Available is decided with: the host's, in the settings' OS; unknown where it has none.</summary>
        private static HostFacts FactsOf(PortUsageHost measured)
        {
            TargetOS os = measured.Settings.OS;
            SocketHost? facts = measured.Facts;
            return HostFacts.From(facts is null || (facts.OS is TargetOS own && own != os) ? SocketHost.Unknown(os) : facts.OS is null ? facts.With(os: os) : facts);
        }

        /// <summary>
        /// The warnings for rows past the threshold: one per destination whose pool is its own, and one
        /// per shared pool (computer, protocol, family), however many destinations draw on it.
        /// </summary>
        /// <param name="rows">Rows from <see cref="Analyze(IEnumerable{SocketTuple}, Func{SocketTuple, PortUsageHost}, double)"/>.</param>
        /// <returns>The warnings, in the order of the rows.</returns>
        public static IReadOnlyList<string> Warnings(IEnumerable<EphemeralPortUsage> rows)
        {
            if (rows is null)
            {
                throw new ArgumentNullException(nameof(rows));
            }

            var warnings = new List<string>();
            var sharedPools = new Dictionary<(string Computer, ulong Namespace, TransportProtocol Protocol, AddressFamily Family), (int Index, int Destinations, EphemeralPortUsage First)>();
            foreach (EphemeralPortUsage row in rows)
            {
                if (row is null || !row.NearExhaustion)
                {
                    continue;
                }

                string onComputer = (row.ComputerName is null ? string.Empty : " on " + row.ComputerName) + (row.NetworkNamespace is null ? string.Empty : " in network namespace " + row.NetworkNamespace);
                if (row.Pool == SourcePortPool.PerDestination)
                {
                    warnings.Add(string.Format(
                        CultureInfo.InvariantCulture,
                        "{0} connections{1} from {2} to {3} use {4:0.#}% of the {5:N0} source ports available for that destination.",
                        row.Protocol.ToString().ToUpperInvariant(),
                        onComputer,
                        IPAddressText.FormatHost(row.LocalAddress),
                        row.Destination,
                        row.UtilizationPercent,
                        row.Capacity));
                    continue;
                }

                var key = (row.ComputerName?.ToUpperInvariant() ?? string.Empty, row.NetworkNamespace?.Inode ?? 0, row.Protocol, row.AddressFamily);
                if (sharedPools.TryGetValue(key, out (int Index, int Destinations, EphemeralPortUsage First) pool))
                {
                    sharedPools[key] = (pool.Index, pool.Destinations + 1, pool.First);
                }
                else
                {
                    sharedPools[key] = (warnings.Count, 1, row);
                    warnings.Add(string.Empty); // filled in below, once the destinations are counted
                }
            }

            foreach ((int index, int destinations, EphemeralPortUsage first) in sharedPools.Values)
            {
                warnings[index] = string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} {1} connections{2} to {6} {7} use {3:0.#}% of the {4:N0} source ports that all destinations share on {5}; the busiest destination is {8}.",
                    first.Protocol.ToString().ToUpperInvariant(),
                    first.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4",
                    (string.IsNullOrEmpty(first.ComputerName) ? string.Empty : " on " + first.ComputerName) + (first.NetworkNamespace is null ? string.Empty : " in network namespace " + first.NetworkNamespace),
                    first.UtilizationPercent,
                    first.Capacity,
                    first.OS,
                    destinations,
                    destinations == 1 ? "destination" : "destinations",
                    first.Destination);
            }

            return warnings;
        }

        /// <summary>How an OS shares source ports for a protocol (kernel-rules 1C, 3C, 4C and table row 25).</summary>
        /// <param name="os">The OS.</param>
        /// <param name="protocol">TCP or UDP.</param>
        /// <returns>The pool kind.</returns>
        public static SourcePortPool PoolOf(TargetOS os, TransportProtocol protocol) =>
            os == TargetOS.FreeBSD || (protocol == TransportProtocol.Tcp && os == TargetOS.Linux) ? SourcePortPool.PerDestination : SourcePortPool.Shared;

        /// <summary>The rule behind <see cref="PoolOf"/>, as a sentence naming its spec section.</summary>
        /// <param name="os">The OS.</param>
        /// <param name="protocol">TCP or UDP.</param>
        /// <returns>The sentence.</returns>
        public static string RuleOf(TargetOS os, TransportProtocol protocol)
        {
            if (protocol == TransportProtocol.Udp)
            {
                return os switch
                {
                    TargetOS.Linux => "Linux UDP: an automatically bound port must not be in use by any other socket (udp_lib_get_port, kernel-rules 1C), so all destinations share one pool. UDP has no TIME_WAIT: a port is free when its socket closes.",
                    TargetOS.FreeBSD => "FreeBSD UDP: connect() picks its port as TCP's does (in_pcb_lport_dest, kernel-rules 3C; [derived] for UDP), so a port serves different destinations. UDP has no TIME_WAIT.",
                    _ => os + " UDP: an automatically bound port is treated as exclusive, as on Linux (kernel-rules 1C; not confirmed for " + os + "), so all destinations share one pool. UDP has no TIME_WAIT.",
                };
            }

            return os switch
            {
                TargetOS.Linux => "Linux TCP: connect() reuses a source port toward a different destination when the 4-tuple stays unique (__inet_hash_connect, kernel-rules 1C, row 25), so each destination has the usable range to itself. TIME_WAIT counts as in use, though tcp_tw_reuse may take some over.",
                TargetOS.FreeBSD => "FreeBSD TCP: connect() may reuse a source port toward a different peer (in_pcb_lport_dest, kernel-rules 3C, row 25), so each destination has the usable range to itself.",
                TargetOS.MacOS => "macOS TCP: connect()'s implicit bind looks the port up with the wildcard address, so a port in use toward any destination is unavailable (kernel-rules 4C, row 25); all destinations share one pool.",
                _ => "Windows TCP: whether connect() shares a source port across destinations is UNVERIFIED (kernel-rules row 25), so all destinations are counted against one shared pool, the cautious reading.",
            };
        }

        /// <summary>Listeners, unconnected UDP sockets and bound-only TCP sockets: they hold their port for every destination.</summary>
        private static bool IsLocalBind(SocketTuple socket) => socket.Protocol == TransportProtocol.Tcp
            ? socket.State is SocketState.Listen or SocketState.Bound
            : socket.State == SocketState.Unconnected;

        private static bool IsConnection(SocketTuple socket)
        {
            if (!socket.HasRemote)
            {
                return false;
            }

            return socket.Protocol == TransportProtocol.Udp
                ? socket.State == SocketState.Connected
                : socket.State is not (SocketState.Listen or SocketState.Bound or SocketState.Closed or SocketState.Unknown or SocketState.Unconnected or SocketState.Connected);
        }

        /// <summary>A connection on a port where a local socket listens is the server's side of an inbound connection.</summary>
        private static bool IsAcceptedChild(SocketTuple socket, Dictionary<(TransportProtocol, int), List<IPAddress>> listeners)
        {
            if (!listeners.TryGetValue((socket.Protocol, socket.LocalPort), out List<IPAddress>? addresses))
            {
                return false;
            }

            IPAddress local = Unmap(socket.LocalAddress);
            foreach (IPAddress address in addresses)
            {
                if (IPAddressText.IsWildcard(address) || Unmap(address).Equals(local))
                {
                    return true;
                }
            }

            return false;
        }

        private static IPAddress Unmap(IPAddress address) => IPAddressText.IsV4Mapped(address) ? address.MapToIPv4() : address;

        private sealed class Group
        {
            public HashSet<int> Ports { get; } = new HashSet<int>();

            public int Established { get; private set; }

            public int TimeWait { get; private set; }

            public int Other { get; private set; }

            public void Add(SocketTuple socket)
            {
                Ports.Add(socket.LocalPort);
                switch (socket.State)
                {
                    case SocketState.Established:
                    case SocketState.Connected:
                        Established++;
                        break;
                    case SocketState.TimeWait:
                        TimeWait++;
                        break;
                    default:
                        Other++;
                        break;
                }
            }
        }

        /// <summary>One table per computer, host object (by reference) and network namespace: two namespaces never share a port, even with equal settings. Computer names compare without case, as Windows names them.</summary>
        private sealed class TableKeyComparer : IEqualityComparer<(string Computer, PortUsageHost Host, ulong Namespace)>
        {
            public bool Equals((string Computer, PortUsageHost Host, ulong Namespace) x, (string Computer, PortUsageHost Host, ulong Namespace) y) =>
                ReferenceEquals(x.Host, y.Host) && x.Namespace == y.Namespace && StringComparer.OrdinalIgnoreCase.Equals(x.Computer, y.Computer);

            public int GetHashCode((string Computer, PortUsageHost Host, ulong Namespace) key) =>
                StringComparer.OrdinalIgnoreCase.GetHashCode(key.Computer) ^ System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Host) ^ key.Namespace.GetHashCode();
        }
    }
}
