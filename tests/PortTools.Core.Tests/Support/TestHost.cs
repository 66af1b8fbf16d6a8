using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;

namespace PortTools.Tests.Support
{
    /// <summary>Runs tests/PortTools.TestHost, optionally as another user through setpriv.</summary>
    public static class TestHost
    {
        public const int NobodyUid = 65534;

        public static string DllPath => typeof(TestHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestHostPath").Value!;

        public static ProcessStartInfo StartInfo(int? uid, params string[] args)
        {
            var arguments = new List<string>();
            string file = "dotnet";
            if (uid is int id)
            {
                file = "setpriv";
                arguments.AddRange(new[] { "--reuid=" + id, "--regid=" + id, "--clear-groups", "--", "dotnet" });
            }

            arguments.Add("exec");
            arguments.Add(DllPath);
            arguments.AddRange(args);
            var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
            start.Environment["DOTNET_NOLOGO"] = "1";
            start.Environment["HOME"] = Path.GetTempPath();
            return start;
        }

        /// <summary>Runs a command to completion and returns its key=value lines.</summary>
        public static List<KeyValuePair<string, string>> Run(int? uid, params string[] args)
        {
            using Process process = Process.Start(StartInfo(uid, args))!;
            process.StandardInput.Close();
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("TestHost " + string.Join(" ", args) + " did not finish");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("TestHost " + string.Join(" ", args) + " failed (" + process.ExitCode + "): " + output + error);
            }

            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('=', 2))
                .Where(parts => parts.Length == 2)
                .Select(parts => new KeyValuePair<string, string>(parts[0], parts[1]))
                .ToList();
        }
    }
}
