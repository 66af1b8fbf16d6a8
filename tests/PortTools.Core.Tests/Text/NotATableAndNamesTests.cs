using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using PortTools.Text;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Text that is not a socket table ends in one result; process names come out as the live reader gives them.</summary>
    public class NotATableAndNamesTests
    {
        private static List<SocketTableResult> Read(IEnumerable<string> lines, SocketTableParserOptions? options = null)
        {
            var parser = new SocketTableParser(options ?? new SocketTableParserOptions());
            var results = new List<SocketTableResult>();
            foreach (string line in lines)
            {
                parser.Add(line);
                while (parser.TryRead(out SocketTableResult result))
                {
                    results.Add(result);
                }
            }

            parser.Complete();
            while (parser.TryRead(out SocketTableResult result))
            {
                results.Add(result);
            }

            return results;
        }

        private static IEnumerable<string> Services(int count) => Enumerable.Range(1, count).Select(i => "service" + i + "   " + (1000 + i) + "/tcp   # a service");

        [Fact]
        public void Fifty_failing_lines_and_no_socket_give_one_NotATable_result_naming_the_first()
        {
            List<SocketTableResult> results = Read(Services(400));
            SocketTableResult stop = Assert.Single(results, r => r.Kind != SocketTableResultKind.Skipped);
            Assert.Equal(SocketTableResultKind.NotATable, stop.Kind);
            Assert.Equal(1, stop.LineNumber);
            Assert.StartsWith("service1 ", stop.Line);
            Assert.Contains("not a socket table", stop.Message);
            Assert.Contains("-Force", stop.Message);
        }

        [Fact]
        public void The_parser_stops_reading_a_reader_at_that_point()
        {
            var parser = new SocketTableParser(new SocketTableParserOptions());
            using var reader = new StringReader(string.Join("\n", Services(100000)));
            List<SocketTableResult> results = parser.ReadAll(reader).ToList();
            Assert.Single(results, r => r.Kind == SocketTableResultKind.NotATable);
            Assert.True(parser.Summary.LinesRead <= SocketTableParserOptions.DefaultMaxLeadingFailures + 1, "read " + parser.Summary.LinesRead + " lines");
        }

        [Fact]
        public void No_limit_reports_every_line()
        {
            List<SocketTableResult> results = Read(Services(120), new SocketTableParserOptions { MaxLeadingFailures = 0 });
            Assert.Equal(120, results.Count(r => r.Kind == SocketTableResultKind.Error));
            Assert.DoesNotContain(results, r => r.Kind == SocketTableResultKind.NotATable);
        }

        [Fact]
        public void Fewer_failing_lines_than_the_limit_are_each_reported_at_the_end()
        {
            List<SocketTableResult> results = Read(Services(10));
            Assert.Equal(10, results.Count(r => r.Kind == SocketTableResultKind.Error));
        }

        [Fact]
        public void Errors_held_before_the_first_socket_come_out_in_order_before_it()
        {
            var lines = new List<string> { "tcp LISTEN 0.0.0.0:bad1", "tcp LISTEN 0.0.0.0:bad2", "tcp LISTEN 0.0.0.0:80" };
            lines.AddRange(Enumerable.Range(1, 60).Select(i => "tcp LISTEN 0.0.0.0:worse" + i));
            List<SocketTableResult> results = Read(lines);
            Assert.Equal(new[] { SocketTableResultKind.Error, SocketTableResultKind.Error, SocketTableResultKind.Socket }, results.Take(3).Select(r => r.Kind));
            Assert.Equal(62, results.Count(r => r.Kind == SocketTableResultKind.Error));
        }

        [Theory]
        [InlineData("tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      812/nginx:%20master", "nginx")]
        [InlineData("tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      812/nginx:", "nginx")]
        [InlineData("tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      812/sshd", "sshd")]
        public void Netstat_names_are_command_names(string line, string expected)
        {
            SocketTuple socket = Assert.Single(SocketTableParser.Parse(line, SocketTableFormat.NetstatLinux));
            Assert.Equal(expected, socket.ProcessName);
        }

        [Theory]
        [InlineData("my\\x20app", "my app")]
        [InlineData("/usr/sbin/nginx", "nginx")]
        [InlineData("postgres: checkpointer", "postgres")]
        [InlineData("kworker/0:1", null)]
        [InlineData("nginx", null)]
        public void Names_are_normalized_like_the_live_reader(string printed, string? expected)
        {
            bool changed = ProcessNameText.TryNormalize(printed.AsSpan(), out string normalized);
            Assert.Equal(expected is not null, changed);
            if (expected is not null)
            {
                Assert.Equal(expected, normalized);
            }
        }

        [Fact]
        public void Lsof_escapes_are_decoded()
        {
            string text = "COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\nmy\\x20app 812 root    6u  IPv4  12345      0t0  TCP *:80 (LISTEN)";
            SocketTuple socket = Assert.Single(SocketTableParser.Parse(text));
            Assert.Equal("my app", socket.ProcessName);
        }
    }
}
