using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools.Linux
{
    /// <summary>
    /// Decoded socket records, kept as values in flat arrays until every filter has run, so that
    /// sockets a query drops cost no objects. Addresses are 16 bytes each (IPv4 in the first 4).
    /// </summary>
    internal sealed class RawSocketTable
    {
        private Record[] _records;
        private byte[] _addresses;

        // Records before this index were let go (Release): indexes stay those of the whole read.
        private int _first;

        public RawSocketTable(int capacity = 1024)
        {
            _records = new Record[capacity];
            _addresses = new byte[capacity * 32];
        }

        /// <summary>Records added so far, including those let go.</summary>
        public int Count { get; private set; }

        public ref Record this[int index] => ref _records[index - _first];

        public Span<byte> LocalAddress(int index) => new Span<byte>(_addresses, (index - _first) * 32, _records[index - _first].IsV6 ? 16 : 4);

        public Span<byte> RemoteAddress(int index) => new Span<byte>(_addresses, ((index - _first) * 32) + 16, _records[index - _first].IsV6 ? 16 : 4);

        /// <summary>Appends a record and returns its index; the caller fills it and its address slots.</summary>
        public int Add()
        {
            int slot = Count - _first;
            if (slot == _records.Length)
            {
                Array.Resize(ref _records, _records.Length * 2);
                Array.Resize(ref _addresses, _records.Length * 32);
            }

            _records[slot] = default;
            Array.Clear(_addresses, slot * 32, 32);
            return Count++;
        }

        /// <summary>Drops the most recent record (it failed a filter after decoding); false when it was let go already.</summary>
        public bool RemoveLast()
        {
            if (Count == _first)
            {
                return false;
            }

            Count--;
            return true;
        }

        /// <summary>
        /// Lets go of every record added so far (they have been made into sockets), so that a read that
        /// builds as it goes holds one batch of records, not the whole table. Count and indexes go on.
        /// </summary>
        public void Release() => _first = Count;

        public Span<byte> LocalSlot(int index) => new Span<byte>(_addresses, (index - _first) * 32, 16);

        public Span<byte> RemoteSlot(int index) => new Span<byte>(_addresses, ((index - _first) * 32) + 16, 16);

        internal struct Record
        {
            public TransportProtocol Protocol;
            public SocketState State;
            public bool IsV6;

            /// <summary>0 unknown, 1 off, 2 on.</summary>
            public byte V6Only;
            public ushort LocalPort;
            public ushort RemotePort;
            public uint InterfaceIndex;
            public uint UserId;
            public ulong Inode;
            public uint ReceiveQueue;
            public uint SendQueue;

            /// <summary>The kernel's timer number plus one (idiag_timer, /proc's tr); 0 when the source did not say.</summary>
            public byte Timer;

            /// <summary>The timer's count (idiag_retrans; /proc's retrnsmt or probes).</summary>
            public byte Retransmits;

            /// <summary>Milliseconds until the timer fires.</summary>
            public uint TimerExpiresMilliseconds;

            /// <summary>The timer as SocketTuple carries it: all null when unknown, expiry and count null when none is pending.</summary>
            public (SocketTimer? Timer, TimeSpan? ExpiresIn, int? Retransmits) TimerFields()
            {
                SocketTimer? timer = Timer == 0 ? null : SocketTimerNames.FromKernel(Timer - 1);
                return timer is null or SocketTimer.None
                    ? (timer, null, null)
                    : (timer, TimeSpan.FromMilliseconds(TimerExpiresMilliseconds), Retransmits);
            }
        }
    }

    /// <summary>Shares one IPAddress object per distinct address within a read: most sockets share a few local addresses.</summary>
    internal sealed class AddressCache
    {
        private readonly Dictionary<uint, IPAddress> _v4 = new Dictionary<uint, IPAddress>();
        private readonly Dictionary<(ulong, ulong, uint), IPAddress> _v6 = new Dictionary<(ulong, ulong, uint), IPAddress>();

        public IPAddress Get(ReadOnlySpan<byte> bytes, uint scopeId)
        {
            if (bytes.Length == 4)
            {
                uint key = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                if (!_v4.TryGetValue(key, out IPAddress? v4))
                {
                    // IPAddress(long) takes the first octet in the lowest byte, on every platform.
                    v4 = new IPAddress(key);
                    _v4[key] = v4;
                }

                return v4;
            }

            bool linkLocal = bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80;
            uint scope = linkLocal ? scopeId : 0;
            var key6 = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(8)), scope);
            if (!_v6.TryGetValue(key6, out IPAddress? v6))
            {
                v6 = new IPAddress(bytes.ToArray(), scope);
                _v6[key6] = v6;
            }

            return v6;
        }
    }
}
