using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// One socket: its protocol, endpoints, state, owners and the options that decide binds and
    /// delivery. <see cref="ToString"/> writes a one-line canonical text that <see cref="Parse"/> reads
    /// back, for example <c>tcp LISTEN 0.0.0.0:8080 reuseport uid=1000</c>.
    /// </summary>
    /// <remarks>
    /// Options a platform does not expose (SO_REUSEADDR on Linux, for one) are null, meaning unknown,
    /// never a guessed false.
    /// </remarks>
    public sealed class SocketTuple : IEquatable<SocketTuple>
    {
        private readonly IPAddress _localAddress = IPAddress.Any;
        private readonly IPAddress? _remoteAddress;
        private readonly int _localPort;
        private readonly int _remotePort;
        private readonly SocketOwnerList _processes = SocketOwnerList.Empty;
        private readonly bool? _ipv6Only;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; }

        /// <summary>InterNetwork (IPv4) or InterNetworkV6 (IPv6, including v4-mapped addresses).</summary>
        [HiddenFromJson]
        public AddressFamily AddressFamily => _localAddress.AddressFamily;

        /// <summary>The local address; 0.0.0.0 or :: for a wildcard bind.</summary>
        [HiddenFromJson]
        public IPAddress LocalAddress
        {
            get => _localAddress;
            init => _localAddress = value ?? throw new ArgumentNullException(nameof(LocalAddress));
        }

        /// <summary>The local port.</summary>
        public int LocalPort
        {
            get => _localPort;
            init => _localPort = CheckPort(value, nameof(LocalPort));
        }

        /// <summary>The peer's address; 0.0.0.0 or :: when there is no peer (listeners, unconnected UDP).</summary>
        [HiddenFromJson]
        public IPAddress RemoteAddress
        {
            get => _remoteAddress ?? (_localAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
            init => _remoteAddress = value;
        }

        /// <summary>The peer's port; 0 when there is no peer.</summary>
        public int RemotePort
        {
            get => _remotePort;
            init => _remotePort = CheckPort(value, nameof(RemotePort));
        }

        /// <summary>The socket's state.</summary>
        public SocketState State { get; init; }

        /// <summary>Every process that holds the socket open, first found first; empty when unknown.</summary>
        public IReadOnlyList<SocketOwner> Processes
        {
            get => _processes;
            init => _processes = value is null || value.Count == 0 ? SocketOwnerList.Empty : value as SocketOwnerList ?? new SocketOwnerList(value);
        }

        /// <summary>The first owning process, or null when no owner is known (TIME-WAIT entries have none).</summary>
        public int? ProcessId => _processes.Count > 0 ? _processes[0].ProcessId : null;

        /// <summary>The first owning process's name.</summary>
        public string? ProcessName => _processes.Count > 0 ? _processes[0].ProcessName : null;

        /// <summary>The user id that owns the socket (Linux and macOS).</summary>
        public long? UserId { get; init; }

        /// <summary>The socket's inode (Linux), the key that ties it to file descriptors.</summary>
        public ulong? Inode { get; init; }

        /// <summary>Bytes waiting to be read; for a listener, connections waiting to be accepted.</summary>
        public long? ReceiveQueue { get; init; }

        /// <summary>Bytes not yet acknowledged; for a listener, its backlog limit.</summary>
        public long? SendQueue { get; init; }

        /// <summary>
        /// The kernel timer pending on the socket when it was read, as <c>ss -o</c> shows it (Linux:
        /// inet_diag or /proc/net/tcp); null when the source does not report timers. Not part of equality.
        /// </summary>
        public SocketTimer? Timer { get; init; }

        /// <summary>
        /// How long after the table was read the pending <see cref="Timer"/> fires: for a TIME-WAIT
        /// entry, when it is gone and no longer holds its port. Null when no timer is pending or the
        /// source does not say. Not part of equality.
        /// </summary>
        public TimeSpan? TimerExpiresIn { get; init; }

        /// <summary>
        /// The count ss prints as a timer's third field: retransmissions of the unacknowledged segment
        /// (Retransmit timer), keepalive or zero-window probes sent without an answer (KeepAlive, Probe).
        /// Null when no timer is pending or the source does not say. Not part of equality.
        /// </summary>
        public int? Retransmits { get; init; }

        /// <summary>The device the socket is bound to (SO_BINDTODEVICE), or null.</summary>
        public string? BoundInterface { get; init; }

        /// <summary>IPV6_V6ONLY for IPv6 sockets; null for IPv4 sockets and when the platform does not say.</summary>
        public bool? IPv6Only
        {
            get => _localAddress.AddressFamily == AddressFamily.InterNetworkV6 ? _ipv6Only : null;
            init => _ipv6Only = value;
        }

        /// <summary>SO_REUSEADDR, or null when the platform does not expose it.</summary>
        public bool? ReuseAddress { get; init; }

        /// <summary>SO_REUSEPORT, or null when the platform does not expose it.</summary>
        public bool? ReusePort { get; init; }

        /// <summary>
        /// SO_REUSEPORT_LB (FreeBSD 12 and later: a load-balancing group), or null when unknown or
        /// not applicable. Canonical tokens <c>reuseport_lb</c> and <c>noreuseport_lb</c>.
        /// </summary>
        public bool? ReusePortLoadBalance { get; init; }

        /// <summary>
        /// SO_EXCLUSIVEADDRUSE (Windows), or null when unknown or not applicable. Canonical tokens
        /// <c>exclusiveaddruse</c> and <c>noexclusiveaddruse</c>.
        /// </summary>
        public bool? ExclusiveAddressUse { get; init; }

        /// <summary>Where the object came from: Live, or a text format and line number. Not part of equality.</summary>
        public string? Source { get; init; }

        /// <summary>The computer the socket was read on, when it came from elsewhere (PSComputerName of remoting results). Not part of equality.</summary>
        public string? ComputerName { get; init; }

        /// <summary>
        /// The Linux network namespace the socket lives in, when known: sockets in different
        /// namespaces never conflict or receive each other's traffic. Null when the table did not say
        /// (other platforms, text without it). Not part of equality, like <see cref="ComputerName"/>.
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; init; }

        /// <summary>
        /// The container the socket belongs to, where the owning process's cgroup (or, for a socket
        /// without an owner, its namespace's processes) say so: Get-SocketTuple -AllNetworkNamespaces
        /// fills it in. Null outside containers and when unknown. Not part of equality.
        /// </summary>
        public ContainerInfo? Container { get; init; }

        /// <summary>
        /// Whether this process read the socket from the live table (and it has not travelled since:
        /// a deserialized or parsed copy never is): the mark that the host facts of its table are
        /// this host's, or on Linux its namespace's, to read. Not part of the text form or equality.
        /// </summary>
        internal bool ReadHere { get; init; }

        /// <summary>This socket labelled with the computer it was read on: itself when it already is, else a copy.</summary>
        /// <param name="computerName">The computer.</param>
        /// <returns>The socket; every other property is unchanged.</returns>
        public SocketTuple WithComputerName(string computerName)
        {
            if (string.IsNullOrEmpty(computerName))
            {
                throw new ArgumentException("A computer name cannot be empty.", nameof(computerName));
            }

            return string.Equals(computerName, ComputerName, StringComparison.Ordinal) ? this : this.Copy(computerName: computerName);
        }

        /// <summary>The local endpoint as text, "0.0.0.0:8080" or "[::1]:53".</summary>
        public string Local => IPAddressText.FormatEndpoint(_localAddress, _localPort);

        /// <summary>The remote endpoint as text, or "*:*" when there is no peer.</summary>
        public string Remote => HasRemote ? IPAddressText.FormatEndpoint(RemoteAddress, _remotePort) : "*:*";

        /// <summary>
        /// Who can reach the socket, judged from its local address: AllInterfaces, Public, Private,
        /// LinkLocal or Loopback, ordered most exposed first so sorting by it reads as an audit. Null
        /// for sockets that do not wait for traffic from anyone: everything but listening TCP and
        /// unconnected UDP sockets. Computed; not part of the text form or equality.
        /// </summary>
        public Exposure? Exposure => ExposureClassifier.ForSocket(this);

        /// <summary>
        /// The one interface through which the socket can be reached: the device it is tied to with
        /// SO_BINDTODEVICE (<see cref="BoundInterface"/>), for a socket that has an <see cref="Exposure"/>;
        /// null when any interface that routes to its address reaches it. Computed, like Exposure.
        /// </summary>
        public string? ExposureInterface => BoundInterface is not null && ExposureClassifier.CanHaveExposure(Protocol, State) ? BoundInterface : null;

        /// <summary>Whether the socket has a peer.</summary>
        internal bool HasRemote => _remotePort != 0 || (_remoteAddress is not null && !IPAddressText.IsWildcard(_remoteAddress));

        /// <summary>Parses the canonical text form.</summary>
        /// <param name="text">Such as <c>tcp LISTEN 0.0.0.0:8080 reuseport uid=1000</c>.</param>
        /// <returns>The socket.</returns>
        /// <exception cref="FormatException">The text is not valid; the message names the bad token.</exception>
        public static SocketTuple Parse(string text) => SocketTupleText.Parse(text);

        /// <summary>Parses the canonical text form.</summary>
        /// <param name="text">The text.</param>
        /// <param name="socket">The socket, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SocketTuple? socket) =>
            SocketTupleText.TryParse(text, out socket, out _);

        /// <summary>The canonical one-line text form, which <see cref="Parse"/> reads back.</summary>
        public override string ToString() => SocketTupleText.Format(this);

        /// <inheritdoc/>
        public bool Equals(SocketTuple? other)
        {
            if (other is null)
            {
                return false;
            }

            if (ReferenceEquals(this, other))
            {
                return true;
            }

            return Protocol == other.Protocol
                && State == other.State
                && _localPort == other._localPort
                && _remotePort == other._remotePort
                && _localAddress.Equals(other._localAddress)
                && RemoteAddress.Equals(other.RemoteAddress)
                && UserId == other.UserId
                && Inode == other.Inode
                && ReceiveQueue == other.ReceiveQueue
                && SendQueue == other.SendQueue
                && string.Equals(BoundInterface, other.BoundInterface, StringComparison.Ordinal)
                && IPv6Only == other.IPv6Only
                && ReuseAddress == other.ReuseAddress
                && ReusePort == other.ReusePort
                && ReusePortLoadBalance == other.ReusePortLoadBalance
                && ExclusiveAddressUse == other.ExclusiveAddressUse
                && OwnersEqual(_processes, other._processes);
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as SocketTuple);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            unchecked
            {
                int hash = (int)Protocol;
                hash = (hash * 31) + (int)State;
                hash = (hash * 31) + _localPort;
                hash = (hash * 31) + _remotePort;
                hash = (hash * 31) + _localAddress.GetHashCode();
                hash = (hash * 31) + (Inode?.GetHashCode() ?? 0);
                return hash;
            }
        }

        private static bool OwnersEqual(IReadOnlyList<SocketOwner> a, IReadOnlyList<SocketOwner> b)
        {
            if (a.Count != b.Count)
            {
                return false;
            }

            for (int i = 0; i < a.Count; i++)
            {
                if (!a[i].Equals(b[i]))
                {
                    return false;
                }
            }

            return true;
        }

        private static int CheckPort(int port, string name)
        {
            if (port < PortRange.MinPort || port > PortRange.MaxPort)
            {
                throw new ArgumentOutOfRangeException(name, port, "Port " + port.ToString(CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.");
            }

            return port;
        }
    }
}
