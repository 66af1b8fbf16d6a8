using System;
using System.Buffers.Binary;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Dumps sockets through NETLINK_SOCK_DIAG (inet_diag), as ss does: one request per protocol and
    /// family, then datagrams of inet_diag_msg records until NLMSG_DONE. Layouts are from
    /// include/uapi/linux/{netlink,inet_diag,sock_diag}.h: inet_diag_msg is family, state, timer, retrans
    /// (one byte each), the 48-byte inet_diag_sockid, then expires, rqueue, wqueue, uid, inode (u32 each).
    /// </summary>
    internal sealed unsafe class InetDiagReader : IDisposable
    {
        private const int NlmsgHeaderLength = 16;
        private const int RequestLength = NlmsgHeaderLength + 56;
        private const ushort SockDiagByFamily = 20;
        private const ushort NlmsgError = 2;
        private const ushort NlmsgDone = 3;
        private const ushort NlmFRequest = 0x1;
        private const ushort NlmFDump = 0x300;
        private const int InetDiagMsgLength = 72;
        private const int NlattrHeaderLength = 4;
        private const ushort InetDiagReqBytecode = 1;
        private const int Einval = 22;
        private const ushort InetDiagSkV6Only = 11;

        // Linux's TCP_CLOSE; bound-only sockets are dumped in it when TcpBoundInactive is asked for.
        private const int TcpClose = 7;
        private const int TcpBoundInactive = 13;

        // The kernel fills at most about 32 KiB per dump datagram; twice that never truncates.
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly int _fd;
        private uint _sequence;
        private int _lastDumpRecords;

        private InetDiagReader(int fd) => _fd = fd;

        /// <summary>Opens the netlink socket, or returns null with the errno when sock_diag is unavailable.</summary>
        public static InetDiagReader? TryOpen(out int errno)
        {
            int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_SOCK_DIAG);
            if (fd < 0)
            {
                errno = LibC.LastError;
                return null;
            }

            errno = 0;
            return new InetDiagReader(fd);
        }

        /// <summary>
        /// Dumps one protocol and family into <paramref name="table"/>, keeping what the query wants.
        /// Returns 0, or the errno the kernel answered with (ENOENT when the diag module for the
        /// protocol is missing), in which case nothing was added. <paramref name="batchDecoded"/> is
        /// called after each datagram's sockets are added, before the kernel is asked for more. The
        /// query's port filters go to the kernel as bytecode (<see cref="InetDiagFilter"/>), so that it
        /// sends only the sockets they keep; every filter is applied here all the same.
        /// </summary>
        public int Dump(TransportProtocol protocol, bool ipv6, SocketQuery query, RawSocketTable table, CancellationToken cancellation, SocketReadProgress? progress = null, Action? batchDecoded = null) =>
            DumpFiltered(protocol, ipv6, query, InetDiagFilter.Compile(query), table, cancellation, progress, batchDecoded);

        /// <summary>inet_diag_msg records the kernel sent in all dumps so far (a filter sends fewer).</summary>
        internal long RecordsReceived { get; private set; }

        /// <summary>Dumps with the given bytecode (null for none), or without it if the kernel refuses it.</summary>
        internal int DumpFiltered(TransportProtocol protocol, bool ipv6, SocketQuery query, byte[]? filter, RawSocketTable table, CancellationToken cancellation, SocketReadProgress? progress = null, Action? batchDecoded = null)
        {
            if (filter is { Length: > InetDiagFilter.MaximumLength })
            {
                throw new ArgumentException("inet_diag bytecode is at most " + InetDiagFilter.MaximumLength + " bytes here.", nameof(filter));
            }

            int result = DumpOnce(protocol, ipv6, query, filter, table, cancellation, progress, batchDecoded);

            // A kernel whose audit refuses the filter answers EINVAL before any socket: it is asked for every socket.
            return result == Einval && filter is not null && _lastDumpRecords == 0
                ? DumpOnce(protocol, ipv6, query, null, table, cancellation, progress, batchDecoded)
                : result;
        }

        private int DumpOnce(TransportProtocol protocol, bool ipv6, SocketQuery query, byte[]? filter, RawSocketTable table, CancellationToken cancellation, SocketReadProgress? progress, Action? batchDecoded)
        {
            uint states = StateMask(protocol, query);
            _lastDumpRecords = 0;
            if (states == 0)
            {
                return 0;
            }

            uint sequence = ++_sequence;
            int filterLength = filter is null ? 0 : NlattrHeaderLength + filter.Length;
            int requestLength = RequestLength + filterLength;
            byte* request = stackalloc byte[RequestLength + NlattrHeaderLength + InetDiagFilter.MaximumLength];
            new Span<byte>(request, requestLength).Clear();
            WriteNative(request, 0, (uint)requestLength);
            WriteNative16(request, 4, SockDiagByFamily);
            WriteNative16(request, 6, (ushort)(NlmFRequest | NlmFDump));
            WriteNative(request, 8, sequence);
            request[16] = (byte)(ipv6 ? LibC.AF_INET6 : LibC.AF_INET);
            request[17] = (byte)protocol;
            request[18] = 0; // no extensions: SKV6ONLY comes unasked for listening and closed sockets
            WriteNative(request, 20, states);
            if (filter is not null)
            {
                // struct nlattr { u16 nla_len; u16 nla_type; } then the bytecode (a multiple of 4 bytes).
                WriteNative16(request, RequestLength, (ushort)filterLength);
                WriteNative16(request, RequestLength + 2, InetDiagReqBytecode);
                filter.CopyTo(new Span<byte>(request + RequestLength + NlattrHeaderLength, filter.Length));
            }

            if (LibC.send(_fd, request, (nuint)requestLength, 0) < 0)
            {
                return LibC.LastError;
            }

            int start = table.Count;
            int counted = start; // reported to progress so far
            fixed (byte* buffer = _buffer)
            {
                while (true)
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (progress is not null)
                    {
                        progress.AddSocketsRead(table.Count - counted);
                        counted = table.Count;
                    }

                    nint received = LibC.recv(_fd, buffer, (nuint)_buffer.Length, 0);
                    if (received < 0)
                    {
                        int errno = LibC.LastError;
                        if (errno == LibC.EINTR)
                        {
                            continue;
                        }

                        return Abandon(table, start, errno, progress, counted);
                    }

                    int offset = 0;
                    while (offset + NlmsgHeaderLength <= received)
                    {
                        int length = (int)ReadNative(buffer, offset);
                        ushort type = ReadNative16(buffer, offset + 4);
                        if (length < NlmsgHeaderLength || offset + length > received)
                        {
                            return Abandon(table, start, 74, progress, counted); // EBADMSG: a truncated or corrupt datagram
                        }

                        if (type == NlmsgDone)
                        {
                            progress?.AddSocketsRead(table.Count - counted);
                            return 0;
                        }

                        if (type == NlmsgError)
                        {
                            int error = -(int)ReadNative(buffer, offset + NlmsgHeaderLength);
                            return Abandon(table, start, error, progress, counted);
                        }

                        if (type == SockDiagByFamily && length >= NlmsgHeaderLength + InetDiagMsgLength)
                        {
                            _lastDumpRecords++;
                            RecordsReceived++;
                            Decode(new ReadOnlySpan<byte>(buffer + offset + NlmsgHeaderLength, length - NlmsgHeaderLength), protocol, query, table);
                        }

                        offset += (length + 3) & ~3;
                    }

                    batchDecoded?.Invoke();
                }
            }
        }

        private static int Abandon(RawSocketTable table, int start, int errno, SocketReadProgress? progress, int counted)
        {
            progress?.AddSocketsRead(start - counted); // the fallback reads these sockets again
            // Records already made into sockets (a read that builds as it goes) cannot be dropped; the caller sees them built.
            while (table.Count > start && table.RemoveLast())
            {
            }

            return errno == 0 ? 5 : errno;
        }

        /// <summary>Decodes one inet_diag_msg with its attributes.</summary>
        internal static void Decode(ReadOnlySpan<byte> message, TransportProtocol protocol, SocketQuery query, RawSocketTable table)
        {
            int kernelState = message[1];
            SocketState state = MapState(protocol, kernelState);
            if (!query.WantsState(protocol, state))
            {
                return;
            }

            bool ipv6 = message[0] == LibC.AF_INET6;
            int localPort = BinaryPrimitives.ReadUInt16BigEndian(message.Slice(4));
            int remotePort = BinaryPrimitives.ReadUInt16BigEndian(message.Slice(6));
            int addressLength = ipv6 ? 16 : 4;
            ReadOnlySpan<byte> local = message.Slice(8, addressLength);
            ReadOnlySpan<byte> remote = message.Slice(24, addressLength);
            if (!query.WantsEndpoints(local, localPort, remote, remotePort, deviceBound: ReadNative(message, 40) != 0))
            {
                return;
            }

            int index = table.Add();
            ref RawSocketTable.Record record = ref table[index];
            record.Protocol = protocol;
            record.State = state;
            record.IsV6 = ipv6;
            record.LocalPort = (ushort)localPort;
            record.RemotePort = (ushort)remotePort;
            record.InterfaceIndex = ReadNative(message, 40);
            // idiag_timer, idiag_retrans and idiag_expires (ms), filled as ss -o prints them.
            record.Timer = (byte)(message[2] + 1);
            record.Retransmits = message[3];
            record.TimerExpiresMilliseconds = ReadNative(message, 52);
            record.ReceiveQueue = ReadNative(message, 56);
            record.SendQueue = ReadNative(message, 60);
            record.UserId = ReadNative(message, 64);
            record.Inode = ReadNative(message, 68);
            local.CopyTo(table.LocalSlot(index));
            remote.CopyTo(table.RemoteSlot(index));

            // Attributes: struct rtattr { u16 len; u16 type; } then the payload, 4-byte aligned.
            int offset = InetDiagMsgLength;
            while (offset + 4 <= message.Length)
            {
                int length = ReadNative16(message, offset);
                int type = ReadNative16(message, offset + 2);
                if (length < 4 || offset + length > message.Length)
                {
                    break;
                }

                if (type == InetDiagSkV6Only && length >= 5)
                {
                    record.V6Only = message[offset + 4] != 0 ? (byte)2 : (byte)1;
                }

                offset += (length + 3) & ~3;
            }
        }

        /// <summary>Linux TCP state numbers to SocketState; for UDP, ESTABLISHED means connected.</summary>
        internal static SocketState MapState(TransportProtocol protocol, int kernelState)
        {
            if (protocol == TransportProtocol.Udp)
            {
                return kernelState == 1 ? SocketState.Connected : SocketState.Unconnected;
            }

            return kernelState switch
            {
                >= 1 and <= 6 => (SocketState)kernelState,
                TcpClose => SocketState.Bound,
                >= 8 and <= 11 => (SocketState)kernelState,
                12 => SocketState.SynReceived,
                TcpBoundInactive => SocketState.Bound,
                _ => SocketState.Unknown,
            };
        }

        /// <summary>The idiag_states mask: only the states the query can keep, so the kernel skips the rest.</summary>
        internal static uint StateMask(TransportProtocol protocol, SocketQuery query)
        {
            if (protocol == TransportProtocol.Udp)
            {
                uint udp = 0;
                if (query.WantsState(protocol, SocketState.Connected))
                {
                    udp |= 1u << 1;
                }

                if (query.WantsState(protocol, SocketState.Unconnected))
                {
                    udp |= 1u << TcpClose;
                }

                return udp;
            }

            uint mask = 0;
            for (int kernelState = 1; kernelState <= 12; kernelState++)
            {
                if (kernelState != TcpClose && query.WantsState(protocol, MapState(protocol, kernelState)))
                {
                    mask |= 1u << kernelState;
                }
            }

            // Bound-only sockets (Linux 6.11+; older kernels ignore the bit and list none).
            if (query.WantsState(protocol, SocketState.Bound))
            {
                mask |= 1u << TcpBoundInactive;
            }

            return mask;
        }

        // Netlink headers and inet_diag_msg scalars other than ports and addresses are in host order.
        private static uint ReadNative(byte* p, int offset) => *(uint*)(p + offset);

        private static ushort ReadNative16(byte* p, int offset) => *(ushort*)(p + offset);

        private static uint ReadNative(ReadOnlySpan<byte> span, int offset) => System.Runtime.InteropServices.MemoryMarshal.Read<uint>(span.Slice(offset));

        private static ushort ReadNative16(ReadOnlySpan<byte> span, int offset) => System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(span.Slice(offset));

        private static void WriteNative(byte* p, int offset, uint value) => *(uint*)(p + offset) = value;

        private static void WriteNative16(byte* p, int offset, ushort value) => *(ushort*)(p + offset) = value;

        public void Dispose() => LibC.close(_fd);
    }
}
