using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace PortTools.Benchmarks
{
    /// <summary>Timing helpers: in-process actions and external commands, medians over rounds.</summary>
    internal static class Measure
    {
        public static double Milliseconds(Action action)
        {
            // The previous measurement's garbage is collected first, so it is not billed to this one.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            action();
            return watch.Elapsed.TotalMilliseconds;
        }

        /// <summary>Runs a shell command with its output discarded, as `cmd > /dev/null` does; null if it timed out.</summary>
        public static double? Command(string shellCommand, TimeSpan timeout)
        {
            var start = new ProcessStartInfo("sh", new[] { "-c", shellCommand + " > /dev/null 2>&1" }) { UseShellExecute = false };
            var watch = Stopwatch.StartNew();
            using Process process = Process.Start(start)!;
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return null;
            }

            return watch.Elapsed.TotalMilliseconds;
        }

        public static string Capture(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output;
        }

        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.OrderBy(v => v).ToArray();
            if (sorted.Length == 0)
            {
                return double.NaN;
            }

            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        /// <summary>A /proc/self/status field in kB (VmHWM is peak resident memory).</summary>
        public static long StatusKilobytes(string field)
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.Substring(field.Length + 1).Trim().Split(' ')[0]);
                }
            }

            return -1;
        }

        public static string Format(double? milliseconds) => milliseconds switch
        {
            null => "timeout",
            double ms when double.IsNaN(ms) => "n/a",
            double ms when ms >= 1000 => (ms / 1000).ToString("0.00") + " s",
            double ms => ms.ToString(ms < 10 ? "0.0" : "0") + " ms",
        };
    }
}

namespace PortTools.Benchmarks
{
    /// <summary>Several rounds of one figure: the median, and the range (min-max) that says how far to trust it.</summary>
    internal sealed class Rounds
    {
        private readonly List<double> _values = new();

        public int Count => _values.Count;

        public double Median => Measure.Median(_values);

        public double Min => _values.Count == 0 ? double.NaN : _values.Min();

        public double Max => _values.Count == 0 ? double.NaN : _values.Max();

        public void Add(double value) => _values.Add(value);

        /// <summary>"median (min-max)" with each value formatted the same way.</summary>
        public string Format(Func<double, string> format) =>
            _values.Count == 0 ? "n/a" : _values.Count == 1 ? format(Median) : format(Median) + " (" + format(Min) + "-" + format(Max) + ")";

        public string Milliseconds() => Format(v => Measure.Format(v));

        public string Ratio() => Format(v => v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "x");

        public string Rate() => Format(v => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));

        /// <summary>Each round's value over the same round's value of another figure (a candidate over its floor).</summary>
        public Rounds Over(Rounds floor)
        {
            var ratios = new Rounds();
            for (int i = 0; i < Math.Min(_values.Count, floor._values.Count); i++)
            {
                ratios.Add(_values[i] / floor._values[i]);
            }

            return ratios;
        }

        /// <summary>Items per second of each round's milliseconds.</summary>
        public Rounds PerSecond(double items)
        {
            var rates = new Rounds();
            foreach (double ms in _values)
            {
                rates.Add(items / (ms / 1000));
            }

            return rates;
        }
    }
}
