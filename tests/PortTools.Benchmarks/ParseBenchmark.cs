using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// Offline parsing: a generated, realistic `ss -tanp` text (listeners, established connections
    /// with owners, TIME-WAIT entries, IPv4 and IPv6) parsed by SocketTableParser, one line at a time
    /// from a StreamReader as ConvertFrom-SocketTable -Path does (lines read in place, not as strings). Reports lines per second on one
    /// thread, and the peak resident memory of a fresh process parsing each file size, to show the
    /// parse streams (memory flat as the file grows).
    /// </summary>
    internal static class ParseBenchmark
    {
        public static int Run(Options options)
        {
            if (options.Flag("child"))
            {
                return Child(options.Text("child", string.Empty), options.Flag("empty"));
            }

            int[] sizes = options.Ints("lines", 100_000, 1_000_000);
            int rounds = Math.Max(5, options.Int("rounds", 5));
            string directory = Path.Combine(Path.GetTempPath(), "porttools-parse-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(directory);
            try
            {
                Console.WriteLine($"# Parse benchmark  ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, one parsing thread)");
                Console.WriteLine();
                Console.WriteLine($"{rounds} rounds: median (min-max). Floor: reading the same file line by line (the same StreamReader, nothing parsed), alternating with the parse.");
                Console.WriteLine();
                Console.WriteLine("| ss -tanp lines | file size | sockets | time | lines / second | floor: read line by line | vs floor | allocated / line | peak RSS of a fresh process (VmHWM) |");
                Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
                string baseline = Measure.Capture("dotnet", typeof(ParseBenchmark).Assembly.Location, "parse", "--child", "none", "--empty");
                long baselineKb = PeakKb(baseline);
                foreach (int size in sizes)
                {
                    string path = Path.Combine(directory, "ss-tanp-" + size.ToString(CultureInfo.InvariantCulture) + ".txt");
                    Generate(path, size);
                    Row(path, size, rounds);
                    File.Delete(path);
                }

                Console.WriteLine();
                Console.WriteLine($"Peak RSS of the same process that only starts and exits: {baselineKb / 1024.0:0.0} MB.");
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }

            return 0;
        }

        private static void Row(string path, int size, int rounds)
        {
            // Warm-up: the page cache, and enough lines for the JIT to finish tiering up the hot methods.
            long sockets = 0;
            for (long warmed = 0; warmed < 1_000_000; warmed += size)
            {
                sockets = Parse(path);
            }

            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            Parse(path);
            double allocatedPerLine = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)size;
            var times = new Rounds();
            var floor = new Rounds();
            for (int round = 0; round < rounds; round++)
            {
                times.Add(Measure.Milliseconds(() => sockets = Parse(path)));
                floor.Add(Measure.Milliseconds(() => ReadLines(path)));
            }

            string child = Measure.Capture("dotnet", typeof(ParseBenchmark).Assembly.Location, "parse", "--child", path);
            long peakKb = PeakKb(child);
            if (sockets != size)
            {
                throw new InvalidOperationException($"parsed {sockets} sockets from {size} lines");
            }

            Console.WriteLine(
                $"| {size:N0} | {new FileInfo(path).Length / (1024.0 * 1024.0):0} MB | {sockets:N0} | {times.Milliseconds()} | {times.PerSecond(size).Rate()} | {floor.Milliseconds()} | {times.Over(floor).Ratio()} | {allocatedPerLine:0} B | {peakKb / 1024.0:0.0} MB |");
        }

        /// <summary>The floor: the same file through the same reader, line by line, nothing parsed.</summary>
        private static long ReadLines(string path)
        {
            long lines = 0;
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            while (reader.ReadLine() is not null)
            {
                lines++;
            }

            return lines;
        }

        /// <summary>
        /// Parses a file the way ConvertFrom-SocketTable -Path does: a StreamReader read through ReadAll,
        /// lines read in place (KeepSocketLines off), results taken as they come.
        /// </summary>
        private static long Parse(string path)
        {
            var parser = new SocketTableParser(new SocketTableParserOptions { KeepSocketLines = false });
            long sockets = 0;
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            foreach (SocketTableResult result in parser.ReadAll(reader))
            {
                if (result.Kind == SocketTableResultKind.Socket)
                {
                    sockets++;
                }
                else if (result.Kind == SocketTableResultKind.Error)
                {
                    throw new InvalidOperationException(result.ToString());
                }
            }

            return sockets;
        }

        /// <summary>Child mode: parse one file (or nothing), then print the process's peak resident memory.</summary>
        private static int Child(string path, bool empty)
        {
            long sockets = empty ? 0 : Parse(path);
            Console.WriteLine("sockets=" + sockets.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine("peak_kb=" + Measure.StatusKilobytes("VmHWM").ToString(CultureInfo.InvariantCulture));
            return 0;
        }

        private static long PeakKb(string output) =>
            output.Split('\n').Where(l => l.StartsWith("peak_kb=", StringComparison.Ordinal)).Select(l => long.Parse(l.Substring(8), CultureInfo.InvariantCulture)).FirstOrDefault();

        /// <summary>
        /// Writes `ss -tanp` output as iproute2 prints it: a header, then listeners, established
        /// connections (most with owners, a few shared by forked workers), TIME-WAIT entries without
        /// owners, about a tenth IPv6 or v4-mapped; columns padded the way ss pads them.
        /// </summary>
        internal static void Generate(string path, int lines)
        {
            var random = new Random(12345);
            string[] names = { "nginx", "sshd", "postgres", "java", "node", "envoy", "redis-server", "python3" };
            using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
            writer.Write("State      Recv-Q Send-Q             Local Address:Port               Peer Address:Port Process\n");
            var line = new StringBuilder(200);
            for (int i = 0; i < lines; i++)
            {
                line.Clear();
                int kind = i < 200 ? 0 : 1 + random.Next(9);
                bool v6 = random.Next(10) == 0;
                int port = kind == 0 ? 1000 + i : new[] { 443, 80, 5432, 6379, 8080 }[random.Next(5)];
                string local = v6 ? "[2001:db8::" + (1 + random.Next(4)).ToString("x", CultureInfo.InvariantCulture) + "]:" + port.ToString(CultureInfo.InvariantCulture)
                    : "10.0.0." + (1 + random.Next(4)).ToString(CultureInfo.InvariantCulture) + ":" + port.ToString(CultureInfo.InvariantCulture);
                string peer = kind == 0 ? (v6 ? "[::]:*" : "0.0.0.0:*")
                    : v6 ? "[2001:db8:" + random.Next(0x10000).ToString("x", CultureInfo.InvariantCulture) + "::" + random.Next(0x10000).ToString("x", CultureInfo.InvariantCulture) + "]:" + random.Next(1024, 65536).ToString(CultureInfo.InvariantCulture)
                    : "172." + random.Next(16, 32).ToString(CultureInfo.InvariantCulture) + "." + random.Next(256).ToString(CultureInfo.InvariantCulture) + "." + random.Next(1, 255).ToString(CultureInfo.InvariantCulture) + ":" + random.Next(1024, 65536).ToString(CultureInfo.InvariantCulture);
                string state = kind == 0 ? "LISTEN" : kind <= 2 ? "TIME-WAIT" : "ESTAB";
                line.Append(state.PadRight(10)).Append(' ')
                    .Append((kind == 0 ? 0 : random.Next(3) == 0 ? random.Next(5000) : 0).ToString(CultureInfo.InvariantCulture).PadRight(6)).Append(' ')
                    .Append((kind == 0 ? 511 : random.Next(4) == 0 ? random.Next(20000) : 0).ToString(CultureInfo.InvariantCulture).PadRight(6)).Append(' ')
                    .Append(local.PadLeft(32)).Append(' ')
                    .Append(peer.PadLeft(32)).Append(' ');
                if (state != "TIME-WAIT")
                {
                    string name = names[random.Next(names.Length)];
                    int pid = 800 + random.Next(200);
                    line.Append("users:((\"").Append(name).Append("\",pid=").Append(pid.ToString(CultureInfo.InvariantCulture)).Append(",fd=").Append(random.Next(3, 4000).ToString(CultureInfo.InvariantCulture)).Append(')');
                    if (random.Next(8) == 0)
                    {
                        line.Append(",(\"").Append(name).Append("\",pid=").Append((pid + 1).ToString(CultureInfo.InvariantCulture)).Append(",fd=").Append(random.Next(3, 4000).ToString(CultureInfo.InvariantCulture)).Append(')');
                    }

                    line.Append(')');
                }

                writer.Write(line.Append('\n').ToString());
            }
        }
    }
}
