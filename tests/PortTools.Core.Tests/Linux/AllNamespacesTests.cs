using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// Several network namespaces made for the test (two named with ip netns, one held only by a process
    /// started with unshare -n), each with a listener on 127.0.0.1:8080 and a UNIX socket on the same
    /// abstract name, read all at once: each socket attributed to its own namespace, no conflict across.
    /// </summary>
    public sealed class AllNamespacesTests : IDisposable
    {
        private readonly string _suffix = Guid.NewGuid().ToString("N").Substring(0, 6);
        private readonly List<string> _named = new List<string>();
        private readonly List<UnixLabProcess> _labs = new List<UnixLabProcess>();
        private readonly List<string> _cgroups = new List<string>();

        public void Dispose()
        {
            foreach (UnixLabProcess lab in _labs)
            {
                lab.Dispose();
            }

            foreach (string cgroup in _cgroups.AsEnumerable().Reverse())
            {
                try
                {
                    Directory.Delete(cgroup);
                }
                catch (IOException)
                {
                }
            }

            foreach (string name in _named)
            {
                TestNetworkNamespace.Ip("netns", "del", name);
            }
        }

        private string Abstract => "@pt-allns-" + _suffix;

        /// <summary>A lab in a new named namespace (lo up), holding a TCP listener and an abstract UNIX listener.</summary>
        private UnixLabProcess InNamedNamespace(string tag)
        {
            string name = "pt-allns-" + _suffix + "-" + tag;
            TestNetworkNamespace.Ip("netns", "add", name);
            _named.Add(name);
            TestNetworkNamespace.Ip("-n", name, "link", "set", "lo", "up");
            return Populate(new UnixLabProcess("ip", "netns", "exec", name));
        }

        /// <summary>A lab in a namespace of its own that nothing else holds: unshare -n, lo brought up inside.</summary>
        private UnixLabProcess InUnnamedNamespace() =>
            Populate(new UnixLabProcess("unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh"));

        private UnixLabProcess Populate(UnixLabProcess lab)
        {
            _labs.Add(lab);
            lab.Ok("tcplisten T 127.0.0.1 8080");
            lab.Socket("U", "stream");
            lab.Ok("bind U " + Abstract);
            lab.Ok("listen U");
            return lab;
        }

        private static ulong NamespaceOf(int pid) => NetworkNamespaceDiscovery.InodeOf("/proc/" + pid + "/ns/net")!.Value;

        [LinuxRootFact]
        public void Every_namespace_is_read_once_and_each_socket_names_its_own()
        {
            UnixLabProcess red = InNamedNamespace("red");
            UnixLabProcess blue = InNamedNamespace("blue");
            UnixLabProcess hidden = InUnnamedNamespace();
            var labs = new[] { red, blue, hidden };
            var pids = labs.Select(l => l.Pid).ToHashSet();
            Assert.Equal(3, labs.Select(l => NamespaceOf(l.Pid)).Distinct().Count());

            SocketTableReadResult inet = LiveSocketTable.Read(new SocketQuery { AllNetworkNamespaces = true, ProcessIds = pids, Protocols = new[] { TransportProtocol.Tcp } });
            Assert.True(inet.NetworkNamespaceCount >= 4, "this host's namespace and the three of the test at least");
            Assert.Equal(3, inet.Sockets.Count);
            foreach (UnixLabProcess lab in labs)
            {
                SocketTuple socket = Assert.Single(inet.Sockets, s => s.ProcessId == lab.Pid);
                Assert.Equal(("127.0.0.1:8080", SocketState.Listen), (socket.Local, socket.State));
                NetworkNamespaceInfo space = socket.NetworkNamespace!;
                Assert.Equal(NamespaceOf(lab.Pid), space.Inode);
                Assert.Equal(space.Inode, NamespaceOf(space.ProcessId!.Value)); // a process that really lives there
            }

            Assert.Equal("pt-allns-" + _suffix + "-red", inet.Sockets.Single(s => s.ProcessId == red.Pid).NetworkNamespace!.Name);
            Assert.Equal("pt-allns-" + _suffix + "-blue", inet.Sockets.Single(s => s.ProcessId == blue.Pid).NetworkNamespace!.Name);
            Assert.Null(inet.Sockets.Single(s => s.ProcessId == hidden.Pid).NetworkNamespace!.Name);

            // Three listeners on 127.0.0.1:8080, and no conflict across namespaces: each answer names only its own.
            IReadOnlyList<SocketIndex> indexes = SocketIndex.BuildPerNetworkNamespace(inet.Sockets, new HostFacts(TargetOS.Linux, new[] { IPAddress.Loopback }));
            var request = new BindRequest { Protocol = TransportProtocol.Tcp, Address = IPAddress.Loopback, Port = 8080, Listen = true };
            foreach (SocketIndex index in indexes)
            {
                PortBindResult answer = RuleEngine.DecideBind(index, request);
                Assert.Equal("EADDRINUSE", answer.Error);
                Assert.All(answer.Conflicts, c => Assert.Equal(index.NetworkNamespace, c.NetworkNamespace));
                Assert.Single(answer.Conflicts);
            }

            // The same abstract name in three namespaces: three sockets, three owners, no clash.
            UnixSocketReadResult unix = LiveUnixSocketTable.Read(new UnixSocketQuery { AllNetworkNamespaces = true, PathMatch = p => p == Abstract });
            Assert.Equal(3, unix.Sockets.Count);
            Assert.Equal(pids.OrderBy(p => p), unix.Sockets.Select(s => s.ProcessId!.Value).OrderBy(p => p));
            Assert.All(unix.Sockets, s => Assert.Equal(NamespaceOf(s.ProcessId!.Value), s.NetworkNamespace!.Inode));
            Assert.All(UnixBindRules.Simulate(Abstract, unix.Sockets), r => Assert.Equal(("EADDRINUSE", 1), (r.Error, r.Holders.Count)));
        }

        [LinuxRootFact]
        public void A_namespace_that_vanishes_before_its_read_is_skipped_with_one_warning()
        {
            UnixLabProcess red = InNamedNamespace("red");
            UnixLabProcess doomed = InUnnamedNamespace();
            UnixLabProcess alsoDoomed = InUnnamedNamespace();
            NamespaceDiscovery discovery = NetworkNamespaceDiscovery.Discover("/proc", CancellationToken.None);
            ulong gone = NamespaceOf(doomed.Pid);
            ulong alsoGone = NamespaceOf(alsoDoomed.Pid);
            Assert.Contains(discovery.Namespaces, n => n.Inode == gone);

            doomed.Dispose();
            alsoDoomed.Dispose();
            _labs.Remove(doomed);
            _labs.Remove(alsoDoomed);
            WaitUntil(() => !File.Exists("/proc/" + doomed.Pid + "/ns/net") && !File.Exists("/proc/" + alsoDoomed.Pid + "/ns/net"));

            SocketTableReadResult result = AllNamespacesReader.ReadInet(discovery, new SocketQuery { ProcessIds = new[] { red.Pid } }, CancellationToken.None, LinuxTableSource.Automatic, null);
            Assert.Equal(red.Pid, Assert.Single(result.Sockets).ProcessId);
            string warning = Assert.Single(result.Warnings, w => w.Contains("disappeared", StringComparison.Ordinal));
            Assert.Contains("2 network namespaces", warning, StringComparison.Ordinal);
            Assert.Contains(gone.ToString(), warning, StringComparison.Ordinal);
            Assert.Contains(alsoGone.ToString(), warning, StringComparison.Ordinal);
        }

        [LinuxRootFact]
        public void Processes_that_exit_during_the_read_lose_nothing_of_the_rest()
        {
            UnixLabProcess red = InNamedNamespace("red");
            using var stop = new CancellationTokenSource();
            var churn = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using Process? brief = Process.Start(new ProcessStartInfo("sh", new[] { "-c", "exit 0" }) { UseShellExecute = false });
                    brief?.WaitForExit();
                }
            });
            churn.Start();
            try
            {
                for (int i = 0; i < 5; i++)
                {
                    SocketTableReadResult result = LiveSocketTable.Read(new SocketQuery { AllNetworkNamespaces = true, ProcessIds = new[] { red.Pid } });
                    Assert.Equal(red.Pid, Assert.Single(result.Sockets).ProcessId);
                    Assert.DoesNotContain(result.Warnings, w => w.Contains("disappeared", StringComparison.Ordinal) && w.Contains("pt-allns", StringComparison.Ordinal));
                }
            }
            finally
            {
                stop.Cancel();
                churn.Join();
            }
        }

        [LinuxRootFact]
        public void Sockets_are_attributed_to_the_container_their_owners_cgroup_names()
        {
            const string Unified = "/sys/fs/cgroup/unified";
            if (!File.Exists(Unified + "/cgroup.procs"))
            {
                return; // no cgroup v2 hierarchy to make a container-like cgroup in
            }

            string id = (Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")).Substring(0, 64);
            string pod = Guid.NewGuid().ToString();
            string slice = Unified + "/pt-allns-" + _suffix + ".slice";
            string podSlice = slice + "/kubepods-besteffort-pod" + pod.Replace('-', '_') + ".slice";
            string scope = podSlice + "/cri-containerd-" + id + ".scope";
            foreach (string directory in new[] { slice, podSlice, scope })
            {
                Directory.CreateDirectory(directory);
                _cgroups.Add(directory);
            }

            UnixLabProcess red = InNamedNamespace("red");
            File.WriteAllText(scope + "/cgroup.procs", red.Pid.ToString());
            try
            {
                SocketTableReadResult result = LiveSocketTable.Read(new SocketQuery { AllNetworkNamespaces = true, ProcessIds = new[] { red.Pid } });
                ContainerInfo container = Assert.Single(result.Sockets).Container!;
                Assert.Equal(("containerd", id, pod), (container.Runtime, container.Id, container.PodUid));

                UnixSocket unix = Assert.Single(LiveUnixSocketTable.Read(new UnixSocketQuery { AllNetworkNamespaces = true, ProcessIds = new[] { red.Pid } }).Sockets);
                Assert.Equal(container, unix.Container);
            }
            finally
            {
                File.WriteAllText(Unified + "/cgroup.procs", red.Pid.ToString()); // back to the root, so the cgroups can go
            }
        }

        [LinuxFact]
        public void A_single_read_and_a_read_of_all_cannot_be_asked_at_once()
        {
            Assert.Throws<ArgumentException>(() => LiveSocketTable.Read(new SocketQuery { AllNetworkNamespaces = true, NetworkNamespace = "1" }));
        }

        private static void WaitUntil(Func<bool> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
            }
        }
    }
}
