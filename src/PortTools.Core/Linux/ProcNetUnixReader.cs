using System;
using System.IO;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads /proc/net/unix: the fallback when unix_diag is unavailable. It lists the same sockets
    /// with their type, state, inode and address, but no peers, queues, socket files or uids. Line
    /// layout (unix_seq_show in net/unix/af_unix.c): Num RefCount Protocol Flags Type St Inode Path,
    /// where Flags has __SO_ACCEPTCON (0x10000) for a listener, St is SS_CONNECTED (3) or
    /// SS_CONNECTING (2) for an established socket, and an abstract name is written with @ for its
    /// leading NUL (and for any NUL inside it). The file also lists the server ends of connections
    /// not yet accepted, with inode 0 (St SS_CONNECTING): unix_diag does not, and neither do these reads.
    /// </summary>
    internal static class ProcNetUnixReader
    {
        private const uint AcceptConnections = 0x10000;

        /// <summary>Reads the file into the table. Returns false when it does not exist.</summary>
        public static bool Read(string path, RawUnixSocketTable table, CancellationToken cancellation)
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
                ProcNetReader.ReadLines(stream, line => DecodeLine(line, table), cancellation);
            }

            return true;
        }

        /// <summary>Decodes one line; the header and malformed lines are skipped.</summary>
        internal static void DecodeLine(ReadOnlySpan<byte> line, RawUnixSocketTable table)
        {
            // "0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/app.sock"
            int position = 0;
            if (!NextField(line, ref position, out ReadOnlySpan<byte> slot) || slot.Length < 2 || slot[slot.Length - 1] != (byte)':')
            {
                return; // the header, or not a socket line
            }

            if (!NextField(line, ref position, out _)
                || !NextField(line, ref position, out _)
                || !NextField(line, ref position, out ReadOnlySpan<byte> flagsText)
                || !NextField(line, ref position, out ReadOnlySpan<byte> typeText)
                || !NextField(line, ref position, out ReadOnlySpan<byte> stateText)
                || !NextField(line, ref position, out ReadOnlySpan<byte> inodeText)
                || !TryHex(flagsText, out uint flags)
                || !TryHex(typeText, out uint type)
                || !TryHex(stateText, out uint socketState)
                || !TryDecimal(inodeText, out uint inode))
            {
                return;
            }

            if (inode == 0)
            {
                return; // the server end of a connection not yet accepted: no inode, no descriptor; unix_diag leaves it out too
            }

            int index = table.Add();
            ref RawUnixSocketTable.Record record = ref table[index];
            record.Type = (byte)type;
            record.Inode = inode;
            record.KernelState = (flags & AcceptConnections) != 0 ? (byte)10 : socketState is 2 or 3 ? (byte)1 : (byte)7;

            // The path is the rest of the line after one space; it may itself hold spaces.
            if (position < line.Length && line[position] == (byte)' ')
            {
                ReadOnlySpan<byte> path = line.Slice(position + 1);
                if (path.Length > 0)
                {
                    if (path[0] == (byte)'@')
                    {
                        // The abstract name's leading NUL; NULs inside it cannot be told from @ any more.
                        byte[] raw = path.ToArray();
                        raw[0] = 0;
                        table.SetName(index, raw);
                    }
                    else
                    {
                        table.SetName(index, path);
                    }
                }
            }
        }

        private static bool NextField(ReadOnlySpan<byte> line, ref int position, out ReadOnlySpan<byte> field)
        {
            while (position < line.Length && line[position] == (byte)' ')
            {
                position++;
            }

            int start = position;
            while (position < line.Length && line[position] != (byte)' ')
            {
                position++;
            }

            field = line.Slice(start, position - start);
            return field.Length > 0;
        }

        private static bool TryHex(ReadOnlySpan<byte> text, out uint value)
        {
            value = 0;
            foreach (byte c in text)
            {
                int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (digit < 0)
                {
                    return false;
                }

                value = (value << 4) | (uint)digit;
            }

            return true;
        }

        private static bool TryDecimal(ReadOnlySpan<byte> text, out uint value)
        {
            value = 0;
            foreach (byte c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                value = (value * 10) + (uint)(c - '0');
            }

            return true;
        }
    }
}
