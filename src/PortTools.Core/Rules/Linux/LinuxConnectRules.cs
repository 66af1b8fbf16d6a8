using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Rules.Linux
{
    /// <summary>
    /// Linux connect() and the source port it gets (kernel-rules.md 1C): net/ipv4/inet_hashtables.c
    /// __inet_hash_connect and __inet_check_established, net/ipv4/tcp_ipv4.c tcp_twsk_unique,
    /// net/ipv4/inet_connection_sock.c inet_csk_find_open_port (bind(0) before connect()),
    /// net/ipv4/af_inet.c inet_dgram_connect and inet_autobind with net/ipv4/udp.c udp_lib_get_port
    /// (UDP). Each candidate port costs a bitmap test and, where connections exist, a lookup in the
    /// destination's connections: never a scan of the table.
    /// </summary>
    internal static class LinuxConnectRules
    {
        public static ConnectDecision Decide(SocketIndex index, ConnectRequest request)
        {
            ConnectDecision decision = DecidePorts(index, request);

            // TCP looks the route up before it picks a port (tcp_v4_connect), UDP after its automatic bind.
            return request.NoRoute && (decision.CanConnect != false || (request.Protocol == TransportProtocol.Tcp && decision.Stage != ConnectStage.Bind))
                ? decision.Unreachable("linux.connect.no-route")
                : decision;
        }

        private static ConnectDecision DecidePorts(SocketIndex index, ConnectRequest request)
        {
            ConnectDecision decision = ConnectSupport.NewDecision(request, index);
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            IPAddress? bound = null;
            if (request.Binds)
            {
                bound = request.Address ?? (inet6 ? IPAddress.IPv6Any : IPAddress.Any);
                BindRequest bindRequest = ConnectSupport.BindRequestFor(request, bound);
                decision.BindRequest = bindRequest;
                if (request.Port != 0)
                {
                    BindDecision? failed = ConnectSupport.Bind(index, bindRequest, LinuxBindRules.Decide, decision);
                    if (failed is not null)
                    {
                        return FailAtBind(decision, failed);
                    }

                    return Prebound(index, request, decision, bound);
                }

                BindDecision? early = ConnectSupport.Bind(index, bindRequest, LinuxBindRules.DecideAddress, decision);
                if (early is not null)
                {
                    return FailAtBind(decision, early);
                }

                if (!request.BindAddressNoPort)
                {
                    return request.Protocol == TransportProtocol.Tcp ? TcpBindThenConnect(index, request, decision, bound) : UdpPicks(index, request, decision, bound, atBind: true);
                }
            }

            return request.Protocol == TransportProtocol.Tcp ? TcpConnectPicks(index, request, decision, bound) : UdpPicks(index, request, decision, bound, atBind: false);
        }

        private static ConnectDecision FailAtBind(ConnectDecision decision, BindDecision bind)
        {
            decision.Stage = ConnectStage.Bind;
            decision.Error = ConnectError.Bind;
            decision.BindError = bind.Error;
            decision.Bind = bind;
            decision.Rule = "linux.connect.bind:" + bind.Rule;
            decision.AvailableMin = 0;
            decision.AvailableMax = 0;
            foreach ((IndexedSocket socket, ConflictCause _) in bind.Conflicts)
            {
                decision.Conflicts.Add(socket);
            }

            foreach (string phrase in bind.DependsOn)
            {
                decision.AddDependency(phrase);
            }

            return decision.Settle(ConnectError.Bind);
        }

        /// <summary>
        /// A port bound before connect(): only the 4-tuple is checked (__inet_check_established). A
        /// live connection holding it gives EADDRNOTAVAIL; a TIME-WAIT entry is taken over when it
        /// recorded timestamps (tcp_twsk_unique with no twp: tcp_tw_reuse does not apply). UDP
        /// connect() checks nothing.
        /// </summary>
        private static ConnectDecision Prebound(SocketIndex index, ConnectRequest request, ConnectDecision decision, IPAddress bound)
        {
            decision.Stage = ConnectStage.Prebound;
            decision.SourcePort = request.Port;
            bool shareable = request.ReuseAddress || request.ReusePort;
            if (request.Protocol == TransportProtocol.Udp)
            {
                ConnectSupport.Sources(index.ConnectTables, request, bound, decision);
                decision.Rule = "linux.connect.udp-bound";
                decision.AvailableMin = shareable ? null : 1;
                decision.AvailableMax = decision.AvailableMin;
                return decision.Settle(ConnectError.AddressInUse);
            }

            var classifier = new LinuxConnectClassifier(index, request, default, autobind: false);
            PortUse? use = null;
            foreach ((Ip16 source, IPAddress? _) in ConnectSupport.Sources(index.ConnectTables, request, bound, decision))
            {
                IndexedSocket? holder = decision.SourceKind == SourceKind.Irrelevant ? null
                    : index.Established(TransportProtocol.Tcp, source, request.Port, Ip16.From(request.Destination.Address), request.Destination.Port);
                PortUse here = holder is null ? PortUse.Yes : holder.State == SocketState.TimeWait ? classifier.TimeWaitUse(holder) : PortUse.No;
                if (holder is not null && here != PortUse.Yes && !decision.Conflicts.Contains(holder))
                {
                    decision.Conflicts.Add(holder);
                }

                use = use is PortUse previous ? Combine(previous, here) : here;
            }

            if (decision.SourceKind == SourceKind.Ambiguous && use == PortUse.Maybe)
            {
                decision.Unknowns |= ConnectUnknowns.Source;
            }

            decision.Unknowns |= classifier.Unknowns;
            decision.Rule = use == PortUse.Yes ? "linux.connect.bound-port" : use == PortUse.No ? "linux.connect.4-tuple-in-use" : "linux.connect.4-tuple-depends";
            int first = use == PortUse.Yes ? 1 : 0;
            decision.AvailableMin = first;
            decision.AvailableMax = use == PortUse.No ? 0 : 1;
            if (request.Count > 1 && first == 1)
            {
                // The second socket binds the port again: without SO_REUSEADDR or SO_REUSEPORT the first
                // one holds it (EADDRINUSE); with them, the bind passes and the 4-tuple is taken.
                decision.AddNote(shareable
                    ? "a second socket can bind the port too (SO_REUSEADDR or SO_REUSEPORT), but its connect() finds the 4-tuple taken by the first: EADDRNOTAVAIL"
                    : "a second socket cannot bind the port while the first holds it (neither SO_REUSEADDR nor SO_REUSEPORT): EADDRINUSE");
                AddDependencies(decision);
                decision.BindError = BindErrorKind.AddressInUse;
                return decision.Settle(shareable ? ConnectError.AddressNotAvailable : ConnectError.Bind);
            }

            AddDependencies(decision);
            return decision.Settle(ConnectError.AddressNotAvailable);
        }

        /// <summary>
        /// connect() picks the port (__inet_hash_connect): from the range, by steps of 2 over low's
        /// parity first (by 1 with IP_LOCAL_PORT_RANGE), skipping reserved ports and ports whose bind
        /// bucket bind() made; a port that only connections hold is taken when the 4-tuple toward
        /// the destination is free, or held by a TIME-WAIT entry that tcp_tw_reuse lets it take over.
        /// </summary>
        private static ConnectDecision TcpConnectPicks(SocketIndex index, ConnectRequest request, ConnectDecision decision, IPAddress? bound)
        {
            HostFacts facts = index.Facts;
            decision.Stage = ConnectStage.ConnectPicks;
            PortRange range = ConnectSupport.EffectiveRange(facts.EphemeralPortRange, request.LocalPortRange, out bool perSocket);
            decision.Range = range;
            decision.PerSocketRange = perSocket;
            Span<ScanSegment> segments = stackalloc ScanSegment[1];
            segments[0] = new ScanSegment(range.Start, range.End, parity: !perSocket, lowParityFirst: true);
            // The common case, a source known without the table, allocates no list of sources.
            (Ip16 Address, IPAddress? Text)? known = ConnectSupport.KnownSource(index.ConnectTables, request, bound, decision);
            (Ip16 Address, IPAddress? Text)[]? sources = known is null ? ConnectSupport.Sources(index.ConnectTables, request, bound, decision) : null;
            int sourceCount = sources?.Length ?? 1;
            ScanAnalysis? merged = null;
            int min = int.MaxValue;
            int max = 0;
            for (int s = 0; s < sourceCount; s++)
            {
                Ip16 source = sources is null ? known!.Value.Address : sources[s].Address;
                var classifier = new LinuxConnectClassifier(index, request, source, autobind: true, irrelevant: decision.SourceKind == SourceKind.Irrelevant);
                ScanAnalysis scan = ScanAnalysis.Analyze(segments, classifier);
                min = Math.Min(min, scan.Min);
                max = Math.Max(max, scan.Max);
                decision.Unknowns |= classifier.Unknowns;
                merged ??= scan;
            }

            decision.Scan = merged;
            decision.Classifier = merged!.Classifier;
            decision.AvailableMin = min;
            decision.AvailableMax = max;
            if (merged.OffsetDecides)
            {
                decision.Unknowns |= ConnectUnknowns.Offset;
            }

            if (sourceCount > 1 && min != max)
            {
                decision.Unknowns |= ConnectUnknowns.Source;
            }

            SetCandidates(decision, merged, sourceCount == 1);
            decision.Rule = max == 0 ? "linux.connect.exhausted" : perSocket ? "linux.connect.local-port-range" : "linux.connect.ephemeral";
            AddDependencies(decision);
            return decision.Settle(ConnectError.AddressNotAvailable);
        }

        /// <summary>
        /// bind(address, 0) picks the port (inet_csk_find_open_port): one on which no socket overlaps
        /// the address at all (so never one that serves connections to other destinations), odd
        /// offsets first, the lower half of the range first with SO_REUSEADDR; with ip_autobind_reuse
        /// and SO_REUSEADDR a second round shares a port with SO_REUSEADDR sockets that do not listen.
        /// connect() then checks the 4-tuple (EADDRNOTAVAIL when a shared port already reaches the destination).
        /// </summary>
        private static ConnectDecision TcpBindThenConnect(SocketIndex index, ConnectRequest request, ConnectDecision decision, IPAddress bound)
        {
            HostFacts facts = index.Facts;
            decision.Stage = ConnectStage.BindPicks;
            PortRange range = ConnectSupport.EffectiveRange(facts.EphemeralPortRange, request.LocalPortRange, out bool perSocket);
            decision.Range = range;
            decision.PerSocketRange = perSocket;
            IndexedSocket proposed = ConnectSupport.Proposed(request, bound, facts);
            var strict = new Bind0Classifier(index, proposed, relax: false);
            ScanAnalysis scan = ScanAnalysis.Analyze(LinuxBindRules.Bind0Segments(range, request.ReuseAddress), strict);
            decision.Scan = scan;
            decision.Classifier = strict;
            int min = scan.Min;
            int max = scan.Max;
            if (scan.OffsetDecides)
            {
                decision.Unknowns |= ConnectUnknowns.BindRandom;
            }

            (Ip16 Address, IPAddress? Text)[] sources = ConnectSupport.Sources(index.ConnectTables, request, bound, decision);
            bool relaxPossible = request.ReuseAddress && (facts.AutobindReuse || !facts.Knows(KnownHostFacts.AutobindReuse));
            ConnectError failure = ConnectError.Bind;
            decision.BindError = BindErrorKind.AddressInUse;
            if (relaxPossible && (scan.Max == 0 || request.Count > scan.Min))
            {
                // The second round: ports the first round refused that SO_REUSEADDR sockets let it share.
                var relax = new Bind0Classifier(index, proposed, relax: true);
                var tuples = new LinuxConnectClassifier[sources.Length];
                for (int s = 0; s < sources.Length; s++)
                {
                    tuples[s] = new LinuxConnectClassifier(index, request, sources[s].Address, autobind: false, irrelevant: decision.SourceKind == SourceKind.Irrelevant);
                }

                int shared = 0;
                int unique = 0;
                int taken = 0;
                int uncertain = 0;
                var relaxCandidates = new List<int>();
                int[] ports = index.ConnectTables.TcpPorts;
                for (int i = ConnectTables.LowerBound(ports, range.Start); i < ports.Length && ports[i] <= range.End; i++)
                {
                    int port = ports[i];
                    if (strict.Classify(port) != PortUse.No)
                    {
                        continue;
                    }

                    PortUse share = relax.Classify(port);
                    if (share == PortUse.No)
                    {
                        continue;
                    }

                    shared++;
                    PortUse tuple = tuples[0].Classify(port);
                    for (int s = 1; s < tuples.Length; s++)
                    {
                        tuple = Combine(tuple, tuples[s].Classify(port));
                    }

                    if (tuple != PortUse.No)
                    {
                        relaxCandidates.Add(port);
                    }

                    if (share == PortUse.Yes && tuple == PortUse.Yes)
                    {
                        unique++;
                    }
                    else if (tuple == PortUse.No && share == PortUse.Yes)
                    {
                        taken++;
                    }
                    else
                    {
                        uncertain++;
                    }
                }

                if (scan.Max == 0)
                {
                    decision.SourcePorts = relaxCandidates;
                    decision.SourcePort = relaxCandidates.Count == 1 ? relaxCandidates[0] : null;
                }

                decision.Unknowns |= relax.Unknowns;
                foreach (LinuxConnectClassifier classifier in tuples)
                {
                    decision.Unknowns |= classifier.Unknowns;
                }

                decision.Relax = (shared, unique, taken, uncertain);
                bool autobindKnown = facts.Knows(KnownHostFacts.AutobindReuse);
                if (shared > 0 && !autobindKnown)
                {
                    decision.Unknowns |= ConnectUnknowns.AutobindReuse;
                }

                // The sockets of earlier calls share their ports too (SO_REUSEADDR, not listening) and hold the 4-tuple.
                bool ownSocketsShare = scan.Max > 0 && !request.ReusePort;
                if (autobindKnown && taken == 0 && uncertain == 0 && unique > 0 && !ownSocketsShare && scan.Min == scan.Max)
                {
                    min += 1;
                }

                max += unique + uncertain;
                if (shared > 0 && autobindKnown)
                {
                    // Past the first round, a call fails at connect() when the shared port it picks already reaches the destination.
                    failure = ConnectError.AddressNotAvailable;
                }

                if (unique + uncertain > 0 && (taken + uncertain > 0 || ownSocketsShare))
                {
                    decision.Unknowns |= ConnectUnknowns.BindRandom;
                }
            }

            decision.AvailableMin = min;
            decision.AvailableMax = max;
            if (scan.Max > 0)
            {
                SetCandidates(decision, scan, single: true);
            }

            decision.Rule = max == 0 ? "linux.bind0.exhausted" : scan.Max == 0 ? "linux.bind0.autobind-reuse" : "linux.bind0";
            AddDependencies(decision);
            return decision.Settle(failure);
        }

        /// <summary>
        /// UDP: connect() on a socket without a port binds it first (inet_autobind, EAGAIN when no port
        /// is left); bind(address, 0) does the same at bind() (EADDRINUSE). udp_lib_get_port takes any
        /// port of the range, from a random start, on which no socket conflicts under the normal UDP
        /// sharing rules; the 4-tuple plays no part, so ports are not shared across destinations.
        /// </summary>
        private static ConnectDecision UdpPicks(SocketIndex index, ConnectRequest request, ConnectDecision decision, IPAddress? bound, bool atBind)
        {
            HostFacts facts = index.Facts;
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            decision.Stage = atBind ? ConnectStage.BindPicks : ConnectStage.ConnectPicks;
            PortRange range = ConnectSupport.EffectiveRange(facts.EphemeralPortRange, request.LocalPortRange, out bool perSocket);
            decision.Range = range;
            decision.PerSocketRange = perSocket;
            IPAddress address = bound ?? (inet6 ? IPAddress.IPv6Any : IPAddress.Any);
            ConnectSupport.Sources(index.ConnectTables, request, bound, decision);
            var classifier = new Bind0Classifier(index, ConnectSupport.Proposed(request, address, facts), relax: false);
            ScanAnalysis scan = ScanAnalysis.Analyze(new[] { new ScanSegment(range.Start, range.End, parity: false, lowParityFirst: true) }, classifier);
            decision.Scan = scan;
            decision.Classifier = classifier;
            decision.Unknowns |= classifier.Unknowns;

            // Its own earlier sockets do not stand in the way of a socket with SO_REUSEADDR or SO_REUSEPORT: one port serves them all.
            bool ownShare = request.ReuseAddress || request.ReusePort;
            decision.AvailableMin = ownShare && scan.Min > 0 ? null : scan.Min;
            decision.AvailableMax = ownShare && scan.Max > 0 ? null : scan.Max;
            SetCandidates(decision, scan, single: true);
            decision.Rule = scan.Max == 0 ? (atBind ? "linux.udp.bind0-exhausted" : "linux.udp.autobind-exhausted") : atBind ? "linux.udp.bind0" : "linux.udp.autobind";
            AddDependencies(decision);
            if (atBind)
            {
                decision.BindError = BindErrorKind.AddressInUse;
                return decision.Settle(ConnectError.Bind);
            }

            return decision.Settle(ConnectError.TryAgain);
        }

        private static void SetCandidates(ConnectDecision decision, ScanAnalysis scan, bool single)
        {
            if (!single || scan.Max == 0)
            {
                return;
            }

            decision.CandidateScan = scan;
            if (scan.CandidateCount == 1)
            {
                IReadOnlyList<int> candidates = decision.SourcePorts;
                decision.SourcePort = candidates.Count == 1 ? candidates[0] : null;
            }
        }

        private static void AddDependencies(ConnectDecision decision)
        {
            if (decision.Range is not null)
            {
                ConnectSupport.AddRangeCaveat(decision);
            }

            int count = decision.Request.Count;
            bool uncertain = decision.AvailableMin is int min && min < count && (decision.AvailableMax is null || decision.AvailableMax >= count);
            if (!uncertain)
            {
                return;
            }

            foreach (string phrase in ConnectExplanation.Unknowns(decision))
            {
                decision.AddDependency(phrase);
            }
        }

        /// <summary>Two sources the route may give: the same answer, or one that depends on which.</summary>
        private static PortUse Combine(PortUse a, PortUse b) => a == b ? a : PortUse.Maybe;
    }

    /// <summary>
    /// A port for connect() to pick (TCP): not reserved, no bind bucket that bind() made, and no
    /// socket in the established hash with this source, port and destination, unless it is a
    /// TIME-WAIT entry the new connection may take over.
    /// </summary>
    internal sealed class LinuxConnectClassifier : PortClassifier
    {
        private readonly SocketIndex _index;
        private readonly ConnectTables _tables;
        private readonly ConnectRequest _request;
        private readonly HostFacts _facts;
        private readonly Ip16 _source;
        private readonly bool _autobind;
        private readonly ConnectionChain _connections;

        public LinuxConnectClassifier(SocketIndex index, ConnectRequest request, Ip16 source, bool autobind, bool irrelevant = false)
        {
            _index = index;
            _tables = index.ConnectTables;
            _request = request;
            _facts = index.Facts;
            _source = source;
            _autobind = autobind;
            _connections = irrelevant ? default : _tables.ConnectionsTo(TransportProtocol.Tcp, Ip16.From(request.Destination.Address), request.Destination.Port);
        }

        /// <summary>The unknown facts met on the way.</summary>
        public ConnectUnknowns Unknowns { get; private set; }

        /// <summary>The connections to the destination (any source), ordered as the table gave them.</summary>
        public ConnectionChain Connections => _connections;

        public Ip16 Source => _source;

        public ConnectTables Tables => _tables;

        public override PortUse Classify(int port)
        {
            if (_autobind && (_tables.IsReserved(port) || _tables.IsTcpBindHeld(port)))
            {
                return PortUse.No;
            }

            if (_connections.IsEmpty)
            {
                return PortUse.Yes;
            }

            // The 4-tuple (source, port, destination): a live socket holds it, or a TIME-WAIT entry that may be taken over.
            int[] ports = _tables.TuplePorts;
            Ip16[] locals = _tables.TupleLocals;
            for (int i = _connections.LowerBound(port); i < _connections.End && ports[i] == port; i++)
            {
                if (locals[i].Equals(_source))
                {
                    IndexedSocket holder = _tables.TupleSockets[i];
                    return holder.State == SocketState.TimeWait ? TimeWaitUse(holder) : PortUse.No;
                }
            }

            return PortUse.Yes;
        }

        public override void Count(int first, int last, int step, out int yes, out int maybe)
        {
            int size = ConnectTables.ClassSize(first, last, step);
            yes = size - _tables.BlockedIn(first, last, step);
            maybe = 0;
            if (_connections.IsEmpty)
            {
                return;
            }

            // The tables keep one entry per 4-tuple, sorted by port, so a port counts once per source.
            int[] ports = _tables.TuplePorts;
            Ip16[] locals = _tables.TupleLocals;
            for (int i = _connections.LowerBound(first); i < _connections.End; i++)
            {
                int port = ports[i];
                if (port > last)
                {
                    break;
                }

                if ((port - first) % step != 0 || !locals[i].Equals(_source) || _tables.IsReserved(port) || _tables.IsTcpBindHeld(port))
                {
                    continue;
                }

                PortUse use = _tables.TupleTimeWait[i] ? TimeWaitUse(_tables.TupleSockets[i]) : PortUse.No;
                if (use != PortUse.Yes)
                {
                    yes--;
                    maybe += use == PortUse.Maybe ? 1 : 0;
                }
            }
        }

        /// <summary>Both parities in one pass over the destination's connections.</summary>
        public override void CountParities(int low, int high, out (int Yes, int Maybe) lowParity, out (int Yes, int Maybe) otherParity)
        {
            int lowLast = high - ((high - low) & 1);
            int otherLast = high - ((high - low - 1) & 1);
            int lowYes = ConnectTables.ClassSize(low, lowLast, 2) - _tables.BlockedIn(low, lowLast, 2);
            int otherYes = ConnectTables.ClassSize(low + 1, otherLast, 2) - _tables.BlockedIn(low + 1, otherLast, 2);
            int lowMaybe = 0;
            int otherMaybe = 0;
            if (!_connections.IsEmpty)
            {
                int[] ports = _tables.TuplePorts;
                Ip16[] locals = _tables.TupleLocals;
                for (int i = _connections.LowerBound(low); i < _connections.End; i++)
                {
                    int port = ports[i];
                    if (port > high)
                    {
                        break;
                    }

                    if (!locals[i].Equals(_source) || _tables.IsReserved(port) || _tables.IsTcpBindHeld(port))
                    {
                        continue;
                    }

                    PortUse use = _tables.TupleTimeWait[i] ? TimeWaitUse(_tables.TupleSockets[i]) : PortUse.No;
                    if (use == PortUse.Yes)
                    {
                        continue;
                    }

                    bool lowSide = ((port - low) & 1) == 0;
                    if (lowSide)
                    {
                        lowYes--;
                        lowMaybe += use == PortUse.Maybe ? 1 : 0;
                    }
                    else
                    {
                        otherYes--;
                        otherMaybe += use == PortUse.Maybe ? 1 : 0;
                    }
                }
            }

            lowParity = (lowYes, lowMaybe);
            otherParity = low + 1 > high ? (0, 0) : (otherYes, otherMaybe);
        }

        /// <summary>
        /// tcp_twsk_unique: a TIME-WAIT entry with recorded timestamps is taken over by a bound port
        /// always, and by an automatically chosen port when tcp_tw_reuse is 1, or 2 with loopback
        /// traffic, and the entry is older than tcp_tw_reuse_delay.
        /// </summary>
        public PortUse TimeWaitUse(IndexedSocket entry)
        {
            // tcp_tw_reuse first: it refuses most entries outright, and costs nothing to check.
            bool reuseKnown = _facts.Knows(KnownHostFacts.TcpTwReuse);
            if (_autobind && reuseKnown)
            {
                int mode = _facts.TcpTwReuse;
                if (mode == 0 || (mode == 2 && !(string.Equals(entry.Device, "lo", StringComparison.Ordinal) || ConnectSupport.IsLoopback(entry.Local) || ConnectSupport.IsLoopback(entry.Remote))))
                {
                    return PortUse.No;
                }
            }

            // Timestamps: known when this host sends none, or when the peer is this host itself.
            PortUse timestamps;
            bool peerIsHere = ConnectSupport.IsLoopback(entry.Remote) || (_facts.Knows(KnownHostFacts.Addresses) && _facts.IsLocal(entry.Socket.RemoteAddress));
            if (!_facts.Knows(KnownHostFacts.TcpTimestamps))
            {
                timestamps = PortUse.Maybe;
                Unknowns |= ConnectUnknowns.TcpTimestamps | (peerIsHere ? ConnectUnknowns.None : ConnectUnknowns.Timestamps);
            }
            else if (_facts.TcpTimestamps == 0)
            {
                return PortUse.No;
            }
            else if (peerIsHere)
            {
                timestamps = PortUse.Yes;
            }
            else
            {
                timestamps = PortUse.Maybe;
                Unknowns |= ConnectUnknowns.Timestamps;
            }

            if (!_autobind)
            {
                return timestamps;
            }

            if (!reuseKnown)
            {
                Unknowns |= ConnectUnknowns.TcpTwReuse;
                return PortUse.Maybe;
            }

            TimeSpan? age = _request.TimeWaitAge?.Invoke(entry.Socket);
            if (age is null)
            {
                Unknowns |= ConnectUnknowns.TimeWaitAge;
                return PortUse.Maybe;
            }

            if (!_facts.Knows(KnownHostFacts.TcpTwReuseDelay))
            {
                Unknowns |= ConnectUnknowns.TcpTwReuseDelay;
                return timestamps == PortUse.No ? PortUse.No : PortUse.Maybe;
            }

            return age.Value.TotalMilliseconds <= _facts.TcpTwReuseDelay ? PortUse.No : timestamps;
        }
    }

    /// <summary>
    /// A port for bind(0) to pick (TCP, inet_csk_find_open_port; UDP, udp_lib_get_port): not
    /// reserved, and no socket on it that conflicts. TCP's first round refuses any overlapping
    /// socket (relax off, reuseport_ok off); its second round (ip_autobind_reuse) shares with
    /// SO_REUSEADDR sockets that do not listen, unless both also have SO_REUSEPORT and the holder
    /// is in TIME-WAIT or of the same user. UDP marks a port used when any socket on it conflicts
    /// under the normal sharing rules.
    /// </summary>
    internal sealed class Bind0Classifier : PortClassifier
    {
        private readonly SocketIndex _index;
        private readonly ConnectTables _tables;
        private readonly IndexedSocket _proposed;
        private readonly bool _relax;
        private readonly int[] _ports;

        public Bind0Classifier(SocketIndex index, IndexedSocket proposed, bool relax)
        {
            _index = index;
            _tables = index.ConnectTables;
            _proposed = proposed;
            _relax = relax;
            _ports = _tables.PortsOf(proposed.Protocol);
        }

        public ConnectUnknowns Unknowns { get; private set; }

        public override PortUse Classify(int port)
        {
            if (_tables.IsReserved(port))
            {
                return PortUse.No;
            }

            List<IndexedSocket>? bucket = _index.BindBucket(_proposed.Protocol, port);
            return bucket is null ? PortUse.Yes : Evaluate(bucket);
        }

        public override void Count(int first, int last, int step, out int yes, out int maybe)
        {
            yes = ConnectTables.ClassSize(first, last, step) - _tables.ReservedIn(first, last, step);
            maybe = 0;
            for (int i = ConnectTables.LowerBound(_ports, first); i < _ports.Length && _ports[i] <= last; i++)
            {
                int port = _ports[i];
                if ((port - first) % step != 0 || _tables.IsReserved(port))
                {
                    continue;
                }

                List<IndexedSocket>? bucket = _index.BindBucket(_proposed.Protocol, port);
                PortUse use = bucket is null ? PortUse.Yes : Evaluate(bucket);
                if (use != PortUse.Yes)
                {
                    yes--;
                    maybe += use == PortUse.Maybe ? 1 : 0;
                }
            }
        }

        private PortUse Evaluate(List<IndexedSocket> bucket)
        {
            PortUse result = PortUse.Yes;
            foreach (IndexedSocket holder in bucket)
            {
                if (!LinuxBindRules.DevicesMayConflict(_proposed, holder) || !LinuxBindRules.Overlap(_proposed, holder))
                {
                    continue;
                }

                PortUse pair = _proposed.Protocol == TransportProtocol.Tcp ? TcpPair(holder) : UdpPair(holder);
                if (pair == PortUse.No)
                {
                    return PortUse.No;
                }

                if (pair == PortUse.Maybe)
                {
                    result = PortUse.Maybe;
                }
            }

            return result;
        }

        private PortUse TcpPair(IndexedSocket holder)
        {
            if (!_relax || !_proposed.ReuseAddress || holder.State == SocketState.Listen)
            {
                return PortUse.No;
            }

            if (!holder.FlagsKnown)
            {
                Unknowns |= ConnectUnknowns.HolderOptions;
                return PortUse.Maybe;
            }

            bool shares = holder.ReuseAddress && !(_proposed.ReusePort && holder.ReusePort && (holder.State == SocketState.TimeWait || holder.Uid == _proposed.Uid));
            return shares ? PortUse.Yes : PortUse.No;
        }

        private PortUse UdpPair(IndexedSocket holder)
        {
            if (!holder.FlagsKnown && (_proposed.ReuseAddress || _proposed.ReusePort))
            {
                Unknowns |= ConnectUnknowns.HolderOptions;
                return PortUse.Maybe;
            }

            if (_proposed.ReuseAddress && holder.ReuseAddress)
            {
                return PortUse.Yes;
            }

            return _proposed.ReusePort && holder.ReusePort && _proposed.Uid == holder.Uid ? PortUse.Yes : PortUse.No;
        }
    }
}
