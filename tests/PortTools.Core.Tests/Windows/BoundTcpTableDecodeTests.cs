using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using PortTools.Windows;
using Xunit;

namespace PortTools.Tests.Windows
{
    /// <summary>
    /// The tables of iphlpapi's UNDOCUMENTED InternalGetBoundTcpEndpointTable and
    /// InternalGetBoundTcp6EndpointTable, laid out as System Informer reads them
    /// (winsiderss/systeminformer SystemInformer/include/netprv.h and netprv.c: a PMIB_TCPTABLE2 and a
    /// PMIB_TCP6TABLE2), which are documented structures of tcpmib.h (Microsoft Learn):
    /// MIB_TCPTABLE2 { DWORD dwNumEntries; MIB_TCPROW2 table[] } with rows { dwState, dwLocalAddr,
    /// dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid, dwOffloadState } (28 bytes), and
    /// MIB_TCP6TABLE2 with rows { LocalAddr[16], dwLocalScopeId, dwLocalPort, RemoteAddr[16],
    /// dwRemoteScopeId, dwRemotePort, State, dwOwningPid, dwOffloadState } (60 bytes). DWORDs
    /// little-endian, addresses and ports in network order, ports in the DWORD's low 16 bits.
    /// MIB_TCP_STATE_RESERVED = 100 is what System Informer labels "Bound". The owner-pid tables
    /// used to leave out sockets already listed are those of <see cref="MibTableDecodeTests"/>.
    /// </summary>
    public class BoundTcpTableDecodeTests
    {
        private const uint Reserved = 100;
        private const uint Listen = 2;
        private const uint Established = 5;
        private const uint TimeWait = 11;

        private static byte[] Table(int rowLength, params byte[][] rows) => Table(rows.Length, rowLength, rows);

        private static byte[] Table(int declaredCount, int rowLength, params byte[][] rows)
        {
            var table = new byte[4 + (rows.Length * rowLength)];
            BinaryPrimitives.WriteUInt32LittleEndian(table, (uint)declaredCount);
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i].CopyTo(table, 4 + (i * rowLength));
            }

            return table;
        }

        private static void Dword(byte[] row, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(offset), value);

        private static void Port(byte[] row, int offset, int port)
        {
            BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(offset), (ushort)port);
            row[offset + 2] = 0xCD;
            row[offset + 3] = 0xAB;
        }

        /// <summary>MIB_TCPROW2; the remote fields and dwOffloadState hold junk to prove they are not read.</summary>
        private static byte[] Row2(string local, int port, uint pid, uint state = Reserved)
        {
            var row = new byte[28];
            Dword(row, 0, state);
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 4);
            Port(row, 8, port);
            new byte[] { 203, 0, 113, 9 }.CopyTo(row, 12);
            Port(row, 16, 9999);
            Dword(row, 20, pid);
            Dword(row, 24, 2);
            return row;
        }

        /// <summary>MIB_TCP6ROW2.</summary>
        private static byte[] Row6(string local, uint scope, int port, uint pid, uint state = Reserved)
        {
            var row = new byte[60];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            Dword(row, 16, scope);
            Port(row, 20, port);
            IPAddress.Parse("2001:db8::99").GetAddressBytes().CopyTo(row, 24);
            Dword(row, 40, 7);
            Port(row, 44, 9999);
            Dword(row, 48, state);
            Dword(row, 52, pid);
            Dword(row, 56, 1);
            return row;
        }

        /// <summary>MIB_TCPROW_OWNER_PID.</summary>
        private static byte[] OwnerRow4(uint state, string local, int port, string remote, int remotePort, uint pid)
        {
            var row = new byte[24];
            Dword(row, 0, state);
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 4);
            Port(row, 8, port);
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(row, 12);
            Port(row, 16, remotePort);
            Dword(row, 20, pid);
            return row;
        }

        /// <summary>MIB_TCP6ROW_OWNER_PID.</summary>
        private static byte[] OwnerRow6(uint state, string local, int port, uint pid)
        {
            var row = new byte[56];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            Port(row, 20, port);
            Dword(row, 48, state);
            Dword(row, 52, pid);
            return row;
        }

        private static BoundTcpHolders Holders(byte[]? tcp4 = null, byte[]? tcp6 = null)
        {
            var holders = new BoundTcpHolders();
            if (tcp4 is not null)
            {
                MibTableDecoder.CollectTcpHolders(tcp4, MibTable.Tcp4, holders);
            }

            if (tcp6 is not null)
            {
                MibTableDecoder.CollectTcpHolders(tcp6, MibTable.Tcp6, holders);
            }

            return holders;
        }

        private static List<SocketTuple> Bound(BoundTcpHolders holders, SocketQuery? query = null, byte[]? v4 = null, byte[]? v6 = null)
        {
            query ??= new SocketQuery();
            var raw = new WindowsSocketTable();
            if (v4 is not null)
            {
                BoundTcpTableDecoder.Decode(v4, ipv6: false, query, holders, raw);
            }

            if (v6 is not null)
            {
                BoundTcpTableDecoder.Decode(v6, ipv6: true, query, holders, raw);
            }

            return WindowsSocketReader.Build(raw, new Dictionary<int, string> { [7240] = "java", [8712] = "node" }, query, CancellationToken.None);
        }

        [Fact]
        public void A_bound_IPv4_row_is_a_Bound_TCP_socket_with_no_remote_end()
        {
            SocketTuple socket = Assert.Single(Bound(new BoundTcpHolders(), v4: Table(28, Row2("0.0.0.0", 49968, 7240))));
            Assert.Equal(TransportProtocol.Tcp, socket.Protocol);
            Assert.Equal(SocketState.Bound, socket.State);
            Assert.Equal(IPAddress.Any, socket.LocalAddress);
            Assert.Equal(49968, socket.LocalPort);
            Assert.Equal(IPAddress.Any, socket.RemoteAddress);
            Assert.Equal(0, socket.RemotePort);
            Assert.Equal(7240, socket.ProcessId);
            Assert.Equal("java", socket.ProcessName);
            Assert.Equal("Live", socket.Source);
        }

        [Fact]
        public void A_bound_IPv6_row_keeps_its_scope_id()
        {
            SocketTuple socket = Assert.Single(Bound(new BoundTcpHolders(), v6: Table(60, Row6("fe80::1", 12, 50001, 8712))));
            Assert.Equal(SocketState.Bound, socket.State);
            Assert.Equal(IPAddress.Parse("fe80::1%12"), socket.LocalAddress);
            Assert.Equal(50001, socket.LocalPort);
            Assert.Equal(IPAddress.IPv6Any, socket.RemoteAddress);
            Assert.Equal(0, socket.RemotePort);
            Assert.Equal(8712, socket.ProcessId);
        }

        [Fact]
        public void Every_row_is_Bound_whatever_its_state_field_says()
        {
            List<SocketTuple> sockets = Bound(new BoundTcpHolders(), v4: Table(28, Row2("0.0.0.0", 1000, 1, Reserved), Row2("0.0.0.0", 1001, 1, 1), Row2("0.0.0.0", 1002, 1, 0)));
            Assert.Equal(new[] { 1000, 1001, 1002 }, sockets.Select(s => s.LocalPort));
            Assert.All(sockets, s => Assert.Equal(SocketState.Bound, s.State));
        }

        [Fact]
        public void Sockets_the_owner_pid_tables_list_are_not_added_again()
        {
            byte[] tcp4 = Table(24, OwnerRow4(Listen, "0.0.0.0", 5000, "0.0.0.0", 0, 7240), OwnerRow4(Established, "192.0.2.10", 50000, "198.51.100.7", 443, 8712));
            byte[] tcp6 = Table(1, 56, OwnerRow6(Listen, "2001:db8::1", 6000, 7240));
            BoundTcpHolders holders = Holders(tcp4, tcp6);

            byte[] bound4 = Table(
                28,
                Row2("0.0.0.0", 5000, 7240),       // the listener itself
                Row2("0.0.0.0", 50000, 8712),      // bound to the wildcard, then connected from 192.0.2.10
                Row2("192.0.2.10", 50000, 8712),   // the connection's own address
                Row2("0.0.0.0", 50001, 8712),      // bound only: kept
                Row2("192.0.2.10", 5000, 9000));   // another process on the listener's port: kept
            byte[] bound6 = Table(
                60,
                Row6("::", 0, 5000, 7240),                  // a dual-stack wildcard on the listener's port and pid
                Row6("::ffff:192.0.2.10", 0, 50000, 8712),  // the IPv4 connection's socket, seen as dual-stack
                Row6("2001:db8::1", 0, 6000, 7240),         // the IPv6 listener
                Row6("2001:db8::2", 0, 6000, 7240));        // same pid and port, another specific address: kept

            List<SocketTuple> sockets = Bound(holders, v4: bound4, v6: bound6);
            Assert.Equal(new[] { "0.0.0.0:50001", "192.0.2.10:5000", "[2001:db8::2]:6000" }, sockets.Select(s => IPAddressText.FormatEndpoint(s.LocalAddress, s.LocalPort)));

            var raw = new WindowsSocketTable();
            Assert.Equal((5, 3), BoundTcpTableDecoder.Decode(bound4, ipv6: false, new SocketQuery(), holders, raw));
        }

        [Fact]
        public void TIME_WAIT_entries_hold_no_socket()
        {
            byte[] tcp4 = Table(2, 24, OwnerRow4(TimeWait, "192.0.2.10", 50002, "198.51.100.7", 443, 0), OwnerRow4(Established, "192.0.2.10", 50003, "198.51.100.7", 443, 8712));
            BoundTcpHolders holders = Holders(tcp4);
            Assert.Equal(1, holders.Count);
            Assert.False(holders.Holds(IPAddress.Parse("192.0.2.10").GetAddressBytes(), 50002, 0));
            Assert.True(holders.Holds(IPAddress.Parse("192.0.2.10").GetAddressBytes(), 50003, 8712));
            Assert.True(holders.Holds(IPAddress.Parse("::ffff:192.0.2.10").GetAddressBytes(), 50003, 8712));
            Assert.True(holders.Holds(IPAddress.IPv6Any.GetAddressBytes(), 50003, 8712));
            Assert.False(holders.Holds(IPAddress.Parse("192.0.2.11").GetAddressBytes(), 50003, 8712));
            Assert.False(holders.Holds(IPAddress.Parse("192.0.2.10").GetAddressBytes(), 50003, 8713));
        }

        [Fact]
        public void The_query_filters_bound_rows()
        {
            byte[] bound4 = Table(28, Row2("127.0.0.1", 5000, 7240), Row2("127.0.0.1", 5001, 7240), Row2("192.0.2.10", 5000, 8712));
            Assert.Empty(Bound(new BoundTcpHolders(), new SocketQuery { States = new[] { SocketState.Listen } }, v4: bound4));
            Assert.Equal(new[] { 5000 }, Bound(new BoundTcpHolders(), new SocketQuery { LocalPorts = new[] { new PortRange(5000) }, LocalAddresses = new[] { new AddressPrefix(IPAddress.Loopback) } }, v4: bound4).Select(s => s.LocalPort));
            Assert.Equal(new[] { 8712 }, Bound(new BoundTcpHolders(), new SocketQuery { ProcessIds = new[] { 8712 } }, v4: bound4).Select(s => s.ProcessId ?? 0));
        }

        [Fact]
        public void The_bound_tables_are_read_only_when_the_query_can_keep_a_Bound_TCP_socket()
        {
            Assert.True(WindowsSocketReader.WantsBound(new SocketQuery()));
            Assert.True(WindowsSocketReader.WantsBound(new SocketQuery { States = new[] { SocketState.Bound } }));
            Assert.False(WindowsSocketReader.WantsBound(new SocketQuery { States = new[] { SocketState.Listen, SocketState.Established } }));
            Assert.False(WindowsSocketReader.WantsBound(new SocketQuery { ListeningOnly = true }));
            Assert.False(WindowsSocketReader.WantsBound(new SocketQuery { Protocols = new[] { TransportProtocol.Udp } }));
            Assert.False(WindowsSocketReader.WantsBound(new SocketQuery { Exposures = new[] { Exposure.Public } }));
        }

        [Theory]
        [InlineData(10, 17763, true)]
        [InlineData(10, 26100, true)]
        [InlineData(10, 17134, false)]
        [InlineData(6, 3, false)]
        [InlineData(6, 1, false)]
        public void The_exports_are_called_only_from_Windows_10_1809_on(int major, int build, bool called)
        {
            string? warning = BoundTcpTable.Unsupported(major, build);
            Assert.Equal(called, warning is null);
            if (!called)
            {
                Assert.Equal("Bound TCP sockets (bound, neither listening nor connected) are not listed: the undocumented iphlpapi calls that list them are used only on Windows 10 1809 (build 17763) and later, and this is Windows " + major + " build " + build + ".", warning);
            }
        }

        [Fact]
        public void An_empty_table_adds_nothing()
        {
            Assert.Empty(Bound(new BoundTcpHolders(), v4: new byte[4], v6: new byte[4]));
        }

        [Fact]
        public void A_table_longer_than_its_block_is_refused_as_a_changed_layout()
        {
            // Three rows declared, room for two: what a larger row than MIB_TCP6ROW2 would look like.
            byte[] table = Table(3, 60, Row6("::", 0, 1, 1), Row6("::", 0, 2, 1));
            IOException error = Assert.Throws<IOException>(() => BoundTcpTableDecoder.Decode(table, ipv6: true, new SocketQuery(), new BoundTcpHolders(), new WindowsSocketTable()));
            Assert.Equal("The MIB_TCP6TABLE2 of InternalGetBoundTcp6EndpointTable says it holds 3 rows (184 bytes), but its block is 124 bytes: the undocumented layout may have changed.", error.Message);
            Assert.Throws<IOException>(() => BoundTcpTableDecoder.Decode(new byte[3], ipv6: false, new SocketQuery(), new BoundTcpHolders(), new WindowsSocketTable()));
        }

        [Fact]
        public void A_block_larger_than_the_rows_is_fine()
        {
            byte[] table = Table(28, Row2("0.0.0.0", 7, 1)).Concat(new byte[40]).ToArray();
            Assert.Single(Bound(new BoundTcpHolders(), v4: table));
        }
    }
}
