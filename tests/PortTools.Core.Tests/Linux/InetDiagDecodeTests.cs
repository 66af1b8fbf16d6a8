using System;
using System.Buffers.Binary;
using System.Net;
using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>inet_diag_msg records laid out as include/uapi/linux/inet_diag.h defines them.</summary>
    public class InetDiagDecodeTests
    {
        private static byte[] Message(byte family, byte state, string local, int localPort, string remote, int remotePort, uint ifIndex = 0, uint uid = 1000, uint inode = 4242, uint rq = 3, uint wq = 7, int v6only = -1)
        {
            int length = 72 + (v6only >= 0 ? 8 : 0);
            var message = new byte[length];
            message[0] = family;
            message[1] = state;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)localPort);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)remotePort);
            IPAddress.Parse(local).GetAddressBytes().CopyTo(message, 8);
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(message, 24);
            BitConverter.GetBytes(ifIndex).CopyTo(message, 40);
            BitConverter.GetBytes(rq).CopyTo(message, 56);
            BitConverter.GetBytes(wq).CopyTo(message, 60);
            BitConverter.GetBytes(uid).CopyTo(message, 64);
            BitConverter.GetBytes(inode).CopyTo(message, 68);
            if (v6only >= 0)
            {
                BitConverter.GetBytes((ushort)5).CopyTo(message, 72); // rta_len: header + 1 byte
                BitConverter.GetBytes((ushort)11).CopyTo(message, 74); // INET_DIAG_SKV6ONLY
                message[76] = (byte)v6only;
            }

            return message;
        }

        [Fact]
        public void Decodes_an_IPv4_listener()
        {
            var table = new RawSocketTable();
            InetDiagReader.Decode(Message(2, 10, "192.0.2.1", 8080, "0.0.0.0", 0), TransportProtocol.Tcp, new SocketQuery(), table);
            Assert.Equal(1, table.Count);
            RawSocketTable.Record record = table[0];
            Assert.Equal(SocketState.Listen, record.State);
            Assert.Equal(8080, record.LocalPort);
            Assert.Equal(new byte[] { 192, 0, 2, 1 }, table.LocalAddress(0).ToArray());
            Assert.Equal(1000u, record.UserId);
            Assert.Equal(4242ul, record.Inode);
            Assert.Equal(3u, record.ReceiveQueue);
            Assert.Equal(7u, record.SendQueue);
            Assert.Equal(0, record.V6Only);
        }

        [Theory]
        [InlineData(1, false)]
        [InlineData(0, true)]
        public void Reads_IPV6_V6ONLY_from_its_attribute(int flag, bool dualStack)
        {
            var table = new RawSocketTable();
            InetDiagReader.Decode(Message(10, 10, "::", 22, "::", 0, v6only: flag), TransportProtocol.Tcp, new SocketQuery(), table);
            Assert.True(table[0].IsV6);
            Assert.Equal(dualStack ? 1 : 2, table[0].V6Only);
            Assert.Equal(16, table.LocalAddress(0).Length);
        }

        [Theory]
        [InlineData(TransportProtocol.Tcp, 1, SocketState.Established)]
        [InlineData(TransportProtocol.Tcp, 3, SocketState.SynReceived)]
        [InlineData(TransportProtocol.Tcp, 6, SocketState.TimeWait)]
        [InlineData(TransportProtocol.Tcp, 7, SocketState.Bound)]
        [InlineData(TransportProtocol.Tcp, 10, SocketState.Listen)]
        [InlineData(TransportProtocol.Tcp, 12, SocketState.SynReceived)]
        [InlineData(TransportProtocol.Tcp, 13, SocketState.Bound)]
        [InlineData(TransportProtocol.Udp, 1, SocketState.Connected)]
        [InlineData(TransportProtocol.Udp, 7, SocketState.Unconnected)]
        public void Maps_kernel_states(TransportProtocol protocol, int kernelState, SocketState expected)
        {
            Assert.Equal(expected, InetDiagReader.MapState(protocol, kernelState));
        }

        [Fact]
        public void Filters_run_before_a_record_is_kept()
        {
            var table = new RawSocketTable();
            var query = new SocketQuery { LocalPorts = new[] { new PortRange(8000, 8100) }, RemoteAddresses = new[] { AddressPrefix.Parse("10.0.0.0/8") } };
            InetDiagReader.Decode(Message(2, 1, "192.0.2.1", 8080, "10.1.2.3", 5000), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(Message(2, 1, "192.0.2.1", 9000, "10.1.2.3", 5000), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(Message(2, 1, "192.0.2.1", 8080, "11.1.2.3", 5000), TransportProtocol.Tcp, query, table);
            Assert.Equal(1, table.Count);
        }

        [Fact]
        public void The_state_mask_asks_the_kernel_only_for_wanted_states()
        {
            Assert.Equal(1u << 10, InetDiagReader.StateMask(TransportProtocol.Tcp, new SocketQuery { ListeningOnly = true }));
            Assert.Equal(1u << 7, InetDiagReader.StateMask(TransportProtocol.Udp, new SocketQuery { ListeningOnly = true }));
            Assert.Equal(1u << 13, InetDiagReader.StateMask(TransportProtocol.Tcp, new SocketQuery { States = new[] { SocketState.Bound } }));
            Assert.Equal((1u << 3) | (1u << 12), InetDiagReader.StateMask(TransportProtocol.Tcp, new SocketQuery { States = new[] { SocketState.SynReceived } }));
            Assert.Equal(0u, InetDiagReader.StateMask(TransportProtocol.Udp, new SocketQuery { States = new[] { SocketState.Listen } }));
        }
    }
}
