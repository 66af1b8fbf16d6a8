using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// The facts about a host that bind and delivery decisions depend on, as a value: read once from
    /// the live host or given by the user for a what-if. The rule engines never read the machine.
    /// </summary>
    public sealed class HostFacts
    {
        private readonly HashSet<IPAddress> _localAddresses;
        private readonly HashSet<IPAddress> _unscopedLocal;
        private readonly HashSet<IPAddress> _broadcastAddresses;
        private readonly HashSet<string> _interfaces;
        private readonly Dictionary<IPAddress, string> _addressOwners = new Dictionary<IPAddress, string>();

        /// <summary>Creates host facts; every omitted value takes the OS's default.</summary>
        /// <param name="os">The OS whose rules apply.</param>
        /// <param name="localAddresses">Addresses configured on the host (127.0.0.0/8 is always local on Linux).</param>
        /// <param name="interfaces">Interface names (for SO_BINDTODEVICE); null when unknown, which accepts any name.</param>
        /// <param name="broadcastAddresses">Broadcast addresses of the host's subnets (255.255.255.255 is always one).</param>
        /// <param name="interfaceAddresses">
        /// Each interface with its addresses (as ip addr shows them); when given, it also supplies the
        /// local addresses and interface names, and says which device holds each address.
        /// </param>
        public HostFacts(TargetOS os = TargetOS.Linux, IEnumerable<IPAddress>? localAddresses = null, IEnumerable<string>? interfaces = null, IEnumerable<IPAddress>? broadcastAddresses = null, IEnumerable<KeyValuePair<string, IEnumerable<IPAddress>>>? interfaceAddresses = null)
        {
            OS = os;
            if (interfaceAddresses is not null)
            {
                var pairs = interfaceAddresses.Select(p => new KeyValuePair<string, IPAddress[]>(p.Key, p.Value.ToArray())).ToArray();
                localAddresses = (localAddresses ?? Array.Empty<IPAddress>()).Concat(pairs.SelectMany(p => p.Value)).ToArray();
                interfaces = (interfaces ?? Array.Empty<string>()).Concat(pairs.Select(p => p.Key)).ToArray();
                foreach (KeyValuePair<string, IPAddress[]> pair in pairs)
                {
                    foreach (IPAddress address in pair.Value)
                    {
                        IPAddress key = Unscoped(address);
                        if (!_addressOwners.ContainsKey(key))
                        {
                            _addressOwners.Add(key, pair.Key);
                        }
                    }
                }
            }

            _localAddresses = new HashSet<IPAddress>(localAddresses ?? new[] { IPAddress.Loopback, IPAddress.IPv6Loopback });
            _unscopedLocal = new HashSet<IPAddress>(_localAddresses.Select(Unscoped));
            _broadcastAddresses = new HashSet<IPAddress>(broadcastAddresses ?? Array.Empty<IPAddress>()) { IPAddress.Broadcast };
            _interfaces = interfaces is null ? new HashSet<string>(StringComparer.Ordinal) : new HashSet<string>(interfaces, StringComparer.Ordinal);
            InterfacesKnown = interfaces is not null;
            EphemeralPortRange = os switch
            {
                TargetOS.Linux => new PortRange(32768, 60999),
                TargetOS.FreeBSD => new PortRange(10000, 65535),
                _ => new PortRange(49152, 65535),
            };
            UnprivilegedPortStart = os == TargetOS.Windows ? 0 : 1024;
        }

        /// <summary>The OS whose rules apply.</summary>
        public TargetOS OS { get; }

        /// <summary>A copy with some facts replaced, for what-if questions; everything not given is kept.</summary>
        /// <param name="localAddresses">The host's addresses (replaces the interfaces' addresses).</param>
        /// <param name="unprivilegedPortStart">Ports below it need privilege.</param>
        /// <param name="ephemeralPortRange">The ephemeral range.</param>
        /// <param name="userId">The user binding.</param>
        /// <param name="privileged">Whether that user may bind privileged ports.</param>
        /// <param name="os">Another OS's rules (its defaults apply where this host's values are OS-specific).</param>
        /// <param name="nonLocalBind">net.ipv4.ip_nonlocal_bind and net.ipv6.ip_nonlocal_bind.</param>
        /// <param name="autobindReuse">net.ipv4.ip_autobind_reuse.</param>
        /// <param name="tcpTwReuse">net.ipv4.tcp_tw_reuse (0, 1 or 2).</param>
        /// <param name="reservedPorts">net.ipv4.ip_local_reserved_ports.</param>
        /// <param name="unknown">The facts that are not known (replaces the current set).</param>
        /// <returns>The new facts.</returns>
        public HostFacts With(IEnumerable<IPAddress>? localAddresses = null, int? unprivilegedPortStart = null, PortRange? ephemeralPortRange = null, long? userId = null, bool? privileged = null, TargetOS? os = null, bool? nonLocalBind = null, bool? autobindReuse = null, int? tcpTwReuse = null, IReadOnlyList<PortRange>? reservedPorts = null, HostFactKinds? unknown = null)
        {
            TargetOS target = os ?? OS;
            bool sameOs = target == OS;
            HostFacts copy = localAddresses is not null
                ? new HostFacts(target, localAddresses, InterfacesKnown ? _interfaces : null, _broadcastAddresses)
                : new HostFacts(target, _localAddresses, InterfacesKnown ? _interfaces : null, _broadcastAddresses, _addressOwners.GroupBy(p => p.Value).Select(g => new KeyValuePair<string, IEnumerable<IPAddress>>(g.Key, g.Select(p => p.Key))));
            return new HostFacts(copy, target)
            {
                UnprivilegedPortStart = unprivilegedPortStart ?? (sameOs ? UnprivilegedPortStart : copy.UnprivilegedPortStart),
                EphemeralPortRange = ephemeralPortRange ?? (sameOs ? EphemeralPortRange : copy.EphemeralPortRange),
                ReservedPorts = reservedPorts ?? (sameOs ? ReservedPorts : Array.Empty<PortRange>()),
                BindV6Only = sameOs ? BindV6Only : target != TargetOS.Linux && target != TargetOS.MacOS,
                NonLocalBind = nonLocalBind ?? NonLocalBind,
                NonLocalBindV6 = nonLocalBind ?? NonLocalBindV6,
                TcpTwReuse = tcpTwReuse ?? TcpTwReuse,
                TcpTwReuseDelay = TcpTwReuseDelay,
                TcpTimestamps = TcpTimestamps,
                AutobindReuse = autobindReuse ?? AutobindReuse,
                Unknown = unknown ?? Unknown,
                UserId = userId ?? UserId,
                Privileged = privileged ?? Privileged,
            };
        }

        private HostFacts(HostFacts source, TargetOS os)
        {
            OS = os;
            _localAddresses = source._localAddresses;
            _unscopedLocal = source._unscopedLocal;
            _broadcastAddresses = source._broadcastAddresses;
            _interfaces = source._interfaces;
            _addressOwners = source._addressOwners;
            InterfacesKnown = source.InterfacesKnown;
        }

        /// <summary>Addresses configured on the host.</summary>
        public IReadOnlyCollection<IPAddress> LocalAddresses => _localAddresses;

        /// <summary>Whether the interface list is known; when not, any SO_BINDTODEVICE name is accepted.</summary>
        public bool InterfacesKnown { get; }

        /// <summary>Interface names.</summary>
        public IReadOnlyCollection<string> Interfaces => _interfaces;

        /// <summary>Ports below this need privilege (Linux net.ipv4.ip_unprivileged_port_start, default 1024).</summary>
        public int UnprivilegedPortStart { get; init; }

        /// <summary>The range bind(0) and connect() pick from (Linux net.ipv4.ip_local_port_range).</summary>
        public PortRange EphemeralPortRange { get; init; }

        /// <summary>Ports the ephemeral allocator skips (Linux net.ipv4.ip_local_reserved_ports).</summary>
        public IReadOnlyList<PortRange> ReservedPorts { get; init; } = Array.Empty<PortRange>();

        /// <summary>The default IPV6_V6ONLY of new sockets (Linux net.ipv6.bindv6only, default off).</summary>
        public bool BindV6Only { get; init; }

        /// <summary>net.ipv4.ip_nonlocal_bind: addresses that are not local may be bound.</summary>
        public bool NonLocalBind { get; init; }

        /// <summary>net.ipv6.ip_nonlocal_bind.</summary>
        public bool NonLocalBindV6 { get; init; }

        /// <summary>
        /// net.ipv4.tcp_tw_reuse: whether connect() may take over a TIME-WAIT entry's 4-tuple for an
        /// automatically chosen port: 0 never, 1 always, 2 (the default) only for loopback traffic.
        /// </summary>
        public int TcpTwReuse { get; init; } = 2;

        /// <summary>net.ipv4.tcp_tw_reuse_delay (6.14+): how long a TIME-WAIT entry must have existed before that takeover, in ms (1000 before 6.14, and by default).</summary>
        public int TcpTwReuseDelay { get; init; } = 1000;

        /// <summary>net.ipv4.ip_autobind_reuse (5.7+): bind(0) may, in a second round, share a port with SO_REUSEADDR sockets as an explicit bind could.</summary>
        public bool AutobindReuse { get; init; }

        /// <summary>
        /// net.ipv4.tcp_timestamps (0 off, 1 on by default, 2 on without per-connection offsets): a
        /// TIME-WAIT entry can be taken over only when its connection recorded timestamps, which
        /// needs them on at both ends.
        /// </summary>
        public int TcpTimestamps { get; init; } = 1;

        /// <summary>
        /// The facts that are not known, for a simulation of a host whose settings were not given:
        /// an answer that turns on one says so (DependsOn) instead of taking the value it holds here,
        /// which is then only the OS's default. Empty for facts read from a live host.
        /// </summary>
        public HostFactKinds Unknown { get; init; }

        /// <summary>Whether a fact is known.</summary>
        /// <param name="kind">The fact.</param>
        /// <returns>False when <see cref="Unknown"/> lists it.</returns>
        public bool Knows(HostFactKinds kind) => (Unknown & kind) == 0;

        /// <summary>The user id that new sockets are created under.</summary>
        public long UserId { get; init; }

        /// <summary>Whether the caller may bind privileged ports (root, or CAP_NET_BIND_SERVICE on Linux).</summary>
        public bool Privileged { get; init; }

        /// <summary>Whether an address is configured on the host (Linux: all of 127.0.0.0/8 is local).</summary>
        /// <param name="address">The address.</param>
        /// <returns>True when local.</returns>
        public bool IsLocal(IPAddress address)
        {
            IPAddress plain = Unscoped(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            if (plain.AddressFamily == AddressFamily.InterNetwork && plain.GetAddressBytes()[0] == 127 && OS == TargetOS.Linux)
            {
                return true;
            }

            return _unscopedLocal.Contains(plain);
        }

        // A link-local address is local whatever scope it is written with; IPv4 has no scope at all.
        private static IPAddress Unscoped(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;

        /// <summary>
        /// The interface that holds an address, when known: where local traffic to it is taken to
        /// arrive (Linux reports the route's device, not lo, as the incoming interface). All of
        /// 127.0.0.0/8 belongs to lo on Linux.
        /// </summary>
        /// <param name="address">The address.</param>
        /// <returns>The interface name, or null.</returns>
        public string? InterfaceOf(IPAddress address)
        {
            IPAddress plain = Unscoped(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            if (_addressOwners.TryGetValue(plain, out string? name))
            {
                return name;
            }

            bool loopback = plain.AddressFamily == AddressFamily.InterNetwork ? plain.GetAddressBytes()[0] == 127 : plain.Equals(IPAddress.IPv6Loopback);
            return loopback && (OS == TargetOS.Linux) ? "lo" : null;
        }

        /// <summary>Whether an address is configured on a given interface (unknown interface lists say yes).</summary>
        /// <param name="address">The address.</param>
        /// <param name="interfaceName">The interface.</param>
        /// <returns>True when the address is on that interface, or when interfaces are not known.</returns>
        public bool IsOnInterface(IPAddress address, string interfaceName)
        {
            if (_addressOwners.Count == 0)
            {
                return true;
            }

            return string.Equals(InterfaceOf(address), interfaceName, StringComparison.Ordinal);
        }

        /// <summary>Whether an address is a broadcast address of the host.</summary>
        /// <param name="address">An IPv4 address.</param>
        /// <returns>True for 255.255.255.255 and the host's subnet broadcasts.</returns>
        public bool IsBroadcast(IPAddress address) => _broadcastAddresses.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

        /// <summary>Whether an interface exists (always true when the list is unknown).</summary>
        /// <param name="name">The interface name.</param>
        /// <returns>True when it exists or the list is unknown.</returns>
        public bool HasInterface(string name) => !InterfacesKnown || _interfaces.Contains(name);

        /// <summary>Whether a port is reserved from ephemeral allocation.</summary>
        /// <param name="port">The port.</param>
        /// <returns>True when reserved.</returns>
        public bool IsReserved(int port)
        {
            foreach (PortRange range in ReservedPorts)
            {
                if (range.Contains(port))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Host facts that a simulation may not know (<see cref="HostFacts.Unknown"/>).</summary>
    [Flags]
    public enum HostFactKinds
    {
        /// <summary>Every fact is known.</summary>
        None = 0,

        /// <summary>The ephemeral port range and the ports reserved from it (ip_local_port_range, ip_local_reserved_ports).</summary>
        EphemeralPorts = 1,

        /// <summary>net.ipv4.tcp_tw_reuse and tcp_tw_reuse_delay.</summary>
        TcpTwReuse = 2,

        /// <summary>net.ipv4.tcp_timestamps.</summary>
        TcpTimestamps = 4,

        /// <summary>net.ipv4.ip_autobind_reuse.</summary>
        AutobindReuse = 8,

        /// <summary>net.ipv4.ip_nonlocal_bind and net.ipv6.ip_nonlocal_bind.</summary>
        NonLocalBind = 16,

        /// <summary>The host's addresses.</summary>
        LocalAddresses = 32,

        /// <summary>Whether the process may bind privileged ports, and where they end (ip_unprivileged_port_start).</summary>
        Privilege = 64,
    }
}
