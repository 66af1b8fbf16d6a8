using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Lines in the layouts misc/ss.c prints (iproute2 6.1 to 7.x).</summary>
    public class SsFormatTests
    {
        private const string Header = "State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process";
        private const string NetidHeader = "Netid State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process";

        public static IEnumerable<object[]> Lines() => new[]
        {
            // name, text (header first where ss prints one), the canonical text of the parsed socket
            new object[] { "tan listener", Header + "\nLISTEN     0      128           0.0.0.0:22             0.0.0.0:*", "tcp LISTEN 0.0.0.0:22" },
            new object[] { "tan established", Header + "\nESTAB      0      36         192.0.2.10:22       198.51.100.7:50412", "tcp ESTAB 192.0.2.10:22 198.51.100.7:50412" },
            new object[] { "tan time-wait", Header + "\nTIME-WAIT  0      0           127.0.0.1:36257      127.0.0.1:37181", "tcp TIME-WAIT 127.0.0.1:36257 127.0.0.1:37181" },
            new object[] { "tan other states", "SYN-SENT 0 1 10.0.0.1:40000 10.0.0.2:443\nFIN-WAIT-2 0 0 10.0.0.1:40001 10.0.0.2:443\nCLOSE-WAIT 1 0 10.0.0.1:40002 10.0.0.2:443\nLAST-ACK 0 1 10.0.0.1:40003 10.0.0.2:443\nSYN-RECV 0 0 10.0.0.1:443 10.0.0.2:50000",
                "tcp SYN-SENT 10.0.0.1:40000 10.0.0.2:443|tcp FIN-WAIT-2 10.0.0.1:40001 10.0.0.2:443|tcp CLOSE-WAIT 10.0.0.1:40002 10.0.0.2:443|tcp LAST-ACK 10.0.0.1:40003 10.0.0.2:443|tcp SYN-RECV 10.0.0.1:443 10.0.0.2:50000" },
            new object[] { "tanp owners in order, each process once", Header + "\nLISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:((\"nginx\",pid=812,fd=6),(\"nginx\",pid=813,fd=6),(\"nginx\",pid=812,fd=9))", "tcp LISTEN 0.0.0.0:80 pid=812,813 process=nginx" },
            new object[] { "tanp different owners", "ESTAB 0 0 10.0.0.1:22 10.0.0.9:5000 users:((\"sshd\",pid=900,fd=4),(\"bash\",pid=901,fd=4))", "tcp ESTAB 10.0.0.1:22 10.0.0.9:5000 pid=900,901 process=sshd,bash" },
            new object[] { "name with spaces, quotes and parentheses", "ESTAB 0 0 10.0.0.1:5000 10.0.0.2:443 users:((\"Web Content\",pid=77,fd=30),(\"a\\\"b) (c\",pid=78,fd=3))", "tcp ESTAB 10.0.0.1:5000 10.0.0.2:443 pid=77,78 process=Web%20Content,a\\\"b)%20(c" },
            new object[] { "threads (-T)", "LISTEN 0 5 127.0.0.1:8000 0.0.0.0:* users:((\"python3\",pid=10,tid=11,fd=3),(\"python3\",pid=10,tid=12,fd=3))", "tcp LISTEN 127.0.0.1:8000 pid=10 process=python3" },
            new object[] { "uan (Netid-less UDP: UNCONN decides)", Header + "\nUNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\nESTAB 0 0 10.0.0.1:40000 10.0.0.2:53", "udp UNCONN 127.0.0.53:53 dev=lo|udp ESTAB 10.0.0.1:40000 10.0.0.2:53" },
            new object[] { "tuanpe with Netid and -e fields", NetidHeader + "\nudp   UNCONN 0 0 0.0.0.0%lo:6006 0.0.0.0:* users:((\"python3\",pid=19614,fd=12)) ino:9741091 sk:4810c7 cgroup:/ <->\ntcp   LISTEN 0 5 127.77.0.1:6001 0.0.0.0:* users:((\"python3\",pid=19614,fd=3)) uid:1000 ino:9741083 sk:499abc cgroup:/ <->",
                "udp UNCONN 0.0.0.0:6006 dev=lo uid=0 pid=19614 process=python3|tcp LISTEN 127.77.0.1:6001 uid=1000 pid=19614 process=python3" },
            new object[] { "other Netids are skipped", NetidHeader + "\nu_str ESTAB 0 0 * 12345 * 12346\nraw UNCONN 0 0 0.0.0.0:1 0.0.0.0:*\ntcp LISTEN 0 5 0.0.0.0:22 0.0.0.0:*", "tcp LISTEN 0.0.0.0:22" },
            new object[] { "without header (-H)", "LISTEN 0 128 0.0.0.0:2024 0.0.0.0:*", "tcp LISTEN 0.0.0.0:2024" },
            new object[] { "tlnp", "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\nLISTEN 0      5          127.0.0.1:8000      0.0.0.0:*    users:((\"python3\",pid=11351,fd=3))", "tcp LISTEN 127.0.0.1:8000 pid=11351 process=python3" },
            new object[] { "* is the dual-stack wildcard", "LISTEN 0 1 *:5559 *:*", "tcp LISTEN [::]:5559 nov6only" },
            new object[] { "[::] means IPV6_V6ONLY is on", "LISTEN 0 511 [::]:80 [::]:*", "tcp LISTEN [::]:80 v6only" },
            new object[] { "specific IPv6 address: v6only unknown", "LISTEN 0 1 [::1]:5558 [::]:*", "tcp LISTEN [::1]:5558" },
            new object[] { "v6only from -e", "LISTEN 0 1 [::1]:5558 [::]:* ino:1 sk:1 v6only:1 <->", "tcp LISTEN [::1]:5558 v6only uid=0" },
            new object[] { "v4-mapped", "ESTAB 0 0 [::ffff:127.0.0.1]:40894 [::ffff:127.0.0.1]:36289", "tcp ESTAB [::ffff:127.0.0.1]:40894 [::ffff:127.0.0.1]:36289" },
            new object[] { "link-local with interface", "udp UNCONN 0 0 [fe80::1]%eth0:546 [::]:*", "udp UNCONN [fe80::1]:546 dev=eth0" },
            new object[] { "dual-stack wildcard bound to a device", "udp UNCONN 0 0 *%lo:53 *:*", "udp UNCONN [::]:53 nov6only dev=lo" },
            new object[] { "-o timer is read, -e shutdown fields are passed over", "ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 timer:(keepalive,119min,0) ino:77 sk:1 cgroup:/system.slice <->", "tcp ESTAB 10.0.0.1:22 10.0.0.2:5000 timer=keepalive,7140s,0 uid=0" },
        };

        [Theory]
        [MemberData(nameof(Lines))]
        public void Reads_the_ss_layouts(string name, string text, string expected)
        {
            ParseRun run = ParseRun.Of(text, SocketTableFormat.Ss).AssertNoErrors();
            Assert.True(expected.Split('|').SequenceEqual(run.Sockets.Select(s => s.ToString())), name + ": got " + string.Join(" | ", run.Sockets));
        }

        [Fact]
        public void Queues_inode_and_source_are_kept()
        {
            SocketTuple socket = Assert.Single(ParseRun.Of("tcp LISTEN 3 511 0.0.0.0:80 0.0.0.0:* ino:530306 sk:6377", SocketTableFormat.Ss).AssertNoErrors().Sockets);
            Assert.Equal(3, socket.ReceiveQueue);
            Assert.Equal(511, socket.SendQueue);
            Assert.Equal(530306ul, socket.Inode);
            Assert.Equal(0, socket.UserId); // -e prints uid: only when it is not 0
            Assert.Equal("ss:1", socket.Source);
            Assert.Equal(IPAddress.Any, socket.RemoteAddress);
            Assert.Equal("*:*", socket.Remote);
        }

        [Fact]
        public void Time_wait_has_no_inode_and_without_e_no_uid()
        {
            SocketTuple socket = Assert.Single(ParseRun.Of("TIME-WAIT 0 0 127.0.0.1:1 127.0.0.1:2", SocketTableFormat.Ss).Sockets);
            Assert.Null(socket.Inode);
            Assert.Null(socket.UserId);
            Assert.Empty(socket.Processes);

            socket = Assert.Single(ParseRun.Of("TIME-WAIT 0 0 127.0.0.1:1 127.0.0.1:2 timer:(timewait,59sec,0) ino:0 sk:1", SocketTableFormat.Ss).Sockets);
            Assert.Null(socket.Inode);
        }

        [Fact]
        public void Netid_less_ESTAB_lines_wait_for_a_line_that_tells_the_protocol()
        {
            // ss -uan can list a connected socket first; the UNCONN after it says UDP for both.
            ParseRun run = ParseRun.Of(Header + "\nESTAB 0 0 10.0.0.1:40000 10.0.0.2:53\nUNCONN 0 0 0.0.0.0:68 0.0.0.0:*", SocketTableFormat.Ss).AssertNoErrors();
            Assert.Equal(new[] { "udp ESTAB 10.0.0.1:40000 10.0.0.2:53", "udp UNCONN 0.0.0.0:68" }, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(new long[] { 2, 3 }, run.Results.Where(r => r.Socket is not null).Select(r => r.LineNumber));

            // ss -tan: a TCP-only state says TCP.
            run = ParseRun.Of("ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\nTIME-WAIT 0 0 10.0.0.1:22 10.0.0.2:5001", SocketTableFormat.Ss).AssertNoErrors();
            Assert.All(run.Sockets, s => Assert.Equal(TransportProtocol.Tcp, s.Protocol));

            // Nothing decides: ESTAB alone is read as TCP (ss -tn) at the end.
            run = ParseRun.Of("ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000", SocketTableFormat.Ss).AssertNoErrors();
            Assert.Equal(SocketState.Established, Assert.Single(run.Sockets).State);
        }

        [Fact]
        public void The_protocol_option_overrides_inference()
        {
            ParseRun run = ParseRun.Of("UNCONN 0 0 127.0.0.1:5000 0.0.0.0:*", new SocketTableParserOptions { Format = SocketTableFormat.Ss, Protocol = TransportProtocol.Tcp }).AssertNoErrors();
            SocketTuple socket = Assert.Single(run.Sockets);
            Assert.Equal(TransportProtocol.Tcp, socket.Protocol);
            Assert.Equal(SocketState.Bound, socket.State);
        }

        [Fact]
        public void Bound_inactive_sockets_read_as_Bound()
        {
            // iproute2 >= 6.8 prints them (ss -a or -B) in the kernel's SS_CLOSE state, spelled UNCONN.
            ParseRun run = ParseRun.Of(Fixtures.Read("ss-tan-bound-inactive.txt"), SocketTableFormat.Ss).AssertNoErrors();
            Assert.Equal(3, run.Sockets.Count(s => s.State == SocketState.Bound));
            Assert.All(run.Sockets, s => Assert.Equal(TransportProtocol.Tcp, s.Protocol));

            run = ParseRun.Of(Fixtures.Read("ss-tuanB-bound-inactive.txt")).AssertNoErrors();
            Assert.All(run.Sockets, s => Assert.Equal("tcp BOUND", s.ToString().Substring(0, 9)));

            run = ParseRun.Of("tcp BOUND-INACTIVE 0 0 127.0.0.1:5000 0.0.0.0:*", SocketTableFormat.Ss).AssertNoErrors();
            Assert.Equal(SocketState.Bound, Assert.Single(run.Sockets).State);
        }

        [Fact]
        public void Detail_lines_of_i_and_m_are_skipped()
        {
            ParseRun run = ParseRun.Of("ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n\t cubic wscale:7,7 rto:204 rtt:0.1/0.05 mss:65483\n\t skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0)", SocketTableFormat.Ss).AssertNoErrors();
            Assert.Single(run.Sockets);
            Assert.Equal(2, run.Summary.LinesSkipped);
        }

        public static IEnumerable<object[]> BadLines() => new[]
        {
            new object[] { "LISTN 0 128 0.0.0.0:22 0.0.0.0:*", "'LISTN'" },
            new object[] { "LISTEN x 128 0.0.0.0:22 0.0.0.0:*", "Recv-Q" },
            new object[] { "LISTEN 0 x 0.0.0.0:22 0.0.0.0:*", "Send-Q" },
            new object[] { "LISTEN 0 128", "local address:port" },
            new object[] { "LISTEN 0 128 0.0.0.0:99999 0.0.0.0:*", "'99999'" },
            new object[] { "LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:*", "ss -n" },
            new object[] { "ESTAB 0 0 localhost:22 10.0.0.2:5000", "host names need ss -n" },
            new object[] { "LISTEN 0 128 10.1:22 0.0.0.0:*", "'10.1'" },
            new object[] { "LISTEN 0 128 0.0.0.0:22", "peer address:port" },
            new object[] { "ESTAB 0 0 10.0.0.1:22 [::1]:5000", "not of the local address's family" },
            new object[] { "LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((nginx,pid=1,fd=2))", "users:((\"name\",pid=N,fd=N),...)" },
            new object[] { "LISTEN 0 128 0.0.0.0:22 0.0.0.0:* ino:abc", "'ino:abc'" },
            new object[] { "udp LISTEN 0 0 0.0.0.0:53 0.0.0.0:*", "not a UDP state" },
        };

        [Theory]
        [MemberData(nameof(BadLines))]
        public void Bad_lines_are_errors_naming_the_bad_token(string line, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(line, SocketTableFormat.Ss, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(line, SocketTableFormat.Ss));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
            Assert.Contains("Line 1 ('" + line + "')", error.Message, StringComparison.Ordinal);
        }
    }
}
