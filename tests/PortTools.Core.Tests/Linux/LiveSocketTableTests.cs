using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>Real sockets on private loopback addresses, found by the live reader with the right fields and owner.</summary>
    public class LiveSocketTableTests
    {
        private static readonly int Self = Environment.ProcessId;

        private static IReadOnlyList<SocketTuple> Read(SocketQuery query) => LiveSocketTable.Read(query).Sockets;

        private static SocketTuple Single(IPAddress address, int port, TransportProtocol protocol, SocketState state)
        {
            IReadOnlyList<SocketTuple> found = Read(new SocketQuery { Protocols = new[] { protocol }, LocalAddresses = new[] { new AddressPrefix(address) }, LocalPorts = new[] { new PortRange(port) } });
            return Assert.Single(found, s => s.State == state);
        }

        private static void AssertOwnedByThisProcess(SocketTuple socket)
        {
            Assert.Equal(Self, socket.ProcessId);
            Assert.Equal(Process.GetCurrentProcess().ProcessName, socket.ProcessName);
            Assert.NotNull(socket.Inode);
            Assert.Equal(Privilege.IsRoot ? 0 : socket.UserId, socket.UserId);
            Assert.Equal("Live", socket.Source);
        }

        [LinuxFact]
        public void Finds_a_listener()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(5);

            SocketTuple found = Single(address, Loopback.PortOf(listener), TransportProtocol.Tcp, SocketState.Listen);
            Assert.Equal(AddressFamily.InterNetwork, found.AddressFamily);
            Assert.Equal(IPAddress.Any, found.RemoteAddress);
            Assert.Equal(0, found.RemotePort);
            Assert.Equal(5L, found.SendQueue); // a listener's send queue is its backlog limit
            AssertOwnedByThisProcess(found);
        }

        [LinuxFact]
        public void Finds_both_ends_of_an_established_connection()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(5);
            using Socket client = Loopback.Tcp();
            client.Bind(new IPEndPoint(address, 0));
            client.Connect(listener.LocalEndPoint!);
            using Socket server = listener.Accept();

            int serverPort = Loopback.PortOf(listener);
            int clientPort = Loopback.PortOf(client);
            SocketTuple clientSide = Single(address, clientPort, TransportProtocol.Tcp, SocketState.Established);
            Assert.Equal(address, clientSide.RemoteAddress);
            Assert.Equal(serverPort, clientSide.RemotePort);
            AssertOwnedByThisProcess(clientSide);

            IReadOnlyList<SocketTuple> serverSide = Read(new SocketQuery { LocalAddresses = new[] { new AddressPrefix(address) }, LocalPorts = new[] { new PortRange(serverPort) }, States = new[] { SocketState.Established } });
            SocketTuple accepted = Assert.Single(serverSide);
            Assert.Equal(clientPort, accepted.RemotePort);
            AssertOwnedByThisProcess(accepted);
        }

        [LinuxFact]
        public void Finds_a_TCP_socket_that_is_bound_but_neither_listens_nor_connects()
        {
            if (Environment.OSVersion.Version < new Version(6, 11))
            {
                return; // the bound-inactive dump arrived in Linux 6.11; older kernels cannot list these
            }

            IPAddress address = Loopback.NextAddress();
            using Socket bound = Loopback.Tcp();
            bound.Bind(new IPEndPoint(address, 0));

            SocketTuple found = Single(address, Loopback.PortOf(bound), TransportProtocol.Tcp, SocketState.Bound);
            AssertOwnedByThisProcess(found);
            Assert.Equal("tcp BOUND " + address + ":" + Loopback.PortOf(bound), string.Join(" ", found.ToString().Split(' ').Take(3)));
            Assert.Contains(" netns=", found.ToString(), StringComparison.Ordinal); // the host's own namespace, by inode
        }

        [LinuxFact]
        public void Finds_unconnected_and_connected_UDP_sockets()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket unconnected = Loopback.Udp();
            unconnected.Bind(new IPEndPoint(address, 0));
            using Socket connected = Loopback.Udp();
            connected.Bind(new IPEndPoint(address, 0));
            connected.Connect(unconnected.LocalEndPoint!);

            SocketTuple a = Single(address, Loopback.PortOf(unconnected), TransportProtocol.Udp, SocketState.Unconnected);
            AssertOwnedByThisProcess(a);
            SocketTuple b = Single(address, Loopback.PortOf(connected), TransportProtocol.Udp, SocketState.Connected);
            Assert.Equal(Loopback.PortOf(unconnected), b.RemotePort);
            Assert.Equal(address, b.RemoteAddress);
            AssertOwnedByThisProcess(b);
        }

        [LinuxFact]
        public void Finds_IPv6_sockets_with_their_v6only_flag()
        {
            using Socket specific = Loopback.Tcp(AddressFamily.InterNetworkV6);
            specific.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            specific.Listen(1);

            // An IPv6 socket bound to a v4-mapped loopback address, with IPV6_V6ONLY off.
            IPAddress mapped = Loopback.NextAddress().MapToIPv6();
            using Socket dual = Loopback.Udp(AddressFamily.InterNetworkV6);
            dual.DualMode = true;
            dual.Bind(new IPEndPoint(mapped, 0));

            SocketTuple v6 = Single(IPAddress.IPv6Loopback, Loopback.PortOf(specific), TransportProtocol.Tcp, SocketState.Listen);
            Assert.Equal(AddressFamily.InterNetworkV6, v6.AddressFamily);
            Assert.True(v6.IPv6Only); // the kernel sets it when a specific IPv6 address is bound
            AssertOwnedByThisProcess(v6);

            SocketTuple m = Single(mapped, Loopback.PortOf(dual), TransportProtocol.Udp, SocketState.Unconnected);
            Assert.Equal(mapped, m.LocalAddress);
            Assert.False(m.IPv6Only);
            AssertOwnedByThisProcess(m);

            // An IPv4 prefix matches the same address v4-mapped.
            Assert.Contains(Read(new SocketQuery { LocalAddresses = new[] { new AddressPrefix(mapped.MapToIPv4()) } }), s => s.LocalPort == Loopback.PortOf(dual));
        }

        [LinuxFact]
        public void Progress_counts_the_sockets_read_the_processes_walked_and_the_objects_built()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(5);

            var progress = new SocketReadProgress();
            Assert.Equal(-1, progress.PercentComplete);
            SocketTableReadResult result = LiveSocketTable.Read(new SocketQuery(), CancellationToken.None, progress);

            Assert.Contains(result.Sockets, s => s.LocalAddress.Equals(address));
            Assert.Equal(result.Sockets.Count, progress.SocketsRead); // nothing filtered after the kernel's dump
            Assert.Equal(progress.SocketsRead, progress.SocketsToBuild);
            Assert.Equal(progress.SocketsToBuild, progress.SocketsBuilt);
            Assert.Equal(100, progress.PercentComplete);
            Assert.True(progress.ProcessesWalked > 0);
            Assert.Matches(@"^[\d,]+ sockets read; owners from [\d,]+ processes; [\d,]+ of [\d,]+ objects built$", progress.Describe());

            // Owners not asked for: no walk.
            var quick = new SocketReadProgress();
            LiveSocketTable.Read(new SocketQuery { IncludeProcesses = false }, CancellationToken.None, quick);
            Assert.Equal(0, quick.ProcessesWalked);
            Assert.True(quick.SocketsRead > 0);
        }

        [LinuxFact]
        public void A_one_namespace_read_hands_its_sockets_over_as_built_and_keeps_none_it_handed_over()
        {
            var listeners = new List<Socket>();
            try
            {
                // More than one batch and more than the hand-over's first table of chunks holds (1,024), so
                // that sockets are handed over before the read ends and the table grows under the consumer.
                for (int i = 0; i < 1500; i++)
                {
                    Socket listener = Loopback.Tcp();
                    listeners.Add(listener);
                    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    listener.Listen(1);
                }

                int wakeUps = 0;
                long readAtFirstWakeUp = -1;
                SocketReadProgress? progress = null;
                progress = new SocketReadProgress
                {
                    HandOverSockets = true,
                    SocketsHandedOver = () =>
                    {
                        if (Interlocked.Increment(ref wakeUps) == 1)
                        {
                            readAtFirstWakeUp = progress!.SocketsRead;
                        }
                    },
                };
                SocketTableReadResult result = LiveSocketTable.Read(new SocketQuery { IncludeProcesses = false }, CancellationToken.None, progress);

                // Without owners to wait for, sockets are built and handed over while the kernel still dumps.
                Assert.InRange(readAtFirstWakeUp, 0, progress.SocketsRead - 1);
                // Everything was handed over, so the result keeps none of it; each socket is taken once.
                Assert.Empty(result.Sockets);
                List<SocketTuple> taken = Enumerable.Range(0, progress.SocketsReady).Select(progress.TakeReadySocket).ToList();
                Assert.All(taken, Assert.NotNull);
                Assert.Equal(taken.Count, taken.Distinct().Count());
                var listening = new HashSet<int>(taken.Where(t => t.State == SocketState.Listen && t.Protocol == TransportProtocol.Tcp).Select(t => t.LocalPort));
                Assert.All(listeners, l => Assert.Contains(((IPEndPoint)l.LocalEndPoint!).Port, listening));
                Assert.True(wakeUps >= 2, "one wake-up per batch and one at the end");
                Assert.Throws<ArgumentOutOfRangeException>(() => progress.TakeReadySocket(progress.SocketsReady));
                Assert.Throws<InvalidOperationException>(() => progress.TakeReadySocket(0));

                // With owners, the sockets are built after the dump and the walk, and handed over all the same.
                var owned = new SocketReadProgress { HandOverSockets = true };
                Assert.Empty(LiveSocketTable.Read(new SocketQuery { Protocols = new[] { TransportProtocol.Tcp } }, CancellationToken.None, owned).Sockets);
                Assert.InRange(owned.SocketsReady, listeners.Count, int.MaxValue);

                // Not asked for (or a read of every namespace): nothing is handed over, the result holds all.
                var plain = new SocketReadProgress();
                Assert.NotEmpty(LiveSocketTable.Read(new SocketQuery { IncludeProcesses = false }, CancellationToken.None, plain).Sockets);
                Assert.Equal(0, plain.SocketsReady);
                if (Privilege.IsRoot)
                {
                    var every = new SocketReadProgress { HandOverSockets = true };
                    Assert.NotEmpty(LiveSocketTable.Read(new SocketQuery { IncludeProcesses = false, AllNetworkNamespaces = true }, CancellationToken.None, every).Sockets);
                    Assert.Equal(0, every.SocketsReady);
                }
            }
            finally
            {
                listeners.ForEach(l => l.Dispose());
            }
        }

        [LinuxFact]
        public void Skipping_process_mapping_leaves_owners_empty()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);

            SocketTuple found = Assert.Single(Read(new SocketQuery { IncludeProcesses = false, LocalAddresses = new[] { new AddressPrefix(address) } }));
            Assert.Empty(found.Processes);
            Assert.Null(found.ProcessId);
            Assert.NotNull(found.Inode);
        }

        [LinuxFact]
        public void Process_filters_keep_only_that_process_sockets()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);
            var mine = new SocketQuery { LocalAddresses = new[] { new AddressPrefix(address) } };

            mine.ProcessIds = new[] { Self };
            Assert.Single(Read(mine));
            mine.ProcessIds = new[] { int.MaxValue };
            Assert.Empty(Read(mine));
            mine.ProcessIds = null;
            string name = Process.GetCurrentProcess().ProcessName;
            mine.ProcessNameMatch = n => n == name;
            Assert.Single(Read(mine));
            mine.ProcessNameMatch = n => n == "no-such-process";
            Assert.Empty(Read(mine));
        }

        [LinuxFact]
        public void A_socket_shared_after_fork_lists_every_owner()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(5);
            int port = Loopback.PortOf(listener);

            // bash opens a connection on fd 3 and starts a child that inherits it: two owners of one socket.
            // "ready" waits (at most about 5 s) for the child to have become sleep: until its exec it is a second
            // bash, and a read that comes first finds no sleep (3 in 300 such reads here while two cores were busy).
            string script = $"exec 3<>/dev/tcp/{address}/{port}; sleep 20 & for i in $(seq 1000); do [ \"$(cat /proc/$!/comm 2>/dev/null)\" = sleep ] && break; sleep 0.005; done; echo ready; wait";
            using var shell = Process.Start(new ProcessStartInfo("bash", new[] { "-c", script }) { RedirectStandardOutput = true })!;
            try
            {
                Assert.Equal("ready", shell.StandardOutput.ReadLine());
                SocketTuple client = Assert.Single(Read(new SocketQuery { RemoteAddresses = new[] { new AddressPrefix(address) }, RemotePorts = new[] { new PortRange(port) } }));
                Assert.Equal(2, client.Processes.Count);
                Assert.Contains(client.Processes, p => p.ProcessId == shell.Id && p.ProcessName == "bash");
                Assert.Contains(client.Processes, p => p.ProcessName == "sleep");
                Assert.Equal(client.Processes[0].ProcessId, client.ProcessId);
            }
            finally
            {
                shell.Kill(entireProcessTree: true);
            }
        }

        [LinuxFact]
        public void Netlink_and_proc_net_list_the_same_sockets()
        {
            IPAddress address = Loopback.NextAddress();
            using var sockets = new SocketSet();
            Socket listener = sockets.Add(Loopback.Tcp());
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(5);
            for (int i = 0; i < 3; i++)
            {
                Socket client = sockets.Add(Loopback.Tcp());
                client.Bind(new IPEndPoint(address, 0));
                client.Connect(listener.LocalEndPoint!);
                sockets.Add(listener.Accept());
            }

            Socket udp = sockets.Add(Loopback.Udp());
            udp.Bind(new IPEndPoint(address, 0));
            Socket udpConnected = sockets.Add(Loopback.Udp());
            udpConnected.Bind(new IPEndPoint(address, 0));
            udpConnected.Connect(udp.LocalEndPoint!);
            Socket mapped = sockets.Add(Loopback.Tcp(AddressFamily.InterNetworkV6));
            mapped.DualMode = true;
            mapped.Bind(new IPEndPoint(address.MapToIPv6(), 0));
            mapped.Listen(1);

            var query = new SocketQuery { LocalAddresses = new[] { new AddressPrefix(address) } };
            SocketTableReadResult netlink = LinuxSocketReader.Read(query, CancellationToken.None, LinuxTableSource.Automatic);
            SocketTableReadResult proc = LinuxSocketReader.Read(query, CancellationToken.None, LinuxTableSource.ProcNet);
            Assert.Equal("netlink sock_diag", netlink.Method);
            Assert.Equal("/proc/net", proc.Method);

            // /proc/net cannot show bound-only TCP sockets; everything else must match field for field.
            string[] fromNetlink = Keys(netlink.Sockets.Where(s => s.State != SocketState.Bound));
            string[] fromProc = Keys(proc.Sockets);
            Assert.Equal(10, fromNetlink.Length);
            Assert.Equal(fromNetlink, fromProc);
        }

        private static string[] Keys(IEnumerable<SocketTuple> sockets) =>
            sockets.Select(s => string.Join(" ", s.Protocol, s.State, s.Local, s.Remote, s.UserId, s.Inode, s.ProcessId)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Disposes every socket of a test.</summary>
    public sealed class SocketSet : IDisposable
    {
        private readonly List<Socket> _sockets = new();

        public Socket Add(Socket socket)
        {
            _sockets.Add(socket);
            return socket;
        }

        public void Dispose()
        {
            foreach (Socket socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }
}

namespace PortTools.Tests.Linux
{
    public class UnprivilegedReadTests
    {
        [OtherUserFact]
        public void Without_root_other_users_sockets_have_no_owner_and_one_warning_says_so()
        {
            System.Net.IPAddress address = Loopback.NextAddress();
            using var sockets = new SocketSet();
            for (int i = 0; i < 3; i++)
            {
                System.Net.Sockets.Socket listener = sockets.Add(Loopback.Tcp());
                listener.Bind(new System.Net.IPEndPoint(address, 0));
                listener.Listen(1);
            }

            var lines = TestHost.Run(TestHost.NobodyUid, "read", "--local-address", address.ToString());
            Assert.Equal("3", lines.Single(l => l.Key == "count").Value);
            Assert.All(lines.Where(l => l.Key == "socket"), l => Assert.DoesNotContain("pid=", l.Value, StringComparison.Ordinal));
            string warning = Assert.Single(lines, l => l.Key == "warning" && l.Value.StartsWith("The owning process", StringComparison.Ordinal)).Value;
            Assert.StartsWith("The owning process of 3 socket(s) is not shown: they belong to other users", warning, StringComparison.Ordinal);
            Assert.Single(lines, l => l.Key == "warning" && l.Value.StartsWith("The SO_REUSEADDR and SO_REUSEPORT of 3 ", StringComparison.Ordinal));

            // As root, the same read names the owner and warns about nothing.
            var asRoot = TestHost.Run(null, "read", "--local-address", address.ToString());
            Assert.All(asRoot.Where(l => l.Key == "socket"), l => Assert.Contains("pid=" + Environment.ProcessId, l.Value, StringComparison.Ordinal));
            Assert.DoesNotContain(asRoot, l => l.Key == "warning");
        }
    }
}
