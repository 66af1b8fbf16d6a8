using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;

namespace PortTools.Rules.Linux
{
    /// <summary>
    /// Linux delivery of incoming segments and datagrams (kernel-rules.md 1B;
    /// net/ipv4/inet_hashtables.c __inet_lookup and inet_lhash2_lookup, net/ipv6/inet6_hashtables.c,
    /// net/ipv4/udp.c __udp4_lib_lookup, udp4_lib_lookup2 and __udp4_lib_mcast_deliver,
    /// net/ipv6/udp.c). The CPU bonus of SO_INCOMING_CPU is modelled as 0; BPF sk_lookup and
    /// reuseport BPF programs are not modelled.
    /// </summary>
    internal static class LinuxDemuxRules
    {
        /// <summary>
        /// Decides a delivery. Unrecorded, nothing but the answer is kept (no candidate, note or
        /// dependency is made: the notes are words); the decision replays itself recorded when they are read.
        /// </summary>
        public static DemuxDecision Decide(SocketIndex index, DemuxRequest request, bool recording = true)
        {
            var packet = new Packet(request, index);
            var decision = new DemuxDecision(request, recording);
            if (request.Protocol == TransportProtocol.Tcp)
            {
                Tcp(index, packet, decision);
            }
            else
            {
                Udp(index, packet, decision);
            }

            UnknownGroups(index, packet, decision);
            if (!recording)
            {
                return decision.ReplayOn(index);
            }

            if (request.Interface is null && packet.Interface is not null && decision.Candidates.Exists(c => c.Socket.Device is not null))
            {
                decision.Notes.Add("The packet is taken to arrive on " + packet.Interface + ", the interface that holds " + request.Destination.Address + " (give -Interface to say otherwise)");
            }

            return decision;
        }

        /// <summary>The packet's addresses normalized once (IPv4 held v4-mapped, as the index holds them).</summary>
        private readonly struct Packet
        {
            public Packet(DemuxRequest request, SocketIndex index)
            {
                Request = request;

                // Linux reports local traffic as arriving on the device that holds the destination
                // address (the route's orig_oif), not on lo. Only sockets bound to a device ask where it
                // arrived, so a table without one does not look it up.
                Interface = request.Interface ?? (index.HasBoundDevice ? index.Facts.InterfaceOf(request.Destination.Address) : null);
                Source = Ip16.From(request.Source.Address);
                Destination = Ip16.From(request.Destination.Address);
                SourcePort = request.Source.Port;
                DestinationPort = request.Destination.Port;
                IsIPv4 = Destination.IsV4Mapped;
            }

            public DemuxRequest Request { get; }

            public Ip16 Source { get; }

            public Ip16 Destination { get; }

            public int SourcePort { get; }

            public int DestinationPort { get; }

            public bool IsIPv4 { get; }

            public string? Interface { get; }
        }

        private static DemuxDecision Tcp(SocketIndex index, Packet packet, DemuxDecision decision)
        {

            // 1. The established hash: connections, TIME-WAIT entries and half-open requests, exact 4-tuple.
            IndexedSocket? established = index.Established(TransportProtocol.Tcp, packet.Destination, packet.DestinationPort, packet.Source, packet.SourcePort);
            if (established is not null)
            {
                bool deviceMatches = DeviceMatches(established, packet);
                decision.Consider(established, deviceMatches ? 1 : -1, DemuxStage.Established, deviceMatches ? CandidateNote.Scored : CandidateNote.DeviceDiffers);
                if (deviceMatches)
                {
                    if (established.State != SocketState.TimeWait || packet.Request.Segment != TcpSegmentKind.Syn)
                    {
                        decision.Outcome = DemuxOutcome.Delivered;
                        decision.Stage = DemuxStage.Established;
                        decision.Socket = established;
                        return decision;
                    }

                    // tcp_timewait_state_process (UNVERIFIED in detail): a SYN with a newer sequence
                    // number or timestamp reopens the 4-tuple, and the listener lookup runs again.
                    if (decision.Recording)
                    {
                        decision.Notes.Add("The 4-tuple is in TIME-WAIT: the kernel accepts the SYN as a new connection (as below) only if its sequence number or timestamp is newer than the old connection's; otherwise it answers with an ACK");
                    }
                }
            }

            // 2. Listeners: pass 1 on the destination address, pass 2 on the wildcard bucket.
            if (!ListenerPass(index, packet, packet.Destination, DemuxStage.ListenerExact, decision))
            {
                ListenerPass(index, packet, default, DemuxStage.ListenerWildcard, decision);
            }

            if (decision.Outcome == DemuxOutcome.Delivered && packet.Request.Segment != TcpSegmentKind.Syn)
            {
                // A segment that belongs to no connection reaches the listener, which resets it.
                if (decision.Recording)
                {
                    decision.Notes.Add("The segment is not a SYN and matches no connection: " + DemuxExplanation.Describe(decision.Socket ?? decision.Sockets![0]) + " answers it with a RST (unless it is the ACK of a valid SYN cookie)");
                }

                decision.Outcome = DemuxOutcome.Refused;
                decision.Socket = null;
                decision.Sockets = null;
            }

            return decision;
        }

        /// <summary>
        /// inet_lhash2_lookup: walk the bucket in chain order; a socket replaces the best only with a
        /// strictly higher score, and the first socket to do so that has a SO_REUSEPORT group ends the
        /// lookup with the group's hash pick.
        /// </summary>
        private static bool ListenerPass(SocketIndex index, Packet packet, Ip16 bucketAddress, DemuxStage stage, DemuxDecision decision)
        {
            List<IndexedSocket>? chain = index.ListenerChain(packet.DestinationPort, bucketAddress);
            if (chain is null)
            {
                return false;
            }

            int best = 0;
            IndexedSocket? result = null;
            foreach (IndexedSocket socket in chain)
            {
                (int score, CandidateNote note) = TcpScore(socket, packet, bucketAddress);
                if (score > best)
                {
                    if (socket.Group >= 0)
                    {
                        decision.Consider(socket, score, stage, CandidateNote.GroupPicked);
                        return Group(index, socket, stage, decision, packet.Request.Protocol);
                    }

                    if (result is not null && decision.Recording)
                    {
                        decision.Notes.Add(DemuxExplanation.Describe(socket) + " scores " + score.ToString(CultureInfo.InvariantCulture) + ", higher than " + DemuxExplanation.Describe(result));
                    }

                    decision.Consider(socket, score, stage, note);
                    result = socket;
                    best = score;
                }
                else
                {
                    decision.Consider(socket, score, stage, score < 0 ? note : CandidateNote.NotHigher);
                    if (score == best && score > 0 && decision.Recording)
                    {
                        decision.Notes.Add(DemuxExplanation.Describe(result!) + " and " + DemuxExplanation.Describe(socket) + " score alike (" + score.ToString(CultureInfo.InvariantCulture)
                            + "); the kernel keeps the first it walks, and order decided: listeners are walked newest first, except IPv6 SO_REUSEPORT listeners, which are added at the end");
                    }
                }
            }

            if (result is null)
            {
                return false;
            }

            decision.Outcome = DemuxOutcome.Delivered;
            decision.Stage = stage;
            decision.Socket = result;
            return true;
        }

        /// <summary>compute_score for listeners: 1, +1 bound to the arriving device, +1 AF_INET (IPv4 lookups); -1 when it cannot take the packet.</summary>
        private static (int Score, CandidateNote Note) TcpScore(IndexedSocket socket, Packet packet, Ip16 bucketAddress)
        {
            if (packet.IsIPv4)
            {
                if (socket.V6Only)
                {
                    return (-1, CandidateNote.V6OnlyRefusesIPv4);
                }

                uint wanted = bucketAddress.IsZero ? 0 : bucketAddress.V4;
                if (socket.V4 != wanted)
                {
                    return (-1, CandidateNote.AddressDiffers);
                }
            }
            else
            {
                if (!socket.Inet6)
                {
                    return (-1, CandidateNote.FamilyIsIPv4);
                }

                if (!socket.Local.Equals(bucketAddress) || socket.Class == AddressClass.V4)
                {
                    return (-1, CandidateNote.AddressDiffers);
                }
            }

            if (!DeviceMatches(socket, packet))
            {
                return (-1, CandidateNote.DeviceDiffers);
            }

            int score = socket.Device is null ? 1 : 2;
            if (packet.IsIPv4 && !socket.Inet6)
            {
                score++;
            }

            return (score, CandidateNote.Scored);
        }

        private static DemuxDecision Udp(SocketIndex index, Packet packet, DemuxDecision decision)
        {
            if (packet.Destination.IsMulticast || (packet.IsIPv4 && index.Facts.IsBroadcast(packet.Request.Destination.Address)))
            {
                return Multicast(index, packet, decision);
            }

            // Pass 1 (the destination address). A connected winner ends the lookup; so does any winner.
            IndexedSocket? result = UdpPass(index, packet, packet.Destination, DemuxStage.UdpExact, decision, out List<IndexedSocket>? group);
            if (result is null && group is null)
            {
                result = UdpPass(index, packet, default, DemuxStage.UdpWildcard, decision, out group);
            }

            if (group is not null)
            {
                return group.Count == 1 ? Single(decision, group[0], decision.Stage) : decision;
            }

            if (result is null)
            {
                decision.Outcome = DemuxOutcome.PortUnreachable;
                return decision;
            }

            return Single(decision, result, decision.Stage);
        }

        /// <summary>
        /// udp4_lib_lookup2 / udp6_lib_lookup2: keep the highest score (ties: the first walked). An
        /// unconnected winner with a SO_REUSEPORT group returns the group's pick at once, unless the
        /// group has connected members: then the pick is kept with its score and the walk goes on.
        /// </summary>
        private static IndexedSocket? UdpPass(SocketIndex index, Packet packet, Ip16 slotAddress, DemuxStage stage, DemuxDecision decision, out List<IndexedSocket>? group)
        {
            group = null;
            index.UdpChain(packet.DestinationPort, slotAddress, out UdpChainEntry[]? chain);
            if (chain is null)
            {
                return null;
            }

            int best = packet.IsIPv4 ? 0 : -1;
            IndexedSocket? result = null;
            for (int i = 0; i < chain.Length; i++)
            {
                ref readonly UdpChainEntry entry = ref chain[i];
                (int score, CandidateNote note) = UdpScore(in entry, packet, slotAddress);
                if (score > best && score >= 0)
                {
                    best = score;
                    IndexedSocket socket = entry.Socket;
                    if (!entry.Connected && entry.Group >= 0)
                    {
                        List<IndexedSocket> members = Eligible(index.GroupMembers(socket.Group));
                        decision.Consider(socket, score, stage, CandidateNote.GroupPicked);
                        if (!HasConnectedMembers(index.GroupMembers(socket.Group)))
                        {
                            decision.Stage = stage;
                            SetGroup(decision, members);
                            group = members;
                            return null;
                        }

                        // reuseport_has_conns: the pick stands only if nothing later scores higher.
                        if (decision.Recording)
                        {
                            decision.Notes.Add("its SO_REUSEPORT group has connected members, so the kernel rescored its pick and kept walking");
                        }

                        result = null;
                        group = members;
                        decision.Stage = stage;
                        SetGroup(decision, members);
                        continue;
                    }

                    decision.Consider(socket, score, stage, note);
                    result = socket;
                    group = null;
                    decision.Sockets = null;
                    decision.Stage = stage;
                }
                else if (decision.Recording)
                {
                    IndexedSocket socket = entry.Socket;
                    decision.Consider(socket, score, stage, score < 0 ? note : CandidateNote.NotHigher);
                    if (score == best && score >= 0 && result is not null)
                    {
                        decision.Notes.Add(DemuxExplanation.Describe(result) + " and " + DemuxExplanation.Describe(socket) + " score alike (" + score.ToString(CultureInfo.InvariantCulture)
                            + "); the kernel keeps the first it walks, and order decided: the newest bind comes first, except IPv6 SO_REUSEPORT sockets, which are added at the end");
                    }
                }
            }

            return result;
        }

        /// <summary>compute_score for UDP. IPv4: (AF_INET ? 2 : 1) + 4 per connected address and port + 4 bound device. IPv6: 1 per each of those.</summary>
        private static (int Score, CandidateNote Note) UdpScore(in UdpChainEntry socket, Packet packet, Ip16 slotAddress)
        {
            int score;
            int step;
            if (packet.IsIPv4)
            {
                if (socket.V6Only)
                {
                    return (-1, CandidateNote.V6OnlyRefusesIPv4);
                }

                if (socket.V4 != (slotAddress.IsZero ? 0 : slotAddress.V4))
                {
                    return (-1, CandidateNote.AddressDiffers);
                }

                score = socket.Inet6 ? 1 : 2;
                step = 4;
            }
            else
            {
                if (!socket.Inet6)
                {
                    return (-1, CandidateNote.FamilyIsIPv4);
                }

                if (!socket.Local.Equals(slotAddress) || socket.ClassV4)
                {
                    return (-1, CandidateNote.AddressDiffers);
                }

                score = 0;
                step = 1;
            }

            if (socket.HasPeer)
            {
                if (!socket.Remote.IsZero && !IsZeroV4(socket.Remote))
                {
                    if (!socket.Remote.Equals(packet.Source))
                    {
                        return (-1, CandidateNote.PeerDiffers);
                    }

                    score += step;
                }

                if (socket.RemotePort != 0)
                {
                    if (socket.RemotePort != packet.SourcePort)
                    {
                        return (-1, CandidateNote.PeerDiffers);
                    }

                    score += step;
                }
            }

            if (!DeviceMatches(socket.Device, packet))
            {
                return (-1, CandidateNote.DeviceDiffers);
            }

            if (socket.Device is not null)
            {
                score += step;
            }

            return (score, CandidateNote.Scored);
        }

        /// <summary>
        /// __udp4_lib_mcast_deliver / __udp6_lib_mcast_deliver: every socket on the port bound to the
        /// destination or the wildcard, with a matching peer and device (and not IPV6_V6ONLY for IPv4),
        /// gets a copy. IP_MULTICAST_ALL is on by default, so group membership is taken as given.
        /// </summary>
        private static DemuxDecision Multicast(SocketIndex index, Packet packet, DemuxDecision decision)
        {
            decision.Stage = DemuxStage.Multicast;
            var receivers = new List<IndexedSocket>();
            List<IndexedSocket>? bucket = index.BindBucket(TransportProtocol.Udp, packet.DestinationPort);
            if (bucket is not null)
            {
                for (int i = bucket.Count - 1; i >= 0; i--)
                {
                    IndexedSocket socket = bucket[i];
                    (int score, CandidateNote note) = MulticastMatch(socket, packet);
                    decision.Consider(socket, score, DemuxStage.Multicast, note);
                    if (score >= 0)
                    {
                        receivers.Add(socket);
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
            if (decision.Recording)
            {
                decision.Notes.Add("Membership in the multicast group is taken as given (IP_MULTICAST_ALL is on by default)");
            }

            return decision;
        }

        private static (int Score, CandidateNote Note) MulticastMatch(IndexedSocket socket, Packet packet)
        {
            if (packet.IsIPv4)
            {
                if (socket.V6Only)
                {
                    return (-1, CandidateNote.V6OnlyRefusesIPv4);
                }

                if (socket.V4 != 0 && socket.V4 != packet.Destination.V4)
                {
                    return (-1, CandidateNote.AddressDiffers);
                }
            }
            else
            {
                if (!socket.Inet6)
                {
                    return (-1, CandidateNote.FamilyIsIPv4);
                }

                if (socket.Class != AddressClass.Any6 && !socket.Local.Equals(packet.Destination))
                {
                    return (-1, CandidateNote.AddressDiffers);
                }
            }

            if (socket.HasPeer && ((!socket.Remote.IsZero && !IsZeroV4(socket.Remote) && !socket.Remote.Equals(packet.Source)) || (socket.RemotePort != 0 && socket.RemotePort != packet.SourcePort)))
            {
                return (-1, CandidateNote.PeerDiffers);
            }

            return DeviceMatches(socket, packet) ? (0, CandidateNote.Scored) : (-1, CandidateNote.DeviceDiffers);
        }

        private static bool Group(SocketIndex index, IndexedSocket socket, DemuxStage stage, DemuxDecision decision, TransportProtocol protocol)
        {
            List<IndexedSocket> members = Eligible(index.GroupMembers(socket.Group));
            decision.Outcome = DemuxOutcome.Delivered;
            decision.Stage = stage;
            if (members.Count == 1)
            {
                decision.Socket = members[0];
                return true;
            }

            SetGroup(decision, members);
            return true;
        }

        private static void SetGroup(DemuxDecision decision, List<IndexedSocket> members)
        {
            decision.Outcome = DemuxOutcome.Delivered;
            decision.Socket = members.Count == 1 ? members[0] : null;
            decision.Sockets = members;
        }

        /// <summary>reuseport_select_sock skips members in TCP_ESTABLISHED (connected UDP sockets).</summary>
        private static List<IndexedSocket> Eligible(IReadOnlyList<IndexedSocket> members)
        {
            var eligible = new List<IndexedSocket>(members.Count);
            foreach (IndexedSocket member in members)
            {
                if (member.State != SocketState.Connected)
                {
                    eligible.Add(member);
                }
            }

            return eligible.Count > 0 ? eligible : new List<IndexedSocket>(members);
        }

        private static bool HasConnectedMembers(IReadOnlyList<IndexedSocket> members)
        {
            foreach (IndexedSocket member in members)
            {
                if (member.State == SocketState.Connected)
                {
                    return true;
                }
            }

            return false;
        }

        private static DemuxDecision Single(DemuxDecision decision, IndexedSocket socket, DemuxStage stage)
        {
            decision.Outcome = DemuxOutcome.Delivered;
            decision.Stage = stage;
            decision.Socket = socket;
            decision.Sockets = null;
            return decision;
        }

        /// <summary>
        /// Unknown is never "off": when the receiver's SO_REUSEPORT, or that of sockets it would share a
        /// group with (same family, IPV6_V6ONLY, device, uid and address, so the same score), is not
        /// known, each of them may receive the packet: with SO_REUSEPORT on all the kernel hashes over
        /// them, otherwise the first walked takes everything. The answer names them all.
        /// </summary>
        private static void UnknownGroups(SocketIndex index, Packet packet, DemuxDecision decision)
        {
            if (decision.Outcome != DemuxOutcome.Delivered || decision.Stage is not (DemuxStage.ListenerExact or DemuxStage.ListenerWildcard or DemuxStage.UdpExact or DemuxStage.UdpWildcard))
            {
                return;
            }

            IndexedSocket anchor = decision.Socket ?? decision.Sockets![0];
            if ((anchor.ReusePortKnown && !anchor.ReusePort) || anchor.State == SocketState.Connected)
            {
                return;
            }

            bool tcp = decision.Stage is DemuxStage.ListenerExact or DemuxStage.ListenerWildcard;
            Ip16 slot = decision.Stage is DemuxStage.ListenerExact or DemuxStage.UdpExact ? packet.Destination : default;
            UdpChainEntry[]? entries = null;
            List<IndexedSocket>? chain = tcp ? index.ListenerChain(packet.DestinationPort, slot) : index.UdpChain(packet.DestinationPort, slot, out entries);
            if (chain is null)
            {
                return;
            }

            // The list of all is made at the first tie, large enough for the whole chain, and only then.
            // A UDP chain is read from its flat entries (the same values as its sockets').
            List<IndexedSocket>? receivers = decision.Sockets;
            List<IndexedSocket>? all = null;
            for (int i = 0; i < chain.Count; i++)
            {
                IndexedSocket socket = chain[i];
                if (entries is not null ? !Tied(in entries[i], anchor, receivers) : !Tied(socket, anchor, receivers))
                {
                    continue;
                }

                if (all is null)
                {
                    all = new List<IndexedSocket>((receivers?.Count ?? 1) + chain.Count);
                    if (receivers is null)
                    {
                        all.Add(anchor);
                    }
                    else
                    {
                        all.AddRange(receivers);
                    }
                }

                all.Add(socket);
            }

            if (all is null)
            {
                return;
            }

            decision.Socket = null;
            decision.Sockets = all;
            if (decision.Recording)
            {
                decision.DependsOn.Add(UnknownOptionText.GroupFact(all));

                // "Order decided" holds only if no SO_REUSEPORT group joins them, which is what is not known.
                decision.Notes.RemoveAll(note => note.Contains(" score alike ("));
            }
        }

        /// <summary>A socket not among the receivers that would share a SO_REUSEPORT group with the anchor, if the options not known allow it.</summary>
        private static bool Tied(IndexedSocket socket, IndexedSocket anchor, List<IndexedSocket>? receivers) =>
            !((receivers is null ? socket == anchor : receivers.Contains(socket)) || socket.State == SocketState.Connected || !socket.MayReusePort || (socket.ReusePortKnown && anchor.ReusePortKnown)
                || socket.Inet6 != anchor.Inet6 || socket.V6Only != anchor.V6Only || !socket.Local.Equals(anchor.Local) || socket.Uid != anchor.Uid
                || !string.Equals(socket.Device, anchor.Device, StringComparison.Ordinal));

        /// <summary><see cref="Tied(IndexedSocket, IndexedSocket, List{IndexedSocket}?)"/> read from a UDP chain's flat entry.</summary>
        private static bool Tied(in UdpChainEntry socket, IndexedSocket anchor, List<IndexedSocket>? receivers) =>
            !((receivers is null ? socket.Socket == anchor : receivers.Contains(socket.Socket)) || socket.Connected || !socket.MayReusePort || (socket.ReusePortKnown && anchor.ReusePortKnown)
                || socket.Inet6 != anchor.Inet6 || socket.V6Only != anchor.V6Only || !socket.Local.Equals(anchor.Local) || socket.Uid != anchor.Uid
                || !string.Equals(socket.Device, anchor.Device, StringComparison.Ordinal));

        /// <summary>A socket bound to a device takes only packets arriving on it; an unbound socket takes any.</summary>
        private static bool DeviceMatches(IndexedSocket socket, Packet packet) => DeviceMatches(socket.Device, packet);

        private static bool DeviceMatches(string? device, Packet packet) =>
            device is null || (packet.Interface is not null && string.Equals(device, packet.Interface, StringComparison.Ordinal));

        private static bool IsZeroV4(Ip16 address) => address.IsV4Mapped && address.V4 == 0;
    }
}
