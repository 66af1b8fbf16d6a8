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
    /// The owner-pid tables of GetExtendedTcpTable and GetExtendedUdpTable, laid out as Microsoft
    /// Learn documents tcpmib.h and udpmib.h: MIB_TCPTABLE_OWNER_PID { DWORD dwNumEntries;
    /// MIB_TCPROW_OWNER_PID table[] } with rows { dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr,
    /// dwRemotePort, dwOwningPid } (24 bytes); MIB_TCP6ROW_OWNER_PID { ucLocalAddr[16],
    /// dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId, dwRemotePort, dwState,
    /// dwOwningPid } (56 bytes); MIB_UDPROW_OWNER_PID { dwLocalAddr, dwLocalPort, dwOwningPid }
    /// (12 bytes); MIB_UDP6ROW_OWNER_PID { ucLocalAddr[16], dwLocalScopeId, dwLocalPort,
    /// dwOwningPid } (28 bytes). DWORDs little-endian; addresses and ports in network order, ports
    /// in the DWORD's low 16 bits (its upper 16 bits "may contain uninitialized data").
    /// MIB_TCP_STATE values from tcpmib.h (MS-RRASM 2.2.1.1.11 lists 1 to 12).
    /// </summary>
    public class MibTableDecodeTests
    {
        private const uint Listen = 2;
        private const uint Established = 5;

        /// <summary>The table: a row count, then the rows.</summary>
        private static byte[] Table(params byte[][] rows) => Table(rows.Length, rows);

        private static byte[] Table(int declaredCount, params byte[][] rows)
        {
            var table = new byte[4 + rows.Sum(r => r.Length)];
            BinaryPrimitives.WriteUInt32LittleEndian(table, (uint)declaredCount);
            int offset = 4;
            foreach (byte[] row in rows)
            {
                row.CopyTo(table, offset);
                offset += row.Length;
            }

            return table;
        }

        private static void Dword(byte[] row, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(offset), value);

        /// <summary>A port DWORD: network order in the low 16 bits, and junk above to prove it is ignored.</summary>
        private static void Port(byte[] row, int offset, int port)
        {
            BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(offset), (ushort)port);
            row[offset + 2] = 0xCD;
            row[offset + 3] = 0xAB;
        }

        private static byte[] Tcp4Row(uint state, string local, int localPort, string remote, int remotePort, uint pid)
        {
            var row = new byte[24];
            Dword(row, 0, state);
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 4);
            Port(row, 8, localPort);
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(row, 12);
            Port(row, 16, remotePort);
            Dword(row, 20, pid);
            return row;
        }

        private static byte[] Tcp6Row(uint state, string local, uint localScope, int localPort, string remote, uint remoteScope, int remotePort, uint pid)
        {
            var row = new byte[56];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            Dword(row, 16, localScope);
            Port(row, 20, localPort);
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(row, 24);
            Dword(row, 40, remoteScope);
            Port(row, 44, remotePort);
            Dword(row, 48, state);
            Dword(row, 52, pid);
            return row;
        }

        private static byte[] Udp4Row(string local, int localPort, uint pid)
        {
            var row = new byte[12];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            Port(row, 4, localPort);
            Dword(row, 8, pid);
            return row;
        }

        private static byte[] Udp6Row(string local, uint scope, int localPort, uint pid)
        {
            var row = new byte[28];
            IPAddress.Parse(local).GetAddressBytes().CopyTo(row, 0);
            Dword(row, 16, scope);
            Port(row, 20, localPort);
            Dword(row, 24, pid);
            return row;
        }

        private static List<SocketTuple> Sockets(byte[] table, MibTable kind, SocketQuery? query = null, IReadOnlyDictionary<int, string>? names = null)
        {
            query ??= new SocketQuery();
            var raw = new WindowsSocketTable();
            MibTableDecoder.Decode(table, kind, query, raw);
            return WindowsSocketReader.Build(raw, names ?? new Dictionary<int, string>(), query, CancellationToken.None);
        }

        [Fact]
        public void Decodes_an_IPv4_connection_with_ports_in_network_order()
        {
            SocketTuple socket = Assert.Single(Sockets(Table(Tcp4Row(Established, "192.0.2.10", 52113, "198.51.100.7", 443, 8712)), MibTable.Tcp4, names: new Dictionary<int, string> { [8712] = "Teams" }));
            Assert.Equal(TransportProtocol.Tcp, socket.Protocol);
            Assert.Equal(SocketState.Established, socket.State);
            Assert.Equal(IPAddress.Parse("192.0.2.10"), socket.LocalAddress);
            Assert.Equal(52113, socket.LocalPort);
            Assert.Equal(IPAddress.Parse("198.51.100.7"), socket.RemoteAddress);
            Assert.Equal(443, socket.RemotePort);
            Assert.Equal(8712, socket.ProcessId);
            Assert.Equal("Teams", socket.ProcessName);
            Assert.Equal("Live", socket.Source);
        }

        [Fact]
        public void Leaves_unknown_what_the_tables_do_not_say()
        {
            SocketTuple socket = Assert.Single(Sockets(Table(Tcp6Row(Listen, "::", 0, 445, "::", 0, 0, 4)), MibTable.Tcp6));
            Assert.Null(socket.ReuseAddress);
            Assert.Null(socket.ReusePort);
            Assert.Null(socket.UserId);
            Assert.Null(socket.Inode);
            Assert.Null(socket.IPv6Only);
            Assert.Null(socket.ReceiveQueue);
            Assert.Null(socket.SendQueue);
        }

        [Fact]
        public void Counts_rows_from_the_header()
        {
            byte[] table = Table(
                Tcp4Row(Listen, "0.0.0.0", 135, "0.0.0.0", 0, 1052),
                Tcp4Row(Established, "10.0.0.5", 52113, "52.113.194.132", 443, 8712),
                Tcp4Row(11, "10.0.0.5", 52118, "20.42.65.90", 443, 0));
            var raw = new WindowsSocketTable();
            Assert.Equal(3, MibTableDecoder.Decode(table, MibTable.Tcp4, new SocketQuery(), raw));
            Assert.Equal(3, raw.Count);
            Assert.Equal(0, MibTableDecoder.Decode(Table(), MibTable.Udp6, new SocketQuery(), raw));
        }

        [Fact]
        public void Ignores_bytes_past_the_rows_the_header_counts()
        {
            // The buffer is usually larger than the table: room left for rows that did not arrive.
            byte[] table = Table(1, Udp4Row("0.0.0.0", 500, 4180), Udp4Row("0.0.0.0", 4500, 4180));
            SocketTuple socket = Assert.Single(Sockets(table, MibTable.Udp4));
            Assert.Equal(500, socket.LocalPort);
        }

        public static TheoryData<uint, SocketState> MibTcpStates => new TheoryData<uint, SocketState>
        {
            { 1, SocketState.Closed },
            { 2, SocketState.Listen },
            { 3, SocketState.SynSent },
            { 4, SocketState.SynReceived },
            { 5, SocketState.Established },
            { 6, SocketState.FinWait1 },
            { 7, SocketState.FinWait2 },
            { 8, SocketState.CloseWait },
            { 9, SocketState.Closing },
            { 10, SocketState.LastAck },
            { 11, SocketState.TimeWait },
            { 12, SocketState.DeleteTcb },
            { 100, SocketState.Bound }, // MIB_TCP_STATE_RESERVED, which MSFT_NetTCPConnection calls Bound
            { 0, SocketState.Unknown },
            { 13, SocketState.Unknown },
        };

        [Theory]
        [MemberData(nameof(MibTcpStates))]
        public void Maps_every_MIB_TCP_STATE(uint mibState, SocketState expected)
        {
            Assert.Equal(expected, MibTableDecoder.MapTcpState(mibState));
            Assert.Equal(expected, Assert.Single(Sockets(Table(Tcp4Row(mibState, "192.0.2.1", 50000, "192.0.2.2", 80, 100)), MibTable.Tcp4)).State);
            Assert.Equal(expected, Assert.Single(Sockets(Table(Tcp6Row(mibState, "2001:db8::1", 0, 50000, "2001:db8::2", 0, 80, 100)), MibTable.Tcp6)).State);
        }

        [Fact]
        public void A_listener_has_no_remote_end_whatever_the_row_holds()
        {
            // "When the dwState member is MIB_TCP_STATE_LISTEN, this value has no meaning."
            SocketTuple v4 = Assert.Single(Sockets(Table(Tcp4Row(Listen, "0.0.0.0", 8080, "203.0.113.9", 1234, 100)), MibTable.Tcp4));
            Assert.Equal(IPAddress.Any, v4.RemoteAddress);
            Assert.Equal(0, v4.RemotePort);
            Assert.Equal("*:*", v4.Remote);

            SocketTuple v6 = Assert.Single(Sockets(Table(Tcp6Row(Listen, "::", 0, 8080, "fe80::1", 9, 1234, 100)), MibTable.Tcp6));
            Assert.Equal(IPAddress.IPv6Any, v6.RemoteAddress);
            Assert.Equal(0, v6.RemotePort);
        }

        [Fact]
        public void Decodes_IPv6_connections_with_scope_ids_on_link_local_addresses()
        {
            SocketTuple socket = Assert.Single(Sockets(Table(Tcp6Row(Established, "fe80::1c2d:3e4f:5a6b:7c8d", 12, 139, "fe80::aa:bbff:fecc:ddee", 12, 50123, 4)), MibTable.Tcp6));
            Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, socket.AddressFamily);
            Assert.Equal(12, socket.LocalAddress.ScopeId);
            Assert.Equal(IPAddress.Parse("fe80::1c2d:3e4f:5a6b:7c8d%12"), socket.LocalAddress);
            Assert.Equal(139, socket.LocalPort);
            Assert.Equal(IPAddress.Parse("fe80::aa:bbff:fecc:ddee%12"), socket.RemoteAddress);
            Assert.Equal(50123, socket.RemotePort);
            Assert.Equal("[fe80::1c2d:3e4f:5a6b:7c8d%12]:139", socket.Local);
        }

        [Fact]
        public void A_scope_id_on_a_global_address_is_not_shown()
        {
            SocketTuple socket = Assert.Single(Sockets(Table(Tcp6Row(Established, "2001:db8::5", 7, 50000, "2001:db8::9", 7, 443, 100)), MibTable.Tcp6));
            Assert.Equal(0, socket.LocalAddress.ScopeId);
            Assert.Equal(IPAddress.Parse("2001:db8::5"), socket.LocalAddress);
        }

        [Fact]
        public void Decodes_UDP_endpoints_as_unconnected_with_their_scope()
        {
            List<SocketTuple> v4 = Sockets(Table(Udp4Row("0.0.0.0", 500, 4180), Udp4Row("127.0.0.1", 53, 2000)), MibTable.Udp4);
            Assert.Equal(new[] { 500, 53 }, v4.Select(s => s.LocalPort));
            Assert.All(v4, s => Assert.Equal(SocketState.Unconnected, s.State));
            Assert.All(v4, s => Assert.Equal(TransportProtocol.Udp, s.Protocol));
            Assert.All(v4, s => Assert.Equal("*:*", s.Remote));

            SocketTuple v6 = Assert.Single(Sockets(Table(Udp6Row("fe80::1", 3, 546, 1400)), MibTable.Udp6));
            Assert.Equal(IPAddress.Parse("fe80::1%3"), v6.LocalAddress);
            Assert.Equal(546, v6.LocalPort);
            Assert.Equal(1400, v6.ProcessId);
            Assert.Equal(IPAddress.IPv6Any, v6.RemoteAddress);
        }

        [Fact]
        public void Pid_4_is_System_and_pid_0_is_no_owner()
        {
            List<SocketTuple> sockets = Sockets(
                Table(Tcp4Row(Listen, "0.0.0.0", 80, "0.0.0.0", 0, 4), Tcp4Row(11, "10.0.0.5", 52118, "20.42.65.90", 443, 0)),
                MibTable.Tcp4,
                names: new Dictionary<int, string>());
            Assert.Equal("System", sockets[0].ProcessName);
            Assert.Equal(4, sockets[0].ProcessId);
            Assert.Empty(sockets[1].Processes);
            Assert.Null(sockets[1].ProcessId);
        }

        [Fact]
        public void A_process_that_exited_keeps_its_pid_without_a_name()
        {
            SocketTuple socket = Assert.Single(Sockets(Table(Udp4Row("0.0.0.0", 5353, 6000)), MibTable.Udp4, names: new Dictionary<int, string> { [1] = "other" }));
            Assert.Equal(6000, socket.ProcessId);
            Assert.Null(socket.ProcessName);
        }

        [Fact]
        public void Skipping_processes_leaves_owners_out()
        {
            var query = new SocketQuery { IncludeProcesses = false };
            SocketTuple socket = Assert.Single(Sockets(Table(Udp4Row("0.0.0.0", 5353, 6000)), MibTable.Udp4, query));
            Assert.Empty(socket.Processes);
        }

        [Fact]
        public void Filters_run_on_raw_rows_before_sockets_are_built()
        {
            byte[] table = Table(
                Tcp4Row(Listen, "0.0.0.0", 8080, "0.0.0.0", 0, 10),
                Tcp4Row(Established, "192.0.2.1", 8080, "10.1.2.3", 5000, 11),
                Tcp4Row(Established, "192.0.2.1", 9000, "10.1.2.3", 5000, 12),
                Tcp4Row(Established, "192.0.2.1", 8080, "11.1.2.3", 5000, 13));
            var query = new SocketQuery
            {
                States = new[] { SocketState.Established },
                LocalPorts = new[] { new PortRange(8000, 8100) },
                RemoteAddresses = new[] { AddressPrefix.Parse("10.0.0.0/8") },
            };
            var raw = new WindowsSocketTable();
            MibTableDecoder.Decode(table, MibTable.Tcp4, query, raw);
            Assert.Equal(1, raw.Count);
            Assert.Equal(11u, raw[0].ProcessId);
        }

        [Fact]
        public void Listening_keeps_TCP_listeners_and_UDP_endpoints()
        {
            var query = new SocketQuery { ListeningOnly = true };
            Assert.Single(Sockets(Table(Tcp4Row(Listen, "0.0.0.0", 80, "0.0.0.0", 0, 4), Tcp4Row(Established, "192.0.2.1", 80, "192.0.2.2", 5000, 4)), MibTable.Tcp4, query));
            Assert.Single(Sockets(Table(Udp4Row("0.0.0.0", 53, 9)), MibTable.Udp4, query));
        }

        [Fact]
        public void Process_filters_match_pids_and_names()
        {
            byte[] table = Table(Udp4Row("0.0.0.0", 53, 9), Udp4Row("0.0.0.0", 67, 10), Udp4Row("0.0.0.0", 68, 0));
            var names = new Dictionary<int, string> { [9] = "dns", [10] = "dhcp" };
            Assert.Equal(67, Assert.Single(Sockets(table, MibTable.Udp4, new SocketQuery { ProcessIds = new[] { 10 } }, names)).LocalPort);
            Assert.Equal(53, Assert.Single(Sockets(table, MibTable.Udp4, new SocketQuery { ProcessNameMatch = n => n == "dns" }, names)).LocalPort);
        }

        /// <summary>Each table (as its MibTable number: the enum is internal) and its row size.</summary>
        public static TheoryData<int, int> RowLengths => new TheoryData<int, int>
        {
            { (int)MibTable.Tcp4, 24 },
            { (int)MibTable.Tcp6, 56 },
            { (int)MibTable.Udp4, 12 },
            { (int)MibTable.Udp6, 28 },
        };

        [Theory]
        [MemberData(nameof(RowLengths))]
        public void Row_lengths_are_the_documented_structure_sizes(int table, int length)
        {
            Assert.Equal(length, MibTableDecoder.RowLength((MibTable)table));
        }

        [Theory]
        [MemberData(nameof(RowLengths))]
        public void A_truncated_table_is_an_error_not_a_crash(int table, int length)
        {
            var kind = (MibTable)table;
            // Two rows announced, one and a half present.
            var buffer = new byte[4 + length + (length / 2)];
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, 2);
            IOException error = Assert.Throws<IOException>(() => MibTableDecoder.Decode(buffer, kind, new SocketQuery(), new WindowsSocketTable()));
            Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
            Assert.Contains(MibTableDecoder.Name(kind), error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void A_buffer_too_short_for_the_row_count_is_an_error()
        {
            Assert.Throws<IOException>(() => MibTableDecoder.Decode(new byte[3], MibTable.Tcp4, new SocketQuery(), new WindowsSocketTable()));
        }

        [Fact]
        public void A_huge_row_count_is_an_error_not_an_overflow()
        {
            var table = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(table, uint.MaxValue);
            Assert.Throws<IOException>(() => MibTableDecoder.Decode(table, MibTable.Tcp6, new SocketQuery(), new WindowsSocketTable()));
        }
    }
}
