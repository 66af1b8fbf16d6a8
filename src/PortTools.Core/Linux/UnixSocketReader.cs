using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads UNIX domain sockets on Linux: a unix_diag dump (or /proc/net/unix), and in parallel the
    /// one /proc/[pid]/fd walk that the TCP/UDP reader uses, which maps every socket inode (UNIX ones
    /// included) to its processes. Peers are resolved from the dump itself: a connected socket names
    /// its peer's inode, and a connection that waits in a listener's queue is listed among the
    /// listener's pending connections (UNIX_DIAG_ICONS), so it is attributed to the listener.
    /// </summary>
    internal static class UnixSocketReader
    {
        private const string ProcRoot = "/proc";

        public static UnixSocketReadResult Read(UnixSocketQuery query, CancellationToken cancellation, LinuxTableSource source = LinuxTableSource.Automatic, SocketReadProgress? progress = null)
        {
            NetworkNamespace? space = query.NetworkNamespace is null ? null : NetworkNamespace.Resolve(query.NetworkNamespace);
            Task<ProcessSocketMap>? walk = query.NeedsProcesses
                ? Task.Factory.StartNew(() => ProcessSocketMap.Build(ProcRoot, 4096, cancellation, progress), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                : null;

            UnixKernelTable table;
            try
            {
                table = space is null
                    ? ReadKernel(ProcRoot + "/self/net", source, progress, cancellation, NamespaceOfSelf())
                    : space.Run(() => ReadKernel(space.ProcNetDirectory ?? ProcRoot + "/thread-self/net", source, progress, cancellation, NamespaceOfThread(space)));
            }
            catch
            {
                walk?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                throw;
            }

            ProcessSocketMap? owners = walk?.GetAwaiter().GetResult();
            return Build(new[] { table }, owners, query, null, progress, cancellation);
        }

        /// <summary>The sockets of the calling thread's network namespace, and how they were read.</summary>
        internal sealed class UnixKernelTable
        {
            public UnixKernelTable(RawUnixSocketTable raw, string method, NetworkNamespaceInfo? space)
            {
                Raw = raw;
                Method = method;
                Namespace = space;
            }

            public RawUnixSocketTable Raw { get; }

            public string Method { get; }

            /// <summary>The namespace the table was read in, stamped on every socket; null when it could not be identified.</summary>
            public NetworkNamespaceInfo? Namespace { get; }

            /// <summary>The container of the namespace as a whole, for sockets without an owner to ask.</summary>
            public ContainerInfo? Container { get; set; }
        }

        /// <summary>Dumps the calling thread's namespace: unix_diag, or /proc/net/unix when netlink is refused.</summary>
        internal static UnixKernelTable ReadKernel(string procNetDirectory, LinuxTableSource source, SocketReadProgress? progress, CancellationToken cancellation, NetworkNamespaceInfo? space)
        {
            var raw = new RawUnixSocketTable();
            if (source == LinuxTableSource.Automatic)
            {
                using UnixDiagReader? netlink = UnixDiagReader.TryOpen(out _);
                if (netlink is not null && netlink.Dump(raw, cancellation, progress) == 0)
                {
                    return new UnixKernelTable(raw, "netlink unix_diag", space);
                }
            }

            if (!ProcNetUnixReader.Read(procNetDirectory + "/unix", raw, cancellation))
            {
                throw new System.IO.IOException("Cannot read UNIX sockets: netlink unix_diag was refused and " + procNetDirectory + "/unix does not exist.");
            }

            progress?.AddSocketsRead(raw.Count);
            return new UnixKernelTable(raw, "/proc/net/unix", space);
        }

        /// <summary>This process's namespace, as every live read stamps it.</summary>
        internal static NetworkNamespaceInfo? NamespaceOfSelf() => NetworkNamespace.Own().Identify();

        private static NetworkNamespaceInfo? NamespaceOfThread(NetworkNamespace space) => space.Identify();

        /// <summary>
        /// Builds the sockets of one or more namespaces' tables. Peers are looked up across all of
        /// them (a client in a container can be connected to a server on the host through a
        /// bind-mounted socket file), owners in the one host-wide descriptor walk.
        /// </summary>
        internal static UnixSocketReadResult Build(IReadOnlyList<UnixKernelTable> tables, ProcessSocketMap? ownerMap, UnixSocketQuery query, Func<int, ContainerInfo?>? containerOfProcess, SocketReadProgress? progress, CancellationToken cancellation)
        {
            int total = 0;
            foreach (UnixKernelTable table in tables)
            {
                total += table.Raw.Count;
            }

            // Where every socket is, for peers; and which listener's queue holds each client not yet accepted.
            var byInode = new Dictionary<uint, long>(total);
            var pending = new Dictionary<uint, long>();
            for (int t = 0; t < tables.Count; t++)
            {
                RawUnixSocketTable raw = tables[t].Raw;
                for (int i = 0; i < raw.Count; i++)
                {
                    long where = ((long)t << 32) | (uint)i;
                    byInode[raw[i].Inode] = where;
                    foreach (uint client in raw.Icons(i))
                    {
                        pending[client] = where;
                    }
                }
            }

            var names = new UnixNameCache();
            var owners = new OwnerLists(ownerMap);
            var sockets = new List<UnixSocket>(total);
            uint self = LibC.geteuid();
            int hiddenOwners = 0;
            progress?.StartBuilding(total);
            int built = 0;
            for (int t = 0; t < tables.Count; t++)
            {
                UnixKernelTable table = tables[t];
                RawUnixSocketTable raw = table.Raw;
                for (int i = 0; i < raw.Count; i++, built++)
                {
                    if ((built & 0xFFF) == 0)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        progress?.SetSocketsBuilt(built);
                    }

                    ref RawUnixSocketTable.Record record = ref raw[i];
                    SocketState state = MapState(record.KernelState);
                    if (!query.WantsState(state))
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> rawName = raw.Name(i);
                    string? path = names.Get(rawName);
                    if (!query.WantsPath(path))
                    {
                        continue;
                    }

                    SocketOwnerList processes = owners.Get(record.Inode);
                    if (query.HasProcessFilter && !query.WantsOwners(processes))
                    {
                        continue;
                    }

                    if (ownerMap is not null && processes.Count == 0 && ownerMap.HiddenProcessCount > 0 && (!record.HasUid || record.UserId != self))
                    {
                        hiddenOwners++;
                    }

                    string? peerPath = null;
                    SocketOwnerList peerProcesses = SocketOwnerList.Empty;
                    if (record.Peer != 0 && byInode.TryGetValue(record.Peer, out long peerAt))
                    {
                        RawUnixSocketTable peerTable = tables[(int)(peerAt >> 32)].Raw;
                        peerPath = names.Get(peerTable.Name((int)peerAt));
                        peerProcesses = owners.Get(record.Peer);
                    }
                    else if (record.Peer != 0)
                    {
                        peerProcesses = owners.Get(record.Peer); // a peer in a namespace that was not read
                    }
                    else if (pending.TryGetValue(record.Inode, out long listenerAt))
                    {
                        // Connected, not accepted yet: the server end is an embryo without an inode that
                        // waits in the listener's queue (which lists this socket among its pending peers).
                        RawUnixSocketTable listenerTable = tables[(int)(listenerAt >> 32)].Raw;
                        int listener = (int)listenerAt;
                        peerPath = names.Get(listenerTable.Name(listener));
                        peerProcesses = owners.Get(listenerTable[listener].Inode);
                    }

                    ContainerInfo? container = null;
                    if (containerOfProcess is not null)
                    {
                        container = processes.Count > 0 ? containerOfProcess(processes[0].ProcessId) : table.Container;
                    }

                    sockets.Add(new UnixSocket
                    {
                        Type = (UnixSocketType)record.Type,
                        State = state,
                        Path = path,
                        AddressKind = rawName.Length == 0 ? UnixAddressKind.Unnamed : rawName[0] == 0 ? UnixAddressKind.Abstract : UnixAddressKind.Path,
                        Inode = record.Inode,
                        FileInode = record.HasFile ? record.FileInode : null,
                        FileDevice = record.HasFile ? DeviceText(record.FileDevice) : null,
                        PeerInode = raw.HasPeers && record.Peer != 0 ? record.Peer : null,
                        PeerPath = peerPath,
                        PeerProcesses = peerProcesses,
                        ReceiveQueue = record.HasQueues ? record.ReceiveQueue : null,
                        SendQueue = record.HasQueues ? record.SendQueue : null,
                        UserId = record.HasUid ? record.UserId : null,
                        Processes = processes,
                        NetworkNamespace = table.Namespace,
                        Container = container,
                        Source = "Live",
                    });
                }
            }

            progress?.SetSocketsBuilt(total);
            var warnings = new List<string>();
            if (hiddenOwners > 0 && !query.HasProcessFilter)
            {
                warnings.Add(string.Format(
                    CultureInfo.InvariantCulture,
                    "The owning process of {0} UNIX socket(s) is not shown: they may belong to other users, whose file descriptors only root can read ({1} processes were hidden). Run as root to see every owner.",
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

            string method = tables.Count == 0 ? "netlink unix_diag" : tables[0].Method;
            foreach (UnixKernelTable table in tables)
            {
                if (!string.Equals(table.Method, method, StringComparison.Ordinal))
                {
                    method = "netlink unix_diag and /proc/net/unix";
                }
            }

            return new UnixSocketReadResult(sockets, warnings, method);
        }

        /// <summary>sk_state of a UNIX socket: TCP_LISTEN, TCP_ESTABLISHED (connected, any type), TCP_CLOSE (unconnected).</summary>
        internal static SocketState MapState(int kernelState) => kernelState switch
        {
            10 => SocketState.Listen,
            1 => SocketState.Established,
            7 => SocketState.Unconnected,
            _ => InetDiagReader.MapState(TransportProtocol.Tcp, kernelState),
        };

        /// <summary>The kernel's dev_t (major in the bits above 20, minor below) as major:minor.</summary>
        internal static string DeviceText(uint device) =>
            (device >> 20).ToString(CultureInfo.InvariantCulture) + ":" + (device & 0xFFFFF).ToString(CultureInfo.InvariantCulture);

        /// <summary>Owner lists per socket inode, with one shared list per single owner: most processes hold many sockets.</summary>
        private sealed class OwnerLists
        {
            private readonly ProcessSocketMap? _map;
            private readonly Dictionary<int, SocketOwner> _owners = new Dictionary<int, SocketOwner>();
            private readonly Dictionary<int, SocketOwnerList> _single = new Dictionary<int, SocketOwnerList>();
            private readonly List<int> _ids = new List<int>(4);

            public OwnerLists(ProcessSocketMap? map) => _map = map;

            public SocketOwnerList Get(ulong inode)
            {
                if (_map is null || !_map.TryGetOwners(inode, _ids))
                {
                    return SocketOwnerList.Empty;
                }

                if (_ids.Count == 1)
                {
                    int pid = _ids[0];
                    if (!_single.TryGetValue(pid, out SocketOwnerList? list))
                    {
                        list = SocketOwnerList.Wrap(new[] { Owner(pid) });
                        _single[pid] = list;
                    }

                    return list;
                }

                var owners = new SocketOwner[_ids.Count];
                for (int k = 0; k < owners.Length; k++)
                {
                    owners[k] = Owner(_ids[k]);
                }

                return SocketOwnerList.Wrap(owners);
            }

            private SocketOwner Owner(int pid)
            {
                if (!_owners.TryGetValue(pid, out SocketOwner? owner))
                {
                    owner = new SocketOwner(pid, ProcessNames.Read(ProcRoot, pid));
                    _owners[pid] = owner;
                }

                return owner;
            }
        }
    }
}
