using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools.Benchmarks
{
    /// <summary>
    /// Every network namespace at once: N named namespaces (ip netns add) of M sockets each (a TCP
    /// listener, established loopback connections, UDP sockets), held by child processes, read with
    /// owners in one call, against N sequential ss -tanp -N runs (ss reads one namespace per run).
    /// Needs root.
    /// </summary>
    internal static class NamespaceBenchmark
    {
        private const int SocketsPerHolder = 16_000; // under a 20,000 open-file limit

        public static int Run(Options options)
        {
            int count = options.Int("namespaces", 50);
            int sockets = options.Int("sockets", 1000);
            int rounds = Math.Max(5, options.Int("rounds", 5));
            string prefix = "pt-bench-" + Guid.NewGuid().ToString("N").Substring(0, 6) + "-";
            string[] names = Enumerable.Range(0, count).Select(i => prefix + i.ToString("00")).ToArray();
            Console.WriteLine($"# Network namespace benchmark  ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}, .NET {Environment.Version})");
            Console.WriteLine();
            var holders = new List<Process>();
            try
            {
                foreach (string name in names)
                {
                    Ip("netns", "add", name);
                    Ip("-n", name, "link", "set", "lo", "up");
                }

                int perHolder = Math.Max(1, SocketsPerHolder / sockets);
                string self = typeof(NamespaceBenchmark).Assembly.Location;
                for (int i = 0; i < names.Length; i += perHolder)
                {
                    var start = new ProcessStartInfo("dotnet", new[] { self, "netns-hold", "--names", string.Join(",", names.Skip(i).Take(perHolder)), "--sockets", sockets.ToString() })
                    {
                        RedirectStandardInput = true,
                        RedirectStandardOutput = true,
                        UseShellExecute = false,
                    };
                    start.Environment["DOTNET_EnableDiagnostics"] = "0";
                    holders.Add(Process.Start(start)!);
                }

                foreach (Process holder in holders)
                {
                    string? line = holder.StandardOutput.ReadLine();
                    if (line is null || !line.StartsWith("READY", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException("a namespace holder failed: " + line);
                    }
                }

                Thread.Sleep(300);
                Row(names, sockets, rounds);
            }
            finally
            {
                foreach (Process holder in holders)
                {
                    holder.StandardInput.Close();
                    holder.WaitForExit(30_000);
                    holder.Dispose();
                }

                foreach (string name in names)
                {
                    Ip("netns", "del", name);
                }
            }

            return 0;
        }

        private static void Row(string[] names, int sockets, int rounds)
        {
            var tcp = new SocketQuery { AllNetworkNamespaces = true, Protocols = new[] { TransportProtocol.Tcp } };
            var all = new SocketQuery { AllNetworkNamespaces = true };
            SocketTableReadResult warm = LiveSocketTable.Read(tcp);
            int spaces = warm.NetworkNamespaceCount;
            int tcpCount = warm.Sockets.Count;
            int allCount = LiveSocketTable.Read(all).Sockets.Count;
            string loop = "for n in " + string.Join(" ", names) + "; do ss -tanp -N $n; done";

            // The floor: a bare TCP dump of each namespace (nlcount run inside it) plus one descriptor walk (fdmap).
            string tools = Path.GetFullPath(EnumerationBenchmark.FindTools());
            string floorLoop = tools + "/fdmap; for n in " + string.Join(" ", names) + "; do ip netns exec $n " + tools + "/nlcount; done";
            var portTcp = new Rounds();
            var portAll = new Rounds();
            var sequential = new Rounds();
            var ss = new Rounds();
            var floor = new Rounds();
            for (int round = 0; round < rounds; round++)
            {
                portTcp.Add(Measure.Milliseconds(() => LiveSocketTable.Read(tcp)));
                floor.Add(Measure.Command(floorLoop, TimeSpan.FromMinutes(10)) ?? double.NaN);
                ss.Add(Measure.Command(loop, TimeSpan.FromMinutes(10)) ?? double.NaN);
                portAll.Add(Measure.Milliseconds(() => LiveSocketTable.Read(all)));
                sequential.Add(Measure.Milliseconds(() =>
                {
                    foreach (string name in names)
                    {
                        LiveSocketTable.Read(new SocketQuery { NetworkNamespace = name, Protocols = new[] { TransportProtocol.Tcp } });
                    }
                }));
            }

            Console.WriteLine($"{rounds} rounds: median (min-max); ratios round by round. Floor: fdmap once plus nlcount inside each namespace made (ip netns exec), as one shell command.");
            Console.WriteLine();
            Console.WriteLine("| namespaces made (read in all) | sockets each | TCP sockets read | all sockets read | PortTools -AllNetworkNamespaces, TCP, owners | same, TCP and UDP | PortTools -NetworkNamespace x " + names.Length + ", TCP, owners | " + names.Length + " x ss -tanp -N | vs ss | floor: fdmap + " + names.Length + " x nlcount | vs floor |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
            Console.WriteLine(
                $"| {names.Length} ({spaces}) | {sockets:N0} | {tcpCount:N0} | {allCount:N0} | {portTcp.Milliseconds()} | {portAll.Milliseconds()} | {sequential.Milliseconds()} | {ss.Milliseconds()} | {ss.Over(portTcp).Format(v => v.ToString("0.0") + "x faster")} | {floor.Milliseconds()} | {portTcp.Over(floor).Ratio()} |");
        }

        private static void Ip(params string[] args)
        {
            using Process ip = Process.Start(new ProcessStartInfo("ip", args) { UseShellExecute = false, RedirectStandardError = true })!;
            ip.WaitForExit();
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int setns(int fd, int type);

        [DllImport("libc", SetLastError = true)]
        private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc")]
        private static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        private static extern unsafe int getrlimit(int resource, ulong* limits);

        [DllImport("libc", SetLastError = true)]
        private static extern unsafe int setrlimit(int resource, ulong* limits);

        /// <summary>Child mode: in each named namespace, a listener on 127.0.0.1:8080, connections to it and UDP sockets; held until stdin closes.</summary>
        public static unsafe int Hold(Options options)
        {
            string[] names = options.Text("names", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
            int sockets = options.Int("sockets", 1000);
            ulong* limits = stackalloc ulong[2];
            getrlimit(7, limits);
            limits[0] = limits[1];
            setrlimit(7, limits);
            var held = new List<Socket>();
            string? failure = null;
            foreach (string name in names)
            {
                // Sockets belong to the namespace of the thread that creates them; this thread ends with the work.
                var thread = new Thread(() =>
                {
                    try
                    {
                        int fd = open("/run/netns/" + name, 0x80000 /* O_RDONLY | O_CLOEXEC */);
                        if (fd < 0 || setns(fd, 0x40000000) != 0)
                        {
                            throw new InvalidOperationException("setns " + name + ": errno " + Marshal.GetLastWin32Error());
                        }

                        close(fd);

                        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        listener.Bind(new IPEndPoint(IPAddress.Loopback, 8080));
                        listener.Listen(1024);
                        lock (held)
                        {
                            held.Add(listener);
                        }

                        int connections = (sockets - 1) / 3;
                        for (int i = 0; i < connections; i++)
                        {
                            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                            client.Connect(IPAddress.Loopback, 8080);
                            Socket accepted = listener.Accept();
                            lock (held)
                            {
                                held.Add(client);
                                held.Add(accepted);
                            }
                        }

                        for (int i = 1 + (2 * connections); i < sockets; i++)
                        {
                            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                            lock (held)
                            {
                                held.Add(udp);
                            }
                        }
                    }
                    catch (Exception exception)
                    {
                        failure ??= exception.Message;
                    }
                });
                thread.Start();
                thread.Join();
            }

            if (failure is not null)
            {
                Console.WriteLine("error=" + failure);
                return 1;
            }

            Console.WriteLine("READY " + held.Count);
            Console.Out.Flush();
            Console.In.ReadToEnd();
            GC.KeepAlive(held);
            return 0;
        }
    }
}
