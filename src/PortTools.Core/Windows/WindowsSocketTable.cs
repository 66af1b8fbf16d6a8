using System;

namespace PortTools.Windows
{
    /// <summary>
    /// Decoded iphlpapi rows, kept as values in flat arrays until every filter has run, so that rows
    /// a query drops cost no objects. Addresses are 16 bytes each (IPv4 in the first 4).
    /// </summary>
    internal sealed class WindowsSocketTable
    {
        private const int AddressSlots = 32;
        private Record[] _records;
        private byte[] _addresses;

        public WindowsSocketTable(int capacity = 256)
        {
            _records = new Record[capacity];
            _addresses = new byte[capacity * AddressSlots];
        }

        public int Count { get; private set; }

        public ref Record this[int index] => ref _records[index];

        public Span<byte> LocalAddress(int index) => new Span<byte>(_addresses, index * AddressSlots, _records[index].IsV6 ? 16 : 4);

        public Span<byte> RemoteAddress(int index) => new Span<byte>(_addresses, (index * AddressSlots) + 16, _records[index].IsV6 ? 16 : 4);

        /// <summary>Appends a cleared record and returns its index; the caller fills it and its address slots.</summary>
        public int Add()
        {
            if (Count == _records.Length)
            {
                Array.Resize(ref _records, _records.Length * 2);
                Array.Resize(ref _addresses, _records.Length * AddressSlots);
            }

            _records[Count] = default;
            Array.Clear(_addresses, Count * AddressSlots, AddressSlots);
            return Count++;
        }

        public Span<byte> LocalSlot(int index) => new Span<byte>(_addresses, index * AddressSlots, 16);

        public Span<byte> RemoteSlot(int index) => new Span<byte>(_addresses, (index * AddressSlots) + 16, 16);

        internal struct Record
        {
            public TransportProtocol Protocol;
            public SocketState State;
            public bool IsV6;
            public ushort LocalPort;
            public ushort RemotePort;
            public uint LocalScopeId;
            public uint RemoteScopeId;

            /// <summary>dwOwningPid: 0 when no process holds the endpoint (TIME_WAIT) or Windows does not say.</summary>
            public uint ProcessId;
        }
    }
}
