using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    public class NetworkNamespaceTests
    {
        [LinuxRootFact]
        public void Reads_a_namespace_by_name_path_and_process_id_and_sees_only_its_sockets()
        {
            using var space = new TestNetworkNamespace();
            using var sockets = new SocketSet();

            // Safe here: these wildcard binds exist only inside the test's own namespace.
            (Socket dual, Socket v6only, Socket v4, Socket device, Socket udp) = space.Run(() =>
            {
                Socket a = sockets.Add(Loopback.Tcp(AddressFamily.InterNetworkV6));
                a.DualMode = true;
                a.Bind(new IPEndPoint(IPAddress.IPv6Any, 7001));
                a.Listen(1);
                Socket b = sockets.Add(Loopback.Tcp(AddressFamily.InterNetworkV6));
                b.DualMode = false;
                b.Bind(new IPEndPoint(IPAddress.IPv6Any, 7002));
                b.Listen(1);
                Socket c = sockets.Add(Loopback.Tcp());
                c.Bind(new IPEndPoint(IPAddress.Any, 7003));
                c.Listen(1);
                Socket d = sockets.Add(Loopback.Udp());
                d.SetRawSocketOption(1 /* SOL_SOCKET */, 25 /* SO_BINDTODEVICE */, Encoding.ASCII.GetBytes("veth0\0"));
                d.Bind(new IPEndPoint(IPAddress.Any, 7004));
                Socket e = sockets.Add(Loopback.Udp(AddressFamily.InterNetworkV6));
                e.Bind(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 7005));
                return (a, b, c, d, e);
            });

            using Process inside = Process.Start(new ProcessStartInfo("ip", new[] { "netns", "exec", space.Name, "sleep", "30" }))!;
            try
            {
                System.Threading.Thread.Sleep(300); // until ip has entered the namespace and exec'd sleep
                foreach (string specification in new[] { space.Name, space.Path, inside.Id.ToString() })
                {
                    IReadOnlyList<SocketTuple> found = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = specification }).Sockets;
                    string[] seen = found.Select(s => $"{s.Protocol} {s.State} {s.Local} v6only={s.IPv6Only?.ToString() ?? "-"} dev={s.BoundInterface ?? "-"}").OrderBy(s => s, StringComparer.Ordinal).ToArray();
                    Assert.Equal(
                        new[]
                        {
                            "Tcp Listen 0.0.0.0:7003 v6only=- dev=-",
                            "Tcp Listen [::]:7001 v6only=False dev=-",
                            "Tcp Listen [::]:7002 v6only=True dev=-",
                            "Udp Unconnected 0.0.0.0:7004 v6only=- dev=veth0",
                            "Udp Unconnected [2001:db8::1]:7005 v6only=True dev=-",
                        },
                        seen);
                    Assert.All(found, s => Assert.Equal(Environment.ProcessId, s.ProcessId));
                }
            }
            finally
            {
                inside.Kill();
            }

            // The host's own table does not show them.
            Assert.DoesNotContain(LiveSocketTable.Read(new SocketQuery { LocalPorts = new[] { new PortRange(7001, 7005) }, ProcessIds = new[] { Environment.ProcessId } }).Sockets, s => s.LocalPort >= 7001);
        }

        [LinuxRootFact]
        public void Every_socket_read_says_which_namespace_it_lives_in_with_its_inode_and_name()
        {
            using var space = new TestNetworkNamespace();
            using var sockets = new SocketSet();
            space.Run(() =>
            {
                Socket inside = sockets.Add(Loopback.Tcp());
                inside.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 7010));
                inside.Listen(1);
                return 0;
            });

            ulong inode = NamespaceInode(space.Path);
            using Process holder = Process.Start(new ProcessStartInfo("ip", new[] { "netns", "exec", space.Name, "sleep", "30" }))!;
            try
            {
                System.Threading.Thread.Sleep(300);
                foreach ((string specification, int? processId) in new[] { (space.Name, (int?)null), (space.Path, null), (holder.Id.ToString(), (int?)holder.Id) })
                {
                    SocketTuple socket = Assert.Single(LiveSocketTable.Read(new SocketQuery { NetworkNamespace = specification, IncludeProcesses = false }).Sockets);
                    Assert.NotNull(socket.NetworkNamespace);
                    Assert.Equal(inode, socket.NetworkNamespace!.Inode);
                    Assert.Equal(space.Name, socket.NetworkNamespace.Name); // named even when read by path or process id
                    Assert.Equal(processId, socket.NetworkNamespace.ProcessId);
                    Assert.Contains("netns=" + space.Name + ":" + inode, socket.ToString(), StringComparison.Ordinal);
                }
            }
            finally
            {
                holder.Kill();
            }

            // The host's own namespace too: its inode, and no name unless one was given to it.
            using Socket host = Loopback.Tcp();
            IPAddress address = Loopback.NextAddress();
            host.Bind(new IPEndPoint(address, 0));
            host.Listen(1);
            SocketTuple own = Assert.Single(LiveSocketTable.Read(new SocketQuery { LocalPorts = new[] { new PortRange(Loopback.PortOf(host)) }, IncludeProcesses = false }).Sockets, s => s.LocalAddress.Equals(address));
            Assert.Equal(NamespaceInode("/proc/self/ns/net"), own.NetworkNamespace!.Inode);
            Assert.DoesNotContain(HostNetwork.NamedNetworkNamespaces(), name => NamespaceInode("/run/netns/" + name) == own.NetworkNamespace.Inode && own.NetworkNamespace.Name is null);

            // One stamp per read: a table of thousands shares one object.
            IReadOnlyList<SocketTuple> table = LiveSocketTable.Read(new SocketQuery { IncludeProcesses = false }).Sockets;
            Assert.Single(table.Select(s => s.NetworkNamespace).Distinct(ReferenceEqualityComparer.Instance));
        }

        [Fact]
        public void A_namespace_from_text_is_not_one_this_process_read()
        {
            Assert.Null(NetworkNamespaceInfo.Parse("red:4026532301").LiveEntryPath);
            Assert.Null(SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 netns=red:4026532301").NetworkNamespace!.LiveEntryPath);
        }

        private static ulong NamespaceInode(string path)
        {
            (ulong Device, ulong Inode)? identity = LibC.PathIdentity(path);
            Assert.NotNull(identity);
            return identity!.Value.Inode;
        }

        [LinuxRootFact]
        public void Reading_the_own_namespace_by_process_id_needs_no_setns()
        {
            IReadOnlyList<SocketTuple> viaPid = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = Environment.ProcessId.ToString(), IncludeProcesses = false, Protocols = new[] { TransportProtocol.Udp } }).Sockets;
            Assert.NotNull(viaPid);
        }

        [Theory]
        [InlineData("no-such-namespace-pt", NetworkNamespaceError.NotFound, "was not found")]
        [InlineData("/no/such/file", NetworkNamespaceError.NotFound, "does not exist")]
        [InlineData("2147483646", NetworkNamespaceError.NotFound, "no process with id 2147483646")]
        public void A_namespace_that_does_not_exist_gets_a_clear_error(string specification, NetworkNamespaceError error, string message)
        {
            if (!OperatingSystem.IsLinux())
            {
                return;
            }

            NetworkNamespaceException exception = Assert.Throws<NetworkNamespaceException>(() => LiveSocketTable.Read(new SocketQuery { NetworkNamespace = specification }));
            Assert.Equal(error, exception.Error);
            Assert.Contains(message, exception.Message, StringComparison.Ordinal);
            Assert.Equal(specification, exception.Specification);
        }

        [LinuxRootFact]
        public void A_file_that_is_not_a_namespace_is_refused_by_setns()
        {
            string file = System.IO.Path.GetTempFileName();
            try
            {
                NetworkNamespaceException exception = Assert.Throws<NetworkNamespaceException>(() => LiveSocketTable.Read(new SocketQuery { NetworkNamespace = file }));
                Assert.Equal(NetworkNamespaceError.NotANamespace, exception.Error);
                Assert.Contains("is not a network namespace", exception.Message, StringComparison.Ordinal);
            }
            finally
            {
                System.IO.File.Delete(file);
            }
        }
    }
}
