using System;
using System.Collections.Generic;

namespace PortTools.MacOS
{
    /// <summary>
    /// Decoded sockets, one record per kernel socket however many descriptors and processes hold
    /// it: libproc reports a socket once per descriptor, and after fork() several processes hold the
    /// same one. Records are keyed by soi_so, the kernel's (hashed) address of the socket. Values in
    /// flat arrays until every filter has run; addresses are 16 bytes each (IPv4 in the first 4).
    /// </summary>
    internal sealed class MacSocketTable
    {
        private const int AddressSlots = 32;
        private readonly Dictionary<ulong, int> _bySocket = new Dictionary<ulong, int>();
        private readonly List<KeyValuePair<int, int>> _moreOwners = new List<KeyValuePair<int, int>>();
        private Record[] _records;
        private byte[] _addresses;

        public MacSocketTable(int capacity = 256)
        {
            _records = new Record[capacity];
            _addresses = new byte[capacity * AddressSlots];
        }

        public int Count { get; private set; }

        public ref Record this[int index] => ref _records[index];

        public Span<byte> LocalAddress(int index) => new Span<byte>(_addresses, index * AddressSlots, _records[index].IsV6 ? 16 : 4);

        public Span<byte> RemoteAddress(int index) => new Span<byte>(_addresses, (index * AddressSlots) + 16, _records[index].IsV6 ? 16 : 4);

        public Span<byte> LocalSlot(int index) => new Span<byte>(_addresses, index * AddressSlots, 16);

        public Span<byte> RemoteSlot(int index) => new Span<byte>(_addresses, (index * AddressSlots) + 16, 16);

        /// <summary>When the socket is already recorded, adds <paramref name="pid"/> to its owners (once) and returns true.</summary>
        public bool TryAddOwner(ulong socket, int pid)
        {
            if (!_bySocket.TryGetValue(socket, out int index))
            {
                return false;
            }

            if (_records[index].FirstOwner != pid && !_moreOwners.Contains(new KeyValuePair<int, int>(index, pid)))
            {
                // Shared after fork: rare, so a list is enough.
                _moreOwners.Add(new KeyValuePair<int, int>(index, pid));
            }

            return true;
        }

        /// <summary>Appends a cleared record for a socket first seen in <paramref name="pid"/>; the caller fills it and its address slots.</summary>
        public int Add(ulong socket, int pid)
        {
            if (Count == _records.Length)
            {
                Array.Resize(ref _records, _records.Length * 2);
                Array.Resize(ref _addresses, _records.Length * AddressSlots);
            }

            _records[Count] = default;
            _records[Count].Socket = socket;
            _records[Count].FirstOwner = pid;
            Array.Clear(_addresses, Count * AddressSlots, AddressSlots);
            _bySocket[socket] = Count;
            return Count++;
        }

        /// <summary>The pids that hold the socket at <paramref name="index"/>, first found first.</summary>
        public void Owners(int index, List<int> into)
        {
            into.Clear();
            into.Add(_records[index].FirstOwner);
            foreach (KeyValuePair<int, int> extra in _moreOwners)
            {
                if (extra.Key == index)
                {
                    into.Add(extra.Value);
                }
            }
        }

        internal struct Record
        {
            /// <summary>soi_so: the socket's identity in the kernel.</summary>
            public ulong Socket;
            public int FirstOwner;
            public TransportProtocol Protocol;
            public SocketState State;
            public bool IsV6;

            /// <summary>0 unknown, 1 off, 2 on (as RawSocketTable keeps it on Linux).</summary>
            public byte V6Only;
            public bool ReuseAddress;
            public bool ReusePort;
            public ushort LocalPort;
            public ushort RemotePort;
            public uint LocalScopeId;
            public uint RemoteScopeId;
            public uint ReceiveQueue;
            public uint SendQueue;
        }
    }
}
