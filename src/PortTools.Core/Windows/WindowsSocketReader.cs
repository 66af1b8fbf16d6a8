using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace PortTools.Windows
{
    /// <summary>
    /// Reads the live socket table on Windows: the owner-pid tables of GetExtendedTcpTable
    /// (TCP_TABLE_OWNER_PID_ALL) and GetExtendedUdpTable (UDP_TABLE_OWNER_PID) for IPv4 and IPv6,
    /// filtered as they are decoded, then one snapshot of the process list for the owners' names.
    /// This is what netstat -ano reads, without Get-NetTCPConnection's trip through CIM.
    /// </summary>
    /// <remarks>
    /// What these tables do not say stays unknown (null): SO_REUSEADDR and SO_EXCLUSIVEADDRUSE,
    /// IPV6_V6ONLY, the owner's user, queues, and an inode, which Windows sockets do not have. Bound
    /// TCP sockets that neither listen nor connect are not in the documented tables; when the query
    /// wants them they come from the UNDOCUMENTED exports InternalGetBoundTcpEndpointTable and
    /// InternalGetBoundTcp6EndpointTable (<see cref="BoundTcpTable"/>, <see cref="BoundTcpTableDecoder"/>),
    /// less the sockets the documented tables already list, after every other socket. Where the
    /// exports are missing or fail, one warning says so and the rest of the table is read as before.
    /// UDP sockets are all Unconnected, as the owner-pid UDP rows carry no remote endpoint.
    /// </remarks>
    internal static class WindowsSocketReader
    {
        private const string Method = "iphlpapi GetExtendedTcpTable/GetExtendedUdpTable";

        public static SocketTableReadResult Read(SocketQuery query, CancellationToken cancellation, SocketReadProgress? progress = null)
        {
            var table = new WindowsSocketTable();
            var warnings = new List<string>();
            BoundTcpHolders? holders = WantsBound(query) ? new BoundTcpHolders() : null;
            byte[]? buffer = null;
            foreach (MibTable kind in new[] { MibTable.Tcp4, MibTable.Tcp6, MibTable.Udp4, MibTable.Udp6 })
            {
                cancellation.ThrowIfCancellationRequested();
                bool tcp = kind == MibTable.Tcp4 || kind == MibTable.Tcp6;
                if (!query.Wants(tcp ? TransportProtocol.Tcp : TransportProtocol.Udp)
                    || (!tcp && !query.WantsState(TransportProtocol.Udp, SocketState.Unconnected)))
                {
                    continue;
                }

                buffer = GrowingTableBuffer.Read(Call(kind), MibTableDecoder.Name(kind), buffer);
                int before = table.Count;
                MibTableDecoder.Decode(buffer, kind, query, table);
                progress?.AddSocketsRead(table.Count - before);
                if (holders is not null && tcp)
                {
                    MibTableDecoder.CollectTcpHolders(buffer, kind, holders);
                }
            }

            string method = Method;
            if (holders is not null)
            {
                cancellation.ThrowIfCancellationRequested();
                method = AddBound(query, holders, table, warnings) ? Method + "; InternalGetBoundTcpEndpointTable (undocumented)" : Method;
            }

            IReadOnlyDictionary<int, string>? names = query.NeedsProcesses ? WindowsProcessNames.Snapshot() : null;
            return new SocketTableReadResult(Build(table, names, query, cancellation), warnings, method);
        }

        /// <summary>Whether the query can keep a Bound TCP socket, so that the bound-endpoint tables are worth reading.</summary>
        internal static bool WantsBound(SocketQuery query) => query.Wants(TransportProtocol.Tcp) && query.WantsState(TransportProtocol.Tcp, SocketState.Bound);

        /// <summary>
        /// Adds the bound-only TCP sockets of both families; a table that cannot be read or decoded
        /// adds one warning (the same warning once) and nothing else.
        /// </summary>
        /// <returns>Whether at least one table was read.</returns>
        private static bool AddBound(SocketQuery query, BoundTcpHolders holders, WindowsSocketTable table, List<string> warnings)
        {
            bool any = false;
            foreach (bool ipv6 in new[] { false, true })
            {
                byte[]? bound = BoundTcpTable.Read(ipv6, out string? warning);
                if (bound is null)
                {
                    AddOnce(warnings, warning);
                    continue;
                }

                try
                {
                    BoundTcpTableDecoder.Decode(bound, ipv6, query, holders, table);
                    any = true;
                }
                catch (IOException exception)
                {
                    AddOnce(warnings, "Bound TCP " + (ipv6 ? "IPv6" : "IPv4") + " sockets are not listed: " + exception.Message);
                }
            }

            return any;
        }

        private static void AddOnce(List<string> warnings, string? warning)
        {
            if (warning is not null && !warnings.Contains(warning))
            {
                warnings.Add(warning);
            }
        }

        /// <summary>The native call for one table, in the shape the grow-and-retry loop takes.</summary>
        internal static TableCall Call(MibTable kind) => kind switch
        {
            MibTable.Tcp4 => (byte[] buffer, ref uint size) => IpHelper.GetExtendedTcpTable(buffer, ref size, false, IpHelper.AF_INET, IpHelper.TCP_TABLE_OWNER_PID_ALL, 0),
            MibTable.Tcp6 => (byte[] buffer, ref uint size) => IpHelper.GetExtendedTcpTable(buffer, ref size, false, IpHelper.AF_INET6, IpHelper.TCP_TABLE_OWNER_PID_ALL, 0),
            MibTable.Udp4 => (byte[] buffer, ref uint size) => IpHelper.GetExtendedUdpTable(buffer, ref size, false, IpHelper.AF_INET, IpHelper.UDP_TABLE_OWNER_PID, 0),
            _ => (byte[] buffer, ref uint size) => IpHelper.GetExtendedUdpTable(buffer, ref size, false, IpHelper.AF_INET6, IpHelper.UDP_TABLE_OWNER_PID, 0),
        };

        /// <summary>Builds the sockets from decoded rows; the process filters run here, once owners are known.</summary>
        internal static List<SocketTuple> Build(WindowsSocketTable table, IReadOnlyDictionary<int, string>? names, SocketQuery query, CancellationToken cancellation)
        {
            var sockets = new List<SocketTuple>(table.Count);
            var addresses = new Linux.AddressCache();
            var owners = new Dictionary<uint, SocketOwner>();
            for (int i = 0; i < table.Count; i++)
            {
                if ((i & 0xFFF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                }

                ref WindowsSocketTable.Record record = ref table[i];
                IReadOnlyList<SocketOwner> processes = Array.Empty<SocketOwner>();
                if (query.NeedsProcesses && WindowsProcessNames.Owner(record.ProcessId, names, owners) is SocketOwner owner)
                {
                    processes = SocketOwnerList.Wrap(new[] { owner });
                }

                if (query.HasProcessFilter && !query.WantsOwners(processes))
                {
                    continue;
                }

                sockets.Add(new SocketTuple
                {
                    Protocol = record.Protocol,
                    State = record.State,
                    LocalAddress = addresses.Get(table.LocalAddress(i), record.LocalScopeId),
                    LocalPort = record.LocalPort,
                    RemoteAddress = addresses.Get(table.RemoteAddress(i), record.RemoteScopeId),
                    RemotePort = record.RemotePort,
                    Processes = processes,
                    Source = "Live",
                    ReadHere = true,
                });
            }

            return sockets;
        }
    }
}
