using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Get-SocketTuple | Export-Csv and | ConvertTo-Json read back to equal sockets; Windows NetTCPIP exports read as sockets.</summary>
    public class ExportRoundTripTests
    {
        /// <summary>The sockets of Fixtures/make-porttools-exports.ps1, in its order.</summary>
        public static SocketTuple[] SampleSockets() => new[]
        {
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Established, LocalAddress = IPAddress.Parse("192.0.2.10"), LocalPort = 443, RemoteAddress = IPAddress.Parse("198.51.100.7"), RemotePort = 40000, Processes = new[] { new SocketOwner(812, "nginx"), new SocketOwner(813, "nginx") }, UserId = 33, Inode = 123456, ReceiveQueue = 0, SendQueue = 17 },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 8080, ReusePort = true, UserId = 1000, Inode = 4294967296, ReceiveQueue = 0, SendQueue = 511, Processes = new[] { new SocketOwner(2001, "Web Content") } },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Any, LocalPort = 22, IPv6Only = false, Processes = new[] { new SocketOwner(900, "sshd") }, UserId = 0 },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Loopback, LocalPort = 631, IPv6Only = true },
            new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 68, BoundInterface = "eth0", Processes = new[] { new SocketOwner(1, null) } },
            new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Connected, LocalAddress = IPAddress.Parse("::ffff:10.0.0.1"), LocalPort = 5353, RemoteAddress = IPAddress.Parse("::ffff:10.0.0.2"), RemotePort = 53, IPv6Only = false },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.TimeWait, LocalAddress = IPAddress.Loopback, LocalPort = 36257, RemoteAddress = IPAddress.Loopback, RemotePort = 37181, UserId = 0, ReceiveQueue = 0, SendQueue = 0 },
            new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Parse("fe80::1%2"), LocalPort = 546, BoundInterface = "eth0" },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Bound, LocalAddress = IPAddress.Loopback, LocalPort = 5000, ReuseAddress = false, ReusePort = false },
            new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.SynSent, LocalAddress = IPAddress.Parse("2001:db8::5"), LocalPort = 50000, RemoteAddress = IPAddress.Parse("2001:db8::80"), RemotePort = 443, Processes = new[] { new SocketOwner(77, "curl") } },
        };

        public static IEnumerable<object[]> PowerShell7Captures() => new[]
        {
            new object[] { "porttools-ps7.csv", SocketTableFormat.Csv },
            new object[] { "porttools-ps7-typeinfo-semicolon.csv", SocketTableFormat.Csv },
            new object[] { "porttools-ps7-quotes-asneeded.csv", SocketTableFormat.Csv },
            new object[] { "porttools-ps7.json", SocketTableFormat.Json },
            new object[] { "porttools-ps7-depth3.json", SocketTableFormat.Json },
            new object[] { "porttools-ps7-compress.json", SocketTableFormat.Json },
            new object[] { "porttools-ps7-enumsasstrings.json", SocketTableFormat.Json },
            new object[] { "porttools-ps7-lines.json", SocketTableFormat.Json },
            // With the module loaded: enums by name, addresses as text, collections as "; "-joined text.
            new object[] { "porttools-ps7-module.csv", SocketTableFormat.Csv },
            new object[] { "porttools-ps7-module.json", SocketTableFormat.Json },
        };

        [Theory]
        [MemberData(nameof(PowerShell7Captures))]
        public void PowerShell_7_exports_read_back_to_equal_sockets(string fixture, SocketTableFormat expectedFormat)
        {
            ParseRun run = ParseRun.Of(Fixtures.Read(fixture)).AssertNoErrors();
            Assert.Equal(expectedFormat, run.Summary.Format);
            AssertEqualSockets(SampleSockets(), run.Sockets);
        }

        [Fact]
        public void A_single_exported_object_reads_back()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("porttools-ps7-single.json")).AssertNoErrors();
            AssertEqualSockets(SampleSockets().Take(1).ToArray(), run.Sockets);
            Assert.Equal("json:1", run.Sockets[0].Source);
        }

        [Theory]
        [InlineData("porttools-ps51.csv")]
        [InlineData("porttools-ps51.json")]
        public void Windows_PowerShell_5_1_exports_read_back(string fixture)
        {
            ParseRun run = ParseRun.Of(Fixtures.Read(fixture)).AssertNoErrors();
            AssertEqualSockets(SampleSockets().Take(3).ToArray(), run.Sockets);
        }

        [Fact]
        public void Unknown_columns_are_ignored_and_optional_ones_may_be_missing()
        {
            string csv = "\"ComputerName\",\"Protocol\",\"Local\",\"Remote\",\"State\",\"Exposure\"\n\"web01\",\"Tcp\",\"0.0.0.0:80\",\"*:*\",\"Listen\",\"Public\"\n\"web01\",\"Udp\",\"[::]:53\",\"*:*\",\"Unconnected\",\"Public\"";
            ParseRun run = ParseRun.Of(csv).AssertNoErrors();
            Assert.Equal(new[] { "tcp LISTEN 0.0.0.0:80", "udp UNCONN [::]:53" }, run.Sockets.Select(s => s.ToString()));

            string json = "[{\"Protocol\":\"Tcp\",\"Local\":\"127.0.0.1:5000\",\"State\":\"Bound\",\"Exposure\":{\"Level\":\"Local\"},\"Processes\":[]}]";
            Assert.Equal("tcp BOUND 127.0.0.1:5000", Assert.Single(ParseRun.Of(json).AssertNoErrors().Sockets).ToString());

            // Select-Object of a few properties: the owner from ProcessId and ProcessName, the address from its object.
            csv = "\"Protocol\",\"LocalAddress\",\"LocalPort\",\"State\",\"ProcessId\",\"ProcessName\"\n\"Tcp\",\"10.0.0.1\",\"22\",\"Listen\",\"900\",\"sshd\"";
            Assert.Equal("tcp LISTEN 10.0.0.1:22 pid=900 process=sshd", Assert.Single(ParseRun.Of(csv).AssertNoErrors().Sockets).ToString());
            json = "{\"Protocol\":6,\"LocalAddress\":{\"AddressFamily\":2,\"Address\":16777343},\"LocalPort\":22,\"State\":10}";
            Assert.Equal("tcp LISTEN 127.0.0.1:22", Assert.Single(ParseRun.Of(json).AssertNoErrors().Sockets).ToString());
            json = "{\"Protocol\":6,\"LocalAddress\":{\"AddressFamily\":23,\"IPAddressToString\":\"::1\"},\"LocalPort\":22,\"State\":10}";
            Assert.Equal("tcp LISTEN [::1]:22", Assert.Single(ParseRun.Of(json).AssertNoErrors().Sockets).ToString());
        }

        [Fact]
        public void Exports_keep_their_computer_and_the_option_names_it_for_every_format()
        {
            string csv = "\"PSComputerName\",\"Protocol\",\"Local\",\"State\"\n\"web01\",\"Tcp\",\"0.0.0.0:80\",\"Listen\"";
            Assert.Equal("web01", Assert.Single(ParseRun.Of(csv).AssertNoErrors().Sockets).ComputerName);
            string json = "[{\"ComputerName\":\"db01\",\"Protocol\":\"Tcp\",\"Local\":\"127.0.0.1:5432\",\"State\":\"Listen\"}]";
            Assert.Equal("db01", Assert.Single(ParseRun.Of(json).AssertNoErrors().Sockets).ComputerName);

            // The option wins over the export's name, and names text that carries none.
            var named = new SocketTableParserOptions { ComputerName = "renamed" };
            Assert.Equal("renamed", Assert.Single(ParseRun.Of(csv, named).AssertNoErrors().Sockets).ComputerName);
            foreach (string text in new[]
            {
                "tcp LISTEN 0.0.0.0:22",
                "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN 0      128          0.0.0.0:22        0.0.0.0:*",
                "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1044",
                "tcp4       0      0  *.22                   *.*                    LISTEN",
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234",
                "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nsshd 900 root 3u IPv4 1234 0t0 TCP *:22 (LISTEN)",
            })
            {
                SocketTuple socket = Assert.Single(ParseRun.Of(text, named).AssertNoErrors().Sockets);
                Assert.Equal("renamed", socket.ComputerName);
                Assert.Null(Assert.Single(ParseRun.Of(text).AssertNoErrors().Sockets).ComputerName);
            }
        }

        [Fact]
        public void The_CSV_line_numbers_and_sources_follow_the_rows()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("porttools-ps7-typeinfo-semicolon.csv")).AssertNoErrors();
            Assert.Equal("csv:3", run.Sockets[0].Source);
            Assert.Equal(2, run.Summary.LinesSkipped); // #TYPE and the header
        }

        [ToolFact("pwsh")]
        public void Real_PowerShell_round_trips_Export_Csv_and_ConvertTo_Json()
        {
            string directory = Path.Combine(Path.GetTempPath(), "porttools-roundtrip-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            try
            {
                string script = Path.Combine(directory, "make.ps1");
                File.Copy(Path.Combine(Fixtures.Directory, "make-porttools-exports.ps1"), script);
                string core = typeof(SocketTuple).Assembly.Location;
                var start = new System.Diagnostics.ProcessStartInfo(Tools.Find("pwsh")!, new[] { "-NoProfile", "-NonInteractive", "-File", script, core }) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
                using (var pwsh = System.Diagnostics.Process.Start(start)!)
                {
                    string errors = pwsh.StandardError.ReadToEnd();
                    pwsh.StandardOutput.ReadToEnd();
                    Assert.True(pwsh.WaitForExit(120_000), "pwsh did not finish");
                    Assert.True(pwsh.ExitCode == 0, errors);
                }

                // Without -ModulePath the script loads only the core and writes every capture but the module's own.
                foreach (object[] capture in PowerShell7Captures().Where(c => !((string)c[0]).Contains("-module.")))
                {
                    ParseRun run = ParseRun.Of(File.ReadAllText(Path.Combine(directory, (string)capture[0]))).AssertNoErrors();
                    AssertEqualSockets(SampleSockets(), run.Sockets);
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        [Fact]
        public void Reads_Get_NetTCPConnection_Export_Csv()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("get-nettcpconnection-ps51.csv")).AssertNoErrors();
            string[] expected =
            {
                "tcp LISTEN [::]:135 pid=1052",
                "tcp LISTEN [::1]:49669 pid=3012",
                "tcp ESTAB 10.0.0.5:52113 52.113.194.132:443 pid=8712",
                "tcp TIME-WAIT 10.0.0.5:52118 20.42.65.90:443",
                "tcp BOUND 0.0.0.0:49968 pid=7240",
                "tcp LISTEN 0.0.0.0:135 pid=1052",
                "tcp LISTEN [fe80::1c2d:3e4f:5a6b:7c8d%12]:139 pid=4",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
        }

        [Fact]
        public void Reads_Get_NetUDPEndpoint_Export_Csv()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("get-netudpendpoint-ps51.csv")).AssertNoErrors();
            Assert.Equal(new[] { "udp UNCONN 0.0.0.0:500 pid=4180", "udp UNCONN [::]:500 pid=4180", "udp UNCONN 127.0.0.1:1900 pid=6012", "udp UNCONN [fe80::1c2d:3e4f:5a6b:7c8d%12]:1900 pid=6012" }, run.Sockets.Select(s => s.ToString()));
        }

        [Fact]
        public void Reads_Get_NetTCPConnection_ConvertTo_Json_with_numeric_states()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("get-nettcpconnection-ps7.json")).AssertNoErrors();
            Assert.Equal(new[] { SocketState.Listen, SocketState.Established, SocketState.TimeWait, SocketState.Listen, SocketState.Bound, SocketState.DeleteTcb }, run.Sockets.Select(s => s.State));
            Assert.Equal("tcp ESTAB 10.0.0.5:52113 52.113.194.132:443 pid=8712", run.Sockets[1].ToString());
            Assert.Empty(run.Sockets[2].Processes);
        }

        [Fact]
        public void Reads_Get_NetUDPEndpoint_ConvertTo_Json()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("get-netudpendpoint-ps7.json")).AssertNoErrors();
            Assert.Equal(new[] { "udp UNCONN 0.0.0.0:500 pid=4180", "udp UNCONN [::]:5353 pid=2088" }, run.Sockets.Select(s => s.ToString()));
        }

        public static IEnumerable<object[]> BadExports() => new[]
        {
            new object[] { "\"Protocol\",\"Local\",\"State\"\n\"Sctp\",\"0.0.0.0:80\",\"Listen\"", "Protocol: expected Tcp or Udp" },
            new object[] { "\"Protocol\",\"Local\",\"State\"\n\"Tcp\",\"0.0.0.0:80\",\"Listening-ish\"", "State: expected a SocketState name" },
            new object[] { "\"Protocol\",\"Local\",\"State\"\n\"Tcp\",\"0.0.0.0\",\"Listen\"", "Local: " },
            new object[] { "\"Protocol\",\"Local\",\"State\",\"Processes\"\n\"Tcp\",\"0.0.0.0:80\",\"Listen\",\"nginx\"", "Processes: expected owners" },
            new object[] { "\"Protocol\",\"Local\",\"State\",\"IPv6Only\"\n\"Tcp\",\"[::]:80\",\"Listen\",\"Maybe\"", "IPv6Only: expected True, False" },
            new object[] { "\"Protocol\",\"Local\",\"State\"\n\"Tcp\",\"0.0.0.0:80\"", "expected 3 fields" },
            new object[] { "\"Name\",\"Value\"\n\"a\",\"b\"", "cannot tell the format" },
            new object[] { "\"LocalAddress\",\"LocalPort\",\"State\"\n\"10.1\",\"80\",\"Listen\"", "LocalAddress: expected an IPv4 or IPv6 address, found '10.1'" },
            new object[] { "\"LocalAddress\",\"LocalPort\",\"RemoteAddress\",\"RemotePort\",\"State\"\n\"0.0.0.0\",\"80\",\"0.0.0.0\",\"0\",\"99\"", "MSFT_NetTCPConnection state number" },
            new object[] { "[{\"Protocol\":6,\"Local\":\"0.0.0.0:80\",\"State\":10,}]", "expected a property name" },
            new object[] { "[{\"Protocol\":6,\"Local\":\"0.0.0.0:80\",\"State\":10}", "not closed at the end of the input" },
            new object[] { "[1, 2]", "expected a JSON object" },
            new object[] { "{\"Name\":\"x\"}", "expected an object with LocalAddress and LocalPort" },
            new object[] { "[{\"Protocol\":6,\"Local\":\"0.0.0.0:80\",\"State\":99}]", "State: 99 is not a SocketState value" },
        };

        [Theory]
        [MemberData(nameof(BadExports))]
        public void Bad_exports_are_errors_naming_the_bad_property(string text, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(text, SocketTableFormat.Auto, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(text));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void A_quoted_CSV_field_may_span_lines()
        {
            string csv = "\"Protocol\",\"Local\",\"State\",\"BoundInterface\"\n\"Tcp\",\"0.0.0.0:80\",\"Listen\",\"odd\nname\"\n\"Udp\",\"0.0.0.0:53\",\"Unconnected\",\"\"";
            ParseRun run = ParseRun.Of(csv).AssertNoErrors();
            Assert.Equal("odd\nname", run.Sockets[0].BoundInterface);
            Assert.Equal(new long[] { 2, 4 }, run.Results.Where(r => r.Socket is not null).Select(r => r.LineNumber));
            Assert.Equal(3, run.Summary.LinesParsed);
        }

        [Fact]
        public void A_bad_JSON_object_in_an_array_does_not_stop_the_others()
        {
            string json = "[\n  {\"Protocol\": 6, \"Local\": \"0.0.0.0:80\", \"State\": 10},\n  {\"Protocol\": 6,\n   \"Local\": \"0.0.0.0\",\n   \"State\": 10},\n  {\"Protocol\": 17, \"Local\": \"0.0.0.0:53\", \"State\": 20}\n]";
            ParseRun run = ParseRun.Of(json);
            Assert.Equal(new[] { "tcp LISTEN 0.0.0.0:80", "udp UNCONN 0.0.0.0:53" }, run.Sockets.Select(s => s.ToString()));
            SocketTableResult error = Assert.Single(run.Errors);
            Assert.Equal(3, error.LineNumber);
            Assert.Equal(3, run.Summary.LinesFailed);
            Assert.Equal(2, run.Summary.LinesSkipped);
        }

        private static void AssertEqualSockets(IReadOnlyList<SocketTuple> expected, IReadOnlyList<SocketTuple> actual)
        {
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.True(expected[i].Equals(actual[i]), "socket " + i + ": expected " + Describe(expected[i]) + "\n got " + Describe(actual[i]));
            }
        }

        private static string Describe(SocketTuple s) => string.Format(
            CultureInfo.InvariantCulture, "{0} inode={1} rq={2} sq={3} scope={4}", s, s.Inode, s.ReceiveQueue, s.SendQueue, s.LocalAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? s.LocalAddress.ScopeId : -1);
    }
}
