using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>macOS and FreeBSD netstat -an, from the committed fixtures (see Fixtures/README.md) and single lines.</summary>
    public class NetstatBsdFormatTests
    {
        [Fact]
        public void Reads_macOS_netstat_an_p_tcp()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-macos-an-tcp.txt"));
            Assert.Equal(SocketTableFormat.NetstatBsd, run.Summary.Format);
            string[] expected =
            {
                "tcp ESTAB 192.168.1.20:52344 17.253.144.10:443",
                "tcp CLOSE-WAIT 192.168.1.20:52350 151.101.1.69:443",
                "tcp TIME-WAIT 192.168.1.20:52345 140.82.112.25:443",
                "tcp LISTEN [fe80::1]:631 dev=lo0",
                "tcp LISTEN [::1]:5432",
                "tcp LISTEN [::]:5000 v6only",
                "tcp LISTEN [::]:80 nov6only",
                "tcp LISTEN 127.0.0.1:8080",
                "tcp LISTEN 0.0.0.0:22",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(31, run.Sockets[1].ReceiveQueue);

            // The last line's IPv6 hosts were cut to 16 characters by netstat: an error, not a wrong address.
            SocketTableResult error = Assert.Single(run.Errors);
            Assert.Equal(12, error.LineNumber);
            Assert.Contains("'fe80::aede:48ff:' may be cut short", error.Message, StringComparison.Ordinal);
            Assert.Contains("-l (macOS)", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Reads_macOS_netstat_an_p_udp()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-macos-an-udp.txt")).AssertNoErrors();
            string[] expected =
            {
                "udp UNCONN 0.0.0.0:5353",
                "udp UNCONN [::]:5353 v6only",
                "udp UNCONN [::]:137 nov6only",
                "udp ESTAB 192.168.1.20:60321 192.168.1.1:53",
                "udp UNCONN [fe80::1]:123 dev=lo0",
                "udp UNCONN 127.0.0.1:323",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
        }

        [Fact]
        public void Reads_the_owner_from_macOS_netstat_v()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-macos-anv-tcp.txt")).AssertNoErrors();
            string[] expected =
            {
                "tcp ESTAB 192.168.1.20:52344 17.253.144.10:443 pid=812 process=Google%20Chrome%20He",
                "tcp LISTEN [::]:80 nov6only pid=4242 process=httpd",
                "tcp LISTEN 127.0.0.1:8080 pid=1517 process=node",
                "udp UNCONN 0.0.0.0:5353 pid=301 process=mDNSResponder",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
        }

        [Fact]
        public void Reads_FreeBSD_netstat_an_and_skips_the_unix_section()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-freebsd-an.txt")).AssertNoErrors();
            string[] expected =
            {
                "tcp ESTAB 192.168.1.10:22 192.168.1.5:51234",
                "tcp LISTEN 127.0.0.1:25",
                "tcp LISTEN [::]:22 v6only",
                "tcp LISTEN 0.0.0.0:22",
                "tcp LISTEN [::]:80 nov6only",
                "tcp TIME-WAIT 192.168.1.10:22 192.168.1.5:51200",
                "udp UNCONN 0.0.0.0:514",
                "udp UNCONN [::]:514 v6only",
                "udp UNCONN 192.168.1.10:123",
                "udp UNCONN [fe80::1]:123 dev=lo0",
                "udp UNCONN [::1]:123",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(4, run.Summary.OtherProtocolLines); // the UNIX section's header and its three lines
        }

        public static IEnumerable<object[]> Lines() => new[]
        {
            new object[] { "-A adds the PCB address first (FreeBSD)", "fffff80012345678 tcp4       0      0 127.0.0.1.25           *.*                    LISTEN", "tcp LISTEN 127.0.0.1:25" },
            new object[] { "-A adds socket and flow hash (macOS)", "ffffff8012345678 1a2b3c4d tcp4       0      0  127.0.0.1.25           *.*                    LISTEN", "tcp LISTEN 127.0.0.1:25" },
            new object[] { "wide (-W / -l): a 16-character host is whole", "tcp6       0      0  2001:db8:1:2::10.443                          2001:db8:1:2::20.50000                        ESTABLISHED", "tcp ESTAB [2001:db8:1:2::10]:443 [2001:db8:1:2::20]:50000" },
            new object[] { "old BSD: tcp without a version", "tcp        0      0  10.0.0.1.22            10.0.0.2.5000          ESTABLISHED", "tcp ESTAB 10.0.0.1:22 10.0.0.2:5000" },
            new object[] { "the 45-wide header of network_cmds 730 and later", "Proto Recv-Q Send-Q  Local Address                                 Foreign Address                               (state)\ntcp4       0      0  127.0.0.1.8080         *.*                    LISTEN", "tcp LISTEN 127.0.0.1:8080" },
        };

        [Theory]
        [MemberData(nameof(Lines))]
        public void Reads_the_BSD_variants(string name, string text, string expected)
        {
            ParseRun run = ParseRun.Of(text, SocketTableFormat.NetstatBsd).AssertNoErrors();
            Assert.True(expected.Split('|').SequenceEqual(run.Sockets.Select(s => s.ToString())), name + ": got " + string.Join(" | ", run.Sockets));
        }

        public static IEnumerable<object[]> BadLines() => new[]
        {
            new object[] { "tcp4       0      0  127.0.0.1:8080         *.*                    LISTEN", "'127.0.0.1:8080'" },
            new object[] { "tcp4       0      0  127.0.0.1.http         *.*                    LISTEN", "netstat -n" },
            new object[] { "tcp4       0      0  ::1.8080               *.*                    LISTEN", "expected an IPv4 address" },
            new object[] { "tcp4       0      0  127.0.0.1.8080         *.*                    LISTN", "'LISTN'" },
            new object[] { "tcp7       0      0  127.0.0.1.8080         *.*                    LISTEN", "'tcp7'" },
            new object[] { "tcp        0      0  *.8080                 *.*                    LISTEN", "cannot tell the address family" },
        };

        [Theory]
        [MemberData(nameof(BadLines))]
        public void Bad_lines_are_errors_naming_the_bad_token(string line, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(line, SocketTableFormat.NetstatBsd, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(line, SocketTableFormat.NetstatBsd));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Dual_stack_sockets_are_the_IPv6_wildcard_with_v6only_off()
        {
            SocketTuple socket = Assert.Single(SocketTableParser.Parse("tcp46      0      0  *.80                   *.*                    LISTEN", SocketTableFormat.NetstatBsd));
            Assert.Equal(IPAddress.IPv6Any, socket.LocalAddress);
            Assert.False(socket.IPv6Only);
        }
    }
}
