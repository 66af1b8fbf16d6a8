using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Windows netstat -ano / -anob / -anoq, from the committed fixtures (see Fixtures/README.md).</summary>
    public class NetstatWindowsFormatTests
    {
        [Fact]
        public void Reads_netstat_ano()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-windows-ano.txt")).AssertNoErrors();
            Assert.Equal(SocketTableFormat.NetstatWindows, run.Summary.Format);
            string[] expected =
            {
                "tcp LISTEN 0.0.0.0:135 pid=1052",
                "tcp LISTEN 0.0.0.0:445 pid=4",
                "tcp LISTEN 10.0.0.5:139 pid=4",
                "tcp ESTAB 10.0.0.5:52113 52.113.194.132:443 pid=8712",
                "tcp TIME-WAIT 10.0.0.5:52118 20.42.65.90:443",
                "tcp CLOSE-WAIT 10.0.0.5:52120 13.107.42.14:443 pid=9120",
                "tcp SYN-SENT 10.0.0.5:52121 192.0.2.44:80 pid=9120",
                "tcp FIN-WAIT-2 10.0.0.5:52122 192.0.2.45:443 pid=9120",
                "tcp ESTAB 127.0.0.1:49670 127.0.0.1:49671 pid=3344",
                "tcp LISTEN [::]:135 pid=1052",
                "tcp LISTEN [::1]:49669 pid=3012",
                "tcp LISTEN [fe80::1c2d:3e4f:5a6b:7c8d%12]:139 pid=4",
                "udp UNCONN 0.0.0.0:500 pid=4180",
                "udp UNCONN 127.0.0.1:1900 pid=6012",
                "udp UNCONN [::]:500 pid=4180",
                "udp UNCONN [fe80::1c2d:3e4f:5a6b:7c8d%12]:1900 pid=6012",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(12u, run.Sockets[11].LocalAddress.ScopeId);
            Assert.Equal("netstat-windows:5", run.Sockets[0].Source);
        }

        [Fact]
        public void Reads_the_owner_lines_of_netstat_anob()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-windows-anob.txt")).AssertNoErrors();
            string[] expected =
            {
                "tcp LISTEN 0.0.0.0:135 pid=1052 process=svchost",
                "tcp LISTEN 0.0.0.0:445 pid=4",
                "tcp LISTEN 0.0.0.0:5040 pid=6620 process=svchost",
                "tcp ESTAB 10.0.0.5:52113 52.113.194.132:443 pid=8712 process=Teams",
                "tcp TIME-WAIT 10.0.0.5:52118 20.42.65.90:443",
                "udp UNCONN 0.0.0.0:500 pid=4180 process=svchost",
                "udp UNCONN [::]:500 pid=4180 process=svchost",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(new long[] { 5, 8, 10, 13, 15, 16, 19 }, run.Results.Where(r => r.Socket is not null).Select(r => r.LineNumber));
            Assert.Equal(0, run.Summary.LinesFailed);
        }

        [Fact]
        public void Reads_bound_ports_of_netstat_anoq()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("netstat-windows-anoq.txt")).AssertNoErrors();
            Assert.Equal(new[] { SocketState.Listen, SocketState.Bound, SocketState.Bound }, run.Sockets.Select(s => s.State));
            Assert.Equal(IPAddress.IPv6Any, run.Sockets[2].LocalAddress);
        }

        public static IEnumerable<object[]> BadLines() => new[]
        {
            new object[] { "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENNG        1052", "'LISTENNG'" },
            new object[] { "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       x", "PID" },
            new object[] { "  TCP    0.0.0.0:135            0.0.0.0:0", "TCP state" },
            new object[] { "  TCP    ::1:135                [::]:0                 LISTENING       4", "bracketed IPv6" },
            new object[] { "  TCP    DESKTOP-1:135          0.0.0.0:0              LISTENING       4", "netstat -n" },
            new object[] { "  TCP    0.0.0.0:epmap          0.0.0.0:0              LISTENING       4", "'epmap'" },
            new object[] { " [svchost.exe]", "must follow one" },
        };

        [Theory]
        [MemberData(nameof(BadLines))]
        public void Bad_lines_are_errors_naming_the_bad_token(string line, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(line, SocketTableFormat.NetstatWindows, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(line, SocketTableFormat.NetstatWindows));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void A_sentence_after_a_connection_that_is_no_owner_line_is_an_error()
        {
            ParseRun run = ParseRun.Of("  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1052\n  this is not an owner line", SocketTableFormat.NetstatWindows);
            Assert.Single(run.Sockets);
            Assert.Contains("expected a -b owner line", Assert.Single(run.Errors).Message, StringComparison.Ordinal);
        }
    }
}
