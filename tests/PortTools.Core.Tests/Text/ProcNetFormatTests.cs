using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>/proc/net text through the live reader's own line decoder.</summary>
    public class ProcNetFormatTests
    {
        private const string TcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        private const string UdpHeader = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ";
        private const string Tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        private const string TcpListener = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0";
        private const string UdpLine = "  595: 01004D7F:CCA1 01004D7F:1772 01 00000000:00000000 00:00000000 00000000     0        0 9741087 2 000000004ae3a1bc 0       ";

        [Fact]
        public void Reads_tcp_and_udp_after_their_headers()
        {
            ParseRun run = ParseRun.Of(TcpHeader + "\n" + TcpListener + "\n" + UdpHeader + "\n" + UdpLine).AssertNoErrors();
            Assert.Equal(SocketTableFormat.ProcNet, run.Summary.Format);
            Assert.Equal(new[] { "tcp LISTEN 127.0.0.1:8080 uid=1000", "udp ESTAB 127.77.0.1:52385 127.77.0.1:6002 uid=0" }, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(31337ul, run.Sockets[0].Inode);
            Assert.Equal(2, run.Sockets[0].ReceiveQueue);
            Assert.Equal("proc-net:2", run.Sockets[0].Source);
        }

        [Fact]
        public void Reads_IPv6_word_by_word()
        {
            ParseRun run = ParseRun.Of(Tcp6Header + "\n   1: 00000000000000000000000001000000:0016 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 02:000A7A3D 00000000     0        0 99 2 0000000000000000 20 4 30 10 -1").AssertNoErrors();
            Assert.Equal("tcp ESTAB [::1]:22 [::ffff:127.0.0.1]:54321 timer=keepalive,6866.53s,0 uid=0", Assert.Single(run.Sockets).ToString());
        }

        [Fact]
        public void Without_a_header_the_fields_after_the_inode_tell_udp_from_tcp()
        {
            ParseRun run = ParseRun.Of(TcpListener + "\n" + UdpLine + "\n   9: 0100007F:A8E2 0100007F:1F90 06 00000000:00000000 03:00000DC5 00000000     0        0 0 3 0000000000000000", SocketTableFormat.ProcNet).AssertNoErrors();
            Assert.Equal(new[] { TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Tcp }, run.Sockets.Select(s => s.Protocol));
            Assert.Equal(SocketState.TimeWait, run.Sockets[2].State);
            Assert.Null(run.Sockets[2].Inode);
        }

        [Fact]
        public void The_protocol_option_overrides_the_header()
        {
            ParseRun run = ParseRun.Of(TcpHeader + "\n" + TcpListener, new SocketTableParserOptions { Protocol = TransportProtocol.Udp }).AssertNoErrors();
            Assert.Equal(TransportProtocol.Udp, Assert.Single(run.Sockets).Protocol);
        }

        [Fact]
        public void A_big_endian_writer_is_read_with_the_byte_order_option()
        {
            string text = Fixtures.Read("proc-net-tcp-s390x.txt");
            ParseRun run = ParseRun.Of(text, new SocketTableParserOptions { ProcNetByteOrder = ProcNetByteOrder.BigEndian }).AssertNoErrors();
            Assert.Equal(new[] { "tcp LISTEN 127.0.0.1:22 uid=0", "tcp ESTAB 192.0.2.5:22 198.51.100.7:50652 timer=on,0.2s,0 uid=0" }, run.Sockets.Select(s => s.ToString()));
            Assert.Equal(36, run.Sockets[1].SendQueue);

            // Read as little-endian, the same words are other addresses: the option matters.
            Assert.Equal(IPAddress.Parse("1.0.0.127"), ParseRun.Of(text).Sockets[0].LocalAddress);
        }

        public static IEnumerable<object[]> BadLines() => new[]
        {
            new object[] { "   0: 0100007Z:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1", "local_address" },
            new object[] { "   0: 0100007F:1F90 0000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1", "rem_address" },
            new object[] { "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000", "ends before timeout" },
            new object[] { "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  root 0 1 1", "'root'" },
        };

        [Theory]
        [MemberData(nameof(BadLines))]
        public void Bad_lines_are_errors_naming_the_bad_field(string line, string expectedInMessage)
        {
            Assert.False(SocketTableParser.TryParse(line, SocketTableFormat.ProcNet, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTableParser.Parse(line, SocketTableFormat.ProcNet));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
        }
    }
}
