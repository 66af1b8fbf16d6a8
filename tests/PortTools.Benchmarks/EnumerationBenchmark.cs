using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// Live enumeration at several population sizes, held by ../shared/tools/sockfarm, against the
    /// yardsticks ss -tan, ss -tanp, nlcount (netlink floor) and fdmap (descriptor-walk floor).
    /// </summary>
    internal static class EnumerationBenchmark
    {
        public static int Run(Options options)
        {
            string tools = Path.GetFullPath(options.Text("tools", FindTools()));
            int rounds = Math.Max(5, options.Int("rounds", 5));
            int ssProcessMax = options.Int("ss-p-max", 100_000);
            int[] sizes = options.Ints("pairs", 1_000, 10_000, 100_000);
            Console.WriteLine($"# Enumeration benchmark  ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}, .NET {Environment.Version})");
            Console.WriteLine();
            Console.WriteLine($"{rounds} rounds: median (min-max); each ratio is taken round by round (the candidate and its floor alternate), then its median and range. ss -tanp: one round.");
            Console.WriteLine();
            Console.WriteLine("| est. pairs | sockets | PortTools with owners | PortTools with owners and options | options read | options' own cost (alone) | with options vs with owners | PortTools without owners | PortTools TCP only, no owners | nlcount (TCP) | fdmap | nlcount + fdmap | ss -tan | ss -tanp | with owners vs ss -tanp | with owners vs floor | no owners (TCP) vs nlcount | retained / socket | peak RSS (child) |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (int pairs in sizes)
            {
                using Farm farm = Farm.Start(tools, pairs);
                Row(tools, pairs, rounds, pairs <= ssProcessMax);
            }

            return 0;
        }

        private static void Row(string tools, int pairs, int rounds, bool runSsProcess)
        {
            // "With owners" is the read before socket options existed; "with owners and options" is today's default.
            var all = new SocketQuery { ReadSocketOptions = false };
            var allWithOptions = new SocketQuery();
            var noOwners = new SocketQuery { IncludeProcesses = false };
            var tcpNoOwners = new SocketQuery { IncludeProcesses = false, Protocols = new[] { TransportProtocol.Tcp } };
            int count = LiveSocketTable.Read(all).Sockets.Count; // warm-up: JIT and page cache
            LiveSocketTable.Read(noOwners);
            int optionsRead = LiveSocketTable.Read(allWithOptions).Sockets.Count(s => s.ReusePort.HasValue);
            double optionsAlone = OptionsAlone(rounds);

            var withOwners = new List<double>();
            var withOptions = new List<double>();
            var without = new List<double>();
            var tcpOnly = new List<double>();
            var nlcount = new List<double>();
            var fdmap = new List<double>();
            var ssTan = new List<double>();
            var ssTanp = new List<double>();
            bool ssTimedOut = false;
            for (int round = 0; round < rounds; round++)
            {
                // Alternated within each round, so drift on a shared host falls on both alike.
                withOwners.Add(Measure.Milliseconds(() => LiveSocketTable.Read(all)));
                withOptions.Add(Measure.Milliseconds(() => LiveSocketTable.Read(allWithOptions)));
                nlcount.Add(Measure.Command(Path.Combine(tools, "nlcount"), TimeSpan.FromMinutes(2)) ?? double.NaN);
                without.Add(Measure.Milliseconds(() => LiveSocketTable.Read(noOwners)));
                fdmap.Add(Measure.Command(Path.Combine(tools, "fdmap"), TimeSpan.FromMinutes(2)) ?? double.NaN);
                tcpOnly.Add(Measure.Milliseconds(() => LiveSocketTable.Read(tcpNoOwners)));
                ssTan.Add(Measure.Command("ss -tan", TimeSpan.FromMinutes(2)) ?? double.NaN);

                // ss -p grows quadratically: one round is enough to place it, and it is capped.
                if (runSsProcess && round == 0)
                {
                    double? ms = Measure.Command("ss -tanp", TimeSpan.FromSeconds(90));
                    ssTimedOut = ms is null;
                    if (ms is double value)
                    {
                        ssTanp.Add(value);
                    }
                }

                GC.Collect();
            }

            double owners = Measure.Median(withOwners);
            double ssp = ssTanp.Count > 0 ? Measure.Median(ssTanp) : double.NaN;
            var ownersRounds = ToRounds(withOwners);
            var floorRounds = new Rounds();
            var tcpRatio = new Rounds();
            for (int i = 0; i < withOwners.Count; i++)
            {
                floorRounds.Add(nlcount[i] + fdmap[i]);
                tcpRatio.Add(tcpOnly[i] / nlcount[i]);
            }

            (double perSocket, long peakKb) = MemoryFigures(count);
            Console.WriteLine(
                $"| {pairs:N0} | {count:N0} | {ownersRounds.Milliseconds()} | {ToRounds(withOptions).Milliseconds()} | {optionsRead:N0} | {Measure.Format(optionsAlone)} | {ToRounds(withOptions).Over(ownersRounds).Ratio()} | {ToRounds(without).Milliseconds()} | {ToRounds(tcpOnly).Milliseconds()} | " +
                $"{ToRounds(nlcount).Milliseconds()} | {ToRounds(fdmap).Milliseconds()} | {floorRounds.Milliseconds()} | {ToRounds(ssTan).Milliseconds()} | " +
                $"{(ssTimedOut ? "> 90 s" : runSsProcess ? Measure.Format(ssp) : "not run")} | {(double.IsNaN(ssp) ? "-" : (ssp / owners).ToString("0.0") + "x faster")} | " +
                $"{ownersRounds.Over(floorRounds).Ratio()} | {tcpRatio.Ratio()} | {perSocket:0} B | {peakKb / 1024.0:0} MB |");
        }

        private static Rounds ToRounds(IEnumerable<double> values)
        {
            var rounds = new Rounds();
            foreach (double value in values)
            {
                rounds.Add(value);
            }

            return rounds;
        }

        /// <summary>
        /// The options' own cost, apart from the noise of two whole reads: pidfd_getfd and getsockopt for
        /// every socket a read with options reads, given the owner map (median of the rounds).
        /// </summary>
        private static double OptionsAlone(int rounds)
        {
            Linux.ProcessSocketMap map = Linux.ProcessSocketMap.Build("/proc", 1 << 16, CancellationToken.None);
            var wanted = new List<(int Pid, int Fd, ulong Inode, bool Inet6)>();
            foreach (SocketTuple socket in LiveSocketTable.Read(new SocketQuery { ReadSocketOptions = false }).Sockets)
            {
                if (socket.Inode is ulong inode && Linux.SocketOptionReader.Wants(socket.Protocol, socket.State) && map.TryGetDescriptor(inode, out Linux.SocketDescriptor held))
                {
                    wanted.Add((held.ProcessId, held.Descriptor, inode, socket.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));
                }
            }

            var times = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                times.Add(Measure.Milliseconds(() =>
                {
                    using var reader = new Linux.SocketOptionReader(Linux.NativeSocketOptionCalls.Instance);
                    foreach ((int pid, int fd, ulong inode, bool inet6) in wanted)
                    {
                        reader.Read(pid, fd, inode, inet6);
                    }
                }));
            }

            return Measure.Median(times);
        }

        /// <summary>Bytes retained per SocketTuple in this process, and the peak RSS of a fresh child doing one read.</summary>
        private static (double PerSocket, long PeakKb) MemoryFigures(int expected)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalMemory(true);
            SocketTableReadResult kept = LiveSocketTable.Read(new SocketQuery());
            long after = GC.GetTotalMemory(true);
            double perSocket = (after - before) / (double)Math.Max(1, kept.Sockets.Count);
            GC.KeepAlive(kept);

            string self = typeof(EnumerationBenchmark).Assembly.Location;
            string output = Measure.Capture("dotnet", self, "read-once");
            long peak = output.Split('\n').Where(l => l.StartsWith("peak_kb=", StringComparison.Ordinal)).Select(l => long.Parse(l.Substring(8))).FirstOrDefault();
            return (perSocket, peak);
        }

        /// <summary>Child mode: one read with owners, then the process's peak resident memory.</summary>
        public static int ReadOnce(Options options)
        {
            int count = 0;
            if (!options.Flag("empty"))
            {
                count = LiveSocketTable.Read(new SocketQuery { IncludeProcesses = !options.Flag("no-owners") }).Sockets.Count;
            }

            Console.WriteLine("sockets=" + count);
            Console.WriteLine("peak_kb=" + Measure.StatusKilobytes("VmHWM"));
            return 0;
        }

        internal static string FindTools()
        {
            for (string? directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
            {
                string candidate = Path.Combine(directory, "..", "shared", "tools");
                if (File.Exists(Path.Combine(directory, "PortTools.sln")) && Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            return "../shared/tools";
        }

        /// <summary>A sockfarm population, torn down (with RSTs, leaving no TIME_WAIT) on dispose.</summary>
        private sealed class Farm : IDisposable
        {
            private readonly Process _process;

            private Farm(Process process) => _process = process;

            public static Farm Start(string tools, int pairs)
            {
                var start = new ProcessStartInfo(Path.Combine(tools, "sockfarm"), new[] { "-n", pairs.ToString(), "-l", "100", "-u", Math.Max(10, pairs / 10).ToString(), "-6", Math.Max(10, pairs / 100).ToString(), "-q" })
                {
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                Process process = Process.Start(start)!;
                string? line;
                while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("READY", StringComparison.Ordinal))
                {
                }

                if (line is null)
                {
                    throw new InvalidOperationException("sockfarm exited before READY");
                }

                Console.Error.WriteLine(line);
                Thread.Sleep(500);
                return new Farm(process);
            }

            public void Dispose()
            {
                Process.Start("kill", new[] { "-TERM", _process.Id.ToString() })!.WaitForExit();
                if (!_process.WaitForExit(60_000))
                {
                    _process.Kill(entireProcessTree: true);
                }

                _process.Dispose();
                Thread.Sleep(1000);
            }
        }
    }
}
