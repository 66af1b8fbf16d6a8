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

            if (walk is null && progress is { HandOverSockets: true })
            {
                // Nothing to wait for: each batch the kernel sends is built and handed over at once, so
                // that the consumer writes sockets while the kernel is still dumping the rest.
                NetworkNamespaceInfo readIn = (space ?? NetworkNamespace.Own()).Identify();
                return space is null
                    ? ReadWhileBuilding(query, ProcRoot + "/self/net", source, readIn, progress, cancellation)
                    : space.Run(() => ReadWhileBuilding(query, space.ProcNetDirectory ?? ProcRoot + "/thread-self/net", source, readIn, progress, cancellation));
            }

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
            progress?.StartHandOver(); // one namespace: the result's order is the build's
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

        /// <summary>
        /// Reads the kernel's tables and builds each batch of sockets as it arrives, handing them over as
        /// they are built. Runs in the namespace read, so that device names resolve there. No owners.
        /// </summary>
        private static SocketTableReadResult ReadWhileBuilding(SocketQuery query, string procNetDirectory, LinuxTableSource source, NetworkNamespaceInfo identity, SocketReadProgress progress, CancellationToken cancellation)
        {
            var raw = new RawSocketTable();
            var interfaceNames = new Dictionary<uint, string>();
            progress.StartHandOver();
            var builder = new SocketBuilder(raw, index => ResolveInterfaceName(interfaceNames, index), null, identity, query, null, progress, cancellation) { ReleaseBuilt = true };
            KernelTables tables = ReadKernelTables(query, procNetDirectory, source, progress, cancellation, raw, builder);
            return builder.Finish(tables.Method);
        }

        private static string ResolveInterfaceName(Dictionary<uint, string> names, uint index)
        {
            if (!names.TryGetValue(index, out string? name))
            {
                name = InterfaceName(index);
                names[index] = name;
            }

            return name;
        }

        internal static KernelTables ReadKernelTables(SocketQuery query, string procNetDirectory, LinuxTableSource source, SocketReadProgress? progress, CancellationToken cancellation) =>
            ReadKernelTables(query, procNetDirectory, source, progress, cancellation, new RawSocketTable(), null);

        /// <param name="query">What to read.</param>
        /// <param name="procNetDirectory">Where /proc/net of the namespace is, for the fallback.</param>
        /// <param name="source">Netlink first, or /proc/net only.</param>
        /// <param name="progress">Counts, or null.</param>
        /// <param name="cancellation">Stops the read.</param>
        /// <param name="raw">The table to fill.</param>
        /// <param name="builder">When given, builds the sockets of each batch as soon as it is decoded.</param>
        private static KernelTables ReadKernelTables(SocketQuery query, string procNetDirectory, LinuxTableSource source, SocketReadProgress? progress, CancellationToken cancellation, RawSocketTable raw, SocketBuilder? builder)
        {
            Action? batchDecoded = builder is null ? null : () => builder.BuildTo(raw.Count);
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
                        if (netlink is not null && netlink.Dump(protocol, ipv6, query, raw, cancellation, progress, batchDecoded) == 0)
                        {
                            usedNetlink = true;
                            builder?.BuildTo(raw.Count);
                            continue;
                        }

                        if (builder is not null && builder.Built > before)
                        {
                            // The dump failed part-way and its sockets were already handed over: reading the
                            // family again from /proc/net would hand some over twice, so the read fails instead.
                            throw new System.IO.IOException(string.Format(
                                CultureInfo.InvariantCulture,
                                "The netlink dump of {0} over {1} failed after {2} sockets had been read; the table is incomplete.",
                                protocol,
                                ipv6 ? "IPv6" : "IPv4",
                                builder.Built - before));
                        }

                        string file = procNetDirectory + "/" + (protocol == TransportProtocol.Tcp ? "tcp" : "udp") + (ipv6 ? "6" : string.Empty);
                        usedProc |= ProcNetReader.Read(file, protocol, ipv6, query, raw, cancellation);
                        progress?.AddSocketsRead(raw.Count - before);
                        builder?.BuildTo(raw.Count);
                    }
                }
            }
            finally
            {
                netlink?.Dispose();
            }

            // Device names are per namespace, so they are resolved here, on the thread inside it.
            var names = new Dictionary<uint, string>();
            for (int i = 0; i < raw.Count && builder is null; i++)
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
            var builder = new SocketBuilder(tables.Raw, index => tables.InterfaceNames.TryGetValue(index, out string? name) ? name : null, ownerMap, networkNamespace, query, options, progress, cancellation);
            progress?.StartBuilding(tables.Raw.Count);
            builder.BuildTo(tables.Raw.Count);
            return builder.Finish(tables.Method);
        }

        /// <summary>
        /// Makes decoded records into sockets, in order, a range at a time: all at once after a read, or
        /// batch by batch while the kernel is still dumping.
        /// </summary>
        private sealed class SocketBuilder
        {
            private readonly RawSocketTable _raw;
            private readonly Func<uint, string?> _interfaceName;
            private readonly ProcessSocketMap? _ownerMap;
            private readonly NetworkNamespaceInfo _networkNamespace;
            private readonly SocketQuery _query;
            private readonly SocketOptionReader? _options;
            private readonly SocketReadProgress? _progress;
            private readonly CancellationToken _cancellation;
            private readonly List<SocketTuple> _sockets;
            private readonly AddressCache _addresses = new AddressCache();
            private readonly Dictionary<int, SocketOwner> _ownerCache = new Dictionary<int, SocketOwner>();
            private readonly List<int> _ownerIds = new List<int>(4);
            private readonly uint _self = LibC.geteuid();
            private int _hiddenOwners;

            public SocketBuilder(RawSocketTable raw, Func<uint, string?> interfaceName, ProcessSocketMap? ownerMap, NetworkNamespaceInfo networkNamespace, SocketQuery query, SocketOptionReader? options, SocketReadProgress? progress, CancellationToken cancellation)
            {
                _raw = raw;
                _interfaceName = interfaceName;
                _ownerMap = ownerMap;
                _networkNamespace = networkNamespace;
                _query = query;
                _options = options;
                _progress = progress;
                _cancellation = cancellation;
                _sockets = new List<SocketTuple>(progress is { IsHandingOver: true } ? 0 : raw.Count);
            }

            /// <summary>How many records have been looked at (built, or dropped by a filter).</summary>
            public int Built { get; private set; }

            /// <summary>Lets the raw table go of the records once built (a read that builds as it goes keeps no whole table).</summary>
            public bool ReleaseBuilt { get; init; }

            /// <summary>Builds the records from <see cref="Built"/> up to <paramref name="count"/> and hands them over.</summary>
            public void BuildTo(int count)
            {
                RawSocketTable raw = _raw;
                for (int i = Built; i < count; i++)
                {
                    if ((i & 0xFFF) == 0)
                    {
                        _cancellation.ThrowIfCancellationRequested();
                        _progress?.SetSocketsBuilt(i);
                    }

                    SocketTuple? socket = BuildOne(raw, i);
                    if (socket is not null && _progress?.HandOver(socket) != true)
                    {
                        _sockets.Add(socket); // not handed over: the result keeps it
                    }
                }

                Built = Math.Max(Built, count);
                if (ReleaseBuilt && Built == raw.Count)
                {
                    raw.Release();
                }

                _progress?.PublishHandOver();
            }

            private SocketTuple? BuildOne(RawSocketTable raw, int i)
            {
                ref RawSocketTable.Record record = ref raw[i];
                IReadOnlyList<SocketOwner> owners = Array.Empty<SocketOwner>();
                if (_ownerMap is not null && _ownerMap.TryGetOwners(record.Inode, _ownerIds))
                {
                    var list = new SocketOwner[_ownerIds.Count];
                    for (int k = 0; k < list.Length; k++)
                    {
                        int pid = _ownerIds[k];
                        if (!_ownerCache.TryGetValue(pid, out SocketOwner? owner))
                        {
                            owner = new SocketOwner(pid, ProcessNames.Read(ProcRoot, pid));
                            _ownerCache[pid] = owner;
                        }

                        list[k] = owner;
                    }

                    owners = SocketOwnerList.Wrap(list);
                }
                else if (_ownerMap is not null && record.Inode != 0 && record.UserId != _self && _ownerMap.HiddenProcessCount > 0)
                {
                    _hiddenOwners++;
                }

                if (_query.HasProcessFilter && !_query.WantsOwners(owners))
                {
                    return null;
                }

                string? device = record.InterfaceIndex != 0 ? _interfaceName(record.InterfaceIndex) : null;
                if (device is not null && !_query.WantsExposure(raw.LocalAddress(i), device))
                {
                    return null; // tied to a device: its exposure turns on the device's name, known only now
                }

                SocketOptions read = default;
                if (_options is not null && SocketOptionReader.Wants(record.Protocol, record.State))
                {
                    if (_ownerMap!.TryGetDescriptor(record.Inode, out SocketDescriptor held))
                    {
                        read = _options.Read(held.ProcessId, held.Descriptor, record.Inode, record.IsV6);
                    }
                    else
                    {
                        _options.NoOwner();
                    }
                }

                // inet_diag names the device by index; getsockopt by name (a /proc/net read has neither).
                device ??= read.Device;

                (SocketTimer? timer, TimeSpan? expiresIn, int? retransmits) = record.TimerFields();
                return new SocketTuple
                {
                    Protocol = record.Protocol,
                    State = record.State,
                    LocalAddress = _addresses.Get(raw.LocalAddress(i), record.InterfaceIndex),
                    LocalPort = record.LocalPort,
                    RemoteAddress = _addresses.Get(raw.RemoteAddress(i), record.InterfaceIndex),
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
                    NetworkNamespace = _networkNamespace,
                };
            }

            /// <summary>The result: every socket built and not handed over, with the warnings about owners that could not be seen.</summary>
            public SocketTableReadResult Finish(string method)
            {
                _progress?.SetSocketsBuilt(Built);
                _progress?.PublishHandOver();
                var warnings = new List<string>();
                ProcessSocketMap? ownerMap = _ownerMap;
                if (_hiddenOwners > 0 && !_query.HasProcessFilter)
                {
                    warnings.Add(string.Format(
                        CultureInfo.InvariantCulture,
                        "The owning process of {0} socket(s) is not shown: they belong to other users, whose file descriptors only root can read ({1} processes were hidden). Run as root to see every owner.",
                        _hiddenOwners,
                        ownerMap!.HiddenProcessCount));
                }
                else if (ownerMap is not null && ownerMap.HiddenProcessCount > 0 && _query.HasProcessFilter)
                {
                    warnings.Add(string.Format(
                        CultureInfo.InvariantCulture,
                        "{0} processes of other users could not be inspected without root; sockets they hold cannot match -ProcessId or -ProcessName.",
                        ownerMap.HiddenProcessCount));
                }

                return new SocketTableReadResult(_sockets, warnings, method);
            }
        }
    }
}
