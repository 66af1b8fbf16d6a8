using System;
using System.Buffers.Binary;

namespace PortTools.MacOS
{
    /// <summary>What became of one socket_fdinfo.</summary>
    internal enum SocketFdInfoOutcome
    {
        /// <summary>A new socket, kept.</summary>
        Added,

        /// <summary>A socket already recorded from another descriptor or process: one more owner.</summary>
        SharedOwner,

        /// <summary>A TCP or UDP socket the query does not want.</summary>
        Filtered,

        /// <summary>Not a TCP or UDP socket over IPv4 or IPv6, or one that holds no port yet.</summary>
        NotListed,

        /// <summary>Shorter than struct socket_fdinfo.</summary>
        Truncated,
    }

    /// <summary>
    /// Decodes struct socket_fdinfo, what proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO) returns,
    /// filtering each socket with the query before it is kept. Layout from XNU's bsd/sys/proc_info.h
    /// (apple-oss-distributions/xnu, tag xnu-11417.101.15; unchanged in this part for many releases)
    /// as an LP64 compiler lays it out, the only model macOS runs: natural alignment, little-endian.
    /// The values it holds are filled by fill_socketinfo in bsd/kern/socket_info.c.
    /// </summary>
    internal static class SocketFdInfoDecoder
    {
        /// <summary>sizeof(struct socket_fdinfo): proc_fileinfo (24) + socket_info (768).</summary>
        internal const int Length = 792;

        // struct socket_info starts after struct proc_fileinfo pfi (24 bytes); soi_stat (struct
        // vinfo_stat, 136 bytes) comes first, and pid_socketinfo leaves it zeroed.
        private const int SoiSo = 160;           // uint64_t soi_so: the socket's (hashed) kernel address
        private const int SoiProtocol = 180;     // int soi_protocol: IPPROTO_TCP 6, IPPROTO_UDP 17
        private const int SoiFamily = 184;       // int soi_family: AF_INET 2, AF_INET6 30
        private const int SoiOptions = 188;      // short soi_options: so_options & 0xffff
        private const int SoiQlen = 194;         // short soi_qlen: completed connections not yet accepted
        private const int SoiQlimit = 198;       // short soi_qlimit: the listen backlog
        private const int SoiRcvCc = 208;        // soi_rcv.sbi_cc: bytes in the receive buffer
        private const int SoiSndCc = 232;        // soi_snd.sbi_cc: bytes in the send buffer
        private const int SoiKind = 256;         // int soi_kind: SOCKINFO_IN 1, SOCKINFO_TCP 2

        // soi_proto (offset 264) as struct in_sockinfo, the first member of struct tcp_sockinfo too.
        private const int InsiForeignPort = 264; // int insi_fport: a network-order u_short widened to int
        private const int InsiLocalPort = 268;   // int insi_lport: likewise
        private const int InsiFlags = 280;       // uint32_t insi_flags: inp_flags
        private const int InsiVflag = 288;       // uint8_t insi_vflag: INI_IPV4 0x1, INI_IPV6 0x2
        private const int InsiForeignAddress = 296; // union { struct in4in6_addr; struct in6_addr } insi_faddr
        private const int InsiLocalAddress = 312;   // the same union, insi_laddr
        private const int In4In6Address = 12;       // in4in6_addr: i46a_pad32[3], then the in_addr
        private const int TcpsiState = 344;      // int tcpsi_state: soi_proto + sizeof(struct in_sockinfo) (80)

        private const int SockinfoIn = 1;
        private const int SockinfoTcp = 2;
        private const int AfInet = 2;
        private const int AfInet6 = 30;          // bsd/sys/socket.h; 10 on Linux, 23 on Windows
        private const int IpprotoTcp = 6;
        private const int IpprotoUdp = 17;
        private const byte IniIpv4 = 0x1;
        private const byte IniIpv6 = 0x2;
        private const uint In6pIpv6V6only = 0x00008000; // IN6P_IPV6_V6ONLY, bsd/netinet/in_pcb.h: IPV6_V6ONLY is on
        private const int SoReuseaddr = 0x0004;  // SO_REUSEADDR, bsd/sys/socket.h
        private const int SoReuseport = 0x0200;  // SO_REUSEPORT, bsd/sys/socket.h

        // TSI_S_* (bsd/sys/proc_info.h), the kernel's TCPS_* (bsd/netinet/tcp_fsm.h).
        private const int TsiClosed = 0;
        private const int TsiListen = 1;

        /// <summary>Decodes one socket_fdinfo held by <paramref name="pid"/> into <paramref name="table"/>.</summary>
        public static SocketFdInfoOutcome Decode(ReadOnlySpan<byte> info, int pid, SocketQuery query, MacSocketTable table)
        {
            if (info.Length < Length)
            {
                return SocketFdInfoOutcome.Truncated;
            }

            ulong socket = BinaryPrimitives.ReadUInt64LittleEndian(info.Slice(SoiSo));
            if (table.TryAddOwner(socket, pid))
            {
                return SocketFdInfoOutcome.SharedOwner;
            }

            int kind = Int(info, SoiKind);
            int family = Int(info, SoiFamily);
            int protocolNumber = Int(info, SoiProtocol);
            if ((kind != SockinfoIn && kind != SockinfoTcp) || (family != AfInet && family != AfInet6) || (protocolNumber != IpprotoTcp && protocolNumber != IpprotoUdp))
            {
                return SocketFdInfoOutcome.NotListed;
            }

            TransportProtocol protocol = protocolNumber == IpprotoTcp ? TransportProtocol.Tcp : TransportProtocol.Udp;
            int localPort = BinaryPrimitives.ReadUInt16BigEndian(info.Slice(InsiLocalPort));
            int remotePort = BinaryPrimitives.ReadUInt16BigEndian(info.Slice(InsiForeignPort));
            if (localPort == 0)
            {
                return SocketFdInfoOutcome.NotListed; // never bound: it holds no port (Linux lists none either)
            }

            Span<byte> local = stackalloc byte[16];
            Span<byte> remote = stackalloc byte[16];
            byte vflag = info[InsiVflag];
            bool ipv6 = ReadAddress(info, InsiLocalAddress, vflag, family, peer: false, local, out uint localScope);
            ReadAddress(info, InsiForeignAddress, vflag, family, peer: true, remote, out uint remoteScope);
            int addressLength = ipv6 ? 16 : 4;

            SocketState state = protocol == TransportProtocol.Tcp
                ? (kind == SockinfoTcp ? MapTcpState(Int(info, TcpsiState)) : SocketState.Closed)
                : (remotePort != 0 || !IsZero(remote) ? SocketState.Connected : SocketState.Unconnected);
            if (!query.Wants(protocol) || !query.WantsState(protocol, state) || !query.WantsEndpoints(local.Slice(0, addressLength), localPort, remote.Slice(0, addressLength), remotePort))
            {
                return SocketFdInfoOutcome.Filtered;
            }

            int index = table.Add(socket, pid);
            ref MacSocketTable.Record record = ref table[index];
            record.Protocol = protocol;
            record.State = state;
            record.IsV6 = ipv6;
            record.LocalPort = (ushort)localPort;
            record.RemotePort = (ushort)remotePort;
            record.LocalScopeId = localScope;
            record.RemoteScopeId = remoteScope;
            if (ipv6)
            {
                // Both INI flags: a dual-stack socket. Otherwise the option itself says, from inp_flags:
                // an IPv6 socket bound to a specific IPv6 address has only INI_IPV6 without being v6-only.
                bool v6Only = (vflag & IniIpv4) == 0 && (Uint(info, InsiFlags) & In6pIpv6V6only) != 0;
                record.V6Only = v6Only ? (byte)2 : (byte)1;
            }

            short options = BinaryPrimitives.ReadInt16LittleEndian(info.Slice(SoiOptions));
            record.ReuseAddress = (options & SoReuseaddr) != 0;
            record.ReusePort = (options & SoReuseport) != 0;
            if (state == SocketState.Listen)
            {
                // As on Linux: a listener's queues are its accept queue and its backlog.
                record.ReceiveQueue = (uint)Math.Max((short)0, BinaryPrimitives.ReadInt16LittleEndian(info.Slice(SoiQlen)));
                record.SendQueue = (uint)Math.Max((short)0, BinaryPrimitives.ReadInt16LittleEndian(info.Slice(SoiQlimit)));
            }
            else
            {
                record.ReceiveQueue = Uint(info, SoiRcvCc);
                record.SendQueue = Uint(info, SoiSndCc);
            }

            local.CopyTo(table.LocalSlot(index));
            remote.CopyTo(table.RemoteSlot(index));
            return SocketFdInfoOutcome.Added;
        }

        /// <summary>
        /// tcpsi_state (TSI_S_*, the kernel's TCPS_*) to SocketState. A TCP socket in TSI_S_CLOSED
        /// that holds a port (the caller has checked) is bound but neither listening nor connected.
        /// </summary>
        internal static SocketState MapTcpState(int state) => state switch
        {
            TsiClosed => SocketState.Bound,
            TsiListen => SocketState.Listen,
            2 => SocketState.SynSent,
            3 => SocketState.SynReceived,
            4 => SocketState.Established,
            5 => SocketState.CloseWait,
            6 => SocketState.FinWait1,
            7 => SocketState.Closing,
            8 => SocketState.LastAck,
            9 => SocketState.FinWait2,
            10 => SocketState.TimeWait,
            _ => SocketState.Unknown,
        };

        /// <summary>
        /// One end's address into <paramref name="into"/> (4 or 16 bytes) and whether the socket is
        /// IPv6. An inpcb keeps IPv4 addresses in the last 4 bytes of the union (struct in4in6_addr)
        /// and says which form it uses in insi_vflag. An IPv6 socket that connected to a v4-mapped
        /// peer uses the IPv4 form; it is reported as the v4-mapped IPv6 address, as Linux does.
        /// Link-local addresses carry their scope inside bytes 2 and 3 (XNU's default
        /// net.inet6.ip6.in6_embedded_scope = 1, bsd/netinet6/scope6.c); it is taken out into
        /// <paramref name="scopeId"/>, as in6_recoverscope does.
        /// </summary>
        private static bool ReadAddress(ReadOnlySpan<byte> info, int offset, byte vflag, int family, bool peer, Span<byte> into, out uint scopeId)
        {
            scopeId = 0;
            bool ipv4Form = (vflag & IniIpv6) == 0 && ((vflag & IniIpv4) != 0 || family == AfInet);
            if (ipv4Form)
            {
                ReadOnlySpan<byte> ipv4 = info.Slice(offset + In4In6Address, 4);
                if (family == AfInet)
                {
                    ipv4.CopyTo(into);
                    return false;
                }

                into.Clear();
                if (peer && IsZero(ipv4))
                {
                    return true; // no peer: ::, not ::ffff:0.0.0.0
                }

                into[10] = 0xFF;
                into[11] = 0xFF;
                ipv4.CopyTo(into.Slice(12));
                return true;
            }

            info.Slice(offset, 16).CopyTo(into);
            if (HasEmbeddedScope(into))
            {
                scopeId = (uint)((into[2] << 8) | into[3]);
                into[2] = 0;
                into[3] = 0;
            }

            return true;
        }

        /// <summary>IN6_IS_SCOPE_EMBED (bsd/netinet6/in6.h): link-local unicast, and link- or interface-local multicast.</summary>
        private static bool HasEmbeddedScope(ReadOnlySpan<byte> address) =>
            (address[0] == 0xFE && (address[1] & 0xC0) == 0x80)
            || (address[0] == 0xFF && ((address[1] & 0x0F) == 0x02 || (address[1] & 0x0F) == 0x01));

        private static bool IsZero(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                if (b != 0)
                {
                    return false;
                }
            }

            return true;
        }

        private static int Int(ReadOnlySpan<byte> info, int offset) => BinaryPrimitives.ReadInt32LittleEndian(info.Slice(offset));

        private static uint Uint(ReadOnlySpan<byte> info, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(offset));
    }
}
