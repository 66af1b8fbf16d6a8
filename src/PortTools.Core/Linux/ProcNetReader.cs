using System;
using System.IO;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads /proc/net/{tcp,tcp6,udp,udp6}: the fallback when netlink sock_diag is unavailable
    /// (a seccomp filter, a missing diag module). These files cannot show bound-only TCP sockets,
    /// bound devices or IPV6_V6ONLY. Line layout: tcp4_seq_show/tcp6_seq_show in net/ipv4/tcp_ipv4.c
    /// and net/ipv6/tcp_ipv6.c, udp4_format_sock in net/ipv4/udp.c.
    /// </summary>
    internal static class ProcNetReader
    {
        /// <summary>Reads one file into the table. Returns false when the file does not exist (IPv6 disabled).</summary>
        public static bool Read(string path, TransportProtocol protocol, bool ipv6, SocketQuery query, RawSocketTable table, CancellationToken cancellation)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                return false;
            }
            catch (DirectoryNotFoundException)
            {
                return false;
            }

            using (stream)
            {
                ReadLines(stream, line => DecodeLine(line, protocol, ipv6, BitConverter.IsLittleEndian, query, table), cancellation);
            }

            return true;
        }

        internal delegate void LineHandler(ReadOnlySpan<byte> line);

        /// <summary>Splits a stream into lines without building strings; a line may span two reads.</summary>
        internal static void ReadLines(Stream stream, LineHandler handler, CancellationToken cancellation)
        {
            byte[] buffer = new byte[128 * 1024];
            int filled = 0;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                int read = stream.Read(buffer, filled, buffer.Length - filled);
                filled += read;
                int start = 0;
                for (int i = 0; i < filled; i++)
                {
                    if (buffer[i] == (byte)'\n')
                    {
                        handler(new ReadOnlySpan<byte>(buffer, start, i - start));
                        start = i + 1;
                    }
                }

                if (read == 0)
                {
                    if (start < filled)
                    {
                        handler(new ReadOnlySpan<byte>(buffer, start, filled - start));
                    }

                    return;
                }

                filled -= start;
                Buffer.BlockCopy(buffer, start, buffer, 0, filled);
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
            }
        }

        /// <summary>
        /// Decodes "  sl: local:port remote:port st tx:rx tr:when retr uid timeout inode ...".
        /// Addresses are the raw 32-bit words printed with %08X in the writing host's byte order.
        /// Returns false for the header and malformed lines.
        /// </summary>
        internal static bool DecodeLine(ReadOnlySpan<byte> line, TransportProtocol protocol, bool ipv6, bool littleEndian, SocketQuery query, RawSocketTable table)
        {
            var cursor = new Cursor(line);
            if (!cursor.SkipField() /* sl: */ || !cursor.TrySkipSpaces())
            {
                return false;
            }

            Span<byte> local = stackalloc byte[16];
            Span<byte> remote = stackalloc byte[16];
            int addressLength = ipv6 ? 16 : 4;
            if (!cursor.TryAddress(local.Slice(0, addressLength), littleEndian) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong localPort)
                || !cursor.TrySkipSpaces() || !cursor.TryAddress(remote.Slice(0, addressLength), littleEndian) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong remotePort)
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong kernelState)
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong sendQueue) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong receiveQueue)
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong timer) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong when)
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong retransmits)
                || !cursor.TrySkipSpaces() || !cursor.TryDecimal(out ulong uid)
                || !cursor.TrySkipSpaces() || !cursor.TryDecimal(out ulong probes) /* timeout: icsk_probes_out */
                || !cursor.TrySkipSpaces() || !cursor.TryDecimal(out ulong inode)
                || localPort > 65535 || remotePort > 65535)
            {
                return false;
            }

            SocketState state = InetDiagReader.MapState(protocol, (int)kernelState);
            if (!query.WantsState(protocol, state) || !query.WantsEndpoints(local.Slice(0, addressLength), (int)localPort, remote.Slice(0, addressLength), (int)remotePort))
            {
                return true;
            }

            int index = table.Add();
            ref RawSocketTable.Record record = ref table[index];
            record.Protocol = protocol;
            record.State = state;
            record.IsV6 = ipv6;
            record.LocalPort = (ushort)localPort;
            record.RemotePort = (ushort)remotePort;
            record.UserId = (uint)uid;
            record.Inode = inode;
            record.ReceiveQueue = (uint)receiveQueue;
            record.SendQueue = (uint)sendQueue;

            // tr is the timer's number, tm->when clock ticks (USER_HZ, 100 a second on Linux) until it
            // fires; ss shows the retransmissions for the retransmit timer and icsk_probes_out (the
            // "timeout" column) for the keepalive and zero-window probe timers.
            record.Timer = timer <= 4 ? (byte)(timer + 1) : (byte)0;
            record.TimerExpiresMilliseconds = when > uint.MaxValue / 10 ? uint.MaxValue : (uint)when * 10;
            ulong count = timer is 2 or 4 ? probes : retransmits;
            record.Retransmits = count > byte.MaxValue ? byte.MaxValue : (byte)count;
            local.Slice(0, addressLength).CopyTo(table.LocalSlot(index));
            remote.Slice(0, addressLength).CopyTo(table.RemoteSlot(index));
            return true;
        }

        internal ref struct Cursor
        {
            private readonly ReadOnlySpan<byte> _line;
            private int _position;

            public Cursor(ReadOnlySpan<byte> line)
            {
                _line = line;
                _position = 0;
                while (_position < _line.Length && _line[_position] == (byte)' ')
                {
                    _position++;
                }
            }

            public bool SkipField()
            {
                int start = _position;
                while (_position < _line.Length && _line[_position] != (byte)' ')
                {
                    _position++;
                }

                return _position > start;
            }

            public bool TrySkipSpaces()
            {
                int start = _position;
                while (_position < _line.Length && _line[_position] == (byte)' ')
                {
                    _position++;
                }

                return _position > start && _position < _line.Length;
            }

            public bool Expect(byte c)
            {
                if (_position < _line.Length && _line[_position] == c)
                {
                    _position++;
                    return true;
                }

                return false;
            }

            public bool TryHex(out ulong value)
            {
                value = 0;
                int start = _position;
                while (_position < _line.Length && _position - start < 16)
                {
                    int digit = HexDigit(_line[_position]);
                    if (digit < 0)
                    {
                        break;
                    }

                    value = (value << 4) | (uint)digit;
                    _position++;
                }

                return _position > start;
            }

            public bool TryDecimal(out ulong value)
            {
                value = 0;
                int start = _position;
                while (_position < _line.Length && _line[_position] >= (byte)'0' && _line[_position] <= (byte)'9' && _position - start < 20)
                {
                    value = (value * 10) + (ulong)(_line[_position] - '0');
                    _position++;
                }

                return _position > start;
            }

            /// <summary>Reads 8 hex digits per 32-bit word and lays each word out in the writer's byte order.</summary>
            public bool TryAddress(scoped Span<byte> address, bool littleEndian)
            {
                for (int word = 0; word < address.Length / 4; word++)
                {
                    uint value = 0;
                    for (int i = 0; i < 8; i++)
                    {
                        if (_position >= _line.Length)
                        {
                            return false;
                        }

                        int digit = HexDigit(_line[_position++]);
                        if (digit < 0)
                        {
                            return false;
                        }

                        value = (value << 4) | (uint)digit;
                    }

                    Span<byte> slot = address.Slice(word * 4, 4);
                    if (littleEndian)
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(slot, value);
                    }
                    else
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(slot, value);
                    }
                }

                return true;
            }

            private static int HexDigit(byte c) => c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                _ => -1,
            };
        }
    }
}
