using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>lsof -nP -iTCP -iUDP tables and -F field output (lsof 4.95 on Linux; macOS from a fixture).</summary>
    public class LsofFormatTests
    {
        private const string Table = @"COMMAND   PID     USER   FD   TYPE  DEVICE SIZE/OFF NODE NAME
nginx   11344     root    5u  IPv4  530306      0t0  TCP *:80 (LISTEN)
nginx   11344     root    6u  IPv6  530307      0t0  TCP *:80 (LISTEN)
nginx   11345 www-data    5u  IPv4  530306      0t0  TCP *:80 (LISTEN)
nginx   11345 www-data    6u  IPv6  530307      0t0  TCP *:80 (LISTEN)
sleep   11407     root    3u  IPv4  530710      0t0  TCP 127.0.0.1:59044->127.0.0.1:80 (CLOSE_WAIT)
python3 11408     root    3u  IPv4  530725      0t0  UDP 127.0.0.1:5353 
python3 17493     root    7u  IPv4 9738373      0t0  UDP 127.0.0.1:40913->127.9.9.9:5556 
python3 17493     root    9u  IPv6 9738375      0t0  TCP [::1]:5558 (LISTEN)
python3 17493     root   13u  IPv6 9741092      0t0  UDP 127.77.0.1:6007 
python3 17493     root   14u  IPv4 9741093      0t0  TCP 127.77.0.1:5000 (CLOSE)
";

        [Fact]
        public void Merges_the_lines_of_a_shared_socket_into_one_with_every_owner()
        {
            ParseRun run = ParseRun.Of(Table).AssertNoErrors();
            Assert.Equal(SocketTableFormat.Lsof, run.Summary.Format);
            string[] expected =
            {
                "tcp LISTEN 0.0.0.0:80 pid=11344,11345 process=nginx",
                "tcp LISTEN [::]:80 pid=11344,11345 process=nginx",
                "tcp CLOSE-WAIT 127.0.0.1:59044 127.0.0.1:80 pid=11407 process=sleep",
                "udp UNCONN 127.0.0.1:5353 pid=11408 process=python3",
                "udp ESTAB 127.0.0.1:40913 127.9.9.9:5556 pid=17493 process=python3",
                "tcp LISTEN [::1]:5558 pid=17493 process=python3",
                "udp UNCONN [::ffff:127.77.0.1]:6007 pid=17493 process=python3",
                "tcp BOUND 127.77.0.1:5000 pid=17493 process=python3",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(530306ul, run.Sockets[0].Inode);
            Assert.Equal("lsof:2", run.Sockets[0].Source);
            Assert.Null(run.Sockets[0].UserId); // USER is the process's user, not the socket's
            Assert.Equal(10, run.Summary.LinesParsed);
        }

        [Fact]
        public void Without_merging_each_line_is_a_socket_at_once()
        {
            var options = new SocketTableParserOptions { MergeSharedSockets = false };
            ParseRun run = ParseRun.Of(Table, options).AssertNoErrors();
            Assert.Equal(10, run.Sockets.Count);
            Assert.Equal("tcp LISTEN 0.0.0.0:80 pid=11345 process=nginx", run.Sockets[2].ToString());
        }

        [Fact]
        public void Reads_TCP_TPI_queues_of_T_options()
        {
            SocketTuple socket = Assert.Single(SocketTableParser.Parse("COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnginx 11344 root 5u IPv4 530306 0t0 TCP *:80 (LISTEN QR=3 QS=0)"));
            Assert.Equal(3, socket.ReceiveQueue);
            Assert.Equal(0, socket.SendQueue);
            Assert.Equal(SocketState.Listen, socket.State);
        }

        [Fact]
        public void Reads_macOS_lsof()
        {
            ParseRun run = ParseRun.Of(Fixtures.Read("lsof-macos.txt")).AssertNoErrors();
            string[] expected =
            {
                "tcp LISTEN [::]:22 pid=1 process=launchd",
                "tcp LISTEN 0.0.0.0:22 pid=1 process=launchd",
                "udp UNCONN 0.0.0.0:5353 pid=301 process=mDNSRespo",
                "udp UNCONN [::]:5353 pid=301 process=mDNSRespo",
                "tcp LISTEN 0.0.0.0:49152 pid=523 process=rapportd",
                "tcp LISTEN [::]:49152 pid=523 process=rapportd",
                "tcp ESTAB 192.168.1.20:52344 17.253.144.10:443 pid=812 process=Google",
                "tcp ESTAB [2001:db8::20]:52360 [2001:db8::443]:443 pid=812 process=Google",
                "tcp CLOSE 192.168.1.20:52350 203.0.113.5:22 pid=4242 process=ssh",
                "udp UNCONN [fe80:1::1]:123 pid=144 process=ntpd",
            };
            Assert.Equal(expected, run.Sockets.Select(s => s.ToString()));
            Assert.All(run.Sockets, s => Assert.Null(s.Inode)); // a kernel address, not an inode
        }

        private const string Fields = "p11344\ncnginx\nu0\nf5\ntIPv4\nd530306\nPTCP\nn*:80\nTST=LISTEN\nTQR=0\nTQS=0\nf6\ntIPv6\nd530307\nPTCP\nn*:80\nTST=LISTEN\np11345\ncnginx\nu33\nf5\ntIPv4\nd530306\nPTCP\nn*:80\nTST=LISTEN\nTQR=1\nTQS=0\np17493\ncpython3\nu0\nf7\ntIPv4\nd9738373\nPUDP\nn127.0.0.1:40913->127.9.9.9:5556\nTQR=0\nTQS=0\nf8\ntunix\nd9738374\nn/run/x.sock\n";

        [Fact]
        public void Reads_field_output_and_merges_shared_sockets()
        {
            ParseRun run = ParseRun.Of(Fields).AssertNoErrors();
            Assert.Equal(SocketTableFormat.LsofFields, run.Summary.Format);
            Assert.Equal(new[] { "tcp LISTEN 0.0.0.0:80 pid=11344,11345 process=nginx", "tcp LISTEN [::]:80 pid=11344 process=nginx", "udp ESTAB 127.0.0.1:40913 127.9.9.9:5556 pid=17493 process=python3" }, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(530306ul, run.Sockets[0].Inode);
            Assert.Equal(0, run.Sockets[0].ReceiveQueue);
            Assert.Equal("lsof-fields:4", run.Sockets[0].Source);
            Assert.Equal(4, run.Summary.OtherProtocolLines); // the four lines of the unix file set
        }

        [Fact]
        public void Reads_NUL_terminated_field_output()
        {
            string text = string.Join("\n", Fields.TrimEnd('\n').Split('\n').Aggregate(new List<string> { string.Empty }, (sets, field) =>
            {
                if (field[0] is 'p' or 'f')
                {
                    sets.Add(string.Empty);
                }

                sets[^1] += field + "\0";
                return sets;
            }).Where(s => s.Length > 0));
            ParseRun run = ParseRun.Of(text).AssertNoErrors();
            Assert.Equal(SocketTableFormat.LsofFields, run.Summary.Format);
            Assert.Equal(3, run.Sockets.Count);
            Assert.Equal("tcp LISTEN 0.0.0.0:80 pid=11344,11345 process=nginx", run.Sockets[0].ToString());
        }

        [Fact]
        public void Without_f_a_file_set_starts_where_a_field_repeats()
        {
            ParseRun run = ParseRun.Of("p11344\ncnginx\ntIPv4\nPTCP\nn*:80\nTST=LISTEN\ntIPv6\nPTCP\nn*:80\nTST=LISTEN\n").AssertNoErrors();
            Assert.Equal(new[] { "tcp LISTEN 0.0.0.0:80 pid=11344 process=nginx", "tcp LISTEN [::]:80 pid=11344 process=nginx" }, run.Sockets.Select(s => s.ToString()));
        }

        public static IEnumerable<object[]> BadInputs() => new[]
        {
            new object[] { "p11344\ncnginx\nf5\nPTCP\nn*:80\nTST=LISTEN", "add t to the lsof -F fields" },
            new object[] { "p11344\nf5\ntIPv4\nPTCP\nn*:http\nTST=LISTEN", "lsof -P" },
            new object[] { "p11344\nf5\ntIPv4\nPTCP\nnlocalhost:80\nTST=LISTEN", "lsof -n" },
            new object[] { "p11344\nf5\ntIPv4\nn*:80", "P (protocol)" },
            new object[] { "p1\ncx\npabc", "'abc'" },
            new object[] { "p1\nX9", "'X9'" },
            new object[] { "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnginx 1 root 5u IPv4 1 0t0 TCP *:80 (LISTENING-ISH)", "'LISTENING-ISH'" },
            new object[] { "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnginx 1 root 5u IPv4 1 0t0 TCP [::1]:80 (LISTEN)", "does not match the type IPv4" },
            new object[] { "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnginx root 5u IPv4 1 0t0 TCP *:80 (LISTEN)", "PID" },
        };

        [Theory]
        [MemberData(nameof(BadInputs))]
        public void Bad_input_is_an_error_naming_what_is_wrong(string text, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(text, SocketTableFormat.Auto, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(text));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
        }
    }
}
