using System.Net;
using System.Text;
using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>Lines in the layout of tcp4_seq_show / tcp6_seq_show / udp4_format_sock, written by a little-endian host.</summary>
    public class ProcNetReaderTests
    {
        private const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

        private static RawSocketTable Decode(string line, TransportProtocol protocol, bool ipv6, bool littleEndian = true)
        {
            var table = new RawSocketTable();
            ProcNetReader.DecodeLine(Encoding.ASCII.GetBytes(line), protocol, ipv6, littleEndian, new SocketQuery(), table);
            return table;
        }

        [Fact]
        public void Decodes_an_IPv4_listener()
        {
            RawSocketTable table = Decode("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0", TransportProtocol.Tcp, false);
            Assert.Equal(1, table.Count);
            Assert.Equal(IPAddress.Loopback.GetAddressBytes(), table.LocalAddress(0).ToArray());
            Assert.Equal(8080, table[0].LocalPort);
            Assert.Equal(SocketState.Listen, table[0].State);
            Assert.Equal(1000u, table[0].UserId);
            Assert.Equal(31337ul, table[0].Inode);
            Assert.Equal(2u, table[0].ReceiveQueue);
        }

        [Fact]
        public void Decodes_an_IPv6_connection_word_by_word()
        {
            // ::1 is stored as the words 0,0,0,0x01000000 on a little-endian host.
            RawSocketTable table = Decode("   1: 00000000000000000000000001000000:0016 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 02:000A7A3D 00000000     0        0 99 2 0000000000000000 20 4 30 10 -1", TransportProtocol.Tcp, true);
            Assert.Equal(IPAddress.IPv6Loopback.GetAddressBytes(), table.LocalAddress(0).ToArray());
            Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1").GetAddressBytes(), table.RemoteAddress(0).ToArray());
            Assert.Equal(22, table[0].LocalPort);
            Assert.Equal(54321, table[0].RemotePort);
            Assert.Equal(SocketState.Established, table[0].State);
        }

        [Fact]
        public void A_big_endian_writer_keeps_bytes_in_order()
        {
            RawSocketTable table = Decode("   0: 7F000001:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0000000000000000 0", TransportProtocol.Udp, false, littleEndian: false);
            Assert.Equal(IPAddress.Loopback.GetAddressBytes(), table.LocalAddress(0).ToArray());
            Assert.Equal(SocketState.Unconnected, table[0].State);
        }

        [Theory]
        [InlineData(Header)]
        [InlineData("")]
        [InlineData("   0: 0100007F:1F90")]
        [InlineData("   0: 0100007Z:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1")]
        public void Header_and_malformed_lines_are_skipped(string line)
        {
            Assert.Equal(0, Decode(line, TransportProtocol.Tcp, false).Count);
        }
    }
}
