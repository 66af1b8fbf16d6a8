using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using PortTools.Linux;
using PortTools.Tests.Rules.Differential;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>The option reader's logic over scripted system calls: what is read, what is counted, and the one warning.</summary>
    public class SocketOptionReaderTests
    {
        [Theory]
        [InlineData(TransportProtocol.Tcp, SocketState.Listen, true)]
        [InlineData(TransportProtocol.Tcp, SocketState.Bound, true)]
        [InlineData(TransportProtocol.Tcp, SocketState.Established, false)]
        [InlineData(TransportProtocol.Tcp, SocketState.TimeWait, false)]
        [InlineData(TransportProtocol.Tcp, SocketState.SynReceived, false)]
        [InlineData(TransportProtocol.Udp, SocketState.Unconnected, true)]
        [InlineData(TransportProtocol.Udp, SocketState.Connected, false)]
        public void Only_listening_bound_and_unconnected_sockets_are_read(TransportProtocol protocol, SocketState state, bool read) =>
            Assert.Equal(read, SocketOptionReader.Wants(protocol, state));

        [Fact]
        public void Options_come_from_the_copy_which_is_closed_and_each_process_is_opened_once()
        {
            var calls = new ScriptedCalls();
            calls.Sockets[(100, 3)] = (42, reuseAddress: 1, reusePort: 0, v6Only: 1, device: "lo");
            calls.Sockets[(100, 4)] = (43, reuseAddress: 0, reusePort: 1, v6Only: 0, device: null);
            using (var reader = new SocketOptionReader(calls))
            {
                SocketOptions first = reader.Read(100, 3, 42, inet6: true);
                SocketOptions second = reader.Read(100, 4, 43, inet6: false);
                Assert.True(first.Known);
                Assert.True(first.ReuseAddress);
                Assert.False(first.ReusePort);
                Assert.True(first.V6Only);
                Assert.Equal("lo", first.Device);
                Assert.False(second.ReuseAddress);
                Assert.True(second.ReusePort);
                Assert.Null(second.V6Only);
                Assert.Equal(2, reader.ReadCount);
                Assert.Null(reader.Warning());
                Assert.Equal(1, calls.Opened);
                Assert.Equal(2, calls.Closed.Count); // both copies, at once
            }

            Assert.Equal(3, calls.Closed.Count); // and the pidfd at the end
        }

        [Fact]
        public void Each_cause_is_counted_and_one_warning_names_them()
        {
            var calls = new ScriptedCalls();
            calls.OpenErrors[200] = LibC.EPERM;
            calls.OpenErrors[201] = LibC.EPERM;
            calls.OpenErrors[300] = LibC.ESRCH;
            calls.Sockets[(400, 5)] = (7, 1, 1, 0, null);
            using var reader = new SocketOptionReader(calls);
            Assert.False(reader.Read(200, 3, 1, false).Known);
            Assert.False(reader.Read(200, 4, 2, false).Known);
            Assert.False(reader.Read(201, 3, 3, false).Known);
            Assert.False(reader.Read(300, 3, 4, false).Known);
            Assert.False(reader.Read(400, 5, 8, false).Known); // descriptor reused for another socket since the walk
            reader.NoOwner();
            Assert.Equal(6, reader.FailedCount);
            string warning = reader.Warning()!;
            Assert.StartsWith("The SO_REUSEADDR and SO_REUSEPORT of 6 listening or unconnected socket(s) could not be read and stay unknown ($null): ", warning, StringComparison.Ordinal);
            Assert.Contains("3 because their owners are other users' processes, and pidfd_getfd needs ptrace rights over the owner (EPERM", warning, StringComparison.Ordinal);
            Assert.Contains("2 because their process closed them or exited", warning, StringComparison.Ordinal);
            Assert.Contains("1 because no process this user can see holds them", warning, StringComparison.Ordinal);
            Assert.Equal(4, calls.Opened); // pid 200 asked once though it holds two sockets
        }

        [Fact]
        public void A_kernel_without_pidfd_getfd_is_named()
        {
            var calls = new ScriptedCalls { GetFdError = LibC.ENOSYS };
            using var reader = new SocketOptionReader(calls);
            Assert.False(reader.Read(1, 3, 9, false).Known);
            Assert.Contains("the kernel has no pidfd_getfd (ENOSYS: it needs Linux 5.6 or later)", reader.Warning(), StringComparison.Ordinal);
        }

        /// <summary>Scripted pidfd_open, pidfd_getfd and getsockopt: pidfd = 1000 + pid, copy = 2000 + fd.</summary>
        private sealed class ScriptedCalls : ISocketOptionCalls
        {
            public Dictionary<(int Pid, int Fd), (ulong Inode, int reuseAddress, int reusePort, int v6Only, string? device)> Sockets { get; } = new();

            public Dictionary<int, int> OpenErrors { get; } = new();

            public int GetFdError { get; init; }

            public int Opened { get; private set; }

            public List<int> Closed { get; } = new();

            private readonly Dictionary<int, (int Pid, int Fd)> _copies = new();

            public int OpenProcess(int pid)
            {
                Opened++;
                return OpenErrors.TryGetValue(pid, out int errno) ? -errno : 1000 + pid;
            }

            public int DuplicateDescriptor(int pidfd, int fd)
            {
                if (GetFdError != 0)
                {
                    return -GetFdError;
                }

                int copy = 2000 + fd + (_copies.Count * 100);
                _copies[copy] = (pidfd - 1000, fd);
                return Sockets.ContainsKey((pidfd - 1000, fd)) ? copy : -LibC.EBADF;
            }

            public ulong InodeOf(int fd) => Sockets[_copies[fd]].Inode;

            public int GetInt(int fd, int level, int name)
            {
                var socket = Sockets[_copies[fd]];
                return name switch
                {
                    LibC.SO_REUSEADDR => socket.reuseAddress,
                    LibC.SO_REUSEPORT => socket.reusePort,
                    _ => socket.v6Only,
                };
            }

            public string? GetDevice(int fd) => Sockets[_copies[fd]].device;

            public void Close(int fd) => Closed.Add(fd);
        }
    }

    /// <summary>An unprivileged reader: other users' sockets keep unknown options, its own are read, and the answers built on both are right.</summary>
    public class UnprivilegedOptionReadTests
    {
        [OtherUserFact]
        public void Without_root_other_users_options_stay_unknown_and_the_reason_blames_the_uid()
        {
            IPAddress address = Loopback.NextAddress();
            var sockets = new List<Socket>();
            int port = 0;
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    Socket listener = Loopback.Tcp();
                    sockets.Add(listener);
                    listener.SetRawSocketOption(1, 15, BitConverter.GetBytes(1)); // SO_REUSEPORT
                    listener.Bind(new IPEndPoint(address, port));
                    listener.Listen(1);
                    port = Loopback.PortOf(listener);
                }

                var lines = TestHost.Run(TestHost.NobodyUid, "read", "--local-address", address.ToString());
                List<SocketTuple> table = lines.Where(l => l.Key == "socket").Select(l => SocketTuple.Parse(l.Value)).ToList();
                Assert.Equal(2, table.Count);
                Assert.All(table, s => Assert.Null(s.ReusePort));
                Assert.All(table, s => Assert.Null(s.ReuseAddress));
                Assert.Single(lines, l => l.Key == "warning" && l.Value.StartsWith("The SO_REUSEADDR and SO_REUSEPORT of 2 listening or unconnected socket(s) could not be read", StringComparison.Ordinal));

                // As root the same read has them, and no warning about them.
                var asRoot = TestHost.Run(null, "read", "--local-address", address.ToString());
                Assert.All(asRoot.Where(l => l.Key == "socket"), l => Assert.Contains(" reuseport ", l.Value, StringComparison.Ordinal)); // .NET sets SO_REUSEADDR itself on Unix
                Assert.DoesNotContain(asRoot, l => l.Key == "warning");

                // The kernel refuses nobody's SO_REUSEPORT listener; the engine, from nobody's table, says why: the uid.
                using var lab = new LabProcess(null, TestHost.NobodyUid);
                lab.Do("open x tcp inet reuseport");
                Assert.Equal(98, LabProcess.Errno(lab.Do("bind x " + address + " " + port)));
                var facts = new HostFacts(TargetOS.Linux, new[] { address }) { UserId = TestHost.NobodyUid };
                PortBindResult result = RuleEngine.DecideBind(SocketIndex.Build(table, facts, SocketTableOrder.KernelOrder), new BindRequest { Address = address, Port = port, ReusePort = true, Listen = true });
                Assert.False(result.CanBind);
                Assert.Contains("uid 65534 here, uid 0 there", result.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain("did not", result.Reason, StringComparison.Ordinal);

                // nobody's own listener is read by nobody (same user, no Yama restriction here) unless ptrace is restricted.
                IPAddress own = Loopback.NextAddress();
                lab.Do("open y tcp inet reuseaddr");
                lab.Do("bind y " + own + " 0");
                lab.Do("listen y");
                var mine = TestHost.Run(TestHost.NobodyUid, "read", "--local-address", own.ToString());
                string line = Assert.Single(mine, l => l.Key == "socket").Value;
                if (!System.IO.File.Exists("/proc/sys/kernel/yama/ptrace_scope") || System.IO.File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim() == "0")
                {
                    Assert.Contains(" reuseaddr noreuseport ", line, StringComparison.Ordinal);
                }
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        }
    }
}
