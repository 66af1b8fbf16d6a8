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
