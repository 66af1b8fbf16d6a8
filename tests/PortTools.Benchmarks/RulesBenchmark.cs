using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// The rule engine on a synthetic table (default 1,000,000 sockets): index build time, delivery
    /// decisions per second and bind decisions per second, on one thread. The table mixes what a
    /// busy server holds: listeners (some in SO_REUSEPORT groups), accepted connections, outgoing
    /// connections, TIME-WAIT entries and UDP sockets.
    /// </summary>
    internal static class RulesBenchmark
    {
        public static int Run(Options options)
        {
            int size = options.Int("sockets", 1_000_000);
            int decisions = options.Int("decisions", 2_000_000);
            int rounds = Math.Max(5, options.Int("rounds", 5));
            var random = new Random(42);
            List<SocketTuple> table = BuildTable(size, random);
            var facts = new HostFacts(TargetOS.Linux, new[] { IPAddress.Parse("10.0.0.1"), IPAddress.Loopback }) { UserId = 1000 };
            DemuxRequest[] packets = BuildPackets(table, random, 4096);
            BindRequest[] binds = BuildBinds(random, 4096);
            LookupKey[] packetKeys = Array.ConvertAll(packets, p => new LookupKey(p.Protocol, Ip16.From(p.Destination.Address), p.Destination.Port, Ip16.From(p.Source.Address), p.Source.Port));
            LookupKey[] bindKeys = Array.ConvertAll(binds, b => new LookupKey(b.Protocol, Ip16.From(b.Address), b.Port, default, 0));

            // Warm: a small table and a small fill compile the code; the timed builds are of the whole table.
            SocketIndex.Build(table.GetRange(0, Math.Min(table.Count, 20_000)), facts);
            Fill(table.GetRange(0, Math.Min(table.Count, 20_000)));

            // Index build against its floor: a Dictionary filled with every socket's 5-tuple (one hashed
            // insert per socket, sized up front), alternating round by round.
            var build = new Rounds();
            var buildGc = new Rounds();
            var buildBytes = new Rounds();
            var fill = new Rounds();
            SocketIndex index = null!;
            Dictionary<LookupKey, int> floor = null!;
            var watch = new Stopwatch();
            for (int round = 0; round < rounds; round++)
            {
                index = null!;
                GC.Collect();
                TimeSpan pauseBefore = GC.GetTotalPauseDuration();
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                watch.Restart();
                index = SocketIndex.Build(table, facts);
                build.Add(watch.Elapsed.TotalMilliseconds);
                buildBytes.Add((GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)size);
                buildGc.Add((GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds);
                floor = null!;
                GC.Collect();
                watch.Restart();
                floor = Fill(table);
                fill.Add(watch.Elapsed.TotalMilliseconds);
            }

            // Decisions against their floor: one hashed lookup per decision in the filled Dictionary, over
            // the same keys (a packet's 4-tuple, a bind's address and port). "vs lookups" is how many such
            // lookups one decision costs.
            for (int i = 0; i < 100_000; i++)
            {
                RuleEngine.DecideDeliveryCore(index, packets[i & 4095]);
                RuleEngine.DecideBindCore(index, binds[i & 4095]);
                Lookups(floor, packetKeys, 4096);
            }

            var demux = new Rounds();
            var demuxFloor = new Rounds();
            var bind = new Rounds();
            var bindFloor = new Rounds();
            var demuxBytes = new Rounds();
            var bindBytes = new Rounds();
            var demuxGc = new Rounds();
            var bindGc = new Rounds();
            int demuxCollections = 0;
            int bindCollections = 0;
            int delivered = 0;
            int granted = 0;
            for (int round = 0; round < rounds; round++)
            {
                delivered = 0;
                long demuxAllocated = GC.GetAllocatedBytesForCurrentThread();
                TimeSpan demuxPause = GC.GetTotalPauseDuration();
                int demuxCount = GC.CollectionCount(0);
                watch.Restart();
                for (int i = 0; i < decisions; i++)
                {
                    if (RuleEngine.DecideDeliveryCore(index, packets[i & 4095]).Outcome == DemuxOutcome.Delivered)
                    {
                        delivered++;
                    }
                }

                demux.Add(watch.Elapsed.TotalMilliseconds);
                demuxBytes.Add((GC.GetAllocatedBytesForCurrentThread() - demuxAllocated) / (double)decisions);
                demuxGc.Add((GC.GetTotalPauseDuration() - demuxPause).TotalMilliseconds);
                demuxCollections += GC.CollectionCount(0) - demuxCount;
                watch.Restart();
                Lookups(floor, packetKeys, decisions);
                demuxFloor.Add(watch.Elapsed.TotalMilliseconds);

                granted = 0;
                long bindAllocated = GC.GetAllocatedBytesForCurrentThread();
                TimeSpan bindPause = GC.GetTotalPauseDuration();
                int bindCount = GC.CollectionCount(0);
                watch.Restart();
                for (int i = 0; i < decisions; i++)
                {
                    if (RuleEngine.DecideBindCore(index, binds[i & 4095]).Success)
                    {
                        granted++;
                    }
                }

                bind.Add(watch.Elapsed.TotalMilliseconds);
                bindBytes.Add((GC.GetAllocatedBytesForCurrentThread() - bindAllocated) / (double)decisions);
                bindGc.Add((GC.GetTotalPauseDuration() - bindPause).TotalMilliseconds);
                bindCollections += GC.CollectionCount(0) - bindCount;
                watch.Restart();
                Lookups(floor, bindKeys, decisions);
                bindFloor.Add(watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"# Rule engine benchmark ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, 1 thread, .NET {Environment.Version}, {rounds} rounds: median (min-max))");
            Console.WriteLine();
            Console.WriteLine("| sockets | index build | of which GC pauses | Dictionary fill (floor) | build vs fill | delivery decisions / s | lookups / s (floor) | delivery vs lookups | bind decisions / s | lookups / s (floor) | bind vs lookups | delivered | binds granted |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            Console.WriteLine(
                $"| {size:N0} | {build.Milliseconds()} | {buildGc.Milliseconds()} | {fill.Milliseconds()} | {build.Over(fill).Ratio()} | " +
                $"{demux.PerSecond(decisions).Rate()} | {demuxFloor.PerSecond(decisions).Rate()} | {demux.Over(demuxFloor).Ratio()} | " +
                $"{bind.PerSecond(decisions).Rate()} | {bindFloor.PerSecond(decisions).Rate()} | {bind.Over(bindFloor).Ratio()} | {delivered * 100.0 / decisions:0}% | {granted * 100.0 / decisions:0}% |");
            Console.WriteLine();
            Console.WriteLine("Targets: a delivery decision and a bind decision at most 10 lookups each; the build at most 3x the fill.");
            Console.WriteLine();
            if (options.Text("by-kind", "no") == "yes")
            {
                ByKind(index, floor, packets, packetKeys, binds, bindKeys);
            }

            Console.WriteLine($"Allocated: {buildBytes.Format(v => v.ToString("0"))} bytes per indexed socket; {demuxBytes.Format(v => v.ToString("0"))} bytes per delivery decision; {bindBytes.Format(v => v.ToString("0"))} bytes per bind decision. GC pauses per round of decisions: {demuxGc.Milliseconds()} delivery ({demuxCollections} collections in all), {bindGc.Milliseconds()} bind ({bindCollections}).");
            return 0;
        }

        /// <summary>
        /// Where the decisions' time goes (--by-kind yes): each kind of packet and bind timed on its own
        /// against lookups of its own keys, median of 5 rounds.
        /// </summary>
        private static void ByKind(SocketIndex index, Dictionary<LookupKey, int> floor, DemuxRequest[] packets, LookupKey[] packetKeys, BindRequest[] binds, LookupKey[] bindKeys)
        {
            string PacketKind(DemuxRequest packet)
            {
                DemuxDecision decision = RuleEngine.DecideDeliveryCore(index, packet);
                return (packet.Protocol == TransportProtocol.Tcp ? "tcp " : "udp ") + decision.Outcome + " " + decision.Stage + (decision.Sockets is null ? string.Empty : " (several)");
            }

            string BindKind(BindRequest bind)
            {
                List<IndexedSocket>? bucket = index.BindBucket(bind.Protocol, bind.Port);
                return (bind.Protocol == TransportProtocol.Tcp ? "tcp " : "udp ") + (bucket is null ? "free port" : bucket.Count > 100 ? "port of >100 sockets" : "port of <=100 sockets");
            }

            Report("delivery", packets, packetKeys, PacketKind, p => RuleEngine.DecideDeliveryCore(index, p).Outcome == DemuxOutcome.Delivered, floor);
            Report("bind", binds, bindKeys, BindKind, b => RuleEngine.DecideBindCore(index, b).Success, floor);
        }

        private static void Report<T>(string what, T[] requests, LookupKey[] keys, Func<T, string> kindOf, Func<T, bool> decide, Dictionary<LookupKey, int> floor)
        {
            var kinds = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < requests.Length; i++)
            {
                string kind = kindOf(requests[i]);
                if (!kinds.TryGetValue(kind, out List<int>? members))
                {
                    kinds.Add(kind, members = new List<int>());
                }

                members.Add(i);
            }

            Console.WriteLine($"| {what} kind | share | ns per decision | ns per lookup (floor) | vs lookups |");
            Console.WriteLine("|---|---|---|---|---|");
            var watch = new Stopwatch();
            foreach (KeyValuePair<string, List<int>> kind in kinds)
            {
                T[] mine = kind.Value.ConvertAll(i => requests[i]).ToArray();
                LookupKey[] myKeys = kind.Value.ConvertAll(i => keys[i]).ToArray();
                int count = Math.Max(200_000, mine.Length * 50);
                var decisions = new Rounds();
                var lookups = new Rounds();
                int sink = 0;
                for (int round = 0; round < 5; round++)
                {
                    watch.Restart();
                    for (int i = 0; i < count; i++)
                    {
                        sink += decide(mine[i % mine.Length]) ? 1 : 0;
                    }

                    decisions.Add(watch.Elapsed.TotalMilliseconds * 1e6 / count);
                    watch.Restart();
                    for (int i = 0; i < count; i++)
                    {
                        sink += floor.TryGetValue(myKeys[i % myKeys.Length], out _) ? 1 : 0;
                    }

                    lookups.Add(watch.Elapsed.TotalMilliseconds * 1e6 / count);
                }

                Console.WriteLine($"| {kind.Key} | {kind.Value.Count * 100.0 / requests.Length:0.0}% | {decisions.Format(v => v.ToString("0"))} | {lookups.Format(v => v.ToString("0"))} | {decisions.Over(lookups).Ratio()} |{(sink < 0 ? " " : string.Empty)}");
            }

            Console.WriteLine();
        }

        /// <summary>The floor of an index build: every socket's 5-tuple into a Dictionary sized for the table.</summary>
        private static Dictionary<LookupKey, int> Fill(List<SocketTuple> table)
        {
            var floor = new Dictionary<LookupKey, int>(table.Count);
            for (int i = 0; i < table.Count; i++)
            {
                SocketTuple socket = table[i];
                floor[new LookupKey(socket.Protocol, Ip16.From(socket.LocalAddress), socket.LocalPort, socket.HasRemote ? Ip16.From(socket.RemoteAddress) : default, socket.RemotePort)] = i;
            }

            return floor;
        }

        private static int Lookups(Dictionary<LookupKey, int> floor, LookupKey[] keys, int count)
        {
            int found = 0;
            for (int i = 0; i < count; i++)
            {
                if (floor.TryGetValue(keys[i & 4095], out _))
                {
                    found++;
                }
            }

            return found;
        }

        /// <summary>A socket's protocol, addresses and ports: the key of one hashed lookup.</summary>
        private readonly struct LookupKey : IEquatable<LookupKey>
        {
            private readonly Ip16 _local;
            private readonly Ip16 _remote;
            private readonly int _ports;
            private readonly TransportProtocol _protocol;

            public LookupKey(TransportProtocol protocol, Ip16 local, int localPort, Ip16 remote, int remotePort)
            {
                _protocol = protocol;
                _local = local;
                _remote = remote;
                _ports = (localPort << 16) | remotePort;
            }

            public bool Equals(LookupKey other) => other._ports == _ports && other._protocol == _protocol && other._local.Equals(_local) && other._remote.Equals(_remote);

            public override bool Equals(object? obj) => obj is LookupKey other && Equals(other);

            public override int GetHashCode() => HashCode.Combine(_ports, _protocol, _local, _remote);
        }

        internal static List<SocketTuple> BuildTable(int size, Random random)
        {
            var table = new List<SocketTuple>(size);
            var server = IPAddress.Parse("10.0.0.1");
            IPAddress Peer() => new IPAddress(new byte[] { 198, 51, (byte)random.Next(256), (byte)random.Next(1, 255) });

            // 1,000 listeners on ports 1000-1999; every tenth port a SO_REUSEPORT group of four.
            for (int port = 1000; port < 2000; port++)
            {
                int members = port % 10 == 0 ? 4 : 1;
                for (int m = 0; m < members; m++)
                {
                    table.Add(new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = port % 3 == 0 ? server : IPAddress.Any, LocalPort = port, ReusePort = members > 1, UserId = 1000 });
                }
            }

            int remaining = size - table.Count;
            for (int i = 0; i < remaining; i++)
            {
                int kind = i % 10;
                if (kind < 4)
                {
                    table.Add(new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Established, LocalAddress = server, LocalPort = 1000 + random.Next(1000), RemoteAddress = Peer(), RemotePort = 1024 + random.Next(60000), UserId = 1000 });
                }
                else if (kind < 8)
                {
                    table.Add(new SocketTuple { Protocol = TransportProtocol.Tcp, State = kind == 7 ? SocketState.TimeWait : SocketState.Established, LocalAddress = server, LocalPort = 32768 + random.Next(28232), RemoteAddress = Peer(), RemotePort = 5432, UserId = 1000 });
                }
                else
                {
                    bool connected = kind == 9;
                    table.Add(new SocketTuple { Protocol = TransportProtocol.Udp, State = connected ? SocketState.Connected : SocketState.Unconnected, LocalAddress = server, LocalPort = 2000 + random.Next(20000), RemoteAddress = connected ? Peer() : null!, RemotePort = connected ? 53 : 0, ReuseAddress = true, UserId = 1000 });
                }
            }

            return table;
        }

        private static DemuxRequest[] BuildPackets(List<SocketTuple> table, Random random, int count)
        {
            var packets = new DemuxRequest[count];
            for (int i = 0; i < count; i++)
            {
                SocketTuple sample = table[random.Next(table.Count)];
                bool established = sample.HasRemote && random.Next(2) == 0;
                packets[i] = new DemuxRequest
                {
                    Protocol = sample.Protocol,
                    Source = established ? new IPEndPoint(sample.RemoteAddress, sample.RemotePort) : new IPEndPoint(IPAddress.Parse("203.0.113.7"), 40000 + random.Next(20000)),
                    Destination = new IPEndPoint(IPAddress.Parse("10.0.0.1"), sample.LocalPort),
                };
            }

            return packets;
        }

        private static BindRequest[] BuildBinds(Random random, int count)
        {
            var binds = new BindRequest[count];
            for (int i = 0; i < count; i++)
            {
                binds[i] = new BindRequest
                {
                    Protocol = random.Next(4) == 0 ? TransportProtocol.Udp : TransportProtocol.Tcp,
                    Address = random.Next(2) == 0 ? IPAddress.Any : IPAddress.Parse("10.0.0.1"),
                    Port = 1024 + random.Next(64000),
                    ReuseAddress = random.Next(2) == 0,
                    ReusePort = random.Next(4) == 0,
                    Listen = random.Next(2) == 0,
                };
            }

            return binds;
        }
    }
}
