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
            var random = new Random(42);
            List<SocketTuple> table = BuildTable(size, random);
            var facts = new HostFacts(TargetOS.Linux, new[] { IPAddress.Parse("10.0.0.1"), IPAddress.Loopback }) { UserId = 1000 };

            // The build is timed warm: once on a small table to compile the code, then the median of
            // three builds of the whole table (a service indexes a table per pipeline, in a warm process).
            SocketIndex.Build(table.GetRange(0, Math.Min(table.Count, 20_000)), facts);
            var builds = new List<(double Ms, double GcMs)>();
            SocketIndex index = null!;
            var watch = new Stopwatch();
            for (int round = 0; round < 3; round++)
            {
                index = null!;
                GC.Collect();
                TimeSpan pauseBefore = GC.GetTotalPauseDuration();
                watch.Restart();
                index = SocketIndex.Build(table, facts);
                builds.Add((watch.Elapsed.TotalMilliseconds, (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds));
            }

            builds.Sort((a, b) => a.Ms.CompareTo(b.Ms));
            (double buildMs, double buildGcMs) = builds[1];
            double slowestBuildMs = builds[2].Ms;

            DemuxRequest[] packets = BuildPackets(table, random, 4096);
            BindRequest[] binds = BuildBinds(random, 4096);

            // Warm-up, then timed loops over the pre-built requests.
            for (int i = 0; i < 100_000; i++)
            {
                RuleEngine.DecideDeliveryCore(index, packets[i & 4095]);
                RuleEngine.DecideBindCore(index, binds[i & 4095]);
            }

            int delivered = 0;
            watch.Restart();
            for (int i = 0; i < decisions; i++)
            {
                if (RuleEngine.DecideDeliveryCore(index, packets[i & 4095]).Outcome == DemuxOutcome.Delivered)
                {
                    delivered++;
                }
            }

            double demuxPerSecond = decisions / watch.Elapsed.TotalSeconds;
            int granted = 0;
            watch.Restart();
            for (int i = 0; i < decisions; i++)
            {
                if (RuleEngine.DecideBindCore(index, binds[i & 4095]).Success)
                {
                    granted++;
                }
            }

            double bindPerSecond = decisions / watch.Elapsed.TotalSeconds;
            Console.WriteLine($"# Rule engine benchmark ({DateTime.UtcNow:yyyy-MM-dd}, 1 thread, .NET {Environment.Version})");
            Console.WriteLine();
            Console.WriteLine("| sockets | index build (median of 3) | slowest build | of which GC pauses | delivery decisions / s | bind decisions / s | delivered | binds granted |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            Console.WriteLine($"| {size:N0} | {Measure.Format(buildMs)} | {Measure.Format(slowestBuildMs)} | {Measure.Format(buildGcMs)} | {demuxPerSecond:N0} | {bindPerSecond:N0} | {delivered * 100.0 / decisions:0}% | {granted * 100.0 / decisions:0}% |");
            return 0;
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
