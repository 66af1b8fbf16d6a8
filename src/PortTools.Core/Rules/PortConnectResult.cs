using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;

namespace PortTools
{
    /// <summary>
    /// Whether connect() to a destination would get a source port (and the bind() before it, when
    /// one is asked for, would succeed), which port, how many remain, and what stands in the way.
    /// Nothing is sent: the answer comes from the socket table and the OS's port selection rules.
    /// </summary>
    public sealed class PortConnectResult
    {
        private IReadOnlyList<string> _dependsOn = TextList<string>.Empty;
        private IReadOnlyList<int> _sourcePorts = TextList<int>.Empty;
        private IReadOnlyList<SocketTuple> _conflicts = TextList<SocketTuple>.Empty;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; }

        /// <summary>The destination, as "10.0.0.5:5432" or "[2001:db8::5]:443".</summary>
        public string Destination => IPAddressText.FormatEndpoint(DestinationAddress, DestinationPort);

        /// <summary>The destination address.</summary>
        [HiddenFromJson]
        public IPAddress DestinationAddress { get; init; } = IPAddress.Loopback;

        /// <summary>The destination port.</summary>
        public int DestinationPort { get; init; }

        /// <summary>The address bound before connect(), or null when connect() was asked about without a bind().</summary>
        [HiddenFromJson]
        public IPAddress? Address { get; init; }

        /// <summary>The port bound before connect() (0: chosen by the kernel).</summary>
        public int Port { get; init; }

        /// <summary>The source address the connection gets: the bound address, or the one the route gives, when known.</summary>
        [HiddenFromJson]
        public IPAddress? SourceAddress { get; init; }

        /// <summary>
        /// Whether the connect() calls asked about (<see cref="Count"/> of them, 1 by default) all get a
        /// source port; null when the answer turns on something not known (see <see cref="DependsOn"/>).
        /// Whether the peer then accepts the connection is not part of this answer.
        /// </summary>
        public bool? CanConnect { get; init; }

        /// <summary>
        /// What the answer turns on that is not known: a fact of the host, the age of TIME-WAIT
        /// entries, or the kernel's per-boot hash. When not empty, <see cref="CanConnect"/> is null
        /// and <see cref="Error"/> is what the call gets if it goes against it.
        /// </summary>
        public IReadOnlyList<string> DependsOn { get => _dependsOn; init => _dependsOn = TextList<string>.From(value); }

        /// <summary>The error the failing call gets, as the OS names it (EADDRNOTAVAIL, EAGAIN, EADDRINUSE, ...); null on success.</summary>
        public string? Error { get; init; }

        /// <summary>The error number (errno, or the Winsock code); null on success.</summary>
        public int? ErrorCode { get; init; }

        /// <summary>The source port the first call gets, when only one is possible; null otherwise (see <see cref="SourcePorts"/>).</summary>
        public int? SourcePort { get; init; }

        /// <summary>
        /// The ports the first call may get, in ascending order: which one is decided by the kernel's
        /// per-boot hash (connect()) or a random start (bind(0), UDP), which no table shows. Empty when
        /// the call fails, or when the port was given.
        /// </summary>
        public IReadOnlyList<int> SourcePorts
        {
            // A free range names thousands of candidates: they are listed when first read, not for every answer.
            get => _sourcePorts as TextList<int> ?? (_sourcePorts = TextList<int>.From(_sourcePorts));
            init => _sourcePorts = value ?? TextList<int>.Empty;
        }

        /// <summary>
        /// How many further connect() calls of this kind succeed, one after another, before the first
        /// failure: the source ports that remain toward this destination. When it depends on what is not
        /// known, the number that certainly succeed (see <see cref="DependsOn"/>). Null when ports set no
        /// limit (a UDP socket bound to a port it may share).
        /// </summary>
        public int? Available { get; init; }

        /// <summary>The number of connect() calls asked about.</summary>
        public int Count { get; init; } = 1;

        /// <summary>The range the source port comes from, when the kernel picks it: the system's, narrowed by IP_LOCAL_PORT_RANGE.</summary>
        public PortRange? SearchedRange { get; init; }

        /// <summary>The sockets that decide a failure: bind() conflicts, or the connection that holds the 4-tuple.</summary>
        public IReadOnlyList<SocketTuple> Conflicts { get => _conflicts; init => _conflicts = TextList<SocketTuple>.From(value); }

        /// <summary>A short stable name of the rule that decided, such as linux.connect.exhausted.</summary>
        public string Rule { get; init; } = string.Empty;

        /// <summary>The decision in sentences: the range, what holds its ports, and what decided.</summary>
        public string Reason { get; init; } = string.Empty;

        /// <summary>The OS whose rules decided.</summary>
        public TargetOS TargetOS { get; init; }

        /// <summary>The options the question was asked with, as text: "bind=10.0.0.1:0 reuseaddr bind_address_no_port local_port_range=40000-40099".</summary>
        public string Options { get; init; } = string.Empty;

        /// <summary>The host name or PSComputerName the socket table came from, when known.</summary>
        public string? ComputerName { get; init; }

        /// <summary>
        /// The network namespace whose sockets the answer was decided against, when the table said: a
        /// table of several namespaces gets one answer per namespace, since each has its own ports.
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; internal set; }

        /// <summary>"tcp -> 10.0.0.5:5432: port 40002" or "tcp -> 10.0.0.5:5432: EADDRNOTAVAIL".</summary>
        public override string ToString()
        {
            string head = (Protocol == TransportProtocol.Tcp ? "tcp" : "udp") + " -> " + Destination + ": ";
            if (CanConnect is null)
            {
                return head + "depends on " + string.Join("; ", DependsOn);
            }

            if (CanConnect == false)
            {
                return head + Error;
            }

            return head + (SourcePort is int port ? "port " + port.ToString(CultureInfo.InvariantCulture)
                : SourcePorts.Count > 0 ? SourcePorts.Count.ToString("N0", CultureInfo.InvariantCulture) + " possible ports"
                : "ok");
        }
    }
}
