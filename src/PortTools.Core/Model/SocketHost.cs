using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading;

namespace PortTools
{
    /// <summary>
    /// What a bind or delivery simulation needs to know of a host, or of one network namespace on
    /// it: its OS, addresses and interfaces, port settings, sysctls, and the user who binds. Read once
    /// where the table is (<see cref="Read"/>, Get-SocketHost), it travels with the table through
    /// Export-Clixml, ConvertTo-Json and remoting, so that a simulation of another machine's table
    /// uses that machine's facts. Every fact is nullable: null means unknown, and a simulation then
    /// says what its answer depends on; it never fills the gap with the local host's value.
    /// </summary>
    public sealed class SocketHost
    {
        /// <summary>
        /// The version of this set of facts. A SocketHost written by a PortTools of another version
        /// (a property bag whose SchemaVersion differs) is refused with an error naming both, rather
        /// than read with facts silently missing or misread.
        /// </summary>
        public const int CurrentSchemaVersion = 1;

        private static readonly IReadOnlyList<string> s_noNotes = Array.Empty<string>();

        /// <summary>The schema version, <see cref="CurrentSchemaVersion"/>.</summary>
        public int SchemaVersion => CurrentSchemaVersion;

        /// <summary>The computer the facts were read on, or null.</summary>
        public string? ComputerName { get; init; }

        /// <summary>The OS whose rules apply there, or null when unknown.</summary>
        public TargetOS? OS { get; init; }

        /// <summary>The Linux network namespace the facts are of, or null (other OSes; unknown).</summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; init; }

        /// <summary>The addresses configured there, with their interfaces; null when unknown.</summary>
        public IReadOnlyList<HostAddress>? Addresses { get => _addresses; init => _addresses = value is null ? null : TextList<HostAddress>.From(value); }

        /// <summary>The interface names (ip link; for SO_BINDTODEVICE), with or without addresses; null when unknown.</summary>
        public IReadOnlyList<string>? Interfaces { get => _interfaces; init => _interfaces = value is null ? null : TextList<string>.From(value); }

        /// <summary>The range connect() and bind(0) take ports from (TCP, IPv4; Linux net.ipv4.ip_local_port_range, which every protocol and family share).</summary>
        public PortRange? EphemeralPortRange { get; init; }

        /// <summary>Ports below this need privilege: Linux net.ipv4.ip_unprivileged_port_start, FreeBSD reservedhigh + 1, 1024 on macOS, 0 on Windows.</summary>
        public int? UnprivilegedPortStart { get; init; }

        /// <summary>Ports the ephemeral allocator skips: Linux net.ipv4.ip_local_reserved_ports, Windows' excluded port ranges (TCP, IPv4).</summary>
        public IReadOnlyList<PortRange>? ReservedPorts { get => _reservedPorts; init => _reservedPorts = value is null ? null : TextList<PortRange>.From(value); }

        private readonly IReadOnlyList<HostAddress>? _addresses;
        private readonly IReadOnlyList<string>? _interfaces;
        private readonly IReadOnlyList<PortRange>? _reservedPorts;

        /// <summary>Linux net.ipv4.ip_nonlocal_bind: IPv4 addresses the host does not have may be bound.</summary>
        public bool? NonLocalBind { get; init; }

        /// <summary>Linux net.ipv6.ip_nonlocal_bind.</summary>
        public bool? NonLocalBindV6 { get; init; }

        /// <summary>The IPV6_V6ONLY a new socket gets: Linux net.ipv6.bindv6only; always on for Windows.</summary>
        public bool? BindV6Only { get; init; }

        /// <summary>Linux net.ipv4.tcp_tw_reuse: 0, 1, or 2 (loopback only).</summary>
        public int? TcpTwReuse { get; init; }

        /// <summary>Linux net.ipv4.tcp_tw_reuse_delay, in ms (1000 before Linux 6.14, which added it).</summary>
        public int? TcpTwReuseDelay { get; init; }

        /// <summary>Linux net.ipv4.ip_autobind_reuse.</summary>
        public bool? AutobindReuse { get; init; }

        /// <summary>Linux net.ipv4.tcp_timestamps: 0 off, 1 on, 2 on without random offsets. A TIME-WAIT entry is taken over by a new connection only when its connection recorded timestamps.</summary>
        public int? TcpTimestamps { get; init; }

        /// <summary>How long a closed TCP connection keeps its port in TIME_WAIT, in seconds (Linux 60; Windows TcpTimedWaitDelay; 2 x MSL on the BSDs).</summary>
        public int? TcpTimeWaitSeconds { get; init; }

        /// <summary>The user id that reads the facts and binds (null on Windows, which has none).</summary>
        public long? UserId { get; init; }

        /// <summary>Whether that user may bind privileged ports (Linux: CAP_NET_BIND_SERVICE; the BSDs: root).</summary>
        public bool? Privileged { get; init; }

        /// <summary>What could not be read when the facts were read here (not carried when they travel).</summary>
        internal IReadOnlyList<string> Notes { get; init; } = s_noNotes;

        /// <summary>A host of which nothing is known but, perhaps, its OS.</summary>
        /// <param name="os">The OS, or null.</param>
        /// <returns>The facts, all unknown.</returns>
        public static SocketHost Unknown(TargetOS? os = null) => new SocketHost { OS = os };

        /// <summary>
        /// Reads this host's facts, or a network namespace's: its addresses and interfaces (inside the
        /// namespace, through netlink), its sysctls (read from inside it), and this process's user and
        /// privilege. What cannot be read stays null, and <paramref name="notes"/> says why.
        /// </summary>
        /// <param name="networkNamespace">A namespace (Linux): a name, a namespace file path or a process id; null for this process's own.</param>
        /// <param name="notes">Receives what could not be read, in sentences; may be null.</param>
        /// <param name="cancellationToken">Stops the read (Windows runs netsh, which takes a moment).</param>
        /// <returns>The facts.</returns>
        /// <exception cref="NetworkNamespaceException">The namespace does not exist or cannot be entered.</exception>
        /// <exception cref="PlatformNotSupportedException">A namespace was asked for off Linux.</exception>
        public static SocketHost Read(string? networkNamespace = null, ICollection<string>? notes = null, CancellationToken cancellationToken = default)
        {
            SocketHost host = SocketHostReader.Read(networkNamespace, cancellationToken);
            foreach (string note in host.Notes)
            {
                notes?.Add(note);
            }

            return host;
        }

        /// <summary>
        /// The facts of the namespace a socket table was read from, when this process read it live
        /// (Get-SocketTuple in this session; on Linux, where sockets carry their namespace): read
        /// once, from inside that namespace. Null when the table was not read here (text, a file,
        /// remoting), whose host is unknown however familiar its namespace's inode looks (every
        /// host's initial namespace has the same one), or when it mixes namespaces (a note says so).
        /// </summary>
        /// <param name="table">The sockets.</param>
        /// <param name="notes">Receives why facts were not read; may be null.</param>
        /// <param name="cancellationToken">Stops the read.</param>
        /// <returns>The facts, or null.</returns>
        public static SocketHost? ReadForTable(IEnumerable<SocketTuple> table, ICollection<string>? notes = null, CancellationToken cancellationToken = default)
        {
            TableOrigin origin = LiveOrigin(table, notes);
            if (!origin.ReadHere)
            {
                return null;
            }

            if (origin.NetworkNamespace is null)
            {
                return Read(null, notes, cancellationToken); // read here, off Linux: this host
            }

            return SocketHostReader.Read(origin.NetworkNamespace, notes, cancellationToken);
        }

        /// <summary>Where the sockets of a table this process read live come from: this host, or one namespace of it.</summary>
        internal readonly struct TableOrigin
        {
            public TableOrigin(bool readHere, NetworkNamespaceInfo? networkNamespace)
            {
                ReadHere = readHere;
                NetworkNamespace = networkNamespace;
            }

            /// <summary>Whether this process read the table (its live sockets agree on one host or namespace).</summary>
            public bool ReadHere { get; }

            /// <summary>The namespace on Linux; null elsewhere.</summary>
            public NetworkNamespaceInfo? NetworkNamespace { get; }
        }

        /// <summary>
        /// Where the sockets of a table that this process read live come from, ignoring the sockets
        /// it did not read (hand-written what-ifs added to a live table). Not read here when none
        /// was, or when they come from several namespaces (a note says so).
        /// </summary>
        internal static TableOrigin LiveOrigin(IEnumerable<SocketTuple> table, ICollection<string>? notes)
        {
            bool readHere = false;
            NetworkNamespaceInfo? origin = null;
            var others = new HashSet<ulong>();
            foreach (SocketTuple socket in table ?? throw new ArgumentNullException(nameof(table)))
            {
                if (socket is null || !socket.ReadHere)
                {
                    continue;
                }

                readHere = true;
                NetworkNamespaceInfo? space = socket.NetworkNamespace;
                if (space?.LiveEntryPath is null)
                {
                    continue;
                }

                if (origin is null)
                {
                    origin = space;
                }
                else if (space.Inode != origin.Inode)
                {
                    others.Add(space.Inode);
                }
            }

            if (others.Count > 0)
            {
                notes?.Add(string.Format(CultureInfo.InvariantCulture, "The socket table holds sockets of {0} network namespaces, so no one namespace's facts describe it: they are taken as unknown.", others.Count + 1));
                return default;
            }

            return new TableOrigin(readHere, origin);
        }

        /// <summary>
        /// A copy with the facts a user gave in place of these, for a what-if: each argument that is
        /// not null replaces its fact. Giving a user id settles privilege as well unless
        /// <paramref name="privileged"/> does: uid 0 is privileged, any other is not (the host's own
        /// answer stands when the user id is its own).
        /// </summary>
        /// <param name="localAddresses">The addresses (replacing Addresses; their interfaces become unknown).</param>
        /// <param name="unprivilegedPortStart">Ports below it need privilege.</param>
        /// <param name="ephemeralPortRange">The ephemeral range.</param>
        /// <param name="userId">The user who binds.</param>
        /// <param name="privileged">Whether that user may bind privileged ports.</param>
        /// <param name="os">The OS, for a host whose OS is unknown.</param>
        /// <param name="nonLocalBind">Linux net.ipv4.ip_nonlocal_bind and net.ipv6.ip_nonlocal_bind, both.</param>
        /// <param name="autobindReuse">Linux net.ipv4.ip_autobind_reuse.</param>
        /// <param name="tcpTwReuse">Linux net.ipv4.tcp_tw_reuse (0, 1 or 2).</param>
        /// <param name="reservedPorts">The ports reserved from ephemeral use.</param>
        /// <returns>The new facts.</returns>
        /// <exception cref="ArgumentException">The OS differs from this host's known OS.</exception>
        public SocketHost With(IEnumerable<IPAddress>? localAddresses = null, int? unprivilegedPortStart = null, PortRange? ephemeralPortRange = null, long? userId = null, bool? privileged = null, TargetOS? os = null, bool? nonLocalBind = null, bool? autobindReuse = null, int? tcpTwReuse = null, IEnumerable<PortRange>? reservedPorts = null)
        {
            if (os is TargetOS target && OS is TargetOS own && own != target)
            {
                throw new ArgumentException("The SocketHost" + (ComputerName is null ? string.Empty : " of " + ComputerName) + " describes a " + Name(own) + " host, but " + Name(target) + "'s rules were asked for: give a SocketHost of a " + Name(target) + " host, or leave out -TargetOS.", nameof(os));
            }

            bool? privilege = privileged;
            if (privilege is null && userId is long uid)
            {
                privilege = uid == UserId ? Privileged : uid == 0;
            }

            return new SocketHost
            {
                ComputerName = ComputerName,
                OS = os ?? OS,
                NetworkNamespace = NetworkNamespace,
                Addresses = localAddresses is null ? Addresses : localAddresses.Select(a => new HostAddress(a)).ToArray(),
                Interfaces = Interfaces,
                EphemeralPortRange = ephemeralPortRange ?? EphemeralPortRange,
                UnprivilegedPortStart = unprivilegedPortStart ?? UnprivilegedPortStart,
                ReservedPorts = reservedPorts?.ToArray() ?? ReservedPorts,
                NonLocalBind = nonLocalBind ?? NonLocalBind,
                NonLocalBindV6 = nonLocalBind ?? NonLocalBindV6,
                BindV6Only = BindV6Only,
                TcpTwReuse = tcpTwReuse ?? TcpTwReuse,
                TcpTwReuseDelay = TcpTwReuseDelay,
                AutobindReuse = autobindReuse ?? AutobindReuse,
                TcpTimestamps = TcpTimestamps,
                TcpTimeWaitSeconds = TcpTimeWaitSeconds,
                UserId = userId ?? UserId,
                Privileged = privilege ?? Privileged,
                Notes = Notes,
            };
        }

        /// <summary>"web02 (Linux, netns red:4026532301)".</summary>
        public override string ToString()
        {
            var parts = new List<string>();
            if (OS is TargetOS os)
            {
                parts.Add(Name(os));
            }

            if (NetworkNamespace is not null)
            {
                parts.Add("netns " + NetworkNamespace);
            }

            string where = ComputerName ?? "unknown host";
            return parts.Count == 0 ? where : where + " (" + string.Join(", ", parts) + ")";
        }

        internal static string Name(TargetOS os) => os == TargetOS.MacOS ? "macOS" : os.ToString();
    }
}
