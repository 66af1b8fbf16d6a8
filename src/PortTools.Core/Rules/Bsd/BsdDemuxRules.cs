using System;
using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// FreeBSD and macOS delivery. FreeBSD (kernel-rules.md 3B; in_pcblookup_hash_smr/_locked): the
    /// exact hash, then SO_REUSEPORT_LB groups, then the ordered wildcard list (specific local
    /// address, then AF_INET wildcard, then dual-stack [::]; ties to the most recently bound,
    /// [derived]). macOS (4B; XNU in_pcblookup_hash_locked): the exact 4-tuple, then the first
    /// unconnected socket on the destination address (newest first), else a wildcard, AF_INET before
    /// dual-stack and among several the earliest bound ([derived]); no load balancing. UDP multicast
    /// and broadcast go to every matching socket until one without a reuse option stops the scan.
    /// Scores in Candidates: 3 bound to the destination address, 2 AF_INET (or IPv6) wildcard,
    /// 1 dual-stack [::] wildcard (for IPv4), -1 no match.
    /// </summary>
    internal static class BsdDemuxRules
    {
        private const int ExactScore = 3;
        private const int WildcardScore = 2;
        private const int DualStackScore = 1;

        // in_pcbinslbgrouphash: a group stops growing at INPCBLBGROUP_SIZMAX members.
        private const int LoadBalanceGroupLimit = 256;

        public static DemuxDecision Decide(SocketIndex index, DemuxRequest request, bool freeBsd)
        {
            var decision = new DemuxDecision(request);
            var packet = new PacketView(request);
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            if (!packet.IsIPv4)
            {
                decision.Caveats |= freeBsd ? DemuxCaveats.FreeBsdIPv6Lookup : DemuxCaveats.MacIPv6Lookup;
            }

            if (!tcp && (packet.Destination.IsMulticast || (packet.IsIPv4 && index.Facts.IsBroadcast(request.Destination.Address))))
            {
                return Multicast(index, packet, decision, freeBsd);
            }

            // 1. The exact hash: connections, TIME-WAIT entries, connected UDP sockets.
            IndexedSocket? exact = index.Established(request.Protocol, packet.Destination, packet.DestinationPort, packet.Source, packet.SourcePort);
            if (exact is not null)
            {
                if (!freeBsd && !DeviceMatches(exact, packet))
                {
                    decision.Consider(exact, -1, DemuxStage.Established, CandidateNote.DeviceDiffers);
                    decision.Caveats |= DemuxCaveats.MacBoundInterface;
                }
                else
                {
                    decision.Consider(exact, 1, DemuxStage.Established, CandidateNote.Scored);
                    if (!tcp || exact.State != SocketState.TimeWait || request.Segment != TcpSegmentKind.Syn)
                    {
                        return Single(decision, exact, DemuxStage.Established);
                    }

                    decision.Caveats |= DemuxCaveats.TimeWaitSyn;
                }
            }

            List<IndexedSocket>? bucket = index.BindBucket(request.Protocol, packet.DestinationPort);

            // 2. FreeBSD: SO_REUSEPORT_LB groups come before the wildcard list.
            if (freeBsd && bucket is not null && LoadBalanceGroup(bucket, packet, tcp, decision))
            {
                return NotSyn(decision, tcp);
            }

            // 3. Unconnected sockets on the port: the class decides, then the order.
            var scored = new List<(IndexedSocket Socket, int Score, CandidateNote Note)>();
            int best = 0;
            if (bucket is not null)
            {
                foreach (IndexedSocket socket in bucket)
                {
                    (int score, CandidateNote note) = Score(socket, packet, tcp, freeBsd);
                    if (score == int.MinValue)
                    {
                        continue;
                    }

                    if (note == CandidateNote.DeviceDiffers)
                    {
                        decision.Caveats |= DemuxCaveats.MacBoundInterface;
                    }

                    scored.Add((socket, score, note));
                    best = Math.Max(best, score);
                }
            }

            if (best == 0)
            {
                foreach ((IndexedSocket socket, int score, CandidateNote note) in scored)
                {
                    decision.Consider(socket, score, StageOf(score), note);
                }

                decision.Outcome = tcp ? DemuxOutcome.Refused : DemuxOutcome.PortUnreachable;
                return decision;
            }

            // Among the best class: FreeBSD takes the newest (head of its class); XNU the newest on
            // the exact address and the earliest among wildcards (it keeps the last it walks).
            bool newestWins = freeBsd || best == ExactScore;
            IndexedSocket? winner = null;
            int ties = 0;
            bool reusePort = false;
            foreach ((IndexedSocket socket, int score, _) in scored)
            {
                if (score == best)
                {
                    ties++;
                    reusePort |= socket.ReusePort;
                    if (winner is null || newestWins)
                    {
                        winner = socket;
                    }
                }
            }

            foreach ((IndexedSocket socket, int score, CandidateNote note) in Ordered(scored, newestWins))
            {
                CandidateNote shown = score <= 0 ? note
                    : socket == winner ? CandidateNote.Scored
                    : score == best ? CandidateNote.LaterInList
                    : best == ExactScore ? CandidateNote.SpecificWins
                    : CandidateNote.DualStackLoses;
                decision.Consider(socket, score, StageOf(score), shown);
            }

            if (ties > 1)
            {
                decision.Caveats |= freeBsd ? DemuxCaveats.FreeBsdNewestOfTies : best == ExactScore ? DemuxCaveats.MacNewestSpecific : DemuxCaveats.MacEarliestWildcard;
                decision.Caveats |= reusePort ? DemuxCaveats.ReusePortNoBalancing : DemuxCaveats.None;
            }

            if (best == WildcardScore && packet.IsIPv4 && scored.Exists(s => s.Score == DualStackScore))
            {
                decision.Caveats |= freeBsd ? DemuxCaveats.FreeBsdInetBeforeDualStack : DemuxCaveats.None;
            }

            if (tcp && winner!.State != SocketState.Listen)
            {
                // [derived] tcp_input finds a socket that does not listen and refuses the SYN.
                decision.Caveats |= DemuxCaveats.NotListening;
                decision.Marker = winner;
                decision.Outcome = DemuxOutcome.Refused;
                decision.Stage = StageOf(best);
                return decision;
            }

            Single(decision, winner!, StageOf(best));
            return NotSyn(decision, tcp);
        }

        /// <summary>
        /// The class of an unconnected socket for this packet (the order of FreeBSD's wildcard list,
        /// XNU's preference); int.MinValue for sockets not in the wildcard hash (connections).
        /// </summary>
        private static (int Score, CandidateNote Note) Score(IndexedSocket socket, PacketView packet, bool tcp, bool freeBsd)
        {
            if (BsdPcb.Connected(socket) || (tcp ? socket.State is not (SocketState.Listen or SocketState.Bound) : socket.State != SocketState.Unconnected))
            {
                return (int.MinValue, CandidateNote.Scored);
            }

            if (!freeBsd && !DeviceMatches(socket, packet))
            {
                return (-1, CandidateNote.DeviceDiffers);
            }

            if (packet.IsIPv4)
            {
                if (!BsdPcb.IPv4Capable(socket))
                {
                    return (-1, socket.Class == AddressClass.Any6 ? CandidateNote.V6OnlyRefusesIPv4 : CandidateNote.AddressDiffers);
                }

                uint local = BsdPcb.Inet4(socket);
                if (local == packet.Destination.V4 && local != 0)
                {
                    return (ExactScore, CandidateNote.Scored);
                }

                if (local != 0)
                {
                    return (-1, CandidateNote.AddressDiffers);
                }

                return socket.Class == AddressClass.Any6 ? (DualStackScore, CandidateNote.Scored) : (WildcardScore, CandidateNote.Scored);
            }

            if (!BsdPcb.IPv6Capable(socket))
            {
                return (-1, socket.Inet6 ? CandidateNote.AddressDiffers : CandidateNote.FamilyIsIPv4);
            }

            if (socket.Class == AddressClass.Any6)
            {
                return (WildcardScore, CandidateNote.Scored);
            }

            return socket.Local.Equals(packet.Destination) ? (ExactScore, CandidateNote.Scored) : (-1, CandidateNote.AddressDiffers);
        }

        /// <summary>The candidates in the order the kernel meets them: best class first, the winning end of each class first.</summary>
        private static IEnumerable<(IndexedSocket Socket, int Score, CandidateNote Note)> Ordered(List<(IndexedSocket Socket, int Score, CandidateNote Note)> scored, bool newestFirst)
        {
            for (int score = ExactScore; score >= -1; score--)
            {
                if (score == 0)
                {
                    continue;
                }

                for (int k = 0; k < scored.Count; k++)
                {
                    int i = newestFirst && score > 0 ? scored.Count - 1 - k : k;
                    if (scored[i].Score == score)
                    {
                        yield return scored[i];
                    }
                }
            }
        }

        /// <summary>
        /// in_pcblookup_lbgroup: among SO_REUSEPORT_LB groups on the port (same family, exact
        /// local address, dual-stack [::] sockets never join), one on the destination address is
        /// preferred to one on the wildcard; the member is INP_PCBLBGROUP_PKTHASH(faddr, lport,
        /// fport) mod the group's size, a hash keyed per boot, so every member may receive it. With
        /// several groups of one kind the last in the head-inserted group list (the oldest) is kept.
        /// </summary>
        private static bool LoadBalanceGroup(List<IndexedSocket> bucket, PacketView packet, bool tcp, DemuxDecision decision)
        {
            IndexedSocket? exactLeader = null;
            IndexedSocket? wildLeader = null;
            foreach (IndexedSocket socket in bucket)
            {
                if (!InLoadBalanceGroup(socket, tcp))
                {
                    continue;
                }

                (int score, _) = Score(socket, packet, tcp, freeBsd: true);
                if (score == ExactScore)
                {
                    exactLeader ??= socket;
                }
                else if (score == WildcardScore)
                {
                    wildLeader ??= socket;
                }
            }

            IndexedSocket? leader = exactLeader ?? wildLeader;
            if (leader is null)
            {
                return false;
            }

            var members = new List<IndexedSocket>();
            foreach (IndexedSocket socket in bucket)
            {
                if (!InLoadBalanceGroup(socket, tcp))
                {
                    continue;
                }

                bool member = socket.Inet6 == leader.Inet6 && socket.Local.Equals(leader.Local) && socket.Class == leader.Class;
                if (member && members.Count == LoadBalanceGroupLimit)
                {
                    decision.Caveats |= DemuxCaveats.LoadBalanceGroupTruncated;
                    member = false;
                }

                if (member)
                {
                    members.Add(socket);
                }

                decision.Consider(socket, member ? 1 : -1, DemuxStage.LoadBalanceGroup, member ? CandidateNote.LoadBalanced : CandidateNote.OtherGroup);
            }

            decision.Outcome = DemuxOutcome.Delivered;
            decision.Stage = DemuxStage.LoadBalanceGroup;
            decision.Sockets = members;
            decision.Socket = members.Count == 1 ? members[0] : null;
            return true;
        }

        /// <summary>Members of a load-balancing group: SO_REUSEPORT_LB, unconnected (listening for TCP), not a dual-stack [::].</summary>
        private static bool InLoadBalanceGroup(IndexedSocket socket, bool tcp) =>
            socket.ReusePortLoadBalance && !BsdPcb.Connected(socket) && !BsdPcb.DualStack(socket)
            && (tcp ? socket.State == SocketState.Listen : socket.State == SocketState.Unconnected);

        /// <summary>
        /// 3B step 4, 4B: every socket on the port whose local address is the destination or the
        /// wildcard (and whose peer matches, if connected) gets a copy, walking newest first; the scan
        /// stops after the first match that has none of SO_REUSEPORT, SO_REUSEPORT_LB (FreeBSD) and
        /// SO_REUSEADDR. Group membership is taken as given.
        /// </summary>
        private static DemuxDecision Multicast(SocketIndex index, PacketView packet, DemuxDecision decision, bool freeBsd)
        {
            decision.Stage = DemuxStage.Multicast;
            decision.Caveats |= DemuxCaveats.MembershipAssumed;
            var receivers = new List<IndexedSocket>();
            List<IndexedSocket>? bucket = index.BindBucket(TransportProtocol.Udp, packet.DestinationPort);
            IndexedSocket? stoppedAt = null;
            if (bucket is not null)
            {
                for (int i = bucket.Count - 1; i >= 0; i--)
                {
                    IndexedSocket socket = bucket[i];
                    (int score, CandidateNote note) = MulticastMatch(socket, packet, freeBsd);
                    if (score >= 0 && stoppedAt is not null)
                    {
                        score = -1;
                        note = CandidateNote.AfterScanStopped;
                        decision.Caveats |= DemuxCaveats.MulticastScanStopped;
                    }

                    decision.Consider(socket, score, DemuxStage.Multicast, note);
                    if (score < 0)
                    {
                        continue;
                    }

                    receivers.Add(socket);
                    if (!(socket.ReusePort || socket.ReuseAddress || (freeBsd && socket.ReusePortLoadBalance)))
                    {
                        if (!BsdPcb.OptionsKnown(socket, freeBsd))
                        {
                            // Never taken as off: whether the scan stops here turns on options the table does not show.
                            decision.DependsOn.Add(BsdText.UnknownFact(socket, freeBsd) + ": with none of SO_REUSEPORT" + (freeBsd ? ", SO_REUSEPORT_LB" : string.Empty)
                                + " and SO_REUSEADDR set, the scan stops there and the sockets walked after it get no copy");
                            continue;
                        }

                        stoppedAt = socket;
                        decision.Marker = socket;
                    }
                }
            }

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

        private static (int Score, CandidateNote Note) MulticastMatch(IndexedSocket socket, PacketView packet, bool freeBsd)
        {
            if (socket.State is not (SocketState.Unconnected or SocketState.Connected))
            {
                return (-1, CandidateNote.AddressDiffers);
            }

            if (socket.HasPeer && !(socket.Remote.Equals(packet.Source) && (socket.RemotePort == 0 || socket.RemotePort == packet.SourcePort)))
            {
                return (-1, CandidateNote.PeerDiffers);
            }

            if (!freeBsd && !DeviceMatches(socket, packet))
            {
                return (-1, CandidateNote.DeviceDiffers);
            }

            if (packet.IsIPv4)
            {
                if (!BsdPcb.IPv4Capable(socket))
                {
                    return (-1, socket.Class == AddressClass.Any6 ? CandidateNote.V6OnlyRefusesIPv4 : CandidateNote.AddressDiffers);
                }

                uint local = BsdPcb.Inet4(socket);
                return local == 0 || local == packet.Destination.V4 ? (0, CandidateNote.Scored) : (-1, CandidateNote.AddressDiffers);
            }

            if (!BsdPcb.IPv6Capable(socket))
            {
                return (-1, socket.Inet6 ? CandidateNote.AddressDiffers : CandidateNote.FamilyIsIPv4);
            }

            return socket.Class == AddressClass.Any6 || socket.Local.Equals(packet.Destination) ? (0, CandidateNote.Scored) : (-1, CandidateNote.AddressDiffers);
        }

        /// <summary>XNU skips a socket tied to another interface (inp_restricted_recv; IP_BOUND_IF there is UNVERIFIED).</summary>
        private static bool DeviceMatches(IndexedSocket socket, PacketView packet) =>
            socket.Device is null || (packet.Request.Interface is not null && string.Equals(socket.Device, packet.Request.Interface, StringComparison.Ordinal));

        private static DemuxStage StageOf(int score) => score == ExactScore ? DemuxStage.BoundAddress : DemuxStage.BoundWildcard;

        /// <summary>A TCP segment other than a SYN that matches no connection is answered with a RST.</summary>
        private static DemuxDecision NotSyn(DemuxDecision decision, bool tcp)
        {
            if (tcp && decision.Request.Segment != TcpSegmentKind.Syn && decision.Outcome == DemuxOutcome.Delivered)
            {
                decision.Caveats |= DemuxCaveats.NotSyn;
                decision.Outcome = DemuxOutcome.Refused;
                decision.Socket = null;
                decision.Sockets = null;
            }

            return decision;
        }

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
