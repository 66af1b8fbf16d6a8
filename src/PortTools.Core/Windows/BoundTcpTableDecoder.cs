using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace PortTools.Windows
{
    /// <summary>
    /// The local endpoints and owners of the TCP sockets GetExtendedTcpTable already listed
    /// (listening or connected, in any state but TIME_WAIT), so that the bound-endpoint tables add
    /// only sockets that are bound and nothing more. Addresses are kept as 16 bytes, IPv4 as
    /// v4-mapped, so a dual-stack socket matches across the two families.
    /// </summary>
    internal sealed class BoundTcpHolders
    {
        private readonly HashSet<(ulong High, ulong Low, ushort Port, uint Pid)> _endpoints = new HashSet<(ulong, ulong, ushort, uint)>();
        private readonly HashSet<(ushort Port, uint Pid)> _ports = new HashSet<(ushort, uint)>();

        public int Count => _endpoints.Count;

        public void Add(ReadOnlySpan<byte> address, int port, uint pid)
        {
            (ulong high, ulong low) = Key(address);
            _endpoints.Add((high, low, (ushort)port, pid));
            _ports.Add(((ushort)port, pid));
        }

        /// <summary>
        /// Whether a bound endpoint belongs to a socket already listed: the same process holds the same
        /// address and port, or, for a wildcard endpoint, the same port on any address (a socket bound to
        /// 0.0.0.0 that went on to connect is listed with the address the connection chose).
        /// </summary>
        public bool Holds(ReadOnlySpan<byte> address, int port, uint pid)
        {
            (ulong high, ulong low) = Key(address);
            bool wildcard = (high == 0 && low == 0) || (high == 0 && low == 0x0000_FFFF_0000_0000UL);
            return _endpoints.Contains((high, low, (ushort)port, pid)) || (wildcard && _ports.Contains(((ushort)port, pid)));
        }

        /// <summary>The address as 16 bytes in two halves: IPv6 as is, IPv4 as ::ffff:a.b.c.d.</summary>
        private static (ulong High, ulong Low) Key(ReadOnlySpan<byte> address) => address.Length == 4
            ? (0UL, 0x0000_FFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(address))
            : (BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address.Slice(8)));
    }

    /// <summary>
    /// Decodes the tables of iphlpapi's bound-endpoint exports into Bound TCP sockets.
    /// </summary>
    /// <remarks>
    /// UNDOCUMENTED. InternalGetBoundTcpEndpointTable and InternalGetBoundTcp6EndpointTable are
    /// exported by iphlpapi.dll but not documented by Microsoft. What this decoder assumes, and where
    /// it comes from:
    /// <list type="bullet">
    /// <item><description>The signature <c>ULONG WINAPI InternalGetBoundTcpEndpointTable(PVOID *BoundTcpTable, PVOID HeapHandle, ULONG HeapFlags)</c>
    /// (and the same for the Tcp6 export), the table being allocated from the heap passed and the
    /// caller freeing it: System Informer, winsiderss/systeminformer SystemInformer/include/netprv.h
    /// (typedefs _InternalGetBoundTcpEndpointTable, _InternalGetBoundTcp6EndpointTable, with the
    /// comments "PMIB_TCPTABLE2" and "PMIB_TCP6TABLE2") and SystemInformer/netprv.c, which calls them
    /// with its own heap and flags 0, frees the result with RtlFreeHeap on that heap, and calls them
    /// only on Windows 10 1809 (RS5) and later when both exports resolve.</description></item>
    /// <item><description>The table layouts are the documented MIB_TCPTABLE2 and MIB_TCP6TABLE2 of tcpmib.h
    /// (Microsoft Learn): a DWORD dwNumEntries, then MIB_TCPROW2 rows { dwState, dwLocalAddr,
    /// dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid, dwOffloadState } of 28 bytes, or
    /// MIB_TCP6ROW2 rows { LocalAddr[16], dwLocalScopeId, dwLocalPort, RemoteAddr[16],
    /// dwRemoteScopeId, dwRemotePort, State, dwOwningPid, dwOffloadState } of 60 bytes; only DWORDs
    /// and byte arrays, so no padding. System Informer reads the rows through those types.</description></item>
    /// <item><description>The rows are shown as state Bound: System Informer names MIB_TCP_STATE_RESERVED (100)
    /// "Bound" (PhTcpStateStrings in netprv.c) and MSFT_NetTCPConnection reports bound sockets with
    /// that number. The row's own state field is not trusted for that: every row becomes Bound. Whether
    /// Windows also lists there the binding of a socket that went on to listen or connect is not
    /// documented either, so rows that belong to a socket GetExtendedTcpTable already listed are
    /// dropped (<see cref="BoundTcpHolders"/>).</description></item>
    /// </list>
    /// If the layout were different, the row count times the row size would not fit the heap block
    /// and the reader warns instead of decoding (<see cref="Decode"/> checks the length it is given).
    /// </remarks>
    internal static class BoundTcpTableDecoder
    {
        /// <summary>MIB_TCPROW2: seven DWORDs.</summary>
        internal const int Tcp4RowLength = 28;

        /// <summary>MIB_TCP6ROW2: two 16-byte addresses and seven DWORDs.</summary>
        internal const int Tcp6RowLength = 60;

        // MIB_TCPROW2 offsets.
        private const int Tcp4LocalAddress = 4;
        private const int Tcp4LocalPort = 8;
        private const int Tcp4Pid = 20;

        // MIB_TCP6ROW2 offsets.
        private const int Tcp6LocalAddress = 0;
        private const int Tcp6LocalScopeId = 16;
        private const int Tcp6LocalPort = 20;
        private const int Tcp6Pid = 52;

        internal static string Name(bool ipv6) => ipv6 ? "MIB_TCP6TABLE2 of InternalGetBoundTcp6EndpointTable" : "MIB_TCPTABLE2 of InternalGetBoundTcpEndpointTable";

        /// <summary>
        /// Adds the table's bound-only sockets to <paramref name="into"/> as Bound, with no remote
        /// end, keeping those the query wants and leaving out those <paramref name="holders"/> already has.
        /// </summary>
        /// <returns>The rows in the table, and how many were left out as sockets already listed.</returns>
        /// <exception cref="IOException">The buffer is shorter than its row count says.</exception>
        public static (int Rows, int AlreadyListed) Decode(ReadOnlySpan<byte> table, bool ipv6, SocketQuery query, BoundTcpHolders holders, WindowsSocketTable into)
        {
            int rowLength = ipv6 ? Tcp6RowLength : Tcp4RowLength;
            if (table.Length < MibTableDecoder.HeaderLength)
            {
                throw new IOException(string.Format(CultureInfo.InvariantCulture, "The {0} is {1} bytes long: too short to hold its row count.", Name(ipv6), table.Length));
            }

            uint count = BinaryPrimitives.ReadUInt32LittleEndian(table);
            long needed = MibTableDecoder.HeaderLength + ((long)count * rowLength);
            if (needed > table.Length)
            {
                throw new IOException(string.Format(CultureInfo.InvariantCulture, "The {0} says it holds {1} rows ({2} bytes), but its block is {3} bytes: the undocumented layout may have changed.", Name(ipv6), count, needed, table.Length));
            }

            bool wantsState = query.WantsState(TransportProtocol.Tcp, SocketState.Bound);
            int alreadyListed = 0;
            int addressLength = ipv6 ? 16 : 4;
            Span<byte> noAddress = stackalloc byte[16];
            for (int i = 0; i < (int)count; i++)
            {
                ReadOnlySpan<byte> row = table.Slice(MibTableDecoder.HeaderLength + (i * rowLength), rowLength);
                ReadOnlySpan<byte> local = row.Slice(ipv6 ? Tcp6LocalAddress : Tcp4LocalAddress, addressLength);
                int localPort = BinaryPrimitives.ReadUInt16BigEndian(row.Slice(ipv6 ? Tcp6LocalPort : Tcp4LocalPort));
                uint pid = BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(ipv6 ? Tcp6Pid : Tcp4Pid));
                if (holders.Holds(local, localPort, pid))
                {
                    alreadyListed++;
                    continue;
                }

                if (!wantsState || !query.WantsEndpoints(local, localPort, noAddress.Slice(0, addressLength), 0))
                {
                    continue;
                }

                int index = into.Add();
                ref WindowsSocketTable.Record record = ref into[index];
                record.Protocol = TransportProtocol.Tcp;
                record.State = SocketState.Bound;
                record.IsV6 = ipv6;
                record.LocalPort = (ushort)localPort;
                record.ProcessId = pid;
                if (ipv6)
                {
                    record.LocalScopeId = BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(Tcp6LocalScopeId));
                }

                local.CopyTo(into.LocalSlot(index));
            }

            return ((int)count, alreadyListed);
        }
    }
}
