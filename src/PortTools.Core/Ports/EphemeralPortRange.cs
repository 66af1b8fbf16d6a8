using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Ports the OS keeps from automatic use: Linux's ip_local_reserved_ports, or a Windows excluded
    /// port range (netsh int ipv4 show excludedportrange).
    /// </summary>
    public sealed class ReservedPortRange : IEquatable<ReservedPortRange>
    {
        /// <summary>Creates a reservation.</summary>
        /// <param name="ports">The ports.</param>
        /// <param name="administered">
        /// True when an administrator made it (Linux's sysctl; the entries netsh marks '*'); false
        /// for Windows exclusions that Hyper-V, WinNAT, WSL or Docker make at run time.
        /// </param>
        public ReservedPortRange(PortRange ports, bool administered)
        {
            Start = ports.Start;
            End = ports.End;
            Administered = administered;
        }

        /// <summary>The first port.</summary>
        public int Start { get; }

        /// <summary>The last port.</summary>
        public int End { get; }

        /// <summary>How many ports.</summary>
        public int Count => End - Start + 1;

        /// <summary>Whether an administrator made it (see the constructor).</summary>
        public bool Administered { get; }

        /// <summary>The ports as a range.</summary>
        public PortRange Ports => new PortRange(Start, End);

        /// <summary>Whether the port is reserved by it.</summary>
        /// <param name="port">The port.</param>
        /// <returns>True when Start &lt;= port &lt;= End.</returns>
        public bool Contains(int port) => port >= Start && port <= End;

        /// <inheritdoc/>
        public bool Equals(ReservedPortRange? other) => other is not null && other.Start == Start && other.End == End && other.Administered == Administered;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as ReservedPortRange);

        /// <inheritdoc/>
        public override int GetHashCode() => (Start << 16) ^ End ^ (Administered ? 1 << 31 : 0);

        /// <summary>
        /// "8080", "50000-50059"; " (run-time)" marks a Windows exclusion nobody administered, the one that
        /// surprises people. (netsh marks the other kind with '*', which on Linux, where every reservation
        /// is administered, would mark everything.)
        /// </summary>
        public override string ToString() => Ports.ToString() + (Administered ? string.Empty : " (run-time)");
    }

    /// <summary>
    /// The ephemeral (dynamic) port range of one protocol and address family on a host: where the OS
    /// takes source ports for connect() and bind(0), what it keeps out of it, and how long a closed
    /// TCP connection holds its port (TIME_WAIT).
    /// </summary>
    public sealed class EphemeralPortRange
    {
        /// <summary>Creates the range; readers and parsers build it from host facts.</summary>
        /// <param name="os">The OS whose rules apply.</param>
        /// <param name="protocol">TCP or UDP.</param>
        /// <param name="addressFamily">InterNetwork or InterNetworkV6.</param>
        /// <param name="start">The first port, 1 to 65535.</param>
        /// <param name="end">The last port, not below <paramref name="start"/>.</param>
        /// <param name="reserved">Reserved or excluded ranges, inside the range or not; null for none.</param>
        /// <param name="timeWaitSeconds">How long TIME_WAIT holds a port; 0 for UDP, which has none.</param>
        /// <param name="source">Where the range came from (a file, a command, or "default: ..." with the reason).</param>
        /// <param name="timeWaitSource">Where the TIME_WAIT duration came from.</param>
        /// <exception cref="ArgumentOutOfRangeException">A port or the TIME_WAIT duration is out of range; the message names it.</exception>
        public EphemeralPortRange(TargetOS os, TransportProtocol protocol, AddressFamily addressFamily, int start, int end, IEnumerable<ReservedPortRange>? reserved, int timeWaitSeconds, string source, string timeWaitSource)
        {
            if (start < 1 || start > PortRange.MaxPort)
            {
                throw new ArgumentOutOfRangeException(nameof(start), start, "The ephemeral range cannot start at " + start.ToString(CultureInfo.InvariantCulture) + ": it is 1 to 65535.");
            }

            if (end < start || end > PortRange.MaxPort)
            {
                throw new ArgumentOutOfRangeException(nameof(end), end, string.Format(CultureInfo.InvariantCulture, "The ephemeral range cannot end at {0}: it must be from {1} to 65535.", end, start));
            }

            if (timeWaitSeconds < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(timeWaitSeconds), timeWaitSeconds, "A TIME_WAIT duration cannot be negative.");
            }

            if (addressFamily != AddressFamily.InterNetwork && addressFamily != AddressFamily.InterNetworkV6)
            {
                throw new ArgumentOutOfRangeException(nameof(addressFamily), addressFamily, "The address family is InterNetwork or InterNetworkV6.");
            }

            OS = os;
            Protocol = protocol;
            AddressFamily = addressFamily;
            Start = start;
            End = end;
            Reserved = TextList<ReservedPortRange>.From((reserved ?? Array.Empty<ReservedPortRange>()).OrderBy(r => r.Start).ThenBy(r => r.End));
            ReservedCount = CountInside(Reserved, start, end);
            TimeWaitSeconds = timeWaitSeconds;
            Source = source ?? string.Empty;
            TimeWaitSource = timeWaitSource ?? string.Empty;
        }

        /// <summary>The OS whose rules apply.</summary>
        public TargetOS OS { get; }

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; }

        /// <summary>InterNetwork (IPv4) or InterNetworkV6 (IPv6).</summary>
        [HiddenFromJson]
        public AddressFamily AddressFamily { get; }

        /// <summary>The first port of the range.</summary>
        public int Start { get; }

        /// <summary>The last port of the range.</summary>
        public int End { get; }

        /// <summary>How many ports the range spans.</summary>
        public int Count => End - Start + 1;

        /// <summary>Reserved or excluded ranges, sorted; some may lie outside the range.</summary>
        public IReadOnlyList<ReservedPortRange> Reserved { get; }

        /// <summary>How many ports of the range are reserved or excluded (overlaps counted once).</summary>
        public int ReservedCount { get; }

        /// <summary>How many ports the OS can hand out: <see cref="Count"/> minus <see cref="ReservedCount"/>.</summary>
        public int UsableCount => Count - ReservedCount;

        /// <summary>How long, in seconds, a closed TCP connection keeps its port in TIME_WAIT; 0 for UDP.</summary>
        public int TimeWaitSeconds { get; }

        /// <summary>Where the TIME_WAIT duration came from, and why it is what it is.</summary>
        public string TimeWaitSource { get; }

        /// <summary>Where the range came from: a file, a command's output, or a default with the reason.</summary>
        public string Source { get; }

        /// <summary>The range as a PortRange.</summary>
        public PortRange Ports => new PortRange(Start, End);

        /// <summary>Whether the port lies in the range (reserved or not).</summary>
        /// <param name="port">The port.</param>
        /// <returns>True when Start &lt;= port &lt;= End.</returns>
        public bool Contains(int port) => port >= Start && port <= End;

        /// <summary>The reservation that holds a port, inside the range or not.</summary>
        /// <param name="port">The port.</param>
        /// <returns>The reservation, or null.</returns>
        public ReservedPortRange? FindReservation(int port)
        {
            foreach (ReservedPortRange range in Reserved)
            {
                if (range.Contains(port))
                {
                    return range;
                }
            }

            return null;
        }

        /// <summary>"tcp IPv4 32768-60999 (28232 usable)".</summary>
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture,
            "{0} {1} {2}-{3} ({4} usable)",
            Protocol == TransportProtocol.Tcp ? "tcp" : "udp",
            AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6",
            Start,
            End,
            UsableCount);

        private static int CountInside(IReadOnlyList<ReservedPortRange> sorted, int start, int end)
        {
            int count = 0;
            int covered = start - 1; // the highest port counted so far
            foreach (ReservedPortRange range in sorted)
            {
                int from = Math.Max(range.Start, covered + 1);
                int to = Math.Min(range.End, end);
                if (from <= to)
                {
                    count += to - from + 1;
                    covered = to;
                }
            }

            return count;
        }
    }
}
