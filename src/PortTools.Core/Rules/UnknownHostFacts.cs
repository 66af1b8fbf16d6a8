using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Weighs what a simulation does not know of the host (<see cref="HostFacts.Known"/>): for each
    /// unknown fact the question turns on, the rule set decides once per possibility. When every
    /// possibility gives the same answer, that is the answer; when they differ, the answer names
    /// the facts that decide (DependsOn), gives the unfavourable possibility's error and says what
    /// the favourable one gives. Nothing unknown is filled with the local host's value or taken as
    /// off. Only facts that can matter to the question are weighed, so a known host costs nothing.
    /// </summary>
    internal static class UnknownHostFacts
    {
        // A bound on the possibilities weighed for one question (each is one rule-set decision).
        private const int MaxCombinations = 512;

        // The facts a bind can turn on; when all are known, the decision is the rule set's alone.
        private const KnownHostFacts BindFacts = KnownHostFacts.Addresses | KnownHostFacts.NonLocalBind | KnownHostFacts.NonLocalBindV6 | KnownHostFacts.Privileged
            | KnownHostFacts.UnprivilegedPortStart | KnownHostFacts.UserId | KnownHostFacts.BindV6Only | KnownHostFacts.EphemeralPortRange | KnownHostFacts.ReservedPorts;

        /// <summary>Decides a bind, weighing the host facts it turns on that are not known.</summary>
        public static BindDecision DecideBind(SocketIndex index, BindRequest request, Func<SocketIndex, BindRequest, BindDecision> decide)
        {
            if ((index.Facts.Known & BindFacts) == BindFacts)
            {
                return decide(index, request);
            }

            return AddEphemeralCaveat(index.Facts, request, WeighBind(index, request, decide));
        }

        /// <summary>
        /// Decides a bind, weighing the host facts it turns on that are not known, without the
        /// caveat about an unknown ephemeral range: for the bind() before a connect(), whose own
        /// rules count the range.
        /// </summary>
        public static BindDecision WeighBind(SocketIndex index, BindRequest request, Func<SocketIndex, BindRequest, BindDecision> decide)
        {
            if ((index.Facts.Known & BindFacts) == BindFacts)
            {
                return decide(index, request);
            }

            List<Unknown> unknowns = ForBind(index, request);
            if (unknowns.Count == 0)
            {
                return decide(index, request);
            }

            var decisions = new List<(int[] Choice, BindDecision Decision)>();
            foreach (int[] choice in Choices(unknowns))
            {
                HostFacts facts = index.Facts;
                BindRequest asked = request;
                for (int i = 0; i < unknowns.Count; i++)
                {
                    (facts, asked) = unknowns[i].Apply(choice[i], facts, asked);
                }

                decisions.Add((choice, decide(ReferenceEquals(facts, index.Facts) ? index : index.WithFacts(facts), asked)));
            }

            List<int> deciding = Deciding(unknowns.Count, decisions, d => (d.Error, d.AtListen));
            if (deciding.Count == 0)
            {
                // The same answer either way; the first possibility of each fact is the neutral one.
                // Where the rule that decides still differs, the cause named is not established.
                BindDecision same = decisions[0].Decision;
                List<int> cause = Deciding(unknowns.Count, decisions, d => d.Rule);
                if (cause.Count > 0)
                {
                    same.Notes.Add("the outcome is the same whatever " + string.Join(" and ", cause.ConvertAll(i => unknowns[i].Phrase)) + (cause.Count == 1 ? " is" : " are") + ", but which rule decides it turns on " + (cause.Count == 1 ? "it" : "them") + ", which is not known");
                }

                return same;
            }

            if (decisions.TrueForAll(d => !d.Decision.Success && d.Decision.DependsOn.Count == 0))
            {
                // bind() fails whatever the unknown facts are; they decide only which check refuses it
                // first. That is a certain answer: the one with a socket in the way leads (a holder can
                // be acted on), the other error is said beside it.
                BindDecision held = decisions.Find(d => d.Decision.Conflicts.Count > 0 && d.Decision.DependsOn.Count == 0).Decision
                    ?? decisions.Find(d => d.Decision.DependsOn.Count == 0).Decision
                    ?? decisions[0].Decision;
                BindDecision earlier = decisions.Find(d => d.Decision.Error != held.Error).Decision ?? decisions.Find(d => d.Decision != held).Decision;
                foreach (int i in deciding)
                {
                    held.HostFactsDeciding.Add(unknowns[i].Phrase);
                }

                held.AlsoFails = earlier;
                return held;
            }

            BindDecision unfavourable = decisions.Find(d => !d.Decision.Success).Decision ?? decisions[0].Decision;
            BindDecision favourable = decisions.Find(d => d.Decision.Success).Decision ?? decisions.Find(d => d.Decision.Error != unfavourable.Error || d.Decision.AtListen != unfavourable.AtListen).Decision;
            foreach (int i in deciding)
            {
                unfavourable.DependsOn.Add(unknowns[i].Phrase);
                unfavourable.HostFactsDeciding.Add(unknowns[i].Phrase);
            }

            foreach ((int[] _, BindDecision decision) in decisions)
            {
                foreach (string fact in decision.DependsOn)
                {
                    if (!unfavourable.DependsOn.Contains(fact))
                    {
                        unfavourable.DependsOn.Add(fact);
                    }
                }
            }

            unfavourable.Otherwise = favourable;
            return unfavourable;
        }

        /// <summary>Decides a delivery, weighing the arriving interface and a broadcast destination where the host's addresses are not known.</summary>
        public static DemuxDecision DecideDelivery(SocketIndex index, DemuxRequest request, Func<SocketIndex, DemuxRequest, DemuxDecision> decide)
        {
            if (index.Facts.Knows(KnownHostFacts.Addresses))
            {
                return decide(index, request);
            }

            List<Unknown> unknowns = ForDelivery(index, request);
            if (unknowns.Count == 0)
            {
                return decide(index, request);
            }

            var decisions = new List<(int[] Choice, DemuxDecision Decision)>();
            foreach (int[] choice in Choices(unknowns))
            {
                HostFacts facts = index.Facts;
                DemuxRequest asked = request;
                for (int i = 0; i < unknowns.Count; i++)
                {
                    (facts, asked) = unknowns[i].ApplyPacket(choice[i], facts, asked);
                }

                decisions.Add((choice, decide(ReferenceEquals(facts, index.Facts) ? index : index.WithFacts(facts), asked)));
            }

            List<int> deciding = Deciding(unknowns.Count, decisions, d => d.Outcome.ToString() + "|" + Receivers(d));
            if (deciding.Count == 0)
            {
                return decisions[0].Decision;
            }

            // Every possible receiver, in the order the possibilities first name them.
            var receivers = new List<IndexedSocket>();
            foreach ((int[] _, DemuxDecision decision) in decisions)
            {
                foreach (IndexedSocket socket in decision.Sockets ?? (decision.Socket is null ? new List<IndexedSocket>() : new List<IndexedSocket> { decision.Socket }))
                {
                    if (!receivers.Contains(socket))
                    {
                        receivers.Add(socket);
                    }
                }
            }

            DemuxDecision first = decisions.Find(d => d.Decision.Outcome != DemuxOutcome.Delivered).Decision ?? decisions[0].Decision;
            var result = new DemuxDecision(request)
            {
                Outcome = decisions.TrueForAll(d => d.Decision.Outcome == DemuxOutcome.Delivered) ? DemuxOutcome.Delivered : first.Outcome,
                Stage = first.Stage,
                Socket = null,
                Sockets = receivers,
            };
            result.Candidates.AddRange(decisions[0].Decision.Candidates);
            foreach (int i in deciding)
            {
                result.DependsOn.Add(unknowns[i].Phrase);
            }

            foreach ((int[] choice, DemuxDecision decision) in decisions)
            {
                foreach (string fact in decision.DependsOn)
                {
                    if (!result.DependsOn.Contains(fact))
                    {
                        result.DependsOn.Add(fact);
                    }
                }

                // One line per possibility of the deciding facts (the others did not change the answer).
                string when = string.Join(" and ", deciding.ConvertAll(i => unknowns[i].Describe(choice[i])));
                if (!result.Possibilities.Exists(p => p.When == when))
                {
                    result.Possibilities.Add((when, decision));
                }
            }

            return result;
        }

        /// <summary>The unknown facts a bind can turn on, most telling first.</summary>
        private static List<Unknown> ForBind(SocketIndex index, BindRequest request)
        {
            HostFacts facts = index.Facts;
            TargetOS os = facts.OS;
            var unknowns = new List<Unknown>();
            IPAddress address = request.Address.IsIPv4MappedToIPv6 ? request.Address.MapToIPv4() : request.Address;
            bool v4 = address.AddressFamily == AddressFamily.InterNetwork;
            bool specific = !IPAddressText.IsWildcard(address) && !address.Equals(IPAddress.Broadcast) && !IsMulticast(address);

            // Whether the address is the host's (or, for IPv4, one of its subnet broadcasts).
            bool mayBeForeign = specific && !facts.IsLocal(address) && !facts.IsBroadcast(address);
            if (mayBeForeign && !facts.Knows(KnownHostFacts.Addresses))
            {
                // Only an address whose last two bits are set can be a subnet broadcast (see ForDelivery).
                bool mayBeBroadcast = v4 && (address.GetAddressBytes()[3] & 3) == 3;
                string[] names = mayBeBroadcast ? new[] { "not an address of that host", "an address of that host", "a subnet broadcast address of that host" } : new[] { "not an address of that host", "an address of that host" };
                unknowns.Add(new Unknown(
                    "whether " + address + " is an address of that host",
                    names,
                    (i, f, r) => (i == 0 ? f : f.Assume(unknownAddressesLocal: i == 1, broadcast: i == 2 ? address : null), r)));
            }

            // Linux lets a non-local address be bound when ip_nonlocal_bind is on.
            KnownHostFacts nonLocal = v4 ? KnownHostFacts.NonLocalBind : KnownHostFacts.NonLocalBindV6;
            if (os == TargetOS.Linux && mayBeForeign && !request.FreeBind && !facts.Knows(nonLocal))
            {
                string sysctl = v4 ? "net.ipv4.ip_nonlocal_bind" : "net.ipv6.ip_nonlocal_bind";
                unknowns.Add(new Unknown(
                    sysctl + " of that host",
                    new[] { sysctl + " off", sysctl + " on" },
                    (i, f, r) => (v4 ? f.Assume(nonLocalBind: i == 1) : f.Assume(nonLocalBindV6: i == 1), r)));
            }

            // Privileged ports: where they start, and whether the binder may bind them.
            bool mayBePrivileged = request.Port != 0 && os != TargetOS.Windows
                && request.Port < (facts.Knows(KnownHostFacts.UnprivilegedPortStart) ? facts.UnprivilegedPortStart : 1024);
            if (mayBePrivileged && request.Privileged is null && !facts.Knows(KnownHostFacts.Privileged))
            {
                string capability = os == TargetOS.Linux ? "whether the user who binds has CAP_NET_BIND_SERVICE" : "whether the user who binds is root";
                unknowns.Add(new Unknown(
                    capability,
                    new[] { "without that privilege", "with that privilege" },
                    (i, f, r) => (f.Assume(privileged: i == 1), r)));
            }

            if (mayBePrivileged && os is TargetOS.Linux or TargetOS.FreeBSD && !facts.Knows(KnownHostFacts.UnprivilegedPortStart))
            {
                // 1024 is the kernels' default; containers commonly lower it to 0 (Docker does).
                string sysctl = os == TargetOS.Linux ? "net.ipv4.ip_unprivileged_port_start" : "net.inet.ip.portrange.reservedhigh";
                unknowns.Add(new Unknown(
                    sysctl + " of that host",
                    os == TargetOS.Linux ? new[] { sysctl + " 1024 (the default)", sysctl + " 0" } : new[] { sysctl + " 1023 (the default)", sysctl + " 0" },
                    (i, f, r) => (f.Assume(unprivilegedPortStart: i == 0 ? 1024 : 0), r)));
            }

            // The user who binds, against the users of the sockets already on the port.
            List<IndexedSocket>? bucket = request.Port == 0 ? null : index.BindBucket(request.Protocol, request.Port);
            if (bucket is { Count: > 0 } && request.UserId is null && !facts.Knows(KnownHostFacts.UserId))
            {
                var users = new List<long>();
                foreach (IndexedSocket holder in bucket)
                {
                    if (!users.Contains(holder.Uid) && users.Count < 8)
                    {
                        users.Add(holder.Uid);
                    }
                }

                // The holders' users first (the neutral case, when every possibility agrees), then another one.
                long stranger = 65534;
                while (users.Contains(stranger))
                {
                    stranger--;
                }

                users.Add(stranger);
                unknowns.Add(new Unknown(
                    "the user who binds",
                    users.ConvertAll(uid => "uid " + uid.ToString(CultureInfo.InvariantCulture)).ToArray(),
                    (i, f, r) => (f, Copy(r, userId: users[i]))));
            }

            // The default IPV6_V6ONLY, for an AF_INET6 socket that does not set it.
            bool v6Socket = request.AddressFamily == AddressFamily.InterNetworkV6;
            if (v6Socket && request.IPv6Only is null && os is TargetOS.Linux or TargetOS.MacOS && !facts.Knows(KnownHostFacts.BindV6Only)
                && (IPAddressText.IsWildcard(request.Address) || request.Address.IsIPv4MappedToIPv6))
            {
                string sysctl = os == TargetOS.Linux ? "net.ipv6.bindv6only" : "net.inet6.ip6.v6only";
                unknowns.Add(new Unknown(
                    sysctl + " of that host",
                    new[] { sysctl + " off", sysctl + " on" },
                    (i, f, r) => (f, Copy(r, ipv6Only: i == 1))));
            }

            return unknowns;
        }

        /// <summary>The unknown facts a delivery can turn on: the arriving interface and, for UDP over IPv4, a broadcast destination.</summary>
        private static List<Unknown> ForDelivery(SocketIndex index, DemuxRequest request)
        {
            HostFacts facts = index.Facts;
            var unknowns = new List<Unknown>();
            if (facts.Knows(KnownHostFacts.Addresses))
            {
                return unknowns;
            }

            IPAddress destination = request.Destination.Address.IsIPv4MappedToIPv6 ? request.Destination.Address.MapToIPv4() : request.Destination.Address;
            List<IndexedSocket>? bucket = index.BindBucket(request.Protocol, request.Destination.Port);
            if (bucket is null)
            {
                return unknowns;
            }

            if (request.Interface is null && facts.InterfaceOf(destination) is null)
            {
                var devices = new List<string>();
                foreach (IndexedSocket socket in bucket)
                {
                    if (socket.Device is not null && !devices.Contains(socket.Device) && devices.Count < 8)
                    {
                        devices.Add(socket.Device);
                    }
                }

                if (devices.Count > 0)
                {
                    var names = new List<string> { "it arrives on none of " + string.Join(", ", devices) };
                    names.AddRange(devices.ConvertAll(d => "it arrives on " + d));
                    unknowns.Add(new Unknown(
                        "the interface the packet arrives on (which interface of that host holds " + destination + ")",
                        names.ToArray(),
                        null,
                        (i, f, r) => (f, i == 0 ? r : Copy(r, devices[i - 1]))));
                }
            }

            // A subnet broadcast address has every host bit set, and subnets with one are /30 or wider:
            // only an address whose last two bits are set can be one.
            bool udp4 = request.Protocol == TransportProtocol.Udp && destination.AddressFamily == AddressFamily.InterNetwork;
            bool mayBeBroadcast = udp4 && (destination.GetAddressBytes()[3] & 3) == 3;
            if (mayBeBroadcast && bucket.Count > 1 && !IsMulticast(destination) && !facts.IsBroadcast(destination) && !facts.IsLocal(destination))
            {
                unknowns.Add(new Unknown(
                    "whether " + destination + " is a subnet broadcast address of that host",
                    new[] { destination + " is not a broadcast address", destination + " is a broadcast address" },
                    null,
                    (i, f, r) => (i == 0 ? f : f.Assume(broadcast: destination), r)));
            }

            return unknowns;
        }

        /// <summary>bind(0) where the range is unknown: counted in the OS's default range, and exhaustion there proves nothing.</summary>
        private static BindDecision AddEphemeralCaveat(HostFacts facts, BindRequest request, BindDecision decision)
        {
            if (request.Port != 0 || facts.Knows(KnownHostFacts.EphemeralPortRange | KnownHostFacts.ReservedPorts))
            {
                return decision;
            }

            string range = facts.OS == TargetOS.Linux ? "net.ipv4.ip_local_port_range" : "the ephemeral port range";
            if (!decision.Success && !facts.Knows(KnownHostFacts.EphemeralPortRange))
            {
                decision.DependsOn.Add(range + " of that host");
            }
            else
            {
                decision.Notes.Add("the ports are counted in " + OsBindText.Name(facts.OS) + "'s default range " + facts.EphemeralPortRange + (facts.Knows(KnownHostFacts.ReservedPorts) ? string.Empty : " with none reserved") + ", as that host's own is not known");
            }

            return decision;
        }

        /// <summary>The unknowns whose possibilities alone change the answer, holding every other fact.</summary>
        private static List<int> Deciding<T>(int count, List<(int[] Choice, T Decision)> decisions, Func<T, object> key)
        {
            var outcome = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach ((int[] choice, T decision) in decisions)
            {
                outcome[string.Join(",", choice)] = key(decision);
            }

            var deciding = new List<int>();
            for (int i = 0; i < count; i++)
            {
                foreach ((int[] choice, T decision) in decisions)
                {
                    if (choice[i] == 0)
                    {
                        continue;
                    }

                    int[] other = (int[])choice.Clone();
                    other[i] = 0;
                    if (!Equals(outcome[string.Join(",", other)], key(decision)))
                    {
                        deciding.Add(i);
                        break;
                    }
                }
            }

            return deciding;
        }

        /// <summary>Every combination of the unknowns' possibilities, the first possibility of each (the default, or the unfavourable one) first.</summary>
        private static IEnumerable<int[]> Choices(List<Unknown> unknowns)
        {
            int total = 1;
            foreach (Unknown unknown in unknowns)
            {
                total = Math.Min(total * unknown.Names.Length, MaxCombinations);
            }

            var choice = new int[unknowns.Count];
            for (int n = 0; n < total; n++)
            {
                yield return (int[])choice.Clone();
                for (int i = unknowns.Count - 1; i >= 0; i--)
                {
                    if (++choice[i] < unknowns[i].Names.Length)
                    {
                        break;
                    }

                    choice[i] = 0;
                }
            }
        }

        private static string Receivers(DemuxDecision decision)
        {
            if (decision.Sockets is not null)
            {
                return string.Join(",", decision.Sockets.ConvertAll(s => s.Position.ToString(CultureInfo.InvariantCulture)));
            }

            return decision.Socket?.Position.ToString(CultureInfo.InvariantCulture) ?? "-";
        }

        private static bool IsMulticast(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetwork ? (address.GetAddressBytes()[0] & 0xF0) == 0xE0 : address.IsIPv6Multicast;

        private static BindRequest Copy(BindRequest request, long? userId = null, bool? ipv6Only = null) => new BindRequest
        {
            Protocol = request.Protocol,
            Address = request.Address,
            Port = request.Port,
            ReuseAddress = request.ReuseAddress,
            ReusePort = request.ReusePort,
            ReusePortLoadBalance = request.ReusePortLoadBalance,
            ExclusiveAddressUse = request.ExclusiveAddressUse,
            Broadcast = request.Broadcast,
            IPv6Only = ipv6Only ?? request.IPv6Only,
            Interface = request.Interface,
            Listen = request.Listen,
            UserId = userId ?? request.UserId,
            UserIdAssumed = userId is not null || request.UserIdAssumed,
            Privileged = request.Privileged,
            FreeBind = request.FreeBind,
        };

        private static DemuxRequest Copy(DemuxRequest request, string arrivingInterface) => new DemuxRequest
        {
            Protocol = request.Protocol,
            Source = request.Source,
            Destination = request.Destination,
            Interface = arrivingInterface,
            Segment = request.Segment,
        };

        /// <summary>One unknown fact: how to say it, its possibilities, and how each changes the facts or the question.</summary>
        private sealed class Unknown
        {
            private readonly Func<int, HostFacts, BindRequest, (HostFacts, BindRequest)>? _apply;
            private readonly Func<int, HostFacts, DemuxRequest, (HostFacts, DemuxRequest)>? _applyPacket;

            public Unknown(string phrase, string[] names, Func<int, HostFacts, BindRequest, (HostFacts, BindRequest)>? apply, Func<int, HostFacts, DemuxRequest, (HostFacts, DemuxRequest)>? applyPacket = null)
            {
                Phrase = phrase;
                Names = names;
                _apply = apply;
                _applyPacket = applyPacket;
            }

            /// <summary>The fact and whose it is, as DependsOn lists it.</summary>
            public string Phrase { get; }

            /// <summary>Each possibility in words.</summary>
            public string[] Names { get; }

            public string Describe(int possibility) => Names[possibility];

            public (HostFacts, BindRequest) Apply(int possibility, HostFacts facts, BindRequest request) => _apply!(possibility, facts, request);

            public (HostFacts, DemuxRequest) ApplyPacket(int possibility, HostFacts facts, DemuxRequest request) => _applyPacket!(possibility, facts, request);
        }
    }
}
