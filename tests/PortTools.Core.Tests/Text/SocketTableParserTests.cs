using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>The parser's contract: detection, every line accounted for, errors that name the line, streaming use.</summary>
    public class SocketTableParserTests
    {
        public static IEnumerable<object[]> FirstLines() => new[]
        {
            new object[] { "State      Recv-Q Send-Q Local Address:Port Peer Address:Port Process", SocketTableFormat.Ss },
            new object[] { "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port", SocketTableFormat.Ss },
            new object[] { "ESTAB      0      0     10.0.0.1:22     10.0.0.2:5000", SocketTableFormat.Ss },
            new object[] { "tcp   LISTEN 0      128     0.0.0.0:22      0.0.0.0:*", SocketTableFormat.Ss },
            new object[] { "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name", SocketTableFormat.NetstatLinux },
            new object[] { "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd", SocketTableFormat.NetstatLinux },
            new object[] { "tcp6       0      0 :::22                   :::*                    LISTEN      -", SocketTableFormat.NetstatLinux },
            new object[] { "\nActive Connections\n\n  Proto  Local Address          Foreign Address        State           PID", SocketTableFormat.NetstatWindows },
            new object[] { "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1052", SocketTableFormat.NetstatWindows },
            new object[] { "Active Internet connections (including servers)\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)", SocketTableFormat.NetstatBsd },
            new object[] { "tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN", SocketTableFormat.NetstatBsd },
            new object[] { "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", SocketTableFormat.ProcNet },
            new object[] { "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0", SocketTableFormat.ProcNet },
            new object[] { "COMMAND   PID     USER   FD   TYPE  DEVICE SIZE/OFF NODE NAME", SocketTableFormat.Lsof },
            new object[] { "nginx   11344     root    5u  IPv4  530306      0t0  TCP *:80 (LISTEN)", SocketTableFormat.Lsof },
            new object[] { "p11344", SocketTableFormat.LsofFields },
            new object[] { "tcp LISTEN 0.0.0.0:80 pid=1 process=x", SocketTableFormat.Canonical },
            new object[] { "udp UNCONN [::]:53 nov6only", SocketTableFormat.Canonical },
            new object[] { "#TYPE PortTools.SocketTuple", SocketTableFormat.Csv },
            new object[] { "\"Protocol\",\"AddressFamily\",\"LocalAddress\",\"LocalPort\"", SocketTableFormat.Csv },
            new object[] { "Protocol;AddressFamily;LocalAddress;LocalPort", SocketTableFormat.Csv },
            new object[] { "[", SocketTableFormat.Json },
            new object[] { "{\"Protocol\":6}", SocketTableFormat.Json },
        };

        [Theory]
        [MemberData(nameof(FirstLines))]
        public void Auto_detects_the_format_from_the_first_meaningful_lines(string text, SocketTableFormat expected)
        {
            var parser = new SocketTableParser();
            parser.Add(text);
            Assert.Equal(expected, parser.Format);
        }

        [Fact]
        public void Every_line_is_accounted_for_and_bad_lines_in_the_middle_do_not_stop_the_rest()
        {
            string text = string.Join("\n",
                "State      Recv-Q Send-Q Local Address:Port Peer Address:Port Process",
                "LISTEN     0      128          0.0.0.0:22         0.0.0.0:*",
                "LISTEN     0      x            0.0.0.0:80         0.0.0.0:*",
                string.Empty,
                "this line is garbage",
                "ESTAB      0      0          10.0.0.1:22        10.0.0.2:5000",
                "ESTAB      0      0          10.0.0.1:99999     10.0.0.2:5001",
                "\t cubic wscale:7,7",
                "ESTAB      0      0          10.0.0.1:22        10.0.0.2:5002");
            ParseRun run = ParseRun.Of(text);
            Assert.Equal(SocketTableFormat.Ss, run.Summary.Format);
            Assert.Equal(new[] { "tcp LISTEN 0.0.0.0:22", "tcp ESTAB 10.0.0.1:22 10.0.0.2:5000", "tcp ESTAB 10.0.0.1:22 10.0.0.2:5002" }, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(new long[] { 3, 5, 7 }, run.Errors.Select(e => e.LineNumber));
            Assert.Equal("LISTEN     0      x            0.0.0.0:80         0.0.0.0:*", run.Errors[0].Line);
            Assert.Contains("'x'", run.Errors[0].Message, StringComparison.Ordinal);
            Assert.Contains("'this'", run.Errors[1].Message, StringComparison.Ordinal);
            Assert.Contains("'99999'", run.Errors[2].Message, StringComparison.Ordinal);
            Assert.Equal(new long[] { 1, 4, 8 }, run.Results.Where(r => r.Kind == SocketTableResultKind.Skipped).Select(r => r.LineNumber));
            Assert.Equal(9, run.Summary.LinesRead);
            Assert.Equal(3, run.Summary.LinesParsed);
            Assert.Equal(3, run.Summary.LinesSkipped);
            Assert.Equal(3, run.Summary.LinesFailed);
            Assert.Equal("Read 9 lines as Ss: 3 sockets from 3 lines, 3 skipped, 3 failed.", run.Summary.ToString());
        }

        [Fact]
        public void Results_come_in_line_order_with_the_source_of_each_socket()
        {
            ParseRun run = ParseRun.Of("tcp LISTEN 0.0.0.0:80\n# a comment\nudp UNCONN 0.0.0.0:53");
            Assert.Equal(new[] { 1L, 2, 3 }, run.Results.Select(r => r.LineNumber));
            Assert.Equal(new[] { "canonical:1", "canonical:3" }, run.Sockets.Select(s => s.Source));
        }

        [Fact]
        public void A_line_that_shows_no_format_is_an_error_and_detection_goes_on()
        {
            ParseRun run = ParseRun.Of("some preamble someone pasted\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:*");
            Assert.Equal(1, Assert.Single(run.Errors).LineNumber);
            Assert.Contains("cannot tell the format", run.Errors[0].Message, StringComparison.Ordinal);
            Assert.Single(run.Sockets);
        }

        [Fact]
        public void A_string_holding_line_breaks_counts_as_several_lines()
        {
            var parser = new SocketTableParser();
            parser.Add("tcp LISTEN 0.0.0.0:80\r\nudp UNCONN 0.0.0.0:53\r\n");
            parser.Add("\uFEFFtcp LISTEN 0.0.0.0:443");
            parser.Complete();
            var sources = new List<string?>();
            while (parser.TryRead(out SocketTableResult result))
            {
                sources.Add(result.Socket?.Source);
            }

            Assert.Equal(new[] { "canonical:1", "canonical:2", "canonical:3" }, sources);
            Assert.Equal(3, parser.Summary.LinesRead);
        }

        [Fact]
        public void Adding_after_Complete_is_refused()
        {
            var parser = new SocketTableParser();
            parser.Complete();
            Assert.Throws<InvalidOperationException>(() => parser.Add("tcp LISTEN 0.0.0.0:80"));
            Assert.Throws<ArgumentNullException>(() => new SocketTableParser().Add(null!));
        }

        [Fact]
        public void ReadAll_streams_a_reader_and_completes_it()
        {
            var parser = new SocketTableParser();
            using var reader = new StringReader(Fixtures.Read("netstat-windows-anob.txt"));
            List<SocketTableResult> results = parser.ReadAll(reader).ToList();
            Assert.Equal(7, results.Count(r => r.Kind == SocketTableResultKind.Socket));
            Assert.Equal("svchost", results.Last(r => r.Socket is not null).Socket!.ProcessName);
        }

        [Fact]
        public void ReadAll_stops_when_cancelled()
        {
            using var cancellation = new CancellationTokenSource();
            var parser = new SocketTableParser(new SocketTableParserOptions(), cancellation.Token);
            string text = string.Concat(Enumerable.Repeat("tcp LISTEN 0.0.0.0:80\n", 5000));
            int seen = 0;
            Assert.Throws<OperationCanceledException>(() =>
            {
                foreach (SocketTableResult result in parser.ReadAll(new StringReader(text)))
                {
                    if (++seen == 10)
                    {
                        cancellation.Cancel();
                    }
                }
            });
            Assert.True(seen < 5000);
        }

        [Fact]
        public void Parse_stops_at_the_first_error_with_its_line_and_text()
        {
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse("tcp LISTEN 0.0.0.0:80\ntcp LISTN 0.0.0.0:81\ntcp LISTEN 0.0.0.0:82"));
            Assert.StartsWith("Line 2 ('tcp LISTN 0.0.0.0:81'): ", error.Message, StringComparison.Ordinal);
            Assert.Contains("'LISTN'", error.Message, StringComparison.Ordinal);

            Assert.True(SocketTableParser.TryParse("tcp LISTEN 0.0.0.0:80\n\nudp UNCONN 0.0.0.0:53", SocketTableFormat.Auto, out IReadOnlyList<SocketTuple>? sockets));
            Assert.Equal(2, sockets.Count);
            Assert.True(SocketTableParser.TryParse(string.Empty, SocketTableFormat.Auto, out sockets));
            Assert.Empty(sockets);
            Assert.False(SocketTableParser.TryParse("no format here", SocketTableFormat.Auto, out _));
        }

        [Fact]
        public void Netstat_banners_of_other_socket_kinds_skip_their_section()
        {
            ParseRun run = ParseRun.Of("Active UNIX domain sockets (servers and established)\nProto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\nunix  2      [ ACC ]     STREAM     LISTENING     20532    1/systemd            /run/systemd/private\nActive Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN     ").AssertNoErrors();
            Assert.Equal("tcp LISTEN 0.0.0.0:22", Assert.Single(run.Sockets).ToString());
            Assert.Equal(2, run.Summary.OtherProtocolLines);
        }
    }
}
