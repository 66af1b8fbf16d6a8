using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using PortTools.Text;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>Lines read in place (ConvertFrom-SocketTable -Path) split and parse as TextReader.ReadLine's do.</summary>
    public class LineBufferTests
    {
        public static IEnumerable<object[]> Texts()
        {
            yield return new object[] { string.Empty };
            yield return new object[] { "a" };
            yield return new object[] { "a\n" };
            yield return new object[] { "a\nb" };
            yield return new object[] { "a\r\nb\r\n" };
            yield return new object[] { "a\rb\r" };
            yield return new object[] { "a\r\r\nb\n\n\nc" };
            yield return new object[] { "\n\r\n\r" };

            // A "\r\n" split across refills of the buffer, and lines longer than the buffer.
            yield return new object[] { new string('x', (32 * 1024) - 1) + "\r\nnext\r\n" };
            yield return new object[] { new string('y', 100_000) + "\n" + new string('z', 70_000) + "\r" };
        }

        [Theory]
        [MemberData(nameof(Texts))]
        public void Lines_split_as_ReadLine_splits_them(string text)
        {
            var expected = new List<string>();
            using (var reader = new StringReader(text))
            {
                string? line;
                while ((line = reader.ReadLine()) is not null)
                {
                    expected.Add(line);
                }
            }

            var actual = new List<string>();
            var buffer = new LineBuffer(new StringReader(text));
            while (buffer.TryRead(out var span))
            {
                actual.Add(span.ToString());
            }

            Assert.Equal(expected, actual);
        }

        [Fact]
        public void Sockets_read_in_place_equal_those_read_line_by_line_and_leave_their_line_empty()
        {
            string text = "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\r\n"
                + "LISTEN 0 511 0.0.0.0%lo:53 0.0.0.0:* users:((\"nginx: master\",pid=812,fd=6),(\"nginx\",pid=813,fd=6))\r\n"
                + "ESTAB 0 0 10.0.0.1:bad 192.0.2.7:5\r\n"
                + "\r\n"
                + "ESTAB 0 36 [2001:db8::1]:22 [2001:db8::2]:50000 users:((\"sshd\",pid=900,fd=4))\r\n"
                + "TIME-WAIT 0 0 10.0.0.1:80 192.0.2.7:6";
            List<SocketTableResult> lines = new SocketTableParser(new SocketTableParserOptions()).ReadAll(new StringReader(text)).ToList();
            List<SocketTableResult> inPlace = new SocketTableParser(new SocketTableParserOptions { KeepSocketLines = false }).ReadAll(new StringReader(text)).ToList();

            Assert.Equal(lines.Select(r => (r.Kind, r.LineNumber, r.Message, r.Socket)), inPlace.Select(r => (r.Kind, r.LineNumber, r.Message, r.Socket)));
            Assert.Equal(new[] { SocketTableResultKind.Skipped, SocketTableResultKind.Socket, SocketTableResultKind.Error, SocketTableResultKind.Skipped, SocketTableResultKind.Socket, SocketTableResultKind.Socket }, inPlace.Select(r => r.Kind));
            Assert.Equal(lines.Select(r => r.Socket?.Source), inPlace.Select(r => r.Socket?.Source));
            Assert.All(inPlace.Where(r => r.Kind == SocketTableResultKind.Socket), r => Assert.Equal(string.Empty, r.Line));
            Assert.Equal("ESTAB 0 0 10.0.0.1:bad 192.0.2.7:5", inPlace[2].Line);
            Assert.Equal("lo", inPlace[1].Socket!.BoundInterface);
            Assert.Equal(new[] { "nginx", "nginx" }, inPlace[1].Socket!.Processes.Select(p => p.ProcessName));
            Assert.Equal(IPAddress.Parse("2001:db8::2"), inPlace[4].Socket!.RemoteAddress);
        }
    }
}
