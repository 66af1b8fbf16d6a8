using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Lines in the layout of net-tools 2.10 netstat.c (tcp_do_one, udp_do_one, finish_this_one).</summary>
    public class NetstatLinuxFormatTests
    {
        private const string Banner = "Active Internet connections (servers and established)";
        private const string Header = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    ";
        private const string HeaderE = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name    ";
        private const string HeaderO = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer";

        public static IEnumerable<object[]> Lines() => new[]
        {
            new object[] { "tanp listener", Banner + "\n" + Header + "\ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd: /usr/sbin ", "tcp LISTEN 0.0.0.0:22 pid=812 process=sshd" },
            new object[] { "program '-'", Header + "\ntcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN      -                   ", "tcp LISTEN 0.0.0.0:2024" },
            new object[] { "established and time-wait", Header + "\ntcp        0      0 127.0.0.1:50012         127.9.9.9:5555          ESTABLISHED 17493/python3       \ntcp        0      0 127.0.0.1:36257         127.0.0.1:37181         TIME_WAIT   -                   ",
                "tcp ESTAB 127.0.0.1:50012 127.9.9.9:5555 pid=17493 process=python3|tcp TIME-WAIT 127.0.0.1:36257 127.0.0.1:37181" },
            new object[] { "tcp6 wildcard and loopback", Header + "\ntcp6       0      0 :::80                   :::*                    LISTEN      11344/nginx: master \ntcp6       0      0 ::1:5558                :::*                    LISTEN      17493/python3       ",
                "tcp LISTEN [::]:80 pid=11344 process=nginx|tcp LISTEN [::1]:5558 pid=17493 process=python3" },
            new object[] { "tcp6 prints v4-mapped addresses as IPv4", Header + "\ntcp6       0      0 127.0.0.1:55738         127.0.0.1:46099         ESTABLISHED 22197/dotnet        ", "tcp ESTAB [::ffff:127.0.0.1]:55738 [::ffff:127.0.0.1]:46099 pid=22197 process=dotnet" },
            new object[] { "uanp: no state for UDP, ESTABLISHED when connected", Banner + "\n" + Header + "\nudp        0      0 127.0.0.1:5353          0.0.0.0:*                           11408/python3       \nudp        0      0 127.0.0.1:40913         127.9.9.9:5556          ESTABLISHED 17493/python3       \nudp6       0      0 127.77.0.1:6007         :::*                                19572/python3       ",
                "udp UNCONN 127.0.0.1:5353 pid=11408 process=python3|udp ESTAB 127.0.0.1:40913 127.9.9.9:5556 pid=17493 process=python3|udp UNCONN [::ffff:127.77.0.1]:6007 pid=19572 process=python3" },
            new object[] { "tanpe: user and inode", HeaderE + "\ntcp        0      0 127.0.0.1:8000          0.0.0.0:*               LISTEN      1000       530667     11351/python3       \nudp        0      0 0.0.0.0:68              0.0.0.0:*                           0          12345      -                   ",
                "tcp LISTEN 127.0.0.1:8000 uid=1000 pid=11351 process=python3|udp UNCONN 0.0.0.0:68 uid=0" },
            new object[] { "tanpo: timers", HeaderO + "\ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd             off (0.00/0/0)\ntcp        0     36 10.0.0.1:22             10.0.0.2:5000           ESTABLISHED 900/sshd: alice      on (0.20/0/0)",
                "tcp LISTEN 0.0.0.0:22 pid=812 process=sshd|tcp ESTAB 10.0.0.1:22 10.0.0.2:5000 pid=900 process=sshd" },
            new object[] { "without a header", "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd", "tcp LISTEN 0.0.0.0:22 pid=812 process=sshd" },
            new object[] { "TCP_CLOSE is Bound, as the live reader says", "tcp        0      0 127.0.0.1:5000          0.0.0.0:*               CLOSE       -", "tcp BOUND 127.0.0.1:5000" },
            new object[] { "raw lines and other sections are skipped", Banner + "\n" + Header + "\nraw6       0      0 :::58                   :::*                    7           1234/NetworkManager \ntcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN -\nActive UNIX domain sockets (servers and established)\nProto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\nunix  2      [ ACC ]     STREAM     LISTENING     20532    1/systemd            /run/systemd/private",
                "tcp LISTEN 0.0.0.0:22" },
        };

        [Theory]
        [MemberData(nameof(Lines))]
        public void Reads_the_net_tools_layouts(string name, string text, string expected)
        {
            ParseRun run = ParseRun.Of(text, SocketTableFormat.NetstatLinux).AssertNoErrors();
            Assert.True(expected.Split('|').SequenceEqual(run.Sockets.Select(s => s.ToString())), name + ": got " + string.Join(" | ", run.Sockets));
        }

        [Fact]
        public void Inode_queues_and_source_are_kept()
        {
            SocketTuple socket = ParseRun.Of(HeaderE + "\ntcp        1      2 127.0.0.1:8000          0.0.0.0:*               LISTEN      0          530667     11351/python3", SocketTableFormat.NetstatLinux).AssertNoErrors().Sockets.Single();
            Assert.Equal(530667ul, socket.Inode);
            Assert.Equal(1, socket.ReceiveQueue);
            Assert.Equal(2, socket.SendQueue);
            Assert.Equal("netstat-linux:2", socket.Source);
            Assert.Null(socket.IPv6Only); // netstat does not show it
        }

        [Fact]
        public void Other_sections_and_protocols_count_as_other_protocol_lines()
        {
            ParseRun run = ParseRun.Of(Lines().Last()[1].ToString()!, SocketTableFormat.NetstatLinux);
            Assert.Equal(2, run.Summary.OtherProtocolLines);
        }

        public static IEnumerable<object[]> BadLines() => new[]
        {
            new object[] { "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTN 812/sshd", "'LISTN'" },
            new object[] { "tcp x 0 0.0.0.0:22 0.0.0.0:* LISTEN 812/sshd", "Recv-Q" },
            new object[] { "tcp 0 0 0.0.0.0 0.0.0.0:* LISTEN 812/sshd", "'0.0.0.0'" },
            new object[] { "tcp 0 0 0.0.0.0:ssh 0.0.0.0:* LISTEN 812/sshd", "netstat -n" },
            new object[] { "tcp 0 0 localhost:22 0.0.0.0:* LISTEN 812/sshd", "host names need netstat -n" },
            new object[] { "tcp6 0 0 2001:db8:aaaa:bbbb:c:22 :::* LISTEN 812/sshd", "may be cut short" },
            new object[] { "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN sshd", "PID/Program name" },
            new object[] { "tcp 0 0 0.0.0.0:22 0.0.0.0:*", "TCP state" },
            new object[] { "tcpx 0 0 0.0.0.0:22 0.0.0.0:* LISTEN -", "'tcpx'" },
        };

        [Theory]
        [MemberData(nameof(BadLines))]
        public void Bad_lines_are_errors_naming_the_bad_token(string line, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(line, SocketTableFormat.NetstatLinux, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(line, SocketTableFormat.NetstatLinux));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
            Assert.Contains("('" + line + "')", error.Message, StringComparison.Ordinal);
        }
    }
}
