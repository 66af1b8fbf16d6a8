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
            : this(os, localAddresses, interfaces, broadcastAddresses, interfaceAddresses, interfacesFromAddresses: true)
        {
        }

        // interfacesFromAddresses: whether the interfaces that hold addresses make the interface list
        // known (the public constructor's rule); false keeps the list as interfaces says, null for unknown.
        private HostFacts(TargetOS os, IEnumerable<IPAddress>? localAddresses, IEnumerable<string>? interfaces, IEnumerable<IPAddress>? broadcastAddresses, IEnumerable<KeyValuePair<string, IEnumerable<IPAddress>>>? interfaceAddresses, bool interfacesFromAddresses)
        {
            OS = os;
            if (interfaceAddresses is not null)
            {
                var pairs = interfaceAddresses.Select(p => new KeyValuePair<string, IPAddress[]>(p.Key, p.Value.ToArray())).ToArray();
                localAddresses = (localAddresses ?? Array.Empty<IPAddress>()).Concat(pairs.SelectMany(p => p.Value)).ToArray();
                interfaces = interfaces is null && !interfacesFromAddresses ? null : (interfaces ?? Array.Empty<string>()).Concat(pairs.Select(p => p.Key)).ToArray();
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

        /// <summary>
        /// The facts that are known; the others hold the OS's default, and a simulation says what
        /// its answer depends on instead of trusting them (<see cref="Knows"/>). All are known for
        /// facts built with the constructor; <see cref="From"/> marks what a SocketHost leaves null.
        /// </summary>
        public KnownHostFacts Known { get; init; } = KnownHostFacts.All;

        /// <summary>Whether every one of <paramref name="facts"/> is known.</summary>
        /// <param name="facts">The facts.</param>
        /// <returns>True when all are known.</returns>
        public bool Knows(KnownHostFacts facts) => (Known & facts) == facts && ((facts & KnownHostFacts.Interfaces) == 0 || InterfacesKnown);

        /// <summary>
        /// For a simulation that weighs an unknown address: treat addresses that are not known to be
        /// local as local (true) or not (false). Only loopback addresses are known when the host's
        /// addresses are not.
        /// </summary>
        internal bool AssumeUnknownAddressesLocal { get; init; }

        /// <summary>For a simulation that weighs an unknown address: an address taken to be a subnet broadcast address.</summary>
        internal IPAddress? AssumedBroadcast { get; init; }

        /// <summary>
        /// The facts a simulation of a host uses: the SocketHost's, where it has them, and the OS's
        /// defaults, marked unknown, where it does not (see <see cref="Known"/>). Interfaces it does
        /// not list are taken to exist when it lists none.
        /// </summary>
        /// <param name="host">The facts; its OS must be known.</param>
        /// <returns>The engines' form of them.</returns>
        /// <exception cref="ArgumentException">The SocketHost does not say its OS.</exception>
        public static HostFacts From(SocketHost host)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            TargetOS os = host.OS ?? throw new ArgumentException("The SocketHost" + (host.ComputerName is null ? string.Empty : " of " + host.ComputerName) + " does not say its OS; give -TargetOS.", nameof(host));
            var known = KnownHostFacts.None;
            var facts = host.Addresses is null
                ? new HostFacts(os, null, host.Interfaces, null)
                : new HostFacts(os, host.Addresses.Where(a => a.Interface is null).Select(a => a.IP), host.Interfaces, host.Addresses.Where(a => a.BroadcastIP is not null).Select(a => a.BroadcastIP!), host.Addresses.Where(a => a.Interface is not null).GroupBy(a => a.Interface!, StringComparer.Ordinal).Select(g => new KeyValuePair<string, IEnumerable<IPAddress>>(g.Key, g.Select(a => a.IP))), interfacesFromAddresses: false);
            known |= host.Addresses is null ? 0 : KnownHostFacts.Addresses;
            known |= host.Interfaces is null ? 0 : KnownHostFacts.Interfaces;
            known |= host.EphemeralPortRange is null ? 0 : KnownHostFacts.EphemeralPortRange;
            known |= host.UnprivilegedPortStart is null ? 0 : KnownHostFacts.UnprivilegedPortStart;
            known |= host.ReservedPorts is null ? 0 : KnownHostFacts.ReservedPorts;
            known |= host.NonLocalBind is null ? 0 : KnownHostFacts.NonLocalBind;
            known |= host.NonLocalBindV6 is null ? 0 : KnownHostFacts.NonLocalBindV6;
            known |= host.BindV6Only is null ? 0 : KnownHostFacts.BindV6Only;
            known |= host.TcpTwReuse is null ? 0 : KnownHostFacts.TcpTwReuse;
            known |= host.TcpTwReuseDelay is null ? 0 : KnownHostFacts.TcpTwReuseDelay;
            known |= host.AutobindReuse is null ? 0 : KnownHostFacts.AutobindReuse;
            known |= host.TcpTimestamps is null ? 0 : KnownHostFacts.TcpTimestamps;
            known |= host.UserId is null ? 0 : KnownHostFacts.UserId;
            known |= host.Privileged is null ? 0 : KnownHostFacts.Privileged;
            return new HostFacts(facts, os)
            {
                Known = known,
                EphemeralPortRange = host.EphemeralPortRange ?? facts.EphemeralPortRange,
                UnprivilegedPortStart = host.UnprivilegedPortStart ?? facts.UnprivilegedPortStart,
                ReservedPorts = host.ReservedPorts ?? Array.Empty<PortRange>(),
                NonLocalBind = host.NonLocalBind ?? false,
                NonLocalBindV6 = host.NonLocalBindV6 ?? false,
                BindV6Only = host.BindV6Only ?? os == TargetOS.Windows,
                TcpTwReuse = host.TcpTwReuse ?? (os == TargetOS.Linux ? 2 : 0),
                TcpTwReuseDelay = host.TcpTwReuseDelay ?? 1000,
                AutobindReuse = host.AutobindReuse ?? false,
                TcpTimestamps = host.TcpTimestamps ?? 1,
                UserId = host.UserId ?? 0,
                Privileged = host.Privileged ?? false,
            };
        }

        /// <summary>
        /// A copy for one possibility of what is not known (the simulations weigh each), or measured
        /// against a range of its own (Windows has one per protocol and family); what is known stays so.
        /// </summary>
        internal HostFacts Assume(bool? unknownAddressesLocal = null, IPAddress? broadcast = null, bool? privileged = null, int? unprivilegedPortStart = null, bool? nonLocalBind = null, bool? nonLocalBindV6 = null, bool? bindV6Only = null, PortRange? ephemeralPortRange = null, IReadOnlyList<PortRange>? reservedPorts = null) => new HostFacts(this, OS)
        {
            Known = Known,
            AssumeUnknownAddressesLocal = unknownAddressesLocal ?? AssumeUnknownAddressesLocal,
            AssumedBroadcast = broadcast ?? AssumedBroadcast,
            EphemeralPortRange = ephemeralPortRange ?? EphemeralPortRange,
            UnprivilegedPortStart = unprivilegedPortStart ?? UnprivilegedPortStart,
            ReservedPorts = reservedPorts ?? ReservedPorts,
            NonLocalBind = nonLocalBind ?? NonLocalBind,
            NonLocalBindV6 = nonLocalBindV6 ?? NonLocalBindV6,
            BindV6Only = bindV6Only ?? BindV6Only,
            TcpTwReuse = TcpTwReuse,
            TcpTwReuseDelay = TcpTwReuseDelay,
            AutobindReuse = AutobindReuse,
            TcpTimestamps = TcpTimestamps,
            UserId = UserId,
            Privileged = privileged ?? Privileged,
        };

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
            // IPAddress.IsLoopback is all of 127.0.0.0/8 for IPv4, and copies no bytes per question.
            if (plain.AddressFamily == AddressFamily.InterNetwork && IPAddress.IsLoopback(plain) && OS == TargetOS.Linux)
            {
                return true;
            }

            // Where the host's addresses are not known, a simulation weighs both possibilities.
            return _unscopedLocal.Contains(plain) || ((Known & KnownHostFacts.Addresses) == 0 && AssumeUnknownAddressesLocal);
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

            // IPAddress.IsLoopback: 127.0.0.0/8 or ::1, without copying the address bytes per packet.
            bool loopback = IPAddress.IsLoopback(plain);
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
        public bool IsBroadcast(IPAddress address)
        {
            IPAddress plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            return _broadcastAddresses.Contains(plain) || (AssumedBroadcast is not null && AssumedBroadcast.Equals(plain));
        }

        /// <summary>The interface names, sorted, as a reason lists them.</summary>
        internal string InterfaceList() => string.Join(", ", _interfaces.OrderBy(name => name, StringComparer.Ordinal));

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

    /// <summary>The facts of a host that may be unknown to a simulation (<see cref="HostFacts.Known"/>).</summary>
    [Flags]
    public enum KnownHostFacts
    {
        /// <summary>None.</summary>
        None = 0,

        /// <summary>The addresses configured on the host (and which interface holds each).</summary>
        Addresses = 1 << 0,

        /// <summary>The interface names.</summary>
        Interfaces = 1 << 1,

        /// <summary>The ephemeral port range.</summary>
        EphemeralPortRange = 1 << 2,

        /// <summary>Where the unprivileged ports start.</summary>
        UnprivilegedPortStart = 1 << 3,

        /// <summary>The ports reserved from ephemeral use.</summary>
        ReservedPorts = 1 << 4,

        /// <summary>net.ipv4.ip_nonlocal_bind.</summary>
        NonLocalBind = 1 << 5,

        /// <summary>net.ipv6.ip_nonlocal_bind.</summary>
        NonLocalBindV6 = 1 << 6,

        /// <summary>The default IPV6_V6ONLY.</summary>
        BindV6Only = 1 << 7,

        /// <summary>net.ipv4.tcp_tw_reuse.</summary>
        TcpTwReuse = 1 << 8,

        /// <summary>net.ipv4.tcp_tw_reuse_delay.</summary>
        TcpTwReuseDelay = 1 << 9,

        /// <summary>net.ipv4.ip_autobind_reuse.</summary>
        AutobindReuse = 1 << 10,

        /// <summary>The user who binds.</summary>
        UserId = 1 << 11,

        /// <summary>Whether that user may bind privileged ports.</summary>
        Privileged = 1 << 12,

        /// <summary>net.ipv4.tcp_timestamps.</summary>
        TcpTimestamps = 1 << 13,

        /// <summary>Every fact.</summary>
        All = (1 << 14) - 1,
    }
}
