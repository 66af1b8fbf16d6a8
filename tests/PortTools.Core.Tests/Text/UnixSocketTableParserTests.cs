using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>UNIX sockets from the text of ss -x, netstat -x, lsof -U, /proc/net/unix and the canonical form.</summary>
    public class UnixSocketTableParserTests
    {
        private const string SsXpae = @"Netid State  Recv-Q Send-Q                 Local Address:Port  Peer Address:Port Process
u_str LISTEN 1      5                   /tmp/pt-probe-l.sock 172984            * 0      users:((""python3"",pid=19755,fd=6)) <-> ino:11657249 dev:0/65024 peers: 172985
u_str ESTAB  0      0                                      * 172985            * 0      users:((""python3"",pid=19755,fd=7)) <->
u_dgr UNCONN 0      0                   /tmp/pt-probe-d.sock 172981            * 0      users:((""python3"",pid=19755,fd=3)) <-> ino:11657218 dev:0/65024
u_str ESTAB  0      0                   /tmp/my server.sock 172990            * 172991 users:((""web server"",pid=200,fd=9),(""web server"",pid=201,fd=9))
u_str ESTAB  5      0                                      * 172991            * 172990 users:((""curl"",pid=300,fd=3))
u_seq LISTEN 0      1                              @ab@c d 173390            * 0      <-> peers:
tcp   LISTEN 0      128                          0.0.0.0:22         0.0.0.0:*     users:((""sshd"",pid=1,fd=3))
";

        [Fact]
        public void Reads_ss_xpae_with_peers_pending_clients_file_devices_and_spaces()
        {
            var parser = new UnixSocketTableParser();
            parser.Add(SsXpae);
            parser.Complete();
            var sockets = new List<UnixSocket>();
            var skipped = new List<string>();
            while (parser.TryRead(out UnixSocketTableResult result))
            {
                if (result.Kind == SocketTableResultKind.Socket)
                {
                    sockets.Add(result.Socket!);
                }
                else if (result.Kind == SocketTableResultKind.Skipped)
                {
                    skipped.Add(result.Message!);
                }
                else
                {
                    Assert.Fail(result.Message);
                }
            }

            Assert.Equal(SocketTableFormat.Ss, parser.Format);
            Assert.Equal(6, sockets.Count);
            Assert.Contains("not a UNIX domain socket: tcp", skipped);

            UnixSocket listener = sockets[0];
            Assert.Equal((UnixSocketType.Stream, SocketState.Listen, "/tmp/pt-probe-l.sock", 172984ul, 1L, 5L), (listener.Type, listener.State, listener.Path, listener.Inode!.Value, listener.ReceiveQueue!.Value, listener.SendQueue!.Value));
            Assert.Equal((11657249ul, "254:0", 19755), (listener.FileInode!.Value, listener.FileDevice, listener.ProcessId!.Value));

            // Not accepted yet: the listener's peers: list names it, so it reaches the listener.
            UnixSocket waiting = sockets[1];
            Assert.Equal(((ulong?)null, "/tmp/pt-probe-l.sock", 19755), (waiting.PeerInode, waiting.PeerPath, waiting.PeerProcessId!.Value));

            Assert.Equal((UnixSocketType.Datagram, SocketState.Unconnected), (sockets[2].Type, sockets[2].State));

            UnixSocket server = sockets[3];
            Assert.Equal(("/tmp/my server.sock", 172991ul, 300, "curl"), (server.Path, server.PeerInode!.Value, server.PeerProcessId!.Value, server.PeerProcessName));
            Assert.Equal(new[] { 200, 201 }, server.Processes.Select(o => o.ProcessId));
            Assert.Equal("web server", server.ProcessName);
            Assert.Equal(("/tmp/my server.sock", 200), (sockets[4].PeerPath, sockets[4].PeerProcessId!.Value));

            Assert.Equal((UnixSocketType.SeqPacket, UnixAddressKind.Abstract, "@ab@c d"), (sockets[5].Type, sockets[5].AddressKind, sockets[5].Path));
            Assert.Equal("ss-unix:2", sockets[0].Source);
        }

        [Fact]
        public void Reads_netstat_xp_with_and_without_programs()
        {
            IReadOnlyList<UnixSocket> sockets = UnixSocketTableParser.Parse(@"Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      1/sshd
Active UNIX domain sockets (servers and established)
Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path
unix  2      [ ACC ]     STREAM     LISTENING     168513   19043/dotnet         /tmp/MSBuild19043
unix  3      [ ]         STREAM     CONNECTED     168518   19007/dotnet         
unix  2      [ ]         DGRAM                    172981   19755/python3        /tmp/pt probe d.sock
unix  2      [ ACC ]     SEQPACKET  LISTENING     171047   -                    @abstract
unix  3      [ ]         STREAM     CONNECTED     12345678901 42/nginx: master pro /run/x.sock
");
            Assert.Equal(5, sockets.Count);
            Assert.Equal((UnixSocketType.Stream, SocketState.Listen, "/tmp/MSBuild19043", 168513ul, 19043, "dotnet"), (sockets[0].Type, sockets[0].State, sockets[0].Path, sockets[0].Inode!.Value, sockets[0].ProcessId!.Value, sockets[0].ProcessName));
            Assert.Equal((SocketState.Established, UnixAddressKind.Unnamed), (sockets[1].State, sockets[1].AddressKind));
            Assert.Equal((UnixSocketType.Datagram, SocketState.Unconnected, "/tmp/pt probe d.sock"), (sockets[2].Type, sockets[2].State, sockets[2].Path));
            Assert.Equal((UnixSocketType.SeqPacket, UnixAddressKind.Abstract, (int?)null), (sockets[3].Type, sockets[3].AddressKind, sockets[3].ProcessId));
            Assert.Equal(("nginx: master pro", "/run/x.sock"), (sockets[4].ProcessName, sockets[4].Path));
            Assert.All(sockets, s => Assert.Null(s.PeerInode));

            IReadOnlyList<UnixSocket> plain = UnixSocketTableParser.Parse(@"Active UNIX domain sockets (w/o servers)
Proto RefCnt Flags       Type       State         I-Node   Path
unix  3      [ ]         STREAM     CONNECTED     167915   /tmp/MSBuild19043
");
            Assert.Equal(("/tmp/MSBuild19043", 167915ul), (plain[0].Path, plain[0].Inode!.Value));
        }

        [Fact]
        public void Reads_lsof_U_with_peers_and_merges_shared_sockets()
        {
            IReadOnlyList<UnixSocket> sockets = UnixSocketTableParser.Parse(@"COMMAND   PID USER   FD   TYPE             DEVICE SIZE/OFF   NODE NAME
dotnet  19524 root   11u  unix 0x0000000034f5e3d3      0t0 169905 /tmp/dotnet-diagnostic-19524-137605-socket type=STREAM (LISTEN)
dotnet  19524 root  165u  unix 0x00000000f985d264      0t0 172498 type=STREAM ->INO=172525 19575,dotnet,73u (CONNECTED)
dotnet  19575 root   73u  unix 0x00000000a8095258      0t0 172525 /tmp/MSBuild19575 type=STREAM ->INO=172498 19524,dotnet,165u (CONNECTED)
python3 19755 root    3u  unix 0x0000000015e734ae      0t0 172981 /tmp/pt-probe-d.sock type=DGRAM (UNCONNECTED)
nginx     812 root    6u  unix 0x0000000015e734af      0t0 172999 /run/n.sock type=STREAM (LISTEN)
nginx     813 www     6u  unix 0x0000000015e734af      0t0 172999 /run/n.sock type=STREAM (LISTEN)
nginx     812 root    7u  IPv4             123456      0t0    TCP *:80 (LISTEN)
");
            Assert.Equal(5, sockets.Count);
            Assert.Equal((SocketState.Listen, "/tmp/dotnet-diagnostic-19524-137605-socket", 169905ul), (sockets[0].State, sockets[0].Path, sockets[0].Inode!.Value));
            Assert.Equal((172525ul, "/tmp/MSBuild19575", 19575), (sockets[1].PeerInode!.Value, sockets[1].PeerPath, sockets[1].PeerProcessId!.Value));
            Assert.Equal((UnixSocketType.Datagram, SocketState.Unconnected), (sockets[3].Type, sockets[3].State));
            Assert.Equal(new[] { 812, 813 }, sockets[4].Processes.Select(o => o.ProcessId));
        }

        [Fact]
        public void Reads_proc_net_unix_and_the_canonical_text()
        {
            IReadOnlyList<UnixSocket> proc = UnixSocketTableParser.Parse(@"Num       RefCount Protocol Flags    Type St Inode Path
0000000041cfb371: 00000002 00000000 00010000 0001 01 172494 /tmp/MSBuild19575
000000006304927d: 00000003 00000000 00000000 0001 03    45
");
            Assert.Equal(SocketState.Listen, proc[0].State);
            Assert.Equal((SocketState.Established, 45ul, (ulong?)null), (proc[1].State, proc[1].Inode!.Value, proc[1].PeerInode));

            IReadOnlyList<UnixSocket> canonical = UnixSocketTableParser.Parse("u_str LISTEN /run/app.sock ino=9 pid=812 process=app\nu_str ESTAB * ino=10 peer=11\nu_str ESTAB /run/app.sock ino=11 peer=10 pid=812 process=app\n");
            Assert.Equal(SocketTableFormat.Canonical, UnixSocketTableParser.Detect("u_str LISTEN /run/app.sock ino=9"));
            Assert.Equal(("/run/app.sock", 812), (canonical[1].PeerPath, canonical[1].PeerProcessId!.Value));
        }

        [Theory]
        [InlineData("u_str LISTEN /run/app.sock ino=93660 pid=812 process=app")]
        [InlineData("u_dgr ESTAB * ino=1 peer=2 uid=1000")]
        [InlineData("u_seq UNCONN @name%20with%20space netns=red:4026532301")]
        [InlineData("u_str LISTEN %40relative")]
        [InlineData("u_str LISTEN /run/a%2Cb pid=1,2 process=a,b")]
        public void The_canonical_text_round_trips(string text)
        {
            UnixSocket socket = UnixSocket.Parse(text);
            Assert.Equal(text, socket.ToString());
            Assert.Equal(socket, UnixSocket.Parse(socket.ToString()));
        }

        [Theory]
        [InlineData("u_str LISTEN", "expected at least a type, a state and an address")]
        [InlineData("tcp LISTEN /x", "unknown type 'tcp'")]
        [InlineData("u_str TIME-WAIT /x", "is not a UNIX socket state")]
        [InlineData("u_str LISTEN /x ino=abc", "'ino=abc' is not understood")]
        [InlineData("u_str LISTEN /x process=a", "'process=' needs 'pid='")]
        public void Bad_canonical_text_names_the_token(string text, string message)
        {
            Assert.False(UnixSocket.TryParse(text, out _));
            FormatException exception = Assert.Throws<FormatException>(() => UnixSocket.Parse(text));
            Assert.Contains(message, exception.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("State  Recv-Q Send-Q Local Address:Port  Peer Address:Port\nESTAB  0 0 * 12 * 13", "no Netid column")]
        [InlineData("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\nu_str ESTAB x y * 12 * 13", "expected Netid State Recv-Q Send-Q")]
        [InlineData("Active UNIX domain sockets (servers and established)\nProto RefCnt Flags Type State I-Node Path\nunix 2 [ ACC ] BANANA LISTENING 1 /x", "expected the socket type")]
        [InlineData("hello world", "cannot tell the format")]
        public void Bad_lines_are_errors_that_say_what_was_expected(string text, string message)
        {
            var parser = new UnixSocketTableParser();
            parser.Add(text);
            parser.Complete();
            var errors = new List<string>();
            while (parser.TryRead(out UnixSocketTableResult result))
            {
                if (result.Kind == SocketTableResultKind.Error)
                {
                    errors.Add(result.Message!);
                }
            }

            Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
            Assert.Throws<FormatException>(() => UnixSocketTableParser.Parse(text));
        }

        [Fact]
        public void Formats_without_unix_sockets_are_refused() =>
            Assert.Throws<ArgumentException>(() => new UnixSocketTableParser(new SocketTableParserOptions { Format = SocketTableFormat.NetstatWindows }));

        private static string Run(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output;
        }

        [LinuxFact]
        public void Live_netstat_and_lsof_and_proc_net_unix_text_read_as_the_reader_sees_the_sockets()
        {
            string directory = "/tmp/pt-utext-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            Directory.CreateDirectory(directory);
            try
            {
                using var lab = new UnixLabProcess();
                lab.Socket("L", "stream");
                lab.Ok("bind L " + directory + "/srv.sock");
                lab.Ok("listen L");
                lab.Socket("C", "stream");
                lab.Ok("connect C " + directory + "/srv.sock");
                lab.Ok("accept L A");
                lab.Ok("pair P Q dgram");
                var mine = new HashSet<int> { lab.Pid };
                IReadOnlyList<UnixSocket> live = LiveUnixSocketTable.Read(new UnixSocketQuery { ProcessIds = mine }).Sockets;
                static string Key(UnixSocket s) => string.Join("|", s.Type, s.State, s.Path ?? "-", s.Inode);
                string[] expected = live.Select(Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                Assert.Equal(5, expected.Length);

                string[] ofLab(IReadOnlyList<UnixSocket> sockets) => sockets.Where(s => expected.Contains(Key(s))).Select(Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                Assert.Equal(expected, ofLab(UnixSocketTableParser.Parse(File.ReadAllText("/proc/self/net/unix"))));

                if (File.Exists("/usr/bin/netstat") || File.Exists("/bin/netstat"))
                {
                    IReadOnlyList<UnixSocket> netstat = UnixSocketTableParser.Parse(Run("netstat", "-xanp"));
                    Assert.Equal(expected, ofLab(netstat));
                    Assert.All(netstat.Where(s => expected.Contains(Key(s))), s => Assert.Equal(lab.Pid, s.ProcessId));
                }

                if (File.Exists("/usr/bin/lsof") || File.Exists("/usr/sbin/lsof"))
                {
                    IReadOnlyList<UnixSocket> lsof = UnixSocketTableParser.Parse(Run("lsof", "-U", "+E", "-a", "-p", lab.Pid.ToString()));
                    Assert.Equal(expected, ofLab(lsof));
                    foreach (UnixSocket socket in live.Where(s => s.PeerInode is not null))
                    {
                        Assert.Equal(socket.PeerInode, lsof.Single(s => s.Inode == socket.Inode).PeerInode);
                    }
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
