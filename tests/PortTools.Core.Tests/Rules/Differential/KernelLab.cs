using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using PortTools.Tests.Support;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>
    /// The live kernel as an oracle. Real sockets are driven through PortTools.TestHost "lab"
    /// processes: one as root and, where possible, one as uid 65534 (nobody) for other-user rules.
    /// As root, everything runs inside a network namespace the lab creates, so wildcard binds never
    /// touch the host's interfaces; without root, only specific loopback addresses are used, in the
    /// host's namespace, and scenarios that need more are skipped.
    /// </summary>
    public sealed class KernelLab : IDisposable
    {
        public const long NobodyUid = TestHost.NobodyUid;

        private readonly TestNetworkNamespace? _namespace;
        private readonly Lazy<LabProcess?> _other;
        private int _nextPort = 20000;
        private int _nextId;

        public KernelLab()
        {
            IsolatedNamespace = Privilege.IsRoot;
            if (IsolatedNamespace)
            {
                _namespace = new TestNetworkNamespace();
            }

            Root = new LabProcess(_namespace?.Name, uid: null);
            OtherUsers = IsolatedNamespace && OtherUser.UnavailableReason is null;
            _other = new Lazy<LabProcess?>(() => OtherUsers ? new LabProcess(_namespace!.Name, uid: (int)NobodyUid) : null);
            Facts = BuildFacts();
        }

        /// <summary>The lab's private namespace (root), or null when scenarios run in the host's.</summary>
        public string? NamespaceName => _namespace?.Name;

        /// <summary>Whether scenarios run in a private namespace (root): wildcard binds and other users are available.</summary>
        public bool IsolatedNamespace { get; }

        /// <summary>Whether scenarios may hold sockets as another user (root, and a runtime that user can start).</summary>
        public bool OtherUsers { get; }

        public LabProcess Root { get; }

        /// <summary>The lab running as nobody, or null without root.</summary>
        public LabProcess? Other => _other.Value;

        /// <summary>The host facts of the lab's namespace, as the engine is told them.</summary>
        public HostFacts Facts { get; }

        public long RootUid => Privilege.IsRoot ? 0 : CurrentUid();

        /// <summary>A port no earlier scenario used (TIME-WAIT entries of earlier scenarios stay for 60 s).</summary>
        public int NextPort(int count = 1)
        {
            int port = _nextPort;
            _nextPort += count;
            return port;
        }

        public string NextId(string prefix) => prefix + (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>The lab namespace's interfaces and addresses as ip -o addr lists them.</summary>
        private HostFacts BuildFacts()
        {
            string listing = _namespace is null ? Capture("ip", "-o", "addr", "show") : Capture("ip", "-n", _namespace.Name, "-o", "addr", "show");
            var interfaces = new Dictionary<string, List<IPAddress>>(StringComparer.Ordinal);
            var broadcasts = new List<IPAddress> { IPAddress.Parse("127.255.255.255") };
            foreach (string line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                // "2: veth0    inet 192.0.2.1/24 brd 192.0.2.255 scope global veth0\ ..."
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                string name = words[1];
                if (!interfaces.TryGetValue(name, out List<IPAddress>? addresses))
                {
                    addresses = new List<IPAddress>();
                    interfaces.Add(name, addresses);
                }

                addresses.Add(IPAddress.Parse(words[3].Split('/')[0]));
                int brd = Array.IndexOf(words, "brd");
                if (brd > 0)
                {
                    broadcasts.Add(IPAddress.Parse(words[brd + 1]));
                }
            }

            if (_namespace is not null)
            {
                foreach (string name in new[] { "veth0", "veth1" })
                {
                    interfaces.TryAdd(name, new List<IPAddress>());
                }
            }

            return new HostFacts(TargetOS.Linux, broadcastAddresses: broadcasts, interfaceAddresses: interfaces.Select(p => new KeyValuePair<string, IEnumerable<IPAddress>>(p.Key, p.Value)))
            {
                UserId = RootUid,
                Privileged = Privilege.IsRoot,
                UnprivilegedPortStart = ReadSysctl("net/ipv4/ip_unprivileged_port_start", 1024),
                BindV6Only = ReadSysctl("net/ipv6/bindv6only", 0) == 1,
            };
        }

        private int ReadSysctl(string name, int fallback)
        {
            string text = _namespace is null
                ? File.ReadAllText("/proc/sys/" + name)
                : Capture("ip", "netns", "exec", _namespace.Name, "cat", "/proc/sys/" + name);
            return int.TryParse(text.Trim().Split('\t')[0], out int value) ? value : fallback;
        }

        private static string Capture(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true })!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output;
        }

        private static long CurrentUid() => long.Parse(Capture("id", "-u").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        public void Dispose()
        {
            Root.Dispose();
            if (_other.IsValueCreated)
            {
                _other.Value?.Dispose();
            }

            _namespace?.Dispose();
        }
    }

    /// <summary>One TestHost lab process: a command per line in, a reply per line out.</summary>
    public sealed class LabProcess : IDisposable
    {
        private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

        private readonly Process _process;

        public LabProcess(string? networkNamespace, int? uid)
        {
            ProcessStartInfo start = TestHost.StartInfo(uid, "lab");
            if (networkNamespace is not null)
            {
                // ip netns exec NS [setpriv ...] dotnet exec TestHost.dll lab
                var arguments = new List<string> { "netns", "exec", networkNamespace, start.FileName };
                arguments.AddRange(start.ArgumentList);
                start.ArgumentList.Clear();
                foreach (string argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                start.FileName = "ip";
            }

            Uid = uid;
            _process = Process.Start(start)!;
        }

        public int? Uid { get; }

        public string Do(string command)
        {
            string? trace = Environment.GetEnvironmentVariable("PORTTOOLS_LAB_TRACE");
            if (trace is not null)
            {
                File.AppendAllText(trace, (Uid?.ToString() ?? "root") + "> " + command + "\n");
            }

            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            // Bounded: a lab call that blocks (a connect with nobody to answer) fails the test instead of hanging the run.
            System.Threading.Tasks.Task<string?> read = _process.StandardOutput.ReadLineAsync();
            if (!read.Wait(ReplyTimeout))
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException("lab: no reply to '" + command + "' within " + ReplyTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + " s.");
            }

            string? reply = read.Result;
            if (reply is null)
            {
                throw new InvalidOperationException("The lab process ended: " + _process.StandardError.ReadToEnd());
            }

            if (reply.StartsWith("fail", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("lab: " + command + " -> " + reply);
            }

            return reply;
        }

        /// <summary>0 for "ok ...", else the errno of "err N".</summary>
        public static int Errno(string reply) => reply.StartsWith("err ", StringComparison.Ordinal) ? int.Parse(reply.Substring(4), System.Globalization.CultureInfo.InvariantCulture) : 0;

        public void Dispose()
        {
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(10_000))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (IOException)
            {
                // already gone
            }

            _process.Dispose();
        }
    }
}
