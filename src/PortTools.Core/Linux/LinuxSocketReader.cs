using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace PortTools.Linux
{
    /// <summary>How the Linux reader gets the kernel's tables.</summary>
    internal enum LinuxTableSource
    {
        /// <summary>Netlink sock_diag, falling back to /proc/net per table when netlink fails.</summary>
        Automatic,

        /// <summary>Only /proc/net (for tests that compare the two).</summary>
        ProcNet,
    }

    /// <summary>
    /// Reads the live socket table on Linux: netlink dumps (or /proc/net) for the sockets, filtered
    /// as they are decoded, and in parallel one walk of /proc/[pid]/fd for their owners.
    /// </summary>
    internal static unsafe class LinuxSocketReader
    {
        private const string ProcRoot = "/proc";

        public static SocketTableReadResult Read(SocketQuery query, CancellationToken cancellation, LinuxTableSource source = LinuxTableSource.Automatic, SocketReadProgress? progress = null)
        {
            if (query.AllNetworkNamespaces)
            {
                return AllNamespacesReader.ReadInet(query, cancellation, source, progress);
            }

            NetworkNamespace? space = query.NetworkNamespace is null ? null : NetworkNamespace.Resolve(query.NetworkNamespace);

            // The descriptor walk is the larger cost and needs nothing from the dump, so it runs beside it.
            Task<ProcessSocketMap>? walk = query.NeedsProcesses
                ? Task.Factory.StartNew(() => ProcessSocketMap.Build(ProcRoot, 4096, cancellation, progress), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                : null;

            KernelTables tables;
            try
            {
                tables = space is null
                    ? ReadKernelTables(query, ProcRoot + "/self/net", source, progress, cancellation)
                    : space.Run(() => ReadKernelTables(query, space.ProcNetDirectory ?? ProcRoot + "/thread-self/net", source, progress, cancellation));
            }
            catch
            {
                walk?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observed; the first failure wins
                throw;
            }

            ProcessSocketMap? owners = walk?.GetAwaiter().GetResult();

            // Every socket says which namespace it lives in, the host's own too, so that tables
            // of several namespaces stay apart and bring their own host facts.
            NetworkNamespaceInfo identity = (space ?? NetworkNamespace.Own()).Identify();
            progress?.StartHandOver(tables.Raw.Count); // one namespace: the result's order is the build's
            return Build(tables, owners, identity, query, progress, cancellation);
        }

        /// <summary>The option reader a read of live sockets uses, or null when the query skips options or owners.</summary>
        internal static SocketOptionReader? OptionReader(SocketQuery query, ProcessSocketMap? owners) =>
            owners is not null && query.NeedsSocketOptions ? new SocketOptionReader(NativeSocketOptionCalls.Instance) : null;

        internal sealed class KernelTables
        {
            public KernelTables(RawSocketTable raw, Dictionary<uint, string> interfaceNames, string method)
            {
                Raw = raw;
                InterfaceNames = interfaceNames;
                Method = method;
            }

            public RawSocketTable Raw { get; }

            public Dictionary<uint, string> InterfaceNames { get; }

            public string Method { get; }
        }

        internal static KernelTables ReadKernelTables(SocketQuery query, string procNetDirectory, LinuxTableSource source, SocketReadProgress? progress, CancellationToken cancellation)
        {
            var raw = new RawSocketTable();
            bool usedNetlink = false;
            bool usedProc = false;
            InetDiagReader? netlink = source == LinuxTableSource.Automatic ? InetDiagReader.TryOpen(out _) : null;
            try
            {
                foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
                {
                    if (!query.Wants(protocol))
                    {
                        continue;
                    }

                    foreach (bool ipv6 in new[] { false, true })
                    {
                        int before = raw.Count;
                        if (netlink is not null && netlink.Dump(protocol, ipv6, query, raw, cancellation, progress) == 0)
                        {
                            usedNetlink = true;
                            continue;
                        }

                        string file = procNetDirectory + "/" + (protocol == TransportProtocol.Tcp ? "tcp" : "udp") + (ipv6 ? "6" : string.Empty);
                        usedProc |= ProcNetReader.Read(file, protocol, ipv6, query, raw, cancellation);
                        progress?.AddSocketsRead(raw.Count - before);
                    }
                }
            }
            finally
            {
                netlink?.Dispose();
            }

            // Device names are per namespace, so they are resolved here, on the thread inside it.
            var names = new Dictionary<uint, string>();
            for (int i = 0; i < raw.Count; i++)
            {
                uint index = raw[i].InterfaceIndex;
                if (index != 0 && !names.ContainsKey(index))
                {
                    names[index] = InterfaceName(index);
                }
            }

            string method = usedNetlink && usedProc ? "netlink sock_diag and /proc/net" : usedProc ? "/proc/net" : "netlink sock_diag";
            return new KernelTables(raw, names, method);
        }

        private static string InterfaceName(uint index)
        {
            byte* name = stackalloc byte[32];
            if (LibC.if_indextoname(index, name) == null)
            {
                return index.ToString(CultureInfo.InvariantCulture); // the device is gone; its number still says which
            }

            int length = 0;
            while (length < 32 && name[length] != 0)
            {
                length++;
            }

            return System.Text.Encoding.UTF8.GetString(name, length);
        }

        internal static SocketTableReadResult Build(KernelTables tables, ProcessSocketMap? ownerMap, NetworkNamespaceInfo networkNamespace, SocketQuery query, SocketReadProgress? progress, CancellationToken cancellation)
        {
            using SocketOptionReader? options = OptionReader(query, ownerMap);
            SocketTableReadResult result = Build(tables, ownerMap, networkNamespace, query, options, progress, cancellation);
            string? warning = options?.Warning();
            if (warning is not null)
            {
                ((List<string>)result.Warnings).Add(warning);
            }

            return result;
        }

        /// <summary>Builds the sockets of one namespace, reading options with <paramref name="options"/> (shared by the namespaces of one read).</summary>
        internal static SocketTableReadResult Build(KernelTables tables, ProcessSocketMap? ownerMap, NetworkNamespaceInfo networkNamespace, SocketQuery query, SocketOptionReader? options, SocketReadProgress? progress, CancellationToken cancellation)
        {
            RawSocketTable raw = tables.Raw;
            var sockets = new List<SocketTuple>(raw.Count);
            var addresses = new AddressCache();
            var ownerCache = new Dictionary<int, SocketOwner>();
            var ownerIds = new List<int>(4);
            uint self = LibC.geteuid();
            int hiddenOwners = 0;
            progress?.StartBuilding(raw.Count);
            for (int i = 0; i < raw.Count; i++)
            {
                if ((i & 0xFFF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.SetSocketsBuilt(i);
                }

                ref RawSocketTable.Record record = ref raw[i];
                IReadOnlyList<SocketOwner> owners = Array.Empty<SocketOwner>();
                if (ownerMap is not null && ownerMap.TryGetOwners(record.Inode, ownerIds))
                {
                    var list = new SocketOwner[ownerIds.Count];
                    for (int k = 0; k < list.Length; k++)
                    {
                        int pid = ownerIds[k];
                        if (!ownerCache.TryGetValue(pid, out SocketOwner? owner))
                        {
                            owner = new SocketOwner(pid, ProcessNames.Read(ProcRoot, pid));
                            ownerCache[pid] = owner;
                        }

                        list[k] = owner;
                    }

                    owners = SocketOwnerList.Wrap(list);
                }
                else if (ownerMap is not null && record.Inode != 0 && record.UserId != self && ownerMap.HiddenProcessCount > 0)
                {
                    hiddenOwners++;
                }

                if (query.HasProcessFilter && !query.WantsOwners(owners))
                {
                    continue;
                }

                string? device = record.InterfaceIndex != 0 && tables.InterfaceNames.TryGetValue(record.InterfaceIndex, out string? name) ? name : null;
                if (device is not null && !query.WantsExposure(raw.LocalAddress(i), device))
                {
                    continue; // tied to a device: its exposure turns on the device's name, known only now
                }

                SocketOptions read = default;
                if (options is not null && SocketOptionReader.Wants(record.Protocol, record.State))
                {
                    if (ownerMap!.TryGetDescriptor(record.Inode, out SocketDescriptor held))
                    {
                        read = options.Read(held.ProcessId, held.Descriptor, record.Inode, record.IsV6);
                    }
                    else
                    {
                        options.NoOwner();
                    }
                }

                // inet_diag names the device by index; getsockopt by name (a /proc/net read has neither).
                device ??= read.Device;

                (SocketTimer? timer, TimeSpan? expiresIn, int? retransmits) = record.TimerFields();
                var socket = new SocketTuple
                {
                    Protocol = record.Protocol,
                    State = record.State,
                    LocalAddress = addresses.Get(raw.LocalAddress(i), record.InterfaceIndex),
                    LocalPort = record.LocalPort,
                    RemoteAddress = addresses.Get(raw.RemoteAddress(i), record.InterfaceIndex),
                    RemotePort = record.RemotePort,
                    Processes = owners,
                    UserId = record.UserId,
                    Inode = record.Inode == 0 ? null : record.Inode,
                    ReceiveQueue = record.ReceiveQueue,
                    SendQueue = record.SendQueue,
                    Timer = timer,
                    TimerExpiresIn = expiresIn,
                    Retransmits = retransmits,
                    BoundInterface = device,
                    IPv6Only = record.V6Only == 0 ? read.V6Only : record.V6Only == 2,
                    ReuseAddress = read.Known ? read.ReuseAddress : null,
                    ReusePort = read.Known ? read.ReusePort : null,
                    Source = "Live",
                    ReadHere = true,
                    NetworkNamespace = networkNamespace,
                };
                sockets.Add(socket);
                progress?.HandOver(socket);
            }

            progress?.SetSocketsBuilt(raw.Count);
            progress?.PublishHandOver();
            var warnings = new List<string>();
            if (hiddenOwners > 0 && !query.HasProcessFilter)
            {
                warnings.Add(string.Format(
                    CultureInfo.InvariantCulture,
                    "The owning process of {0} socket(s) is not shown: they belong to other users, whose file descriptors only root can read ({1} processes were hidden). Run as root to see every owner.",
                    hiddenOwners,
                    ownerMap!.HiddenProcessCount));
            }
            else if (ownerMap is not null && ownerMap.HiddenProcessCount > 0 && query.HasProcessFilter)
            {
                warnings.Add(string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} processes of other users could not be inspected without root; sockets they hold cannot match -ProcessId or -ProcessName.",
                    ownerMap.HiddenProcessCount));
            }

            return new SocketTableReadResult(sockets, warnings, tables.Method);
        }
    }
}
