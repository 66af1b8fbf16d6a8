using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;

namespace PortTools.Tests.Support
{
    /// <summary>
    /// One TestHost unix-lab process (see tests/PortTools.TestHost/UnixLab.cs): UNIX sockets held in
    /// a process of their own, so that tests can give peers and owners to other processes, leave a
    /// socket file behind by ending the process, or hold sockets inside a namespace.
    /// </summary>
    public sealed class UnixLabProcess : IDisposable
    {
        private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
        private readonly Process _process;

        /// <summary>Starts the lab, optionally under a prefix command such as "unshare -n" or "ip netns exec NAME".</summary>
        public UnixLabProcess(params string[] prefix)
            : this(null, prefix)
        {
        }

        /// <summary>Starts the lab as another user (through setpriv), optionally under a prefix command.</summary>
        public UnixLabProcess(int? uid, params string[] prefix)
        {
            ProcessStartInfo start = TestHost.StartInfo(uid, "unix-lab");
            start.Environment["DOTNET_EnableDiagnostics"] = "0"; // no diagnostics IPC socket of the runtime's own among the lab's
            if (prefix.Length > 0)
            {
                var arguments = new List<string>(prefix[1..]) { start.FileName };
                arguments.AddRange(start.ArgumentList);
                start.ArgumentList.Clear();
                foreach (string argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                start.FileName = prefix[0];
            }

            _process = Process.Start(start)!;
            Pid = int.Parse(Ok("pid"), CultureInfo.InvariantCulture);
        }

        /// <summary>The lab's own process id (not the prefix command's, which exec()s or forks into it).</summary>
        public int Pid { get; }

        public string Do(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            Task<string?> read = _process.StandardOutput.ReadLineAsync();
            if (!read.Wait(ReplyTimeout))
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException("unix-lab: no reply to '" + command + "'.");
            }

            string? reply = read.Result;
            if (reply is null)
            {
                throw new InvalidOperationException("The unix-lab process ended: " + _process.StandardError.ReadToEnd());
            }

            if (reply.StartsWith("fail", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("unix-lab: " + command + " -> " + reply);
            }

            return reply;
        }

        /// <summary>Runs a command that must succeed and returns what follows "ok".</summary>
        public string Ok(string command)
        {
            string reply = Do(command);
            if (!reply.StartsWith("ok", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("unix-lab: " + command + " -> " + reply);
            }

            return reply.Length > 3 ? reply.Substring(3) : string.Empty;
        }

        /// <summary>The inode "socket ID TYPE" reports.</summary>
        public ulong Socket(string id, string type) => ulong.Parse(Ok("socket " + id + " " + type), CultureInfo.InvariantCulture);

        /// <summary>Ends the process (its sockets close; socket files it bound stay behind).</summary>
        public void Quit()
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(30_000))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }

        public void Dispose()
        {
            Quit();
            _process.Dispose();
        }
    }
}
