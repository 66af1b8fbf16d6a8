using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using PortTools.Rules.Linux;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// connect() and its source port off Linux, where kernel-rules.md states them: FreeBSD
    /// (in_pcb_lport_dest, 3C), macOS (the implicit in_pcbbind of in_pcbconnect, 4C) and Windows
    /// (2C, mostly UNVERIFIED). A random start, then port after port; no parity order. Options that
    /// only Linux has (IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE) fail at setsockopt().
    /// </summary>
    internal static class OtherConnectRules
    {
        public static ConnectDecision Decide(SocketIndex index, ConnectRequest request)
        {
            ConnectDecision decision = DecidePorts(index, request);
            return request.NoRoute && (decision.CanConnect != false || decision.Stage != ConnectStage.Bind)
                ? decision.Unreachable(decision.Rule.Substring(0, decision.Rule.IndexOf('.') + 1) + "connect.no-route")
                : decision;
        }

        private static ConnectDecision DecidePorts(SocketIndex index, ConnectRequest request)
        {
            HostFacts facts = index.Facts;
            TargetOS os = facts.OS;
            ConnectDecision decision = ConnectSupport.NewDecision(request, index);
            string prefix = os == TargetOS.Windows ? "windows" : os == TargetOS.FreeBSD ? "freebsd" : "macos";
            if (request.BindAddressNoPort || request.LocalPortRange is not null)
            {
                decision.Stage = ConnectStage.Bind;
                decision.Error = ConnectError.Bind;
                decision.BindError = BindErrorKind.OptionNotSupported;
                decision.Rule = prefix + ".connect.enoprotoopt";
                decision.AvailableMin = 0;
                decision.AvailableMax = 0;
                decision.AddNote("setsockopt() fails first: " + (request.BindAddressNoPort ? "IP_BIND_ADDRESS_NO_PORT" : "IP_LOCAL_PORT_RANGE") + " is a Linux option, which " + OsBindText.Name(os) + " does not have");
                return decision.Settle(ConnectError.Bind);
            }

            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            IPAddress? bound = null;
            if (request.Binds)
            {
                bound = request.Address ?? (inet6 ? IPAddress.IPv6Any : IPAddress.Any);
                BindRequest bindRequest = ConnectSupport.BindRequestFor(request, bound);
                decision.BindRequest = bindRequest;
                BindDecision? bind = ConnectSupport.Bind(index, bindRequest, (i, r) => RuleEngine.DecideBindCore(i, r), decision);
                if (bind is not null)
                {
                    decision.Stage = ConnectStage.Bind;
                    decision.Error = ConnectError.Bind;
                    decision.BindError = bind.Error;
                    decision.Bind = bind;
                    decision.Rule = prefix + ".connect.bind:" + bind.Rule;
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

                if (request.Port != 0)
                {
                    return Prebound(index, request, decision, bound, prefix);
                }
            }

            // connect() picks (or bind(address, 0) picked) a port: a random start, then port by port.
            decision.Stage = request.Binds ? ConnectStage.BindPicks : ConnectStage.ConnectPicks;
            PortRange range = facts.EphemeralPortRange;
            decision.Range = range;
            (Ip16 Address, IPAddress? Text)[] sources = ConnectSupport.Sources(index.ConnectTables, request, bound, decision);
            bool perDestination = os == TargetOS.FreeBSD && !request.Binds;
            IPAddress probeAddress = bound ?? (inet6 ? IPAddress.IPv6Any : IPAddress.Any);
            int min = int.MaxValue;
            int max = 0;
            ScanAnalysis? first = null;
            foreach ((Ip16 source, IPAddress? _) in sources)
            {
                var classifier = new HolderPortClassifier(index, ConnectSupport.Proposed(request, probeAddress, facts), perDestination, source, decision.SourceKind == SourceKind.Irrelevant, request);
                ScanAnalysis scan = ScanAnalysis.Analyze(new[] { new ScanSegment(range.Start, range.End, parity: false, lowParityFirst: true) }, classifier);
                min = Math.Min(min, scan.Min);
                max = Math.Max(max, scan.Max);
                decision.Unknowns |= classifier.Unknowns;
                first ??= scan;
            }

            decision.Scan = first;
            decision.Classifier = first!.Classifier;
            decision.AvailableMin = min;
            decision.AvailableMax = max;
            if (sources.Length > 1 && min != max)
            {
                decision.Unknowns |= ConnectUnknowns.Source;
            }

            if (sources.Length == 1 && max > 0)
            {
                IReadOnlyList<int> candidates = first.Candidates();
                decision.SourcePorts = candidates;
                if (first.CandidateCount == 1)
                {
                    decision.SourcePort = candidates.Count == 1 ? candidates[0] : null;
                }
            }

            decision.Rule = prefix + (max == 0 ? ".connect.exhausted" : ".connect.ephemeral");
            decision.AddNote(Note(os, request.Protocol, perDestination, request.Binds));
            ConnectSupport.AddRangeCaveat(decision);

            if (min < request.Count && max >= request.Count)
            {
                foreach (string phrase in ConnectExplanation.Unknowns(decision))
                {
                    decision.AddDependency(phrase);
                }
            }

            return decision.Settle(os == TargetOS.Windows ? ConnectError.NoBufferSpace : ConnectError.AddressNotAvailable);
        }

        /// <summary>A bound port: connect() refuses a 4-tuple that exists (EADDRINUSE on the BSDs, kernel-rules.md 3D; WSAEADDRINUSE on Windows, UNVERIFIED).</summary>
        private static ConnectDecision Prebound(SocketIndex index, ConnectRequest request, ConnectDecision decision, IPAddress bound, string prefix)
        {
            decision.Stage = ConnectStage.Prebound;
            decision.SourcePort = request.Port;
            bool taken = false;
            bool free = false;
            foreach ((Ip16 source, IPAddress? _) in ConnectSupport.Sources(index.ConnectTables, request, bound, decision))
            {
                IndexedSocket? holder = decision.SourceKind == SourceKind.Irrelevant ? null
                    : index.Established(request.Protocol, source, request.Port, Ip16.From(request.Destination.Address), request.Destination.Port);
                if (holder is null)
                {
                    free = true;
                }
                else
                {
                    taken = true;
                    decision.Conflicts.Add(holder);
                }
            }

            decision.AvailableMin = taken ? 0 : 1;
            decision.AvailableMax = free ? 1 : 0;
            if (taken && free)
            {
                decision.Unknowns |= ConnectUnknowns.Source;
                foreach (string phrase in ConnectExplanation.Unknowns(decision))
                {
                    decision.AddDependency(phrase);
                }
            }

            decision.Rule = prefix + (taken ? ".connect.4-tuple-in-use" : ".connect.bound-port");
            decision.AddNote(decision.OS == TargetOS.Windows
                ? "Windows is taken to refuse a 4-tuple that exists with WSAEADDRINUSE (UNVERIFIED: kernel-rules.md 2D does not say)"
                : "the BSDs refuse a 4-tuple that exists with EADDRINUSE, where Linux gives EADDRNOTAVAIL (kernel-rules.md 3D)");
            if (request.Count > 1 && !taken)
            {
                decision.AddNote("a second socket on the same port finds the 4-tuple taken by the first");
            }

            return decision.Settle(ConnectError.AddressInUse);
        }

        private static string Note(TargetOS os, TransportProtocol protocol, bool perDestination, bool bound) => os switch
        {
            TargetOS.FreeBSD when perDestination => "FreeBSD (in_pcb_lport_dest, kernel-rules.md 3C) refuses a port when the 4-tuple toward the destination exists or an unconnected socket holds it on this address or the wildcard, so one port serves connections to different destinations"
                + (protocol == TransportProtocol.Udp ? " ([derived]: 3C does not single out UDP, whose connect() goes through the same in_pcbconnect)" : string.Empty),
            TargetOS.FreeBSD => "FreeBSD's bind(0) refuses a port on which in_pcblookup_local finds any socket (kernel-rules.md 3C)",
            TargetOS.MacOS => "macOS looks the port up with the wildcard address for the implicit bind of connect() (kernel-rules.md 4C, [derived]), so a port any overlapping socket holds is refused and ports are not shared across destinations",
            _ => "UNVERIFIED: Windows documents neither how it picks a source port nor whether one port serves several destinations (kernel-rules.md 2C); taken as one pool, in which a port any socket holds is not picked"
                + (bound ? string.Empty : ", and an exhausted pool as WSAENOBUFS (KB 196271)"),
        };
    }

    /// <summary>
    /// A port for connect() off Linux: not reserved (Windows: excluded), and no socket on it that
    /// stands in the way. Per destination (FreeBSD): the 4-tuple toward the destination, or an
    /// unconnected socket on the source address or the wildcard. Otherwise any socket whose address
    /// overlaps the wildcard (or bound) address.
    /// </summary>
    internal sealed class HolderPortClassifier : PortClassifier
    {
        private readonly SocketIndex _index;
        private readonly ConnectTables _tables;
        private readonly IndexedSocket _probe;
        private readonly bool _perDestination;
        private readonly Ip16 _source;
        private readonly bool _sourceUnknown;
        private readonly Ip16 _destination;
        private readonly int _destinationPort;
        private readonly int[] _ports;

        public HolderPortClassifier(SocketIndex index, IndexedSocket probe, bool perDestination, Ip16 source, bool sourceUnknown, ConnectRequest request)
        {
            _index = index;
            _tables = index.ConnectTables;
            _probe = probe;
            _perDestination = perDestination;
            _source = source;
            _sourceUnknown = sourceUnknown;
            _destination = Ip16.From(request.Destination.Address);
            _destinationPort = request.Destination.Port;
            _ports = _tables.PortsOf(probe.Protocol);
        }

        public ConnectUnknowns Unknowns { get; private set; }

        public override PortUse Classify(int port)
        {
            if (_tables.IsReserved(port))
            {
                return PortUse.No;
            }

            List<IndexedSocket>? bucket = _index.BindBucket(_probe.Protocol, port);
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

                PortUse use = Classify(port);
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
                if (!LinuxBindRules.Overlap(_probe, holder))
                {
                    continue;
                }

                if (!_perDestination)
                {
                    return PortUse.No;
                }

                if (holder.HasPeer)
                {
                    if (!_sourceUnknown && holder.Local.Equals(_source) && holder.Remote.Equals(_destination) && holder.RemotePort == _destinationPort)
                    {
                        return PortUse.No;
                    }

                    continue;
                }

                bool wildcard = RuleSupport.IsWildcard(holder);
                if (wildcard || (!_sourceUnknown && holder.Local.Equals(_source)))
                {
                    return PortUse.No;
                }

                if (_sourceUnknown)
                {
                    Unknowns |= ConnectUnknowns.Source;
                    result = PortUse.Maybe;
                }
            }

            return result;
        }
    }
}
