using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools
{
    /// <summary>Which socket an incoming packet reaches, the candidates the kernel weighed, and why.</summary>
    public sealed class DemuxResult
    {
        private IReadOnlyList<SocketTuple> _sockets = TextList<SocketTuple>.Empty;
        private IReadOnlyList<DemuxCandidate> _candidates = TextList<DemuxCandidate>.Empty;
        private IReadOnlyList<string> _dependsOn = TextList<string>.Empty;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; }

        /// <summary>The sender.</summary>
        [HiddenFromJson]
        public IPEndPoint Source { get; init; } = new IPEndPoint(IPAddress.Any, 0);

        /// <summary>The destination.</summary>
        [HiddenFromJson]
        public IPEndPoint Destination { get; init; } = new IPEndPoint(IPAddress.Any, 0);

        /// <summary>Delivered, Refused (TCP RST) or PortUnreachable (ICMP).</summary>
        public DemuxOutcome Outcome { get; init; }

        /// <summary>The socket that receives it, when exactly one is determined; null for a SO_REUSEPORT group (see Sockets).</summary>
        public SocketTuple? Socket { get; init; }

        /// <summary>Every socket that may receive it: the one socket, the members of the SO_REUSEPORT group the kernel hashes over, or every receiver of a multicast or broadcast datagram.</summary>
        public IReadOnlyList<SocketTuple> Sockets { get => _sockets; init => _sockets = TextList<SocketTuple>.From(value); }

        /// <summary>The sockets the lookup considered, with their scores, in the order the kernel walked them.</summary>
        public IReadOnlyList<DemuxCandidate> Candidates
        {
            // Listed when first read, as the Reason is: each candidate's note is words, and a pipeline of flows rarely reads them.
            get
            {
                if (_candidatesSource is not null)
                {
                    _candidates = TextList<DemuxCandidate>.From(_candidatesSource());
                    _candidatesSource = null;
                }

                return _candidates;
            }

            init => _candidates = TextList<DemuxCandidate>.From(value);
        }

        /// <summary>Lists the candidates when they are first read.</summary>
        internal Func<IReadOnlyList<DemuxCandidate>> CandidatesSource { init => _candidatesSource = value; }

        private Func<IReadOnlyList<DemuxCandidate>>? _candidatesSource;

        /// <summary>
        /// The unknown facts that decide which of <see cref="Sockets"/> receives it (a socket option
        /// that could not be read, for one); empty when the answer is certain. When not empty,
        /// <see cref="Socket"/> is null and Sockets lists every socket that may receive it.
        /// </summary>
        public IReadOnlyList<string> DependsOn { get => _dependsOn; init => _dependsOn = TextList<string>.From(value); }

        /// <summary>
        /// Who receives it, as text: the socket's local endpoint and owner ("0.0.0.0:80 nginx (812)"), or
        /// "one of 3: ..." for a group; null when nothing does. Text, so that it survives serialization.
        /// </summary>
        public string? Receiver => Socket is SocketTuple socket
            ? socket.Local + (socket.ProcessName is null ? string.Empty : " " + socket.ProcessName + " (" + socket.ProcessId?.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")")
            : Sockets.Count > 1 ? "one of " + Sockets.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + ": " + string.Join(", ", System.Linq.Enumerable.Select(Sockets, s => s.Local)) : null;

        private string? _reason;
        private Func<string>? _reasonSource;

        /// <summary>The decision in sentences.</summary>
        public string Reason
        {
            // Put into words when first read: a pipeline of flows often wants only the Outcome and the Receiver.
            get => _reason ??= _reasonSource?.Invoke() ?? string.Empty;
            init => _reason = value;
        }

        /// <summary>Writes the Reason when it is first read.</summary>
        internal Func<string> ReasonSource { init => _reasonSource = value; }

        /// <summary>The OS whose rules decided.</summary>
        public TargetOS TargetOS { get; init; }

        /// <summary>Where the packet came from in the input, such as a CSV line; null for live questions.</summary>
        public string? ComputerName { get; init; }

        /// <summary>
        /// The network namespace whose sockets the delivery was decided against, when the table said: a
        /// table of several namespaces gets one answer per namespace (a packet arrives in one of them).
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; internal set; }

        /// <summary>"tcp 198.51.100.7:40000 -> 192.168.1.10:8080: Delivered".</summary>
        public override string ToString() =>
            (Protocol == TransportProtocol.Tcp ? "tcp " : "udp ") + IPAddressText.FormatEndpoint(Source.Address, Source.Port) + " -> " + IPAddressText.FormatEndpoint(Destination.Address, Destination.Port) + ": " + Outcome;
    }

    /// <summary>A socket the delivery lookup weighed.</summary>
    public sealed class DemuxCandidate
    {
        internal DemuxCandidate(SocketTuple socket, int score, string stage, string note)
        {
            Socket = socket;
            Score = score;
            Stage = stage;
            Note = note;
        }

        /// <summary>The socket.</summary>
        public SocketTuple Socket { get; }

        /// <summary>Its score in that stage (higher wins; -1 when it did not match).</summary>
        public int Score { get; }

        /// <summary>The lookup stage: established, listener pass 1 (exact address), listener pass 2 (wildcard), unconnected, multicast.</summary>
        public string Stage { get; }

        /// <summary>Why it scored as it did, or why it was passed over.</summary>
        public string Note { get; }

        /// <summary>"12 tcp LISTEN 0.0.0.0:80 (pass 2: wildcard)".</summary>
        public override string ToString() => Score + " " + Socket + " (" + Stage + ")";
    }
}
