using System;
using System.Collections.Generic;

namespace PortTools.Rules.Windows
{
    /// <summary>
    /// Windows delivery (kernel-rules.md 2B). Documented: a connection's exact 4-tuple; a specific
    /// bind takes the traffic for its own address and the wildcard serves every other; identical
    /// SO_REUSEADDR bindings give no guarantee which socket receives; multicast reaches every member.
    /// Everything else (UDP ties, connected against unconnected UDP, AF_INET against dual-stack) is
    /// UNVERIFIED, so where more than one socket is left the outcome is Nondeterministic among them:
    /// the engine never picks one.
    /// </summary>
    internal static class WindowsDemuxRules
    {
        private const int SpecificScore = 2;
        private const int WildcardScore = 1;

        public static DemuxDecision Decide(SocketIndex index, DemuxRequest request)
        {
            var decision = new DemuxDecision(request);
            var packet = new PacketView(request);
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            if (!tcp && (packet.Destination.IsMulticast || (packet.IsIPv4 && index.Facts.IsBroadcast(request.Destination.Address))))
            {
                return Multicast(index, packet, decision);
            }

            if (tcp)
            {
                IndexedSocket? established = index.Established(TransportProtocol.Tcp, packet.Destination, packet.DestinationPort, packet.Source, packet.SourcePort);
                if (established is not null)
                {
                    decision.Consider(established, 1, DemuxStage.Established, CandidateNote.Scored);
                    if (established.State != SocketState.TimeWait || request.Segment != TcpSegmentKind.Syn)
                    {
                        return Single(decision, established, DemuxStage.Established);
                    }

                    decision.Caveats |= DemuxCaveats.TimeWaitSyn;
                }
            }

            List<IndexedSocket>? bucket = index.BindBucket(request.Protocol, packet.DestinationPort);
            var specific = new List<IndexedSocket>();
            var wildcard = new List<IndexedSocket>();
            var scored = new List<(IndexedSocket Socket, int Score, CandidateNote Note)>();
            if (bucket is not null)
            {
                foreach (IndexedSocket socket in bucket)
                {
                    (int score, CandidateNote note) = Score(socket, packet, tcp);
                    if (score == int.MinValue)
                    {
                        continue;
                    }

                    scored.Add((socket, score, note));
                    (score == SpecificScore ? specific : score == WildcardScore ? wildcard : null)?.Add(socket);
                }
            }

            List<IndexedSocket> chosen = specific.Count > 0 ? specific : wildcard;
            DemuxStage stage = specific.Count > 0 ? DemuxStage.BoundAddress : DemuxStage.BoundWildcard;
            foreach ((IndexedSocket socket, int score, CandidateNote note) in scored)
            {
                CandidateNote shown = note;
                if (score > 0)
                {
                    shown = score == WildcardScore && specific.Count > 0 ? CandidateNote.SpecificWins : chosen.Count > 1 ? CandidateNote.Undetermined : CandidateNote.Scored;
                }

                decision.Consider(socket, score, score == SpecificScore ? DemuxStage.BoundAddress : DemuxStage.BoundWildcard, shown);
            }

            if (chosen.Count == 0)
            {
                decision.Outcome = tcp ? DemuxOutcome.Refused : DemuxOutcome.PortUnreachable;
                return decision;
            }

            if (chosen.Count == 1)
            {
                Single(decision, chosen[0], stage);
            }
            else
            {
                decision.Outcome = DemuxOutcome.Nondeterministic;
                decision.Stage = stage;
                decision.Sockets = chosen;
                decision.Caveats |= TieCaveats(chosen, tcp);
            }

            if (tcp && request.Segment != TcpSegmentKind.Syn)
            {
                // A segment of no connection reaches a listener, which answers it with a RST.
                decision.Caveats |= DemuxCaveats.NotSyn;
                decision.Outcome = DemuxOutcome.Refused;
                decision.Socket = null;
                decision.Sockets = null;
            }

            return decision;
        }

        /// <summary>
        /// 2 for a socket bound to the destination address, 1 for a wildcard one, -1 when it cannot
        /// take the packet; int.MinValue for sockets that are no candidates at all (connections).
        /// </summary>
        private static (int Score, CandidateNote Note) Score(IndexedSocket socket, PacketView packet, bool tcp)
        {
            if (tcp)
            {
                if (socket.State == SocketState.Bound)
                {
                    return (-1, CandidateNote.NotListening);
                }

                if (socket.State != SocketState.Listen)
                {
                    return (int.MinValue, CandidateNote.Scored);
                }
            }
            else if (socket.State == SocketState.Connected)
            {
                if (!PeerMatches(socket, packet))
                {
                    return (-1, CandidateNote.PeerDiffers);
                }
            }
            else if (socket.State != SocketState.Unconnected)
            {
                return (int.MinValue, CandidateNote.Scored);
            }

            return AddressScore(socket, packet);
        }

        private static (int Score, CandidateNote Note) AddressScore(IndexedSocket socket, PacketView packet)
        {
            if (packet.IsIPv4)
            {
                if (!WindowsBindRules.OnIPv4(socket))
                {
                    return (-1, socket.Class == AddressClass.Any6 ? CandidateNote.V6OnlyRefusesIPv4 : CandidateNote.AddressDiffers);
                }

                if (socket.Class == AddressClass.Any6 || socket.Local.V4 == 0)
                {
                    return (WildcardScore, CandidateNote.Scored);
                }

                return socket.Local.V4 == packet.Destination.V4 ? (SpecificScore, CandidateNote.Scored) : (-1, CandidateNote.AddressDiffers);
            }

            if (!socket.Inet6)
            {
                return (-1, CandidateNote.FamilyIsIPv4);
            }

            if (socket.Class == AddressClass.Any6)
            {
                return (WildcardScore, CandidateNote.Scored);
            }

            return socket.Class == AddressClass.Spec6 && socket.Local.Equals(packet.Destination) ? (SpecificScore, CandidateNote.Scored) : (-1, CandidateNote.AddressDiffers);
        }

        /// <summary>Why Windows leaves the choice open among several sockets (2B).</summary>
        private static DemuxCaveats TieCaveats(List<IndexedSocket> chosen, bool tcp)
        {
            bool inet = false, dualStack = false, connected = false, unconnected = false, sameBinding = true, allReuse = true;
            IndexedSocket first = chosen[0];
            foreach (IndexedSocket socket in chosen)
            {
                inet |= socket.Class == AddressClass.V4;
                dualStack |= socket.Class == AddressClass.Any6;
                connected |= socket.State == SocketState.Connected;
                unconnected |= socket.State != SocketState.Connected;
                sameBinding &= socket.Inet6 == first.Inet6 && socket.Local.Equals(first.Local);
                allReuse &= socket.ReuseAddress;
            }

            DemuxCaveats caveats = DemuxCaveats.None;
            if (inet && dualStack)
            {
                caveats |= DemuxCaveats.WindowsFamilyChoice;
            }

            if (connected && unconnected)
            {
                caveats |= DemuxCaveats.WindowsConnectedVersusUnconnected;
            }

            if (sameBinding && allReuse)
            {
                caveats |= DemuxCaveats.WindowsReuseAddressTie;
            }
            else if (caveats == DemuxCaveats.None)
            {
                caveats |= tcp ? DemuxCaveats.WindowsSpecificTie : DemuxCaveats.WindowsUdpTie;
            }

            return caveats;
        }

        /// <summary>
        /// 2B: every socket on the port bound to the wildcard, to the group (or broadcast) address,
        /// or to a unicast address of the interface the datagram arrives on receives a copy; group
        /// membership is taken as given. Broadcast delivery is not documented (UNVERIFIED).
        /// </summary>
        private static DemuxDecision Multicast(SocketIndex index, PacketView packet, DemuxDecision decision)
        {
            decision.Stage = DemuxStage.Multicast;
            bool broadcast = !packet.Destination.IsMulticast;
            var receivers = new List<IndexedSocket>();
            List<IndexedSocket>? bucket = index.BindBucket(TransportProtocol.Udp, packet.DestinationPort);
            if (bucket is not null)
            {
                foreach (IndexedSocket socket in bucket)
                {
                    (int score, CandidateNote note) = MulticastMatch(socket, packet, index.Facts);
                    decision.Consider(socket, score, DemuxStage.Multicast, note);
                    if (score >= 0)
                    {
                        receivers.Add(socket);
                    }
                }
            }

            decision.Caveats |= broadcast ? DemuxCaveats.WindowsBroadcast : DemuxCaveats.MembershipAssumed;
            if (receivers.Count == 0)
            {
                decision.Outcome = DemuxOutcome.Dropped;
                return decision;
            }

            decision.Outcome = DemuxOutcome.Delivered;
            decision.Sockets = receivers;
            decision.Socket = receivers.Count == 1 ? receivers[0] : null;
            return decision;
        }

        private static (int Score, CandidateNote Note) MulticastMatch(IndexedSocket socket, PacketView packet, HostFacts facts)
        {
            if (socket.State == SocketState.Connected && !PeerMatches(socket, packet))
            {
                return (-1, CandidateNote.PeerDiffers);
            }

            if (packet.IsIPv4 ? !WindowsBindRules.OnIPv4(socket) : !socket.Inet6 || socket.Class == AddressClass.V4)
            {
                return (-1, packet.IsIPv4 ? CandidateNote.V6OnlyRefusesIPv4 : CandidateNote.FamilyIsIPv4);
            }

            bool wildcard = socket.Class == AddressClass.Any6 || (socket.Class == AddressClass.V4 && socket.Local.V4 == 0);
            if (wildcard || socket.Local.Equals(packet.Destination))
            {
                return (0, CandidateNote.Scored);
            }

            // "Bound to the same interface": a unicast address of the interface the datagram arrives on.
            string? arriving = packet.Request.Interface;
            return arriving is not null && string.Equals(facts.InterfaceOf(socket.Socket.LocalAddress), arriving, StringComparison.Ordinal)
                ? (0, CandidateNote.Scored)
                : (-1, CandidateNote.AddressDiffers);
        }

        private static bool PeerMatches(IndexedSocket socket, PacketView packet) =>
            (socket.Remote.IsZero || (socket.Remote.IsV4Mapped && socket.Remote.V4 == 0) || socket.Remote.Equals(packet.Source))
            && (socket.RemotePort == 0 || socket.RemotePort == packet.SourcePort);

        private static DemuxDecision Single(DemuxDecision decision, IndexedSocket socket, DemuxStage stage)
        {
            decision.Outcome = DemuxOutcome.Delivered;
            decision.Stage = stage;
            decision.Socket = socket;
            decision.Sockets = null;
            return decision;
        }
    }
}
