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

        // Another user may not reach the build output (a checkout in a private folder): it gets a copy.
        private static readonly Lazy<string> s_otherUserDllPath = new(() => OperatingSystem.IsLinux()
            ? Path.Combine(OtherUser.CopyReadable(Path.GetDirectoryName(DllPath)!), Path.GetFileName(DllPath))
            : throw new PlatformNotSupportedException("A TestHost under another user needs Linux (setpriv)."));

        /// <summary>The TestHost as built, in the checkout.</summary>
        public static string DllPath => typeof(TestHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestHostPath").Value!;

        public static ProcessStartInfo StartInfo(int? uid, params string[] args) =>
            StartInfo(uid is null ? DllPath : s_otherUserDllPath.Value, uid, args);

        /// <summary>Runs a given copy of the TestHost: as this user, or as <paramref name="uid"/> through setpriv.</summary>
        public static ProcessStartInfo StartInfo(string dllPath, int? uid, params string[] args)
        {
            var arguments = new List<string>();
            string file = "dotnet";
            if (uid is int id)
            {
                file = "setpriv";
                arguments.AddRange(new[] { "--reuid=" + id, "--regid=" + id, "--clear-groups", "--", "dotnet" });
            }

            arguments.Add("exec");
            arguments.Add(dllPath);
            arguments.AddRange(args);
            // The child starts in the TestHost's folder, which it can reach, not in this process's.
            var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dllPath)! };
            start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
            start.Environment["DOTNET_NOLOGO"] = "1";
            start.Environment["HOME"] = Path.GetTempPath();
            return start;
        }

        /// <summary>Runs a command to completion and returns its key=value lines.</summary>
        public static List<KeyValuePair<string, string>> Run(int? uid, params string[] args) => Run(StartInfo(uid, args));

        /// <summary>Runs the TestHost a start info describes to completion and returns its key=value lines.</summary>
        public static List<KeyValuePair<string, string>> Run(ProcessStartInfo start)
        {
            string command = string.Join(" ", start.ArgumentList.SkipWhile(a => a != "exec").Skip(2));
            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("TestHost " + command + " did not finish");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("TestHost " + command + " failed (" + process.ExitCode + "): " + output + error);
            }

            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('=', 2))
                .Where(parts => parts.Length == 2)
                .Select(parts => new KeyValuePair<string, string>(parts[0], parts[1]))
                .ToList();
        }
    }
}
