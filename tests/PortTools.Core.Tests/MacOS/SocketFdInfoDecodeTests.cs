using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using PortTools.MacOS;
using Xunit;

namespace PortTools.Tests.MacOS
{
    /// <summary>
    /// struct socket_fdinfo as proc_pidfdinfo(PROC_PIDFDSOCKETINFO) returns it, laid out per XNU's
    /// bsd/sys/proc_info.h at apple-oss-distributions/xnu tag xnu-11417.101.15, LP64 (the offsets
    /// below were checked with offsetof() on a transcription of those structs):
    /// struct socket_fdinfo { struct proc_fileinfo pfi (24 bytes); struct socket_info psi; } (792 bytes)
    /// socket_info: soi_stat (struct vinfo_stat, 136) at 24, soi_so at 160, soi_pcb 168, soi_type 176,
    /// soi_protocol 180, soi_family 184, soi_options (short) 188, soi_linger 190, soi_state 192,
    /// soi_qlen 194, soi_incqlen 196, soi_qlimit 198, soi_rcv (struct sockbuf_info, sbi_cc first) 208,
    /// soi_snd 232, soi_kind 256, soi_proto 264.
    /// soi_proto as struct in_sockinfo: insi_fport (int) 264, insi_lport 268, insi_gencnt 272,
    /// insi_flags 280, insi_flow 284, insi_vflag (uint8) 288, insi_faddr (union of struct in4in6_addr
    /// { i46a_pad32[3]; in_addr } and struct in6_addr) 296, insi_laddr 312; struct tcp_sockinfo adds
    /// tcpsi_state at 264 + 80 = 344. Ports are network-order u_shorts widened to int (fill_socketinfo,
    /// bsd/kern/socket_info.c), so their bytes are [high, low, 0, 0].
    /// Constants: SOCKINFO_IN 1, SOCKINFO_TCP 2, SOCKINFO_UN 3; INI_IPV4 0x1, INI_IPV6 0x2; TSI_S_CLOSED 0
    /// ... TSI_S_TIME_WAIT 10 (proc_info.h); AF_INET 2, AF_INET6 30, SO_REUSEADDR 0x4, SO_REUSEPORT
    /// 0x200 (bsd/sys/socket.h); IN6P_IPV6_V6ONLY 0x8000 (bsd/netinet/in_pcb.h).
    /// </summary>
    public class SocketFdInfoDecodeTests
    {
        private const int Tcp = 6;
        private const int Udp = 17;
        private const int AfInet = 2;
        private const int AfInet6 = 30;
        private const int SockinfoIn = 1;
        private const int SockinfoTcp = 2;
        private const byte IniIpv4 = 0x1;
        private const byte IniIpv6 = 0x2;

        /// <summary>A socket_fdinfo, field by field at the header's offsets.</summary>
        private sealed class SocketFdInfo
        {
            public byte[] Bytes { get; } = new byte[792];

            public static SocketFdInfo Inet(ulong so, int protocol, int family, byte vflag, string local, int localPort, string remote = "0.0.0.0", int remotePort = 0, int tcpState = -1)
            {
                var info = new SocketFdInfo();
                info.U64(160, so);
                info.I32(176, protocol == Tcp ? 1 : 2); // soi_type: SOCK_STREAM, SOCK_DGRAM
                info.I32(180, protocol);
                info.I32(184, family);
                info.I32(256, tcpState >= 0 ? SockinfoTcp : SockinfoIn);
                info.Port(264, remotePort);
                info.Port(268, localPort);
                info.Bytes[288] = vflag;
                info.Address(296, remote);
                info.Address(312, local);
                if (tcpState >= 0)
                {
                    info.I32(344, tcpState);
                }

                return info;
            }

            public SocketFdInfo I32(int offset, int value)
            {
                BinaryPrimitives.WriteInt32LittleEndian(Bytes.AsSpan(offset), value);
                return this;
            }

            public SocketFdInfo I16(int offset, short value)
            {
                BinaryPrimitives.WriteInt16LittleEndian(Bytes.AsSpan(offset), value);
                return this;
            }

            public SocketFdInfo U64(int offset, ulong value)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(offset), value);
                return this;
            }

            public SocketFdInfo Options(int soOptions) => I16(188, (short)soOptions);

            public SocketFdInfo InpFlags(int flags) => I32(280, flags);

            /// <summary>A port as fill_socketinfo leaves it: the network-order u_short, widened to a little-endian int.</summary>
            private void Port(int offset, int port)
            {
                Bytes[offset] = (byte)(port >> 8);
                Bytes[offset + 1] = (byte)port;
            }

            /// <summary>An IPv4 address goes in in4in6_addr's last 4 bytes; an IPv6 one fills in6_addr.</summary>
            private void Address(int offset, string text)
            {
                byte[] bytes = IPAddress.Parse(text).GetAddressBytes();
                bytes.CopyTo(Bytes, bytes.Length == 4 ? offset + 12 : offset);
            }
        }

        private static (SocketFdInfoOutcome Outcome, MacSocketTable Table) Decode(SocketFdInfo info, SocketQuery? query = null, int pid = 500)
        {
            var table = new MacSocketTable();
            return (SocketFdInfoDecoder.Decode(info.Bytes, pid, query ?? new SocketQuery(), table), table);
        }

        private static SocketTuple Socket(SocketFdInfo info, Dictionary<int, MacSocketReader.ProcessRecord>? processes = null, SocketQuery? query = null)
        {
            query ??= new SocketQuery();
            (SocketFdInfoOutcome outcome, MacSocketTable table) = Decode(info, query);
            Assert.Equal(SocketFdInfoOutcome.Added, outcome);
            return Assert.Single(MacSocketReader.Build(table, processes ?? new Dictionary<int, MacSocketReader.ProcessRecord> { [500] = new MacSocketReader.ProcessRecord("nginx", 501) }, query, CancellationToken.None));
        }

        [Fact]
        public void The_structure_is_792_bytes()
        {
            Assert.Equal(792, SocketFdInfoDecoder.Length);
        }

        [Fact]
        public void Decodes_an_IPv4_TCP_listener_with_its_queues_and_options()
        {
            SocketFdInfo info = SocketFdInfo.Inet(0xFFFFFF8012345678, Tcp, AfInet, IniIpv4, "127.0.0.1", 8080, tcpState: 1)
                .Options(0x0004 | 0x0002) // SO_REUSEADDR | SO_ACCEPTCONN
                .I16(194, 3)              // soi_qlen
                .I16(196, 1)              // soi_incqlen
                .I16(198, 128)            // soi_qlimit
                .I32(208, 999)            // soi_rcv.sbi_cc: not what a listener reports
                .I32(232, 999);
            SocketTuple socket = Socket(info);
            Assert.Equal(TransportProtocol.Tcp, socket.Protocol);
            Assert.Equal(SocketState.Listen, socket.State);
            Assert.Equal(IPAddress.Loopback, socket.LocalAddress);
            Assert.Equal(8080, socket.LocalPort);
            Assert.Equal(IPAddress.Any, socket.RemoteAddress);
            Assert.Equal(0, socket.RemotePort);
            Assert.True(socket.ReuseAddress);
            Assert.False(socket.ReusePort);
            Assert.Equal(3L, socket.ReceiveQueue);
            Assert.Equal(128L, socket.SendQueue);
            Assert.Null(socket.IPv6Only);
            Assert.Equal(500, socket.ProcessId);
            Assert.Equal("nginx", socket.ProcessName);
            Assert.Equal(501L, socket.UserId);
            Assert.Null(socket.Inode);
            Assert.Equal("Live", socket.Source);
        }

        [Fact]
        public void Reads_SO_REUSEPORT_as_known_true_or_false()
        {
            Assert.True(Socket(SocketFdInfo.Inet(1, Udp, AfInet, IniIpv4, "0.0.0.0", 5353).Options(0x0200)).ReusePort);
            SocketTuple plain = Socket(SocketFdInfo.Inet(2, Udp, AfInet, IniIpv4, "0.0.0.0", 5353));
            Assert.False(plain.ReusePort);
            Assert.False(plain.ReuseAddress);
        }

        [Fact]
        public void Decodes_an_established_connection_with_its_buffers()
        {
            SocketFdInfo info = SocketFdInfo.Inet(3, Tcp, AfInet, IniIpv4, "192.0.2.10", 52113, "198.51.100.7", 443, tcpState: 4)
                .I32(208, 17)   // soi_rcv.sbi_cc
                .I32(232, 4096); // soi_snd.sbi_cc
            SocketTuple socket = Socket(info);
            Assert.Equal(SocketState.Established, socket.State);
            Assert.Equal(IPAddress.Parse("198.51.100.7"), socket.RemoteAddress);
            Assert.Equal(443, socket.RemotePort);
            Assert.Equal(52113, socket.LocalPort);
            Assert.Equal(17L, socket.ReceiveQueue);
            Assert.Equal(4096L, socket.SendQueue);
        }

        public static TheoryData<int, SocketState> TsiStates => new TheoryData<int, SocketState>
        {
            { 0, SocketState.Bound },        // TSI_S_CLOSED with a local port
            { 1, SocketState.Listen },       // TSI_S_LISTEN
            { 2, SocketState.SynSent },      // TSI_S_SYN_SENT
            { 3, SocketState.SynReceived },  // TSI_S_SYN_RECEIVED
            { 4, SocketState.Established },  // TSI_S_ESTABLISHED
            { 5, SocketState.CloseWait },    // TSI_S__CLOSE_WAIT
            { 6, SocketState.FinWait1 },     // TSI_S_FIN_WAIT_1
            { 7, SocketState.Closing },      // TSI_S_CLOSING
            { 8, SocketState.LastAck },      // TSI_S_LAST_ACK
            { 9, SocketState.FinWait2 },     // TSI_S_FIN_WAIT_2
            { 10, SocketState.TimeWait },    // TSI_S_TIME_WAIT
            { 11, SocketState.Unknown },     // TSI_S_RESERVED
        };

        [Theory]
        [MemberData(nameof(TsiStates))]
        public void Maps_every_TSI_S_state(int tsiState, SocketState expected)
        {
            Assert.Equal(expected, SocketFdInfoDecoder.MapTcpState(tsiState));
            Assert.Equal(expected, Socket(SocketFdInfo.Inet(10, Tcp, AfInet, IniIpv4, "192.0.2.1", 40000, "192.0.2.2", 80, tcpState: tsiState)).State);
        }

        [Fact]
        public void A_closed_TCP_socket_that_holds_a_port_is_bound()
        {
            SocketTuple socket = Socket(SocketFdInfo.Inet(11, Tcp, AfInet, IniIpv4, "0.0.0.0", 49968, tcpState: 0));
            Assert.Equal(SocketState.Bound, socket.State);
            Assert.Equal(49968, socket.LocalPort);
        }

        [Fact]
        public void A_socket_that_holds_no_port_is_not_listed()
        {
            Assert.Equal(SocketFdInfoOutcome.NotListed, Decode(SocketFdInfo.Inet(12, Tcp, AfInet, IniIpv4, "0.0.0.0", 0, tcpState: 0)).Outcome);
            Assert.Equal(SocketFdInfoOutcome.NotListed, Decode(SocketFdInfo.Inet(13, Udp, AfInet6, IniIpv6, "::", 0)).Outcome);
        }

        [Fact]
        public void A_TCP_socket_without_its_control_block_is_closed()
        {
            // SOCKINFO_IN for a TCP socket: fill_socketinfo found no tcpcb (inp_ppcb is NULL).
            Assert.Equal(SocketState.Closed, Socket(SocketFdInfo.Inet(14, Tcp, AfInet, IniIpv4, "192.0.2.1", 40001, "192.0.2.2", 80)).State);
        }

        [Fact]
        public void UDP_is_connected_when_the_foreign_port_or_address_is_set()
        {
            Assert.Equal(SocketState.Unconnected, Socket(SocketFdInfo.Inet(20, Udp, AfInet, IniIpv4, "0.0.0.0", 5353)).State);
            SocketTuple connected = Socket(SocketFdInfo.Inet(21, Udp, AfInet, IniIpv4, "192.0.2.1", 53000, "192.0.2.53", 53));
            Assert.Equal(SocketState.Connected, connected.State);
            Assert.Equal(IPAddress.Parse("192.0.2.53"), connected.RemoteAddress);
            Assert.Equal(53, connected.RemotePort);
        }

        [Fact]
        public void A_socket_with_both_INI_flags_is_dual_stack()
        {
            SocketTuple socket = Socket(SocketFdInfo.Inet(30, Tcp, AfInet6, IniIpv4 | IniIpv6, "::", 8443, "::", 0, tcpState: 1));
            Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, socket.AddressFamily);
            Assert.Equal(IPAddress.IPv6Any, socket.LocalAddress);
            Assert.False(socket.IPv6Only);
        }

        [Fact]
        public void IPV6_V6ONLY_is_read_from_the_pcb_flags()
        {
            SocketTuple v6Only = Socket(SocketFdInfo.Inet(31, Tcp, AfInet6, IniIpv6, "::", 8443, "::", 0, tcpState: 1).InpFlags(0x8000));
            Assert.True(v6Only.IPv6Only);

            // Only INI_IPV6 because it is bound to ::1, not because the option is on.
            SocketTuple specific = Socket(SocketFdInfo.Inet(32, Tcp, AfInet6, IniIpv6, "::1", 8444, "::", 0, tcpState: 1));
            Assert.False(specific.IPv6Only);
            Assert.Equal(IPAddress.IPv6Loopback, specific.LocalAddress);
        }

        [Fact]
        public void An_IPv6_socket_connected_to_an_IPv4_peer_shows_v4_mapped_addresses()
        {
            // tcp_usr_connect_common (bsd/netinet/tcp_usrreq.c) switches the pcb to INP_IPV4 for a v4-mapped peer.
            SocketTuple socket = Socket(SocketFdInfo.Inet(33, Tcp, AfInet6, IniIpv4, "127.0.0.1", 50000, "127.0.0.1", 8080, tcpState: 4));
            Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), socket.LocalAddress);
            Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), socket.RemoteAddress);
            Assert.False(socket.IPv6Only);
        }

        [Fact]
        public void A_v4_mapped_socket_without_a_peer_has_the_IPv6_wildcard_as_remote()
        {
            SocketTuple socket = Socket(SocketFdInfo.Inet(34, Udp, AfInet6, IniIpv4, "127.0.0.1", 5000));
            Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), socket.LocalAddress);
            Assert.Equal(IPAddress.IPv6Any, socket.RemoteAddress);
            Assert.Equal(SocketState.Unconnected, socket.State);
        }

        [Fact]
        public void The_scope_embedded_in_a_link_local_address_becomes_its_scope_id()
        {
            // KAME's embedded scope: the interface index in bytes 2-3 of fe80::/10 (in6_embedded_scope = 1).
            SocketTuple socket = Socket(SocketFdInfo.Inet(35, Tcp, AfInet6, IniIpv6, "fe80:4::1", 22, "fe80:4::2", 50123, tcpState: 4));
            Assert.Equal(IPAddress.Parse("fe80::1%4"), socket.LocalAddress);
            Assert.Equal(4, socket.LocalAddress.ScopeId);
            Assert.Equal(IPAddress.Parse("fe80::2%4"), socket.RemoteAddress);
        }

        [Fact]
        public void The_same_socket_in_several_processes_is_one_socket_with_every_owner()
        {
            var table = new MacSocketTable();
            var query = new SocketQuery();
            SocketFdInfo shared = SocketFdInfo.Inet(0xABCDEF, Tcp, AfInet, IniIpv4, "0.0.0.0", 80, tcpState: 1);
            Assert.Equal(SocketFdInfoOutcome.Added, SocketFdInfoDecoder.Decode(shared.Bytes, 100, query, table));
            Assert.Equal(SocketFdInfoOutcome.SharedOwner, SocketFdInfoDecoder.Decode(shared.Bytes, 101, query, table));
            Assert.Equal(SocketFdInfoOutcome.SharedOwner, SocketFdInfoDecoder.Decode(shared.Bytes, 101, query, table)); // dup()ed in the same process
            Assert.Equal(SocketFdInfoOutcome.SharedOwner, SocketFdInfoDecoder.Decode(shared.Bytes, 100, query, table));
            Assert.Equal(SocketFdInfoOutcome.Added, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(0xABCDF0, Tcp, AfInet, IniIpv4, "0.0.0.0", 81, tcpState: 1).Bytes, 101, query, table));
            Assert.Equal(2, table.Count);

            var processes = new Dictionary<int, MacSocketReader.ProcessRecord> { [100] = new MacSocketReader.ProcessRecord("httpd", 0), [101] = new MacSocketReader.ProcessRecord("httpd", 70) };
            List<SocketTuple> sockets = MacSocketReader.Build(table, processes, query, CancellationToken.None);
            Assert.Equal(new[] { 100, 101 }, sockets[0].Processes.Select(o => o.ProcessId));
            Assert.Equal(0L, sockets[0].UserId); // the first owner's
            Assert.Equal(new[] { 101 }, sockets[1].Processes.Select(o => o.ProcessId));
            Assert.Equal(70L, sockets[1].UserId);
        }

        [Fact]
        public void Other_kinds_of_socket_are_not_listed()
        {
            var unix = new SocketFdInfo().U64(160, 40).I32(176, 1).I32(180, 0).I32(184, 1).I32(256, 3); // AF_UNIX, SOCKINFO_UN
            Assert.Equal(SocketFdInfoOutcome.NotListed, Decode(unix).Outcome);
            var generic = SocketFdInfo.Inet(41, Tcp, AfInet, IniIpv4, "0.0.0.0", 80).I32(256, 0); // SOCKINFO_GENERIC: no pcb
            Assert.Equal(SocketFdInfoOutcome.NotListed, Decode(generic).Outcome);
            var icmp = SocketFdInfo.Inet(42, 1, AfInet, IniIpv4, "0.0.0.0", 80); // IPPROTO_ICMP
            Assert.Equal(SocketFdInfoOutcome.NotListed, Decode(icmp).Outcome);
        }

        [Fact]
        public void Filters_run_before_a_socket_is_kept()
        {
            var query = new SocketQuery { LocalPorts = new[] { new PortRange(8000, 8100) }, RemoteAddresses = new[] { AddressPrefix.Parse("10.0.0.0/8") } };
            var table = new MacSocketTable();
            Assert.Equal(SocketFdInfoOutcome.Added, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(50, Tcp, AfInet, IniIpv4, "192.0.2.1", 8080, "10.1.2.3", 5000, tcpState: 4).Bytes, 1, query, table));
            Assert.Equal(SocketFdInfoOutcome.Filtered, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(51, Tcp, AfInet, IniIpv4, "192.0.2.1", 9000, "10.1.2.3", 5000, tcpState: 4).Bytes, 1, query, table));
            Assert.Equal(SocketFdInfoOutcome.Filtered, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(52, Tcp, AfInet, IniIpv4, "192.0.2.1", 8080, "11.1.2.3", 5000, tcpState: 4).Bytes, 1, query, table));
            Assert.Equal(SocketFdInfoOutcome.Filtered, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(53, Udp, AfInet, IniIpv4, "192.0.2.1", 8080, "10.1.2.3", 5000).Bytes, 1, new SocketQuery { Protocols = new[] { TransportProtocol.Tcp } }, table));
            Assert.Equal(SocketFdInfoOutcome.Filtered, SocketFdInfoDecoder.Decode(SocketFdInfo.Inet(54, Tcp, AfInet, IniIpv4, "192.0.2.1", 8080, "10.1.2.3", 5000, tcpState: 4).Bytes, 1, new SocketQuery { ListeningOnly = true }, table));
            Assert.Equal(1, table.Count);
        }

        [Fact]
        public void Link_local_filters_see_the_address_without_its_embedded_scope()
        {
            var query = new SocketQuery { LocalAddresses = new[] { AddressPrefix.Parse("fe80::/64") } };
            Assert.Equal(SocketFdInfoOutcome.Added, Decode(SocketFdInfo.Inet(55, Udp, AfInet6, IniIpv6, "fe80:7::9", 546), query).Outcome);
        }

        [Fact]
        public void A_truncated_buffer_is_reported_not_read()
        {
            SocketFdInfo info = SocketFdInfo.Inet(60, Tcp, AfInet, IniIpv4, "0.0.0.0", 80, tcpState: 1);
            var table = new MacSocketTable();
            Assert.Equal(SocketFdInfoOutcome.Truncated, SocketFdInfoDecoder.Decode(info.Bytes.AsSpan(0, 400), 1, new SocketQuery(), table));
            Assert.Equal(SocketFdInfoOutcome.Truncated, SocketFdInfoDecoder.Decode(ReadOnlySpan<byte>.Empty, 1, new SocketQuery(), table));
            Assert.Equal(0, table.Count);
        }

        [Fact]
        public void Process_filters_and_skipping_processes()
        {
            var processes = new Dictionary<int, MacSocketReader.ProcessRecord> { [500] = new MacSocketReader.ProcessRecord("nginx", 501) };
            SocketFdInfo info = SocketFdInfo.Inet(70, Tcp, AfInet, IniIpv4, "0.0.0.0", 80, tcpState: 1);

            SocketTuple skipped = Socket(info, processes, new SocketQuery { IncludeProcesses = false });
            Assert.Empty(skipped.Processes);
            Assert.Equal(501L, skipped.UserId);

            Assert.Single(MacSocketReader.Build(Decode(info).Table, processes, new SocketQuery { ProcessNameMatch = n => n == "nginx" }, CancellationToken.None));
            Assert.Empty(MacSocketReader.Build(Decode(info).Table, processes, new SocketQuery { ProcessIds = new[] { 7 } }, CancellationToken.None));
        }

        [Fact]
        public void An_owner_that_exited_keeps_its_pid_without_a_name_or_uid()
        {
            SocketTuple socket = Socket(SocketFdInfo.Inet(80, Udp, AfInet, IniIpv4, "0.0.0.0", 5353), new Dictionary<int, MacSocketReader.ProcessRecord> { [500] = new MacSocketReader.ProcessRecord(null, null) });
            Assert.Equal(500, socket.ProcessId);
            Assert.Null(socket.ProcessName);
            Assert.Null(socket.UserId);
        }
    }
}
