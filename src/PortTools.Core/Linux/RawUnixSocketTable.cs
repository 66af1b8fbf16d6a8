using System;
using System.Collections.Generic;
using System.Text;

namespace PortTools.Linux
{
    /// <summary>
    /// Decoded UNIX socket records as values in flat arrays, names and pending-connection lists in
    /// shared buffers, so a dump of 200,000 sockets costs a few arrays until objects are built.
    /// </summary>
    internal sealed class RawUnixSocketTable
    {
        private Record[] _records;
        private byte[] _names;
        private uint[] _icons;
        private int _nameLength;
        private int _iconCount;

        public RawUnixSocketTable(int capacity = 1024)
        {
            _records = new Record[capacity];
            _names = new byte[capacity * 8];
            _icons = new uint[64];
        }

        public int Count { get; private set; }

        /// <summary>Whether the source reported peers and queues (unix_diag does, /proc/net/unix does not).</summary>
        public bool HasPeers { get; set; }

        public ref Record this[int index] => ref _records[index];

        public int Add()
        {
            if (Count == _records.Length)
            {
                Array.Resize(ref _records, _records.Length * 2);
            }

            _records[Count] = default;
            _records[Count].NameLength = -1;
            return Count++;
        }

        public void RemoveLast() => Count--;

        /// <summary>Stores the raw sun_path bytes of a record's address (unix_diag's UNIX_DIAG_NAME payload).</summary>
        public void SetName(int index, ReadOnlySpan<byte> name)
        {
            Reserve(ref _names, _nameLength, name.Length);
            name.CopyTo(new Span<byte>(_names, _nameLength, name.Length));
            _records[index].NameOffset = _nameLength;
            _records[index].NameLength = name.Length;
            _nameLength += name.Length;
        }

        public ReadOnlySpan<byte> Name(int index)
        {
            ref Record record = ref _records[index];
            return record.NameLength < 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_names, record.NameOffset, record.NameLength);
        }

        public void AddIcon(int index, uint inode)
        {
            ref Record record = ref _records[index];
            if (record.IconCount == 0)
            {
                record.IconOffset = _iconCount;
            }

            Reserve(ref _icons, _iconCount, 1);
            _icons[_iconCount++] = inode;
            record.IconCount++;
        }

        public ReadOnlySpan<uint> Icons(int index)
        {
            ref Record record = ref _records[index];
            return new ReadOnlySpan<uint>(_icons, record.IconOffset, record.IconCount);
        }

        private static void Reserve<T>(ref T[] buffer, int used, int more)
        {
            if (used + more > buffer.Length)
            {
                Array.Resize(ref buffer, Math.Max(buffer.Length * 2, used + more));
            }
        }

        internal struct Record
        {
            /// <summary>SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5.</summary>
            public byte Type;

            /// <summary>sk_state: TCP_ESTABLISHED 1, TCP_CLOSE 7, TCP_LISTEN 10.</summary>
            public byte KernelState;
            public bool HasFile;
            public bool HasQueues;
            public bool HasUid;
            public uint Inode;
            public uint Peer;
            public uint FileInode;

            /// <summary>The kernel's dev_t of the file's file system: major in the high 12 bits, minor in the low 20.</summary>
            public uint FileDevice;
            public uint ReceiveQueue;
            public uint SendQueue;
            public uint UserId;

            /// <summary>-1 when unnamed; otherwise the raw sun_path bytes' length (an abstract name starts with a NUL).</summary>
            public int NameLength;
            public int NameOffset;
            public int IconOffset;
            public int IconCount;
        }
    }

    /// <summary>
    /// Turns sun_path bytes into the text ss shows: a path up to its first NUL, or an abstract name
    /// as @ and the name with NULs shown as @. Shares one string per distinct name within a read:
    /// accepted sockets repeat their listener's path.
    /// </summary>
    internal sealed class UnixNameCache
    {
        private readonly Dictionary<int, List<KeyValuePair<byte[], string>>> _names = new Dictionary<int, List<KeyValuePair<byte[], string>>>();
        private readonly UTF8Encoding _utf8 = new UTF8Encoding(false, false);

        public string? Get(ReadOnlySpan<byte> raw)
        {
            if (raw.Length == 0)
            {
                return null;
            }

            int hash = Hash(raw);
            if (_names.TryGetValue(hash, out List<KeyValuePair<byte[], string>>? bucket))
            {
                foreach (KeyValuePair<byte[], string> entry in bucket)
                {
                    if (raw.SequenceEqual(entry.Key))
                    {
                        return entry.Value;
                    }
                }
            }
            else
            {
                bucket = new List<KeyValuePair<byte[], string>>(1);
                _names.Add(hash, bucket);
            }

            string text = Decode(raw, _utf8)!;
            bucket.Add(new KeyValuePair<byte[], string>(raw.ToArray(), text));
            return text;
        }

        /// <summary>The ss rendering of raw sun_path bytes; null for none.</summary>
        public static string? Decode(ReadOnlySpan<byte> raw, Encoding? encoding = null)
        {
            if (raw.Length == 0)
            {
                return null;
            }

            encoding ??= Encoding.UTF8;
            if (raw[0] != 0)
            {
                int end = raw.IndexOf((byte)0);
                ReadOnlySpan<byte> path = end < 0 ? raw : raw.Slice(0, end);
                return path.Length == 0 ? null : GetString(encoding, path);
            }

            byte[] name = raw.ToArray();
            for (int i = 0; i < name.Length; i++)
            {
                if (name[i] == 0)
                {
                    name[i] = (byte)'@';
                }
            }

            return encoding.GetString(name);
        }

        private static unsafe string GetString(Encoding encoding, ReadOnlySpan<byte> bytes)
        {
            fixed (byte* p = bytes)
            {
                return encoding.GetString(p, bytes.Length);
            }
        }

        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            unchecked
            {
                uint hash = 2166136261;
                foreach (byte b in bytes)
                {
                    hash = (hash ^ b) * 16777619;
                }

                return (int)hash;
            }
        }
    }
}
