using System;
using System.Collections.Generic;
using System.Globalization;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// Benchmarks with a Stopwatch harness that prints markdown tables. Each suite measures
    /// PortTools and its yardsticks in the same run, alternating, and reports medians.
    /// Usage: dotnet run -c Release --project tests/PortTools.Benchmarks -- &lt;suite&gt; [options]
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            string suite = args.Length > 0 ? args[0] : "help";
            var options = Options.Parse(args.AsSpan(args.Length > 0 ? 1 : 0).ToArray());
            switch (suite)
            {
                case "enumerate":
                    return EnumerationBenchmark.Run(options);
                case "rules":
                    return RulesBenchmark.Run(options);
                case "read-once":
                    return EnumerationBenchmark.ReadOnce(options);
                case "parse":
                    return ParseBenchmark.Run(options);
                case "connect":
                    return ConnectBenchmark.Run(options);
                case "unix":
                    return UnixBenchmark.Run(options);
                case "unix-hold":
                    return UnixBenchmark.Hold(options);
                case "namespaces":
                    return NamespaceBenchmark.Run(options);
                case "netns-hold":
                    return NamespaceBenchmark.Hold(options);
                case "write-ss":
                    ParseBenchmark.Generate(options.Text("path", "ss-tanp.txt"), options.Int("lines", 1_000_000));
                    return 0;
                default:
                    Console.WriteLine("suites: enumerate [--pairs 1000,10000,100000] [--rounds 5] [--ss-p-max 100000]");
                    Console.WriteLine("        rules [--sockets 1000000] [--decisions 2000000]   (rule engine: index build, decisions per second)");
                    Console.WriteLine("        read-once [--no-owners] [--empty]   (child mode: one read, prints peak memory)");
                    Console.WriteLine("        parse [--lines 100000,1000000] [--rounds 5]   (ss -tanp text through SocketTableParser: lines/s, peak RSS)");
                    Console.WriteLine("        connect [--sockets 1000000] [--rounds 5] [--decisions 400000] [--exhausted-decisions 400]   (connect() decisions per second, free and exhausted range, against a lookup floor)");
                    Console.WriteLine("        unix [--connections 1000,10000,100000] [--rounds 5] [--ss-p-timeout 300]   (UNIX sockets with owners and peers vs ss -xp and the floor)");
                    Console.WriteLine("        write-ss --path <file> [--lines 1000000]   (writes the parse suite's ss -tanp text, for tests/Benchmark.ps1)");
                    Console.WriteLine("        namespaces [--namespaces 50] [--sockets 1000] [--rounds 5]   (every namespace at once vs ss -tanp -N per namespace; root)");
                    return suite == "help" ? 0 : 2;
            }
        }
    }

    internal sealed class Options
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public static Options Parse(string[] args)
        {
            var options = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
                    options._values[args[i].Substring(2)] = hasValue ? args[++i] : "true";
                }
            }

            return options;
        }

        public bool Flag(string name) => _values.ContainsKey(name);

        public int Int(string name, int fallback) => _values.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        public string Text(string name, string fallback) => _values.TryGetValue(name, out string? v) ? v : fallback;

        public int[] Ints(string name, params int[] fallback) =>
            _values.TryGetValue(name, out string? v) ? Array.ConvertAll(v.Split(','), s => int.Parse(s, CultureInfo.InvariantCulture)) : fallback;
    }
}
