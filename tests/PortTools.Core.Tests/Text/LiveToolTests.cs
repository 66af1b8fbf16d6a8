using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Tests.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>
    /// The real ss, netstat and lsof (Debian's iproute2, net-tools and lsof packages) run against sockets
    /// this test opens on a private 127.x.y.z address; their whole output must parse without an error,
    /// and the sockets on that address must equal what LiveSocketTable.Read reports, field by field
    /// where the tool shows the field.
    /// </summary>
    public sealed class LiveToolTests : IDisposable
    {
        private readonly IPAddress _address = Loopback.NextAddress();
        private readonly SocketSet _sockets = new SocketSet();
        private readonly List<SocketTuple> _live;

        public LiveToolTests()
        {
            if (!OperatingSystem.IsLinux())
            {
                _live = new List<SocketTuple>();
                return;
            }

            Socket listener = _sockets.Add(Loopback.Tcp());
            listener.Bind(new IPEndPoint(_address, 0));
            listener.Listen(7);
            Socket client = _sockets.Add(Loopback.Tcp());
            client.Bind(new IPEndPoint(_address, 0));
            client.Connect(listener.LocalEndPoint!);
            _sockets.Add(listener.Accept());

            Socket udp = _sockets.Add(Loopback.Udp());
            udp.Bind(new IPEndPoint(_address, 0));
            Socket udpConnected = _sockets.Add(Loopback.Udp());
            udpConnected.Bind(new IPEndPoint(_address, 0));
            udpConnected.Connect(udp.LocalEndPoint!);

            // An IPv6 socket on the v4-mapped form of the address: each tool prints it its own way.
            Socket mapped = _sockets.Add(Loopback.Tcp(AddressFamily.InterNetworkV6));
            mapped.DualMode = true;
            mapped.Bind(new IPEndPoint(_address.MapToIPv6(), 0));
            mapped.Listen(3);

            if (Privilege.IsRoot)
            {
                // SO_BINDTODEVICE (needs CAP_NET_RAW): ss prints it as 127.x.y.z%lo:port.
                Socket bound = _sockets.Add(Loopback.Udp());
                bound.SetRawSocketOption(1, 25, Encoding.ASCII.GetBytes("lo\0"));
                bound.Bind(new IPEndPoint(_address, 0));
            }

            // ss 6.1, netstat and lsof cannot list bound-only TCP sockets; there are none here anyway.
            _live = LiveSocketTable.Read(new SocketQuery { LocalAddresses = new[] { new AddressPrefix(_address) } }).Sockets.ToList();
            Assert.Equal(Privilege.IsRoot ? 7 : 6, _live.Count);
        }

        [Flags]
        private enum Shown
        {
            None = 0,
            Owners = 1,
            OwnerPid = 2,
            UserId = 4,
            Inode = 8,
            Queues = 16,
            Device = 32,
            ShortName = 64,
        }

        [ToolFact("ss")]
        public void Ss_tan() => Check(Tools.Run("ss", "-tan"), Shown.Queues, TransportProtocol.Tcp);

        [ToolFact("ss")]
        public void Ss_tanp() => Check(Tools.Run("ss", "-tanp"), Shown.Queues | Shown.Owners, TransportProtocol.Tcp);

        [ToolFact("ss")]
        public void Ss_uanp() => Check(Tools.Run("ss", "-uanp"), Shown.Queues | Shown.Owners | Shown.Device, TransportProtocol.Udp);

        [ToolFact("ss")]
        public void Ss_tuanpe() => Check(Tools.Run("ss", "-tuanpe"), Shown.Queues | Shown.Owners | Shown.UserId | Shown.Inode | Shown.Device);

        [ToolFact("ss")]
        public void Ss_tlnp_without_header() => Check(Tools.Run("ss", "-Htlnp"), Shown.Queues | Shown.Owners, TransportProtocol.Tcp, listenersOnly: true);

        [ToolFact("ss")]
        public void Ss_tuan_without_header() => Check(Tools.Run("ss", "-Htuan"), Shown.Queues | Shown.Device);

        [ToolFact("netstat")]
        public void Netstat_tanp() => Check(Tools.Run("netstat", "-tanp"), Shown.OwnerPid | Shown.ShortName, TransportProtocol.Tcp);

        [ToolFact("netstat")]
        public void Netstat_uanp() => Check(Tools.Run("netstat", "-uanp"), Shown.OwnerPid | Shown.ShortName, TransportProtocol.Udp);

        [ToolFact("netstat")]
        public void Netstat_tuanpe() => Check(Tools.Run("netstat", "-tuanpe"), Shown.OwnerPid | Shown.ShortName | Shown.UserId | Shown.Inode);

        [ToolFact("lsof")]
        public void Lsof_table() => Check(Tools.Run("lsof", "-nP", "-iTCP", "-iUDP"), Shown.Owners | Shown.ShortName | Shown.Inode);

        [ToolFact("lsof")]
        public void Lsof_fields() => Check(Tools.Run("lsof", "-nP", "-iTCP", "-iUDP", "-F", "pcfnPTtd"), Shown.Owners | Shown.ShortName | Shown.Inode);

        [ToolFact("lsof")]
        public void Lsof_fields_NUL_terminated() => Check(Tools.Run("lsof", "-nP", "-iTCP", "-iUDP", "-F", "0pcfnPTtd"), Shown.Owners | Shown.ShortName | Shown.Inode);

        [LinuxFact]
        public void Proc_net_files_as_text()
        {
            string text = string.Concat(new[] { "tcp", "tcp6", "udp", "udp6" }.Select(f => File.ReadAllText("/proc/net/" + f)));
            Check(text, Shown.UserId | Shown.Inode);
        }

        public void Dispose() => _sockets.Dispose();

        private void Check(string output, Shown shown, TransportProtocol? protocol = null, bool listenersOnly = false)
        {
            ParseRun run = ParseRun.Of(output).AssertNoErrors();
            List<SocketTuple> parsed = run.Sockets.Where(Mine).ToList();
            List<SocketTuple> live = _live.Where(s => (protocol is null || s.Protocol == protocol) && (!listenersOnly || s.State == SocketState.Listen)).ToList();
            Assert.NotEmpty(live);
            Assert.Equal(Keys(live), Keys(parsed));
            foreach (SocketTuple expected in live)
            {
                SocketTuple actual = parsed.Single(p => Key(p) == Key(expected));
                string what = Key(expected) + " from " + actual.Source;
                Assert.True(expected.State == actual.State, what + ": state " + actual.State + ", live " + expected.State);
                Assert.StartsWith(run.Summary.Format switch
                {
                    SocketTableFormat.Ss => "ss:",
                    SocketTableFormat.NetstatLinux => "netstat-linux:",
                    SocketTableFormat.Lsof => "lsof:",
                    SocketTableFormat.LsofFields => "lsof-fields:",
                    _ => "proc-net:",
                }, actual.Source, StringComparison.Ordinal);
                if (actual.IPv6Only is not null)
                {
                    Assert.True(expected.IPv6Only == actual.IPv6Only, what + ": v6only " + actual.IPv6Only + ", live " + expected.IPv6Only);
                }

                if (shown.HasFlag(Shown.Owners))
                {
                    Assert.True(Pids(expected).SequenceEqual(Pids(actual)), what + ": owners " + string.Join(",", actual.Processes) + ", live " + string.Join(",", expected.Processes));
                    foreach (SocketOwner owner in actual.Processes)
                    {
                        string liveName = expected.Processes.Single(o => o.ProcessId == owner.ProcessId).ProcessName!;
                        Assert.True(shown.HasFlag(Shown.ShortName) ? liveName.StartsWith(owner.ProcessName!, StringComparison.Ordinal) : liveName == owner.ProcessName, what + ": name " + owner.ProcessName + ", live " + liveName);
                    }
                }

                if (shown.HasFlag(Shown.OwnerPid))
                {
                    // netstat shows one owner, named from its command line rather than the kernel's command name.
                    SocketOwner owner = Assert.Single(actual.Processes);
                    Assert.Contains(owner.ProcessId, Pids(expected));
                    Assert.False(string.IsNullOrEmpty(owner.ProcessName), what);
                    Assert.StartsWith(owner.ProcessName!, CommandLineName(owner.ProcessId), StringComparison.Ordinal);
                }

                if (shown.HasFlag(Shown.UserId))
                {
                    Assert.True(expected.UserId == actual.UserId, what + ": uid " + actual.UserId + ", live " + expected.UserId);
                }

                if (shown.HasFlag(Shown.Inode))
                {
                    Assert.True(expected.Inode == actual.Inode, what + ": inode " + actual.Inode + ", live " + expected.Inode);
                }

                if (shown.HasFlag(Shown.Queues))
                {
                    Assert.True(expected.ReceiveQueue == actual.ReceiveQueue && expected.SendQueue == actual.SendQueue, what + ": queues " + actual.ReceiveQueue + "/" + actual.SendQueue + ", live " + expected.ReceiveQueue + "/" + expected.SendQueue);
                }

                if (shown.HasFlag(Shown.Device))
                {
                    Assert.True(expected.BoundInterface == actual.BoundInterface, what + ": device " + actual.BoundInterface + ", live " + expected.BoundInterface);
                }
            }
        }

        private bool Mine(SocketTuple socket) =>
            socket.LocalAddress.Equals(_address) || socket.LocalAddress.Equals(_address.MapToIPv6());

        private static string Key(SocketTuple socket) => socket.Protocol + " " + socket.Local + " " + socket.Remote;

        private static string[] Keys(IEnumerable<SocketTuple> sockets) => sockets.Select(Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();

        private static int[] Pids(SocketTuple socket) => socket.Processes.Select(p => p.ProcessId).OrderBy(p => p).ToArray();

        /// <summary>What net-tools shows as the program: the base name of the first word of /proc/pid/cmdline.</summary>
        private static string CommandLineName(int pid)
        {
            string first = File.ReadAllText("/proc/" + pid + "/cmdline").Split('\0')[0];
            return first.StartsWith('/') ? Path.GetFileName(first) : first;
        }
    }
}
