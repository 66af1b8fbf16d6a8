using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>Whether an OS lets one source port serve connections to several destinations at once.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum SourcePortPool : long
    {
        /// <summary>
        /// A source port is reused toward each different destination (the 4-tuple stays unique), so
        /// every destination has the whole usable range to itself: Linux and FreeBSD TCP.
        /// </summary>
        PerDestination,

        /// <summary>
        /// A source port serves one socket at a time whatever the destination, so all destinations
        /// draw on one pool per protocol and family: macOS TCP, UDP everywhere, and Windows TCP
        /// (where the rule is UNVERIFIED and the shared pool is the cautious reading).
        /// </summary>
        Shared,
    }

    /// <summary>
    /// Outbound sockets from one local address to one destination (protocol, local address, remote
    /// address, remote port): the ephemeral ports they hold, by state, against the capacity the OS
    /// gives that destination, and the connection rate TIME_WAIT allows.
    /// </summary>
    public sealed class EphemeralPortUsage
    {
        internal EphemeralPortUsage(
            TargetOS os,
            TransportProtocol protocol,
            IPAddress localAddress,
            IPAddress remoteAddress,
            int remotePort,
            int inUse,
            int established,
            int timeWait,
            int other,
            SourcePortPool pool,
            int poolInUse,
            int heldByLocalBinds,
            int usableCount,
            int timeWaitSeconds,
            double nearExhaustionPercent,
            string rule)
        {
            OS = os;
            Protocol = protocol;
            LocalAddress = localAddress;
            RemoteAddress = remoteAddress;
            RemotePort = remotePort;
            InUse = inUse;
            Established = established;
            TimeWait = timeWait;
            Other = other;
            Pool = pool;
            PoolInUse = poolInUse;
            HeldByLocalBinds = heldByLocalBinds;
            Capacity = usableCount - heldByLocalBinds;
            TimeWaitSeconds = timeWaitSeconds;
            UtilizationPercent = Capacity > 0 ? poolInUse * 100.0 / Capacity : poolInUse > 0 ? 100.0 : 0.0;
            SustainableRatePerSecond = protocol == TransportProtocol.Tcp && timeWaitSeconds > 0 ? (Capacity > 0 ? Capacity / (double)timeWaitSeconds : 0.0) : null;
            NearExhaustion = UtilizationPercent > nearExhaustionPercent;
            Rule = rule;
        }

        /// <summary>The computer the sockets were read on (their ComputerName); null for this host or an unnamed table.</summary>
        public string? ComputerName { get; internal set; }

        /// <summary>
        /// The network namespace the connections live in, when the table said. Each namespace has its
        /// own ports: its pools are counted on their own, never added to another namespace's.
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; internal set; }

        /// <summary>The OS whose sharing rule was applied.</summary>
        public TargetOS OS { get; }

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; }

        /// <summary>InterNetwork or InterNetworkV6 (v4-mapped sockets are IPv6 sockets).</summary>
        [HiddenFromJson]
        public AddressFamily AddressFamily => LocalAddress.AddressFamily;

        /// <summary>The local (source) address.</summary>
        [HiddenFromJson]
        public IPAddress LocalAddress { get; }

        /// <summary>The destination address.</summary>
        [HiddenFromJson]
        public IPAddress RemoteAddress { get; }

        /// <summary>The destination port.</summary>
        public int RemotePort { get; }

        /// <summary>The destination as text, "203.0.113.5:443" or "[2001:db8::1]:443".</summary>
        public string Destination => IPAddressText.FormatEndpoint(RemoteAddress, RemotePort);

        /// <summary>Ephemeral ports held by connections to this destination.</summary>
        public int InUse { get; }

        /// <summary>Of those, connections that are open (TCP ESTABLISHED; connected UDP sockets).</summary>
        public int Established { get; }

        /// <summary>Of those, TCP connections closed here and waiting out TIME_WAIT.</summary>
        public int TimeWait { get; }

        /// <summary>Of those, connections in any other state (SYN-SENT, FIN-WAIT, CLOSE-WAIT, ...).</summary>
        public int Other { get; }

        /// <summary>Whether this destination has the range to itself or shares it; see <see cref="Rule"/>.</summary>
        public SourcePortPool Pool { get; }

        /// <summary>Ports taken from this destination's pool: <see cref="InUse"/> when per destination, all destinations' when shared.</summary>
        public int PoolInUse { get; }

        /// <summary>Ports of the range held by listeners and other bound sockets, which connect() cannot use for any destination.</summary>
        public int HeldByLocalBinds { get; }

        /// <summary>How many ports this destination (or the shared pool) can have: the usable range minus <see cref="HeldByLocalBinds"/>.</summary>
        public int Capacity { get; }

        /// <summary><see cref="PoolInUse"/> as a percentage of <see cref="Capacity"/>.</summary>
        public double UtilizationPercent { get; }

        /// <summary>How long TIME_WAIT holds a closed connection's port; 0 for UDP.</summary>
        public int TimeWaitSeconds { get; }

        /// <summary>
        /// New connections per second the pool sustains when each ends in TIME_WAIT here: Capacity /
        /// TimeWaitSeconds (28,232 / 60 = 470.5 on Linux defaults). For a shared pool it is the rate of
        /// all its destinations together. Null for UDP, which has no TIME_WAIT.
        /// </summary>
        public double? SustainableRatePerSecond { get; }

        /// <summary>
        /// How many further connect() calls from this local address to this destination succeed before
        /// the first fails: the connect() rules of Test-PortConnect applied to this table (the same
        /// computation, so the two agree). TIME-WAIT entries count as tcp_tw_reuse treats them; when
        /// that depends on what is not known, the number that certainly succeed (see <see cref="DependsOn"/>).
        /// </summary>
        public int Available { get; internal set; }

        /// <summary>What <see cref="Available"/> turns on that is not known (empty when it is certain).</summary>
        public IReadOnlyList<string> DependsOn { get => _dependsOn; internal set => _dependsOn = TextList<string>.From(value); }

        private IReadOnlyList<string> _dependsOn = TextList<string>.Empty;

        /// <summary>Whether utilization is past the warning threshold (80% unless the caller chose another).</summary>
        public bool NearExhaustion { get; }

        /// <summary>The OS rule on sharing source ports across destinations that decided the capacity, with its spec section.</summary>
        public string Rule { get; }

        /// <summary>"tcp 10.0.0.1 -> 203.0.113.5:443 81.5% (23000/28232)".</summary>
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture,
            "{0} {1} -> {2} {3:0.#}% ({4}/{5})",
            Protocol == TransportProtocol.Tcp ? "tcp" : "udp",
            IPAddressText.FormatHost(LocalAddress),
            Destination,
            UtilizationPercent,
            PoolInUse,
            Capacity);
    }
}
