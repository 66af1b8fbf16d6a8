using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;

namespace PortTools.Windows
{
    /// <summary>The four tables the Windows reader asks iphlpapi for.</summary>
    internal enum MibTable
    {
        /// <summary>MIB_TCPTABLE_OWNER_PID: GetExtendedTcpTable, AF_INET, TCP_TABLE_OWNER_PID_ALL.</summary>
        Tcp4,

        /// <summary>MIB_TCP6TABLE_OWNER_PID: GetExtendedTcpTable, AF_INET6, TCP_TABLE_OWNER_PID_ALL.</summary>
        Tcp6,

        /// <summary>MIB_UDPTABLE_OWNER_PID: GetExtendedUdpTable, AF_INET, UDP_TABLE_OWNER_PID.</summary>
        Udp4,

        /// <summary>MIB_UDP6TABLE_OWNER_PID: GetExtendedUdpTable, AF_INET6, UDP_TABLE_OWNER_PID.</summary>
        Udp6,
    }

    /// <summary>
    /// Decodes the owner-pid tables of GetExtendedTcpTable and GetExtendedUdpTable, filtering each row
    /// with the query before it is kept. Layouts are the structures of tcpmib.h and udpmib.h as
    /// Microsoft Learn documents them (MIB_TCPTABLE_OWNER_PID, MIB_TCPROW_OWNER_PID,
    /// MIB_TCP6TABLE_OWNER_PID, MIB_TCP6ROW_OWNER_PID, MIB_UDPTABLE_OWNER_PID, MIB_UDPROW_OWNER_PID,
    /// MIB_UDP6TABLE_OWNER_PID, MIB_UDP6ROW_OWNER_PID): a DWORD row count, then the rows, each made
    /// of DWORDs and 16-byte address arrays, so there is no padding anywhere. DWORDs are
    /// little-endian (every Windows that runs .NET is); addresses and ports are in network order.
    /// </summary>
    /// <remarks>
    /// Bound TCP sockets (bound, neither listening nor connecting; netstat -q's BOUND and
    /// Get-NetTCPConnection's Bound) are not in these tables: Windows lists them only through the
    /// undocumented iphlpapi exports InternalGetBoundTcpEndpointTable and
    /// InternalGetBoundTcp6EndpointTable, which <see cref="BoundTcpTableDecoder"/> decodes, using
    /// <see cref="CollectTcpHolders"/> of these tables to leave out sockets listed here already.
    /// MIB_TCP_STATE_RESERVED (100, tcpmib.h) is still read as Bound, the meaning
    /// MSFT_NetTCPConnection gives that number, in case a table ever carries it.
    /// </remarks>
    internal static class MibTableDecoder
    {
        /// <summary>dwNumEntries; the rows start right after it.</summary>
        internal const int HeaderLength = 4;

        /// <summary>MIB_TCPROW_OWNER_PID: dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid.</summary>
        internal const int Tcp4RowLength = 24;

        /// <summary>MIB_TCP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid.</summary>
        internal const int Tcp6RowLength = 56;

        /// <summary>MIB_UDPROW_OWNER_PID: dwLocalAddr, dwLocalPort, dwOwningPid.</summary>
        internal const int Udp4RowLength = 12;

        /// <summary>MIB_UDP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, dwOwningPid.</summary>
        internal const int Udp6RowLength = 28;

        // MIB_TCPROW_OWNER_PID offsets.
        private const int Tcp4State = 0;
        private const int Tcp4LocalAddress = 4;
        private const int Tcp4LocalPort = 8;
        private const int Tcp4RemoteAddress = 12;
        private const int Tcp4RemotePort = 16;
        private const int Tcp4Pid = 20;

        // MIB_TCP6ROW_OWNER_PID offsets. The scope ids are documented "in network byte order", yet
        // dotnet/runtime (SystemTcpConnectionInformation) hands them to IPAddress as read, in host
        // order, which is how they are read here too.
        private const int Tcp6LocalAddress = 0;
        private const int Tcp6LocalScopeId = 16;
        private const int Tcp6LocalPort = 20;
        private const int Tcp6RemoteAddress = 24;
        private const int Tcp6RemoteScopeId = 40;
        private const int Tcp6RemotePort = 44;
        private const int Tcp6State = 48;
        private const int Tcp6Pid = 52;

        // MIB_UDPROW_OWNER_PID offsets.
        private const int Udp4LocalAddress = 0;
        private const int Udp4LocalPort = 4;
        private const int Udp4Pid = 8;

        // MIB_UDP6ROW_OWNER_PID offsets.
        private const int Udp6LocalAddress = 0;
        private const int Udp6LocalScopeId = 16;
        private const int Udp6LocalPort = 20;
        private const int Udp6Pid = 24;

        // MIB_TCP_STATE (tcpmib.h): MIB_TCP_STATE_CLOSED = 1 ... MIB_TCP_STATE_DELETE_TCB = 12,
        // and MIB_TCP_STATE_RESERVED = 100, which the NetTCPIP provider reports as Bound.
        private const uint MibTcpStateListen = 2;
        private const uint MibTcpStateTimeWait = 11;
        private const uint MibTcpStateReserved = 100;

        /// <summary>The structure's name, for messages.</summary>
        internal static string Name(MibTable kind) => kind switch
        {
            MibTable.Tcp4 => "MIB_TCPTABLE_OWNER_PID",
            MibTable.Tcp6 => "MIB_TCP6TABLE_OWNER_PID",
            MibTable.Udp4 => "MIB_UDPTABLE_OWNER_PID",
            _ => "MIB_UDP6TABLE_OWNER_PID",
        };

        internal static int RowLength(MibTable kind) => kind switch
        {
            MibTable.Tcp4 => Tcp4RowLength,
            MibTable.Tcp6 => Tcp6RowLength,
            MibTable.Udp4 => Udp4RowLength,
            _ => Udp6RowLength,
        };

        /// <summary>Decodes a whole table into <paramref name="into"/>, keeping the rows the query wants.</summary>
        /// <returns>The number of rows the table holds (kept or not).</returns>
        /// <exception cref="IOException">The buffer is shorter than its row count says.</exception>
        public static int Decode(ReadOnlySpan<byte> table, MibTable kind, SocketQuery query, WindowsSocketTable into)
        {
            int rowLength = RowLength(kind);
            int count = RowCount(table, kind, rowLength);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> row = table.Slice(HeaderLength + (i * rowLength), rowLength);
                switch (kind)
                {
                    case MibTable.Tcp4:
                        DecodeTcpRow(row, query, into, ipv6: false);
                        break;
                    case MibTable.Tcp6:
                        DecodeTcpRow(row, query, into, ipv6: true);
                        break;
                    default:
                        DecodeUdpRow(row, query, into, ipv6: kind == MibTable.Udp6);
                        break;
                }
            }

            return count;
        }

        /// <summary>
        /// Adds the local endpoint and owner of every row of a TCP owner-pid table but TIME_WAIT ones
        /// (which no process holds) to <paramref name="holders"/>, whatever the query keeps.
        /// </summary>
        /// <exception cref="IOException">The buffer is shorter than its row count says.</exception>
        internal static void CollectTcpHolders(ReadOnlySpan<byte> table, MibTable kind, BoundTcpHolders holders)
        {
            bool ipv6 = kind == MibTable.Tcp6;
            if (!ipv6 && kind != MibTable.Tcp4)
            {
                return;
            }

            int rowLength = RowLength(kind);
            int count = RowCount(table, kind, rowLength);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> row = table.Slice(HeaderLength + (i * rowLength), rowLength);
                if (Dword(row, ipv6 ? Tcp6State : Tcp4State) == MibTcpStateTimeWait)
                {
                    continue;
                }

                holders.Add(row.Slice(ipv6 ? Tcp6LocalAddress : Tcp4LocalAddress, ipv6 ? 16 : 4), Port(row, ipv6 ? Tcp6LocalPort : Tcp4LocalPort), Dword(row, ipv6 ? Tcp6Pid : Tcp4Pid));
            }
        }

        /// <summary>MIB_TCP_STATE to SocketState.</summary>
        internal static SocketState MapTcpState(uint state) => state switch
        {
            1 => SocketState.Closed,
            MibTcpStateListen => SocketState.Listen,
            3 => SocketState.SynSent,
            4 => SocketState.SynReceived,
            5 => SocketState.Established,
            6 => SocketState.FinWait1,
            7 => SocketState.FinWait2,
            8 => SocketState.CloseWait,
            9 => SocketState.Closing,
            10 => SocketState.LastAck,
            MibTcpStateTimeWait => SocketState.TimeWait,
            12 => SocketState.DeleteTcb,
            MibTcpStateReserved => SocketState.Bound,
            _ => SocketState.Unknown,
        };

        private static int RowCount(ReadOnlySpan<byte> table, MibTable kind, int rowLength)
        {
            if (table.Length < HeaderLength)
            {
                throw new IOException(string.Format(CultureInfo.InvariantCulture, "The {0} returned by iphlpapi is {1} bytes long: too short to hold its row count.", Name(kind), table.Length));
            }

            uint count = BinaryPrimitives.ReadUInt32LittleEndian(table);
            long needed = HeaderLength + ((long)count * rowLength);
            if (needed > table.Length)
            {
                throw new IOException(string.Format(CultureInfo.InvariantCulture, "The {0} returned by iphlpapi is truncated: it says it holds {1} rows ({2} bytes), but only {3} bytes came back.", Name(kind), count, needed, table.Length));
            }

            return (int)count;
        }

        private static void DecodeTcpRow(ReadOnlySpan<byte> row, SocketQuery query, WindowsSocketTable into, bool ipv6)
        {
            uint mibState = Dword(row, ipv6 ? Tcp6State : Tcp4State);
            SocketState state = MapTcpState(mibState);
            if (!query.WantsState(TransportProtocol.Tcp, state))
            {
                return;
            }

            int addressLength = ipv6 ? 16 : 4;
            ReadOnlySpan<byte> local = row.Slice(ipv6 ? Tcp6LocalAddress : Tcp4LocalAddress, addressLength);
            int localPort = Port(row, ipv6 ? Tcp6LocalPort : Tcp4LocalPort);

            // A listener's remote fields "have no meaning" (MIB_TCPROW_OWNER_PID): report none.
            bool listening = mibState == MibTcpStateListen;
            Span<byte> noAddress = stackalloc byte[16];
            ReadOnlySpan<byte> remote = listening ? noAddress.Slice(0, addressLength) : row.Slice(ipv6 ? Tcp6RemoteAddress : Tcp4RemoteAddress, addressLength);
            int remotePort = listening ? 0 : Port(row, ipv6 ? Tcp6RemotePort : Tcp4RemotePort);
            if (!query.WantsEndpoints(local, localPort, remote, remotePort))
            {
                return;
            }

            int index = into.Add();
            ref WindowsSocketTable.Record record = ref into[index];
            record.Protocol = TransportProtocol.Tcp;
            record.State = state;
            record.IsV6 = ipv6;
            record.LocalPort = (ushort)localPort;
            record.RemotePort = (ushort)remotePort;
            record.ProcessId = Dword(row, ipv6 ? Tcp6Pid : Tcp4Pid);
            if (ipv6)
            {
                record.LocalScopeId = Dword(row, Tcp6LocalScopeId);
                record.RemoteScopeId = listening ? 0 : Dword(row, Tcp6RemoteScopeId);
            }

            local.CopyTo(into.LocalSlot(index));
            remote.CopyTo(into.RemoteSlot(index));
        }

        private static void DecodeUdpRow(ReadOnlySpan<byte> row, SocketQuery query, WindowsSocketTable into, bool ipv6)
        {
            // The owner-pid UDP rows have no remote endpoint, so every socket reads as unconnected.
            if (!query.WantsState(TransportProtocol.Udp, SocketState.Unconnected))
            {
                return;
            }

            int addressLength = ipv6 ? 16 : 4;
            ReadOnlySpan<byte> local = row.Slice(ipv6 ? Udp6LocalAddress : Udp4LocalAddress, addressLength);
            int localPort = Port(row, ipv6 ? Udp6LocalPort : Udp4LocalPort);
            Span<byte> remote = stackalloc byte[16];
            if (!query.WantsEndpoints(local, localPort, remote.Slice(0, addressLength), 0))
            {
                return;
            }

            int index = into.Add();
            ref WindowsSocketTable.Record record = ref into[index];
            record.Protocol = TransportProtocol.Udp;
            record.State = SocketState.Unconnected;
            record.IsV6 = ipv6;
            record.LocalPort = (ushort)localPort;
            record.ProcessId = Dword(row, ipv6 ? Udp6Pid : Udp4Pid);
            if (ipv6)
            {
                record.LocalScopeId = Dword(row, Udp6LocalScopeId);
            }

            local.CopyTo(into.LocalSlot(index));
        }

        private static uint Dword(ReadOnlySpan<byte> row, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(row.Slice(offset));

        /// <summary>
        /// A port DWORD holds the port in network order in its first two bytes; "the upper 16 bits may
        /// contain uninitialized data" (MIB_TCPROW_LH, MIB_TCP6ROW on Microsoft Learn), so they are not read.
        /// </summary>
        private static int Port(ReadOnlySpan<byte> row, int offset) => BinaryPrimitives.ReadUInt16BigEndian(row.Slice(offset));
    }
}
