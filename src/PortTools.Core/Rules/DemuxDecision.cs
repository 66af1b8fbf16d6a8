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

        /// <summary>FreeBSD: a SO_REUSEPORT_LB group (in_pcblookup_lbgroup).</summary>
        LoadBalanceGroup,

        /// <summary>Windows and BSD: sockets bound to the destination address.</summary>
        BoundAddress,

        /// <summary>Windows and BSD: sockets bound to the wildcard address.</summary>
        BoundWildcard,
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

        /// <summary>A TCP socket that is bound but does not listen.</summary>
        NotListening,

        /// <summary>Comes later in the kernel's list than the socket that won.</summary>
        LaterInList,

        /// <summary>One of the sockets Windows chooses among without a documented rule.</summary>
        Undetermined,

        /// <summary>A member of a SO_REUSEPORT_LB group: the kernel hashes (faddr, fport) over the members.</summary>
        LoadBalanced,

        /// <summary>A multicast scan stopped before reaching it.</summary>
        AfterScanStopped,

        /// <summary>Loses to a socket bound to the destination address (a specific bind takes its own address's traffic).</summary>
        SpecificWins,

        /// <summary>A dual-stack [::] wildcard, which loses to an AF_INET wildcard.</summary>
        DualStackLoses,

        /// <summary>A SO_REUSEPORT_LB group of another address or family, passed over.</summary>
        OtherGroup,
    }

    /// <summary>Caveats of the Windows and BSD delivery answers, as flags; each becomes a sentence in the Reason.</summary>
    [Flags]
    internal enum DemuxCaveats : long
    {
        None = 0,
        WindowsReuseAddressTie = 1L << 0,
        WindowsUdpTie = 1L << 1,
        WindowsConnectedVersusUnconnected = 1L << 2,
        WindowsFamilyChoice = 1L << 3,
        WindowsBroadcast = 1L << 4,
        TimeWaitSyn = 1L << 5,
        MembershipAssumed = 1L << 6,
        FreeBsdNewestOfTies = 1L << 7,
        FreeBsdInetBeforeDualStack = 1L << 8,
        MacEarliestWildcard = 1L << 9,
        MacNewestSpecific = 1L << 10,
        ReusePortNoBalancing = 1L << 11,
        NotListening = 1L << 12,
        FreeBsdIPv6Lookup = 1L << 13,
        MacIPv6Lookup = 1L << 14,
        LoadBalanceGroupTruncated = 1L << 15,
        MacBoundInterface = 1L << 16,
        MulticastScanStopped = 1L << 17,
        OptionsUnknown = 1L << 18,
        NotSyn = 1L << 19,
        WindowsSpecificTie = 1L << 20,
        FreeBsdLockedFallback = 1L << 21,
        ForeignOptionIgnored = 1L << 22,
    }

    /// <summary>A packet's addresses normalized once (IPv4 held v4-mapped, as the index holds them), for the Windows and BSD rule sets.</summary>
    internal readonly struct PacketView
    {
        public PacketView(DemuxRequest request)
        {
            Request = request;
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
    }

    /// <summary>A rule engine's delivery answer, before it is put into words.</summary>
    internal sealed class DemuxDecision
    {
        // What a decision says besides its answer lives apart, made on first use: a decision is made
        // per packet, and most add no candidate (unrecorded), note, dependency, possibility or caveat.
        private Extras? _extras;

        // An unrecorded decision (Recording false) holds only its answer; the index it was made on
        // replays it with recording when its candidates, notes or dependencies are first read.
        private SocketIndex? _replayIndex;

        public DemuxDecision(DemuxRequest request, bool recording = true)
        {
            Request = request;
            Recording = recording;
        }

        public DemuxRequest Request { get; }

        /// <summary>
        /// Whether the rule set records candidates, notes and dependencies while it decides. Without,
        /// the rule set must not touch them (<see cref="Consider"/> does nothing): they are made by a
        /// recorded replay when first read (<see cref="ReplayOn"/>).
        /// </summary>
        public bool Recording { get; }

        public DemuxOutcome Outcome { get; set; } = DemuxOutcome.Refused;

        public DemuxStage Stage { get; set; }

        /// <summary>The one socket, when the kernel's choice is determined.</summary>
        public IndexedSocket? Socket { get; set; }

        /// <summary>A SO_REUSEPORT group's eligible members, or every multicast receiver.</summary>
        public List<IndexedSocket>? Sockets { get; set; }

        public List<(IndexedSocket Socket, int Score, DemuxStage Stage, CandidateNote Note)> Candidates
        {
            get
            {
                Materialize();
                return Extra.Candidates ??= new List<(IndexedSocket, int, DemuxStage, CandidateNote)>();
            }
        }

        /// <summary>Sentences that qualify the answer (order ties, TIME-WAIT, unknown interface).</summary>
        public List<string> Notes
        {
            get
            {
                Materialize();
                return Extra.Notes ??= new List<string>();
            }
        }

        /// <summary>
        /// The unknown facts that decide between <see cref="Sockets"/> (see DemuxResult.DependsOn);
        /// when any is listed, <see cref="Socket"/> stays null and Sockets holds every possible receiver.
        /// </summary>
        public List<string> DependsOn
        {
            get
            {
                Materialize();
                return Extra.DependsOn ??= new List<string>();
            }
        }

        /// <summary>
        /// When the answer turns on host facts that are not known (UnknownHostFacts): each
        /// possibility of the deciding facts, in words, with what it gives. The Reason lists them.
        /// </summary>
        public List<(string When, DemuxDecision Decision)> Possibilities => Extra.Possibilities ??= new List<(string, DemuxDecision)>();

        public void Consider(IndexedSocket socket, int score, DemuxStage stage, CandidateNote note)
        {
            if (Recording)
            {
                Candidates.Add((socket, score, stage, note));
            }
        }

        /// <summary>Caveats of the Windows and BSD rule sets, put into words by the result.</summary>
        public DemuxCaveats Caveats
        {
            get => _extras?.Caveats ?? DemuxCaveats.None;
            set => Extra.Caveats = value;
        }

        /// <summary>A socket a caveat names (the one a multicast scan stopped at, the non-listening winner).</summary>
        public IndexedSocket? Marker
        {
            get => _extras?.Marker;
            set => Extra.Marker = value;
        }

        private Extras Extra => _extras ??= new Extras();

        /// <summary>Marks an unrecorded decision as made on <paramref name="index"/>, to be replayed there with recording when its lists are read.</summary>
        public DemuxDecision ReplayOn(SocketIndex index)
        {
            _replayIndex = index;
            return this;
        }

        private void Materialize()
        {
            SocketIndex? index = _replayIndex;
            if (index is null)
            {
                return;
            }

            // The same rules on the same index and packet: the answer is the same, now with its record.
            _replayIndex = null;
            DemuxDecision recorded = RuleEngine.DecideDeliveryCore(index, Request, recording: true);
            Extra.Candidates = recorded._extras?.Candidates;
            Extra.Notes = recorded._extras?.Notes;
            Extra.DependsOn = recorded._extras?.DependsOn;
        }

        private sealed class Extras
        {
            public List<(IndexedSocket Socket, int Score, DemuxStage Stage, CandidateNote Note)>? Candidates;
            public List<string>? Notes;
            public List<string>? DependsOn;
            public List<(string When, DemuxDecision Decision)>? Possibilities;
            public DemuxCaveats Caveats;
            public IndexedSocket? Marker;
        }
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

            return new DemuxResult
            {
                Protocol = request.Protocol,
                Source = request.Source,
                Destination = request.Destination,
                Outcome = decision.Outcome,
                Socket = decision.Socket?.Socket,
                Sockets = sockets,
                CandidatesSource = () =>
                {
                    var candidates = new List<DemuxCandidate>(decision.Candidates.Count);
                    foreach (var candidate in decision.Candidates)
                    {
                        candidates.Add(new DemuxCandidate(candidate.Socket.Socket, candidate.Score, StageName(candidate.Stage), NoteText(candidate.Note, candidate.Socket, request)));
                    }

                    return candidates;
                },
                DependsOn = decision.DependsOn.Count > 0 ? decision.DependsOn.ToArray() : Array.Empty<string>(),
                ReasonSource = () => decision.Possibilities.Count > 0 ? Possibilities(decision, os) : PlainReason(decision, os),
                TargetOS = os,
                ComputerName = computerName,
            };
        }

        private static string PlainReason(DemuxDecision decision, TargetOS os) => os == TargetOS.Linux ? Reason(decision) : OsDemuxText.Reason(decision, os);

        /// <summary>An answer that turns on unknown host facts: which facts, then what each possibility gives.</summary>
        private static string Possibilities(DemuxDecision decision, TargetOS os)
        {
            var text = new StringBuilder("Where it goes depends on what is not known of that host: ").Append(string.Join("; ", decision.DependsOn)).Append('.');
            foreach ((string when, DemuxDecision possibility) in decision.Possibilities)
            {
                text.Append(" If ").Append(when).Append(": ").Append(PlainReason(possibility, os));
            }

            return text.ToString().Replace("..", ".");
        }

        public static string StageName(DemuxStage stage) => stage switch
        {
            DemuxStage.Established => "established (exact 4-tuple)",
            DemuxStage.ListenerExact => "listeners, pass 1 (destination address)",
            DemuxStage.ListenerWildcard => "listeners, pass 2 (wildcard)",
            DemuxStage.UdpExact => "udp, pass 1 (destination address)",
            DemuxStage.UdpWildcard => "udp, pass 2 (wildcard)",
            DemuxStage.LoadBalanceGroup => "SO_REUSEPORT_LB group",
            DemuxStage.BoundAddress => "bound to the destination address",
            DemuxStage.BoundWildcard => "bound to the wildcard",
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
            CandidateNote.NotListening => "bound, but not listening",
            CandidateNote.LaterInList => "matches, but comes later in the kernel's list",
            CandidateNote.Undetermined => "matches; Windows does not define which of the matching sockets receives it",
            CandidateNote.LoadBalanced => "SO_REUSEPORT_LB group member: the kernel hashes (faddr, fport) over the members",
            CandidateNote.AfterScanStopped => "matches, but the scan stopped before it",
            CandidateNote.SpecificWins => "matches, but a socket bound to the destination address takes it first",
            CandidateNote.DualStackLoses => "a dual-stack [::] wildcard: an AF_INET wildcard takes IPv4 first",
            CandidateNote.OtherGroup => "a SO_REUSEPORT_LB group that another group is preferred to",
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
                    if (decision.DependsOn.Count > 0)
                    {
                        text.Append(", if the sockets the scan meets first do not stop it: that turns on reuse options the socket table does not show (DependsOn)");
                    }

                    break;
                case DemuxOutcome.Delivered when decision.Stage == DemuxStage.Established:
                    text.Append(tcp ? "A connection matches the 4-tuple exactly: " : "A connected socket matches the 4-tuple exactly: ").Append(Describe(decision.Socket!));
                    break;
                case DemuxOutcome.Delivered when decision.Socket is null && decision.DependsOn.Count > 0 && decision.Stage != DemuxStage.Multicast:
                    text.Append(UnknownOptionText.MayReceive(decision));
                    break;
                case DemuxOutcome.Delivered when decision.Socket is null:
                    // The socket the walk found names the group; the group's own order is join order.
                    int picked = decision.Candidates.FindLastIndex(c => c.Note == CandidateNote.GroupPicked);
                    IndexedSocket first = picked >= 0 ? decision.Candidates[picked].Socket : decision.Sockets![0];
                    text.Append(Describe(first)).Append(" wins the lookup (").Append(StageName(decision.Stage)).Append(") and belongs to a SO_REUSEPORT group of ")
                        .Append(decision.Sockets!.Count.ToString(CultureInfo.InvariantCulture)).Append(tcp ? " listeners" : " sockets")
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
                int passed = 0;
                foreach (var candidate in decision.Candidates)
                {
                    if (candidate.Score < 0 && named < 3)
                    {
                        text.Append(named == 0 ? ". Passed over: " : "; ").Append(Describe(candidate.Socket)).Append(" (").Append(NoteText(candidate.Note, candidate.Socket, request)).Append(')');
                        named++;
                    }

                    passed += candidate.Score < 0 ? 1 : 0;
                }

                if (passed > named)
                {
                    text.Append("; and ").Append((passed - named).ToString(CultureInfo.InvariantCulture)).Append(" more (see Candidates)");
                }
            }

            foreach (string note in decision.Notes)
            {
                text.Append(". ").Append(note);
            }

            return text.Append('.').ToString();
        }

        public static string Describe(IndexedSocket socket) => socket.Description ??= DescribeNew(socket);

        private static string DescribeNew(IndexedSocket socket)
        {
            SocketTuple tuple = socket.Socket;
            string owner = tuple.Processes.Count > 0 ? " of " + tuple.Processes[0] : string.Empty;
            return (tuple.Protocol == TransportProtocol.Tcp ? "tcp " : "udp ") + SocketStateNames.ToCanonical(tuple.Protocol, tuple.State) + " " + tuple.Local + (tuple.HasRemote ? " " + tuple.Remote : string.Empty) + owner;
        }
    }
}

namespace PortTools
{
    /// <summary>Words for the Windows and BSD delivery decisions, which carry codes instead of text.</summary>
    internal static class OsDemuxText
    {
        public static string Reason(DemuxDecision decision, TargetOS os)
        {
            DemuxRequest request = decision.Request;
            var text = new StringBuilder();
            string destination = IPAddressText.FormatEndpoint(request.Destination.Address, request.Destination.Port);
            string port = request.Destination.Port.ToString(CultureInfo.InvariantCulture);
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            bool windows = os == TargetOS.Windows;
            switch (decision.Outcome)
            {
                case DemuxOutcome.Nondeterministic:
                    Rules.Windows.WindowsText.AppendDemux(text, decision);
                    break;
                case DemuxOutcome.Delivered when decision.Stage == DemuxStage.Multicast:
                    text.Append("A multicast or broadcast datagram goes to every socket that matches: ").Append(decision.Sockets!.Count.ToString(CultureInfo.InvariantCulture))
                        .Append(" socket(s) on port ").Append(port).Append(" each receive a copy");
                    if (decision.DependsOn.Count > 0)
                    {
                        text.Append(", if the sockets the scan meets first do not stop it: that turns on reuse options the socket table does not show (DependsOn)");
                    }

                    break;
                case DemuxOutcome.Delivered when decision.Stage == DemuxStage.Established:
                    text.Append(tcp ? "A connection matches the 4-tuple exactly: " : "A connected socket matches the 4-tuple exactly: ").Append(DemuxExplanation.Describe(decision.Socket!));
                    break;
                case DemuxOutcome.Delivered when decision.Socket is null && decision.DependsOn.Count > 0:
                    text.Append(UnknownOptionText.MayReceive(decision));
                    if (os == TargetOS.FreeBSD)
                    {
                        text.Append(". Sockets with SO_REUSEPORT_LB form a load-balancing group that FreeBSD tries first and hashes over; without it, the wildcard list's order decides");
                    }

                    break;
                case DemuxOutcome.Delivered when decision.Socket is null:
                    Rules.Bsd.BsdText.AppendDemux(text, decision);
                    break;
                case DemuxOutcome.Delivered:
                    text.Append(DemuxExplanation.Describe(decision.Socket!)).Append(" receives it (").Append(DemuxExplanation.StageName(decision.Stage)).Append(')');
                    if (decision.Stage == DemuxStage.BoundAddress)
                    {
                        text.Append(windows ? ": a specific bind takes the traffic for its own address" : ": a socket bound to the destination address comes before any wildcard one");
                    }
                    else if (decision.Stage == DemuxStage.BoundWildcard)
                    {
                        text.Append(windows ? ": the wildcard serves every address no specific bind holds" : ": no socket is bound to " + request.Destination.Address + " itself");
                    }

                    break;
                case DemuxOutcome.Refused:
                    text.Append("No listening socket on port ").Append(port).Append(" takes ").Append(destination).Append(": the kernel answers with a RST (connection refused)");
                    break;
                case DemuxOutcome.PortUnreachable:
                    text.Append("No socket on port ").Append(port).Append(" takes ").Append(destination).Append(": the kernel answers with ICMP port unreachable");
                    break;
                default:
                    text.Append("No socket takes this multicast or broadcast datagram; it is dropped without an answer");
                    break;
            }

            for (int bit = 0; bit < 63; bit++)
            {
                var caveat = (DemuxCaveats)(1L << bit);
                if ((decision.Caveats & caveat) != 0)
                {
                    string? sentence = windows ? Rules.Windows.WindowsText.DemuxCaveat(caveat) : Rules.Bsd.BsdText.DemuxCaveat(caveat, decision);
                    if (sentence is not null)
                    {
                        text.Append(". ").Append(sentence);
                    }
                }
            }

            return text.Append('.').ToString().Replace("..", ".");
        }
    }
}
