using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Dumps UNIX domain sockets through NETLINK_SOCK_DIAG (unix_diag), as ss -x does: one request
    /// for every state with the name, file, peer, pending-connection, queue and uid attributes, then
    /// datagrams of unix_diag_msg records until NLMSG_DONE. The dump holds the sockets of the network
    /// namespace of the thread that opened the netlink socket. Layouts are from
    /// include/uapi/linux/{netlink,sock_diag,unix_diag}.h.
    /// </summary>
    internal sealed unsafe class UnixDiagReader : IDisposable
    {
        private const int NlmsgHeaderLength = 16;
        private const int RequestLength = NlmsgHeaderLength + 24;
        private const int UnixDiagMsgLength = 16;
        private const ushort SockDiagByFamily = 20;
        private const ushort NlmsgError = 2;
        private const ushort NlmsgDone = 3;
        private const ushort NlmFRequest = 0x1;
        private const ushort NlmFDump = 0x300;
        private const int AfUnix = 1;

        // udiag_show bits.
        internal const uint ShowName = 0x01;
        internal const uint ShowVfs = 0x02;
        internal const uint ShowPeer = 0x04;
        internal const uint ShowIcons = 0x08;
        internal const uint ShowRqlen = 0x10;
        internal const uint ShowUid = 0x40;

        /// <summary>What ss -x asks for, and the uid (Linux 5.3+; older kernels ignore the bit).</summary>
        internal const uint ShowAll = ShowName | ShowVfs | ShowPeer | ShowIcons | ShowRqlen | ShowUid;

        // Attribute types.
        private const int AttrName = 0;
        private const int AttrVfs = 1;
        private const int AttrPeer = 2;
        private const int AttrIcons = 3;
        private const int AttrRqlen = 4;
        private const int AttrUid = 7;

        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly int _fd;
        private uint _sequence;

        private UnixDiagReader(int fd) => _fd = fd;

        /// <summary>Opens the netlink socket in the calling thread's network namespace, or returns null with the errno.</summary>
        public static UnixDiagReader? TryOpen(out int errno)
        {
            int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_SOCK_DIAG);
            if (fd < 0)
            {
                errno = LibC.LastError;
                return null;
            }

            errno = 0;
            return new UnixDiagReader(fd);
        }

        /// <summary>
        /// Dumps every UNIX socket into <paramref name="table"/>. Returns 0, or the errno the kernel
        /// answered with (ENOENT when unix_diag is not built), in which case nothing was added.
        /// </summary>
        public int Dump(RawUnixSocketTable table, CancellationToken cancellation, SocketReadProgress? progress = null, uint show = ShowAll)
        {
            uint sequence = ++_sequence;
            byte* request = stackalloc byte[RequestLength];
            new Span<byte>(request, RequestLength).Clear();
            *(uint*)request = RequestLength;
            *(ushort*)(request + 4) = SockDiagByFamily;
            *(ushort*)(request + 6) = NlmFRequest | NlmFDump;
            *(uint*)(request + 8) = sequence;
            request[16] = AfUnix;
            *(uint*)(request + 20) = 0xFFFFFFFF; // udiag_states: all
            *(uint*)(request + 28) = show;
            *(uint*)(request + 32) = 0xFFFFFFFF; // udiag_cookie: none
            *(uint*)(request + 36) = 0xFFFFFFFF;
            if (LibC.send(_fd, request, RequestLength, 0) < 0)
            {
                return LibC.LastError;
            }

            int start = table.Count;
            int counted = start;
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
                        int length = (int)*(uint*)(buffer + offset);
                        ushort type = *(ushort*)(buffer + offset + 4);
                        if (length < NlmsgHeaderLength || offset + length > received)
                        {
                            return Abandon(table, start, 74, progress, counted); // EBADMSG
                        }

                        if (type == NlmsgDone)
                        {
                            progress?.AddSocketsRead(table.Count - counted);
                            table.HasPeers = (show & ShowPeer) != 0;
                            return 0;
                        }

                        if (type == NlmsgError)
                        {
                            int error = -*(int*)(buffer + offset + NlmsgHeaderLength);
                            return Abandon(table, start, error, progress, counted);
                        }

                        if (type == SockDiagByFamily && length >= NlmsgHeaderLength + UnixDiagMsgLength)
                        {
                            Decode(new ReadOnlySpan<byte>(buffer + offset + NlmsgHeaderLength, length - NlmsgHeaderLength), table);
                        }

                        offset += (length + 3) & ~3;
                    }
                }
            }
        }

        private static int Abandon(RawUnixSocketTable table, int start, int errno, SocketReadProgress? progress, int counted)
        {
            progress?.AddSocketsRead(start - counted);
            while (table.Count > start)
            {
                table.RemoveLast();
            }

            return errno == 0 ? 5 : errno;
        }

        /// <summary>Decodes one unix_diag_msg and its attributes.</summary>
        internal static void Decode(ReadOnlySpan<byte> message, RawUnixSocketTable table)
        {
            int index = table.Add();
            ref RawUnixSocketTable.Record record = ref table[index];
            record.Type = message[1];
            record.KernelState = message[2];
            record.Inode = Read32(message, 4);

            // Attributes: struct rtattr { u16 len; u16 type; } then the payload, 4-byte aligned.
            int offset = UnixDiagMsgLength;
            while (offset + 4 <= message.Length)
            {
                int length = MemoryMarshal.Read<ushort>(message.Slice(offset));
                int type = MemoryMarshal.Read<ushort>(message.Slice(offset + 2)) & 0x3FFF; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
                if (length < 4 || offset + length > message.Length)
                {
                    break;
                }

                ReadOnlySpan<byte> payload = message.Slice(offset + 4, length - 4);
                switch (type)
                {
                    case AttrName:
                        table.SetName(index, payload);
                        break;
                    case AttrVfs when payload.Length >= 8:
                        record.HasFile = true;
                        record.FileInode = Read32(payload, 0);
                        record.FileDevice = Read32(payload, 4);
                        break;
                    case AttrPeer when payload.Length >= 4:
                        record.Peer = Read32(payload, 0);
                        break;
                    case AttrIcons:
                        for (int i = 0; i + 4 <= payload.Length; i += 4)
                        {
                            table.AddIcon(index, Read32(payload, i));
                        }

                        break;
                    case AttrRqlen when payload.Length >= 8:
                        record.HasQueues = true;
                        record.ReceiveQueue = Read32(payload, 0);
                        record.SendQueue = Read32(payload, 4);
                        break;
                    case AttrUid when payload.Length >= 4:
                        record.HasUid = true;
                        record.UserId = Read32(payload, 0);
                        break;
                }

                offset += (length + 3) & ~3;
            }
        }

        private static uint Read32(ReadOnlySpan<byte> span, int offset) => MemoryMarshal.Read<uint>(span.Slice(offset));

        public void Dispose() => LibC.close(_fd);
    }
}
