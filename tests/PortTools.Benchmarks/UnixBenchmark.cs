using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// UNIX sockets: a population of held connections (socketpairs spread over child processes, the
    /// open-file limit may be 20,000 per process) listed with owners and peers, against ss -xp and the
    /// floor: a bare unix_diag dump (the same request, records counted, nothing decoded) plus the bare
    /// descriptor walk (../shared/tools/fdmap).
    /// </summary>
    internal static unsafe class UnixBenchmark
    {
        private const int PairsPerHolder = 9_000; // 18,000 descriptors and the runtime's own, under a 20,000 limit

        public static int Run(Options options)
        {
            string tools = Path.GetFullPath(options.Text("tools", EnumerationBenchmarkTools.Find()));
            int rounds = Math.Max(5, options.Int("rounds", 5));
            int[] sizes = options.Ints("connections", 1_000, 10_000, 100_000);
            Console.WriteLine($"# UNIX socket benchmark  ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}, .NET {Environment.Version})");
            Console.WriteLine();
            Console.WriteLine($"{rounds} rounds: median (min-max); vs floor is taken round by round (PortTools and the floor alternate). ss -xp: one round.");
            Console.WriteLine();
            Console.WriteLine("| held connections | UNIX sockets | PortTools with owners and peers | PortTools without owners | bare unix_diag dump | fdmap | dump + fdmap | ss -x | ss -xp | vs ss -xp | vs floor |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (int connections in sizes)
            {
                using Holders holders = Holders.Start(connections);
                Row(tools, connections, rounds, options.Int("ss-p-timeout", 300));
            }

            return 0;
        }

        private static void Row(string tools, int connections, int rounds, int ssTimeoutSeconds)
        {
            var all = new UnixSocketQuery();
            var noOwners = new UnixSocketQuery { IncludeProcesses = false };
            int count = LiveUnixSocketTable.Read(all).Sockets.Count; // warm-up: JIT and page cache
            var withOwners = new List<double>();
            var without = new List<double>();
            var dump = new List<double>();
            var fdmap = new List<double>();
            var ssX = new List<double>();
            double? ssXp = null;
            for (int round = 0; round < rounds; round++)
            {
                withOwners.Add(Measure.Milliseconds(() => LiveUnixSocketTable.Read(all)));
                dump.Add(Measure.Milliseconds(() => BareDump()));
                fdmap.Add(Measure.Command(Path.Combine(tools, "fdmap"), TimeSpan.FromMinutes(2)) ?? double.NaN);
                without.Add(Measure.Milliseconds(() => LiveUnixSocketTable.Read(noOwners)));
                ssX.Add(Measure.Command("ss -xa", TimeSpan.FromMinutes(2)) ?? double.NaN);
                if (round == 0)
                {
                    ssXp = Measure.Command("ss -xap", TimeSpan.FromSeconds(ssTimeoutSeconds)); // one round: it is the slow yardstick
                }
            }

            double owners = Measure.Median(withOwners);
            var ownersRounds = new Rounds();
            var floorRounds = new Rounds();
            var dumpRounds = new Rounds();
            var fdmapRounds = new Rounds();
            var withoutRounds = new Rounds();
            var ssXRounds = new Rounds();
            for (int i = 0; i < withOwners.Count; i++)
            {
                ownersRounds.Add(withOwners[i]);
                floorRounds.Add(dump[i] + fdmap[i]);
                dumpRounds.Add(dump[i]);
                fdmapRounds.Add(fdmap[i]);
                withoutRounds.Add(without[i]);
                ssXRounds.Add(ssX[i]);
            }

            string ssp = ssXp is double ms ? Measure.Format(ms) : "> " + ssTimeoutSeconds + " s";
            string faster = ssXp is double value ? (value / owners).ToString("0.0") + "x faster" : "> " + (ssTimeoutSeconds * 1000 / owners).ToString("0") + "x faster";
            Console.WriteLine(
                $"| {connections:N0} | {count:N0} | {ownersRounds.Milliseconds()} | {withoutRounds.Milliseconds()} | {dumpRounds.Milliseconds()} | {fdmapRounds.Milliseconds()} | {floorRounds.Milliseconds()} | " +
                $"{ssXRounds.Milliseconds()} | {ssp} | {faster} | {ownersRounds.Over(floorRounds).Ratio()} |");
        }

        /// <summary>The floor of the dump: what ss -x asks for, every record counted, none decoded.</summary>
        private static int BareDump()
        {
            int fd = socket(16, 3 | 0x80000, 4);
            byte* request = stackalloc byte[40];
            new Span<byte>(request, 40).Clear();
            *(uint*)request = 40;
            *(ushort*)(request + 4) = 20;
            *(ushort*)(request + 6) = 0x301;
            request[16] = 1;
            *(uint*)(request + 20) = 0xFFFFFFFF;
            *(uint*)(request + 28) = 0x5F; // name, vfs, peer, icons, rqlen, uid
            send(fd, request, 40, 0);
            byte[] buffer = new byte[64 * 1024];
            int records = 0;
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint received = recv(fd, p, (nuint)buffer.Length, 0);
                    if (received <= 0)
                    {
                        close(fd);
                        return records;
                    }

                    for (int offset = 0; offset + 16 <= received; offset += (*(int*)(p + offset) + 3) & ~3)
                    {
                        ushort type = *(ushort*)(p + offset + 4);
                        if (type == 3 || type == 2)
                        {
                            close(fd);
                            return records;
                        }

                        records++;
                    }
                }
            }
        }

        [DllImport("libc")]
        private static extern int socket(int domain, int type, int protocol);

        [DllImport("libc")]
        private static extern nint send(int fd, byte* buffer, nuint length, int flags);

        [DllImport("libc")]
        private static extern nint recv(int fd, byte* buffer, nuint length, int flags);

        [DllImport("libc")]
        private static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        private static extern int socketpair(int domain, int type, int protocol, int* fds);

        [DllImport("libc", SetLastError = true)]
        private static extern int getrlimit(int resource, ulong* limits);

        [DllImport("libc", SetLastError = true)]
        private static extern int setrlimit(int resource, ulong* limits);

        /// <summary>Child mode: hold this many stream socketpairs until stdin closes.</summary>
        public static int Hold(Options options)
        {
            int pairs = options.Int("pairs", 1000);
            ulong* limits = stackalloc ulong[2];
            getrlimit(7, limits); // RLIMIT_NOFILE: raise the soft limit to the hard one
            limits[0] = limits[1];
            setrlimit(7, limits);
            int* fds = stackalloc int[2];
            for (int i = 0; i < pairs; i++)
            {
                if (socketpair(1, 1 | 0x80000, 0, fds) != 0)
                {
                    Console.WriteLine("error=socketpair failed after " + i + " pairs: errno " + Marshal.GetLastWin32Error());
                    return 1;
                }
            }

            Console.WriteLine("READY " + pairs);
            Console.Out.Flush();
            Console.In.ReadToEnd();
            return 0;
        }

        /// <summary>Holder processes for a population; they exit when their stdin closes.</summary>
        private sealed class Holders : IDisposable
        {
            private readonly List<Process> _processes;

            private Holders(List<Process> processes) => _processes = processes;

            public static Holders Start(int connections)
            {
                var processes = new List<Process>();
                string self = typeof(UnixBenchmark).Assembly.Location;
                for (int left = connections; left > 0; left -= PairsPerHolder)
                {
                    var start = new ProcessStartInfo("dotnet", new[] { self, "unix-hold", "--pairs", Math.Min(left, PairsPerHolder).ToString() })
                    {
                        RedirectStandardInput = true,
                        RedirectStandardOutput = true,
                        UseShellExecute = false,
                    };
                    start.Environment["DOTNET_EnableDiagnostics"] = "0";
                    processes.Add(Process.Start(start)!);
                }

                foreach (Process process in processes)
                {
                    string? line = process.StandardOutput.ReadLine();
                    if (line is null || !line.StartsWith("READY", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException("a UNIX socket holder failed: " + line);
                    }
                }

                Console.Error.WriteLine("holding " + connections + " UNIX connections in " + processes.Count + " processes");
                Thread.Sleep(300);
                return new Holders(processes);
            }

            public void Dispose()
            {
                foreach (Process process in _processes)
                {
                    process.StandardInput.Close();
                }

                foreach (Process process in _processes)
                {
                    if (!process.WaitForExit(30_000))
                    {
                        process.Kill();
                    }

                    process.Dispose();
                }
            }
        }
    }

    /// <summary>Where ../shared/tools is, for the yardsticks.</summary>
    internal static class EnumerationBenchmarkTools
    {
        public static string Find()
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
    }
}
