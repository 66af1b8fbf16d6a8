using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// connect() decisions (Test-PortConnect's core) on the rules benchmark's table of 1,000,000
    /// sockets, with one destination whose whole range (28,232 ports) is taken: decisions per second
    /// for destinations with a free range and for the exhausted one, each beside a floor measured in
    /// the same process, alternating with it: the hash lookups the kernel's own scan makes for the
    /// same decision (a bind bucket and a 4-tuple per port it tries), done on the index's own
    /// dictionaries over the same keys. Medians over rounds.
    /// </summary>
    internal static class ConnectBenchmark
    {
        private static readonly IPAddress Client = IPAddress.Parse("10.0.0.1");
        private static readonly IPEndPoint Exhausted = new IPEndPoint(IPAddress.Parse("198.51.100.250"), 5432);

        public static int Run(Options options)
        {
            int size = options.Int("sockets", 1_000_000);
            int rounds = Math.Max(5, options.Int("rounds", 5));
            int freeDecisions = options.Int("decisions", 400_000);
            int exhaustedDecisions = options.Int("exhausted-decisions", 400);
            var random = new Random(42);
            var range = new PortRange(32768, 60999);

            // The rules benchmark's table, less room for a destination that holds every port of the range.
            List<SocketTuple> table = RulesBenchmark.BuildTable(size - range.Count, random);
            for (int port = range.Start; port <= range.End; port++)
            {
                table.Add(new SocketTuple { Protocol = TransportProtocol.Tcp, State = port % 10 == 7 ? SocketState.TimeWait : SocketState.Established, LocalAddress = Client, LocalPort = port, RemoteAddress = Exhausted.Address, RemotePort = Exhausted.Port, UserId = 1000 });
            }

            var facts = new HostFacts(TargetOS.Linux, new[] { Client, IPAddress.Loopback }) { UserId = 1000, EphemeralPortRange = range, TcpTwReuse = 2 };
            SocketIndex index = SocketIndex.Build(table, facts);
            var watch = Stopwatch.StartNew();
            _ = index.ConnectTables;
            double tablesMs = watch.Elapsed.TotalMilliseconds;

            // Destinations with a free range: peers of the table's outgoing connections, each already reached from a port or two.
            var free = new ConnectRequest[4096];
            for (int i = 0; i < free.Length; i++)
            {
                SocketTuple sample;
                do
                {
                    sample = table[random.Next(table.Count - range.Count)];
                }
                while (sample.RemotePort != 5432);
                free[i] = new ConnectRequest { Destination = new IPEndPoint(sample.RemoteAddress, sample.RemotePort), SourceAddress = Client };
            }

            var exhausted = new ConnectRequest { Destination = Exhausted, SourceAddress = Client };
            Check(index, free[0], exhausted);

            // Warm-up of both loops.
            Engine(index, free, 50_000);
            FloorFree(index, free, 50_000, range);
            Engine(index, new[] { exhausted }, 20);
            FloorExhausted(index, exhausted, 20, range);

            // Times per round (ms), so that each round's engine is set against the same round's floor.
            var engineFree = new Rounds();
            var floorFree = new Rounds();
            var engineExhausted = new Rounds();
            var floorExhausted = new Rounds();
            for (int round = 0; round < rounds; round++)
            {
                engineFree.Add(1000 * Seconds(() => Engine(index, free, freeDecisions)));
                floorFree.Add(1000 * Seconds(() => FloorFree(index, free, freeDecisions, range)));
                engineExhausted.Add(1000 * Seconds(() => Engine(index, new[] { exhausted }, exhaustedDecisions)));
                floorExhausted.Add(1000 * Seconds(() => FloorExhausted(index, exhausted, exhaustedDecisions, range)));
            }

            Console.WriteLine($"# connect() decision benchmark ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, 1 thread, .NET {Environment.Version}, {rounds} rounds: median (min-max))");
            Console.WriteLine();
            Console.WriteLine("| sockets | connect tables build | free range: decisions / s | floor / s | vs floor | exhausted 28,232-port range: decisions / s | floor / s | vs floor |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            Console.WriteLine(
                $"| {table.Count:N0} | {Measure.Format(tablesMs)} | {engineFree.PerSecond(freeDecisions).Rate()} | {floorFree.PerSecond(freeDecisions).Rate()} | {engineFree.Over(floorFree).Ratio()} | " +
                $"{engineExhausted.PerSecond(exhaustedDecisions).Rate()} | {floorExhausted.PerSecond(exhaustedDecisions).Rate()} | {engineExhausted.Over(floorExhausted).Ratio()} |");
            return 0;
        }

        /// <summary>The benchmark measures what it claims: a free range connects, the exhausted one fails.</summary>
        private static void Check(SocketIndex index, ConnectRequest free, ConnectRequest exhausted)
        {
            ConnectDecision yes = RuleEngine.DecideConnectCore(index, free);
            ConnectDecision no = RuleEngine.DecideConnectCore(index, exhausted);
            if (yes.CanConnect != true || no.CanConnect != false || no.AvailableMax != 0)
            {
                throw new InvalidOperationException("The benchmark's table does not give the answers it is meant to: " + yes.CanConnect + ", " + no.CanConnect);
            }
        }

        private static int Engine(SocketIndex index, ConnectRequest[] requests, int count)
        {
            int granted = 0;
            for (int i = 0; i < count; i++)
            {
                if (RuleEngine.DecideConnectCore(index, requests[i & (requests.Length - 1)]).CanConnect == true)
                {
                    granted++;
                }
            }

            return granted;
        }

        /// <summary>The kernel's scan for a free range: one port tried, its bind bucket and its 4-tuple looked up.</summary>
        private static int FloorFree(SocketIndex index, ConnectRequest[] requests, int count, PortRange range)
        {
            int found = 0;
            Ip16 source = Ip16.From(Client);
            for (int i = 0; i < count; i++)
            {
                ConnectRequest request = requests[i & (requests.Length - 1)];
                int port = range.Start + ((i * 2) % range.Count);
                found += index.BindBucket(TransportProtocol.Tcp, port) is null ? 1 : 0;
                found += index.Established(TransportProtocol.Tcp, source, port, Ip16.From(request.Destination.Address), request.Destination.Port) is null ? 1 : 0;
            }

            return found;
        }

        /// <summary>The kernel's scan of an exhausted range: every port tried, each bind bucket and 4-tuple looked up.</summary>
        private static int FloorExhausted(SocketIndex index, ConnectRequest request, int count, PortRange range)
        {
            int found = 0;
            Ip16 source = Ip16.From(Client);
            Ip16 destination = Ip16.From(request.Destination.Address);
            for (int i = 0; i < count; i++)
            {
                for (int port = range.Start; port <= range.End; port++)
                {
                    found += index.BindBucket(TransportProtocol.Tcp, port) is null ? 1 : 0;
                    found += index.Established(TransportProtocol.Tcp, source, port, destination, request.Destination.Port) is null ? 1 : 0;
                }
            }

            return found;
        }

        private static double Seconds(Func<int> work)
        {
            GC.Collect();
            var watch = Stopwatch.StartNew();
            work();
            return watch.Elapsed.TotalSeconds;
        }
    }
}
