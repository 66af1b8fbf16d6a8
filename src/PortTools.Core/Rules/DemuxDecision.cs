using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace PortTools
{
    /// <summary>The lookup stages of a delivery decision.</summary>
    internal enum DemuxStage : byte
    {
        Established,
        ListenerExact,
        ListenerWildcard,
        UdpExact,
        UdpWildcard,
        Multicast,
    }

    /// <summary>Why a candidate scored as it did (put into words only for results).</summary>
    internal enum CandidateNote : byte
    {
        Scored,
        AddressDiffers,
        V6OnlyRefusesIPv4,
        FamilyIsIPv4,
        DeviceDiffers,
        PeerDiffers,
        NotHigher,
        GroupPicked,
    }

    /// <summary>A rule engine's delivery answer, before it is put into words.</summary>
    internal sealed class DemuxDecision
    {
        public DemuxDecision(DemuxRequest request) => Request = request;

        public DemuxRequest Request { get; }

        public DemuxOutcome Outcome { get; set; } = DemuxOutcome.Refused;

        public DemuxStage Stage { get; set; }

        /// <summary>The one socket, when the kernel's choice is determined.</summary>
        public IndexedSocket? Socket { get; set; }

        /// <summary>A SO_REUSEPORT group's eligible members, or every multicast receiver.</summary>
        public List<IndexedSocket>? Sockets { get; set; }

        public List<(IndexedSocket Socket, int Score, DemuxStage Stage, CandidateNote Note)> Candidates { get; } = new List<(IndexedSocket, int, DemuxStage, CandidateNote)>();

        /// <summary>Sentences that qualify the answer (order ties, TIME-WAIT, unknown interface).</summary>
        public List<string> Notes { get; } = new List<string>();

        public void Consider(IndexedSocket socket, int score, DemuxStage stage, CandidateNote note) => Candidates.Add((socket, score, stage, note));
    }

    /// <summary>Puts delivery decisions into words.</summary>
    internal static class DemuxExplanation
    {
        public static DemuxResult ToResult(DemuxDecision decision, TargetOS os, string? computerName = null)
        {
            DemuxRequest request = decision.Request;
            var sockets = new List<SocketTuple>();
            if (decision.Sockets is not null)
            {
                foreach (IndexedSocket socket in decision.Sockets)
                {
                    sockets.Add(socket.Socket);
                }
            }
            else if (decision.Socket is not null)
            {
                sockets.Add(decision.Socket.Socket);
            }

            var candidates = new List<DemuxCandidate>(decision.Candidates.Count);
            foreach (var candidate in decision.Candidates)
            {
                candidates.Add(new DemuxCandidate(candidate.Socket.Socket, candidate.Score, StageName(candidate.Stage), NoteText(candidate.Note, candidate.Socket, request)));
            }

            return new DemuxResult
            {
                Protocol = request.Protocol,
                Source = request.Source,
                Destination = request.Destination,
                Outcome = decision.Outcome,
                Socket = decision.Socket?.Socket,
                Sockets = sockets,
                Candidates = candidates,
                Reason = Reason(decision),
                TargetOS = os,
                ComputerName = computerName,
            };
        }

        public static string StageName(DemuxStage stage) => stage switch
        {
            DemuxStage.Established => "established (exact 4-tuple)",
            DemuxStage.ListenerExact => "listeners, pass 1 (destination address)",
            DemuxStage.ListenerWildcard => "listeners, pass 2 (wildcard)",
            DemuxStage.UdpExact => "udp, pass 1 (destination address)",
            DemuxStage.UdpWildcard => "udp, pass 2 (wildcard)",
            _ => "multicast/broadcast",
        };

        private static string NoteText(CandidateNote note, IndexedSocket socket, DemuxRequest request) => note switch
        {
            CandidateNote.AddressDiffers => "bound to another address",
            CandidateNote.V6OnlyRefusesIPv4 => "IPV6_V6ONLY: takes no IPv4",
            CandidateNote.FamilyIsIPv4 => "an AF_INET socket: takes no IPv6",
            CandidateNote.DeviceDiffers => "bound to " + socket.Device + (request.Interface is null ? "; the arriving interface is not known" : "; the packet arrives on " + request.Interface),
            CandidateNote.PeerDiffers => "connected to another peer (" + socket.Socket.Remote + ")",
            CandidateNote.NotHigher => "scores no higher than an earlier socket",
            CandidateNote.GroupPicked => "SO_REUSEPORT group: the kernel hashes over its members",
            _ => "matches",
        };

        private static string Reason(DemuxDecision decision)
        {
            DemuxRequest request = decision.Request;
            var text = new StringBuilder();
            string destination = IPAddressText.FormatEndpoint(request.Destination.Address, request.Destination.Port);
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            switch (decision.Outcome)
            {
                case DemuxOutcome.Delivered when decision.Stage == DemuxStage.Multicast:
                    text.Append("A multicast or broadcast datagram goes to every socket that matches: ").Append(decision.Sockets!.Count.ToString(CultureInfo.InvariantCulture))
                        .Append(" socket(s) on port ").Append(request.Destination.Port.ToString(CultureInfo.InvariantCulture)).Append(" bound to ")
                        .Append(request.Destination.Address).Append(" or to the wildcard each receive a copy (no SO_REUSEPORT selection here)");
                    break;
                case DemuxOutcome.Delivered when decision.Stage == DemuxStage.Established:
                    text.Append(tcp ? "A connection matches the 4-tuple exactly: " : "A connected socket matches the 4-tuple exactly: ").Append(Describe(decision.Socket!));
                    break;
                case DemuxOutcome.Delivered when decision.Socket is null:
                    IndexedSocket first = decision.Sockets![0];
                    text.Append(Describe(first)).Append(" wins the lookup (").Append(StageName(decision.Stage)).Append(") and belongs to a SO_REUSEPORT group of ")
                        .Append(decision.Sockets.Count.ToString(CultureInfo.InvariantCulture)).Append(tcp ? " listeners" : " sockets")
                        .Append(": the kernel picks one member by a hash of the 4-tuple (keyed per boot), so any of them may receive it");
                    break;
                case DemuxOutcome.Delivered:
                    text.Append(Describe(decision.Socket!)).Append(" receives it (").Append(StageName(decision.Stage)).Append(")");
                    break;
                case DemuxOutcome.Refused:
                    text.Append("No socket on port ").Append(request.Destination.Port.ToString(CultureInfo.InvariantCulture)).Append(" takes ").Append(destination)
                        .Append(": the kernel answers with a RST (connection refused)");
                    break;
                case DemuxOutcome.PortUnreachable:
                    text.Append("No socket on port ").Append(request.Destination.Port.ToString(CultureInfo.InvariantCulture)).Append(" takes ").Append(destination)
                        .Append(": the kernel answers with ICMP port unreachable");
                    break;
                default:
                    text.Append("No socket takes this multicast or broadcast datagram; it is dropped without an answer (the kernel sends no ICMP error for multicast or broadcast)");
                    break;
            }

            if (decision.Outcome is DemuxOutcome.Refused or DemuxOutcome.PortUnreachable or DemuxOutcome.Dropped)
            {
                // Name what was passed over, so "refused" says why the sockets on that port did not match.
                int named = 0;
                foreach (var candidate in decision.Candidates)
                {
                    if (candidate.Score < 0 && named < 3)
                    {
                        text.Append(named == 0 ? ". Passed over: " : "; ").Append(Describe(candidate.Socket)).Append(" (").Append(NoteText(candidate.Note, candidate.Socket, request)).Append(')');
                        named++;
                    }
                }
            }

            foreach (string note in decision.Notes)
            {
                text.Append(". ").Append(note);
            }

            return text.Append('.').ToString();
        }

        public static string Describe(IndexedSocket socket)
        {
            SocketTuple tuple = socket.Socket;
            string owner = tuple.Processes.Count > 0 ? " of " + tuple.Processes[0] : string.Empty;
            return (tuple.Protocol == TransportProtocol.Tcp ? "tcp " : "udp ") + SocketStateNames.ToCanonical(tuple.Protocol, tuple.State) + " " + tuple.Local + (tuple.HasRemote ? " " + tuple.Remote : string.Empty) + owner;
        }
    }
}
