using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>A fact that needs Linux and a command on PATH (ss, netstat, lsof, pwsh); it skips, saying which, when absent.</summary>
    public sealed class ToolFactAttribute : FactAttribute
    {
        public ToolFactAttribute(string tool)
        {
            if (!OperatingSystem.IsLinux())
            {
                Skip = "Needs Linux: it runs " + tool + " against sockets it opens.";
            }
            else if (Tools.Find(tool) is null)
            {
                Skip = "Needs '" + tool + "' on PATH (" + Tools.Package(tool) + "); it is not installed here.";
            }
        }
    }

    /// <summary>Runs the real tools and finds them on PATH.</summary>
    public static class Tools
    {
        public static string? Find(string tool)
        {
            if (tool == "pwsh" && File.Exists("/opt/pwsh/pwsh"))
            {
                return "/opt/pwsh/pwsh";
            }

            foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }))
            {
                string candidate = Path.Combine(directory, tool);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        public static string Package(string tool) => tool switch
        {
            "ss" => "Debian package iproute2",
            "netstat" => "Debian package net-tools",
            "lsof" => "Debian package lsof",
            "pwsh" => "PowerShell 7",
            _ => "its package",
        };

        /// <summary>Runs a tool and returns its standard output (standard error is dropped, as a pipe would).</summary>
        public static string Run(string tool, params string[] args)
        {
            var start = new ProcessStartInfo(Find(tool)!, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["LC_ALL"] = "C";
            using Process process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException(tool + " " + string.Join(" ", args) + " did not finish");
            }

            _ = error.Result;
            return output;
        }
    }

    /// <summary>The committed sample files under tests/PortTools.Core.Tests/Fixtures (found from this source file, so no copy step is needed).</summary>
    public static class Fixtures
    {
        public static string Directory { get; } = Locate();

        public static string Read(string name) => File.ReadAllText(Path.Combine(Directory, name));

        public static IEnumerable<string> Names() =>
            System.IO.Directory.EnumerateFiles(Directory).Select(Path.GetFileName).Where(n => n != "README.md").OrderBy(n => n, StringComparer.Ordinal)!;

        private static string Locate([CallerFilePath] string thisFile = "") =>
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "Fixtures"));
    }

    /// <summary>Everything one parse produced, in order.</summary>
    public sealed class ParseRun
    {
        private ParseRun(List<SocketTableResult> results, SocketTableSummary summary)
        {
            Results = results;
            Summary = summary;
        }

        public List<SocketTableResult> Results { get; }

        public SocketTableSummary Summary { get; }

        public List<SocketTuple> Sockets => Results.Where(r => r.Kind == SocketTableResultKind.Socket).Select(r => r.Socket!).ToList();

        public List<SocketTableResult> Errors => Results.Where(r => r.Kind == SocketTableResultKind.Error).ToList();

        public static ParseRun Of(string text, SocketTableFormat format = SocketTableFormat.Auto) =>
            Of(text, new SocketTableParserOptions { Format = format });

        /// <summary>Feeds the text line by line, as the cmdlet will, and checks the line accounting.</summary>
        public static ParseRun Of(string text, SocketTableParserOptions options)
        {
            var parser = new SocketTableParser(options);
            var results = new List<SocketTableResult>();
            string[] lines = text.Split('\n');
            int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
            for (int i = 0; i < count; i++)
            {
                parser.Add(lines[i]);
                while (parser.TryRead(out SocketTableResult result))
                {
                    results.Add(result);
                }
            }

            parser.Complete();
            while (parser.TryRead(out SocketTableResult result))
            {
                results.Add(result);
            }

            SocketTableSummary summary = parser.Summary;
            Assert.Equal(count, summary.LinesRead);
            Assert.Equal(summary.LinesRead, summary.LinesParsed + summary.LinesSkipped + summary.LinesFailed);
            Assert.Equal(results.Count(r => r.Kind == SocketTableResultKind.Socket), summary.Sockets);
            return new ParseRun(results, summary);
        }

        /// <summary>Fails with every error listed when there is one.</summary>
        public ParseRun AssertNoErrors()
        {
            Assert.True(Errors.Count == 0, "errors:\n" + string.Join("\n", Errors.Select(e => e.ToString() + "   <- " + e.Line)));
            return this;
        }
    }
}
