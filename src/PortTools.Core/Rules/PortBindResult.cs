using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools
{
    /// <summary>Whether a bind (and listen) would succeed, which sockets stand in the way, and why.</summary>
    public sealed class PortBindResult
    {
        private IReadOnlyList<SocketTuple> _conflicts = TextList<SocketTuple>.Empty;
        private IReadOnlyList<string> _dependsOn = TextList<string>.Empty;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; }

        /// <summary>The address that was (or would be) bound.</summary>
        [HiddenFromJson]
        public IPAddress Address { get; init; } = IPAddress.Any;

        /// <summary>The port asked for (0: the kernel picks).</summary>
        public int Port { get; init; }

        /// <summary>
        /// Whether bind() (and listen(), when asked) succeed; null when the answer turns on a fact
        /// that is not known (see <see cref="DependsOn"/>), for example a holder's SO_REUSEPORT that
        /// could not be read. A trial bind always answers true or false.
        /// </summary>
        public bool? CanBind { get; init; }

        /// <summary>
        /// The unknown facts the answer turns on; empty when the answer is certain. When not empty,
        /// <see cref="CanBind"/> is null and <see cref="Error"/> is what the bind gets if the facts go
        /// against it.
        /// </summary>
        public IReadOnlyList<string> DependsOn { get => _dependsOn; init => _dependsOn = TextList<string>.From(value); }

        /// <summary>The error name the OS gives, such as EADDRINUSE or WSAEADDRINUSE; null on success.</summary>
        public string? Error { get; init; }

        /// <summary>The error number (errno, or the Winsock code); null on success.</summary>
        public int? ErrorCode { get; init; }

        /// <summary>Every socket that conflicts, oldest first.</summary>
        public IReadOnlyList<SocketTuple> Conflicts { get => _conflicts; init => _conflicts = TextList<SocketTuple>.From(value); }

        /// <summary>
        /// Who holds the port, short, for the table view: the first owner as "python3 (7865)", with "+2"
        /// when two more processes (or sockets without an owner) hold it too, "uid 1000" when the owner is
        /// not known, "TIME-WAIT" for TIME-WAIT sockets, which no process owns, "?" when nothing is
        /// known; null when no socket conflicts. <see cref="Conflicts"/> has every socket.
        /// </summary>
        public string? Holder { get; init; }

        /// <summary>The decision in sentences: the cause first, then what to do about it.</summary>
        public string Reason { get; init; } = string.Empty;

        /// <summary>A short stable name of the rule that decided, such as linux.tcp.reuseaddr-vs-listener.</summary>
        public string Rule { get; init; } = string.Empty;

        /// <summary>Probed (a real bind on this host) or Simulated (the rule engine alone).</summary>
        public BindCheckMethod Method { get; init; }

        /// <summary>The OS whose rules decided.</summary>
        public TargetOS TargetOS { get; init; }

        /// <summary>
        /// When probed: the error the rule engine predicted, if it differs from what the kernel
        /// answered (null when they agree). Such a disagreement is always reported, never hidden.
        /// </summary>
        public string? PredictedError { get; init; }

        /// <summary>The options the bind was checked with, as text: "reuseaddr reuseport v6only dev=eth0 listen".</summary>
        public string Options { get; init; } = string.Empty;

        /// <summary>The host name or the PSComputerName the socket table came from, when known.</summary>
        public string? ComputerName { get; init; }

        /// <summary>
        /// The network namespace whose sockets the answer was decided against, when the table said: a
        /// table of several namespaces gets one answer per namespace, since their ports never conflict.
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; internal set; }

        /// <summary>"0.0.0.0:8080/tcp: EADDRINUSE".</summary>
        public override string ToString() =>
            IPAddressText.FormatEndpoint(Address, Port) + "/" + (Protocol == TransportProtocol.Tcp ? "tcp" : "udp") + ": " + (CanBind == true ? "ok" : CanBind is null ? "depends on " + string.Join("; ", DependsOn) : Error);
    }
}
