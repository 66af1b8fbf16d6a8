using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>How the order of a socket table is to be read.</summary>
    public enum SocketTableOrder
    {
        /// <summary>
        /// Bind order, oldest first: the order of a hand-written what-if table. The engine derives the
        /// kernel's hash-chain orders from it (new sockets go to the head of a chain).
        /// </summary>
        BindOrder,

        /// <summary>
        /// The order a live Linux table comes in: inet_diag dumps each chain as the kernel walks it
        /// (listeners per lhash2 bucket, UDP sockets per port slot, newest first).
        /// </summary>
        KernelOrder,
    }

    /// <summary>
    /// A socket table indexed for the rule engines: O(1) average lookups by (protocol, port) for bind
    /// checks and listener/UDP lookups, and by exact 4-tuple for established sockets. Building it is
    /// linear in the table. Each socket is normalized once: its address class, effective options,
    /// its place in the kernel's hash chains and its SO_REUSEPORT group.
    /// </summary>
    public sealed class SocketIndex
    {
        private readonly List<IndexedSocket> _entries;
        private readonly Dictionary<int, BindBucketList> _byPort = new Dictionary<int, BindBucketList>();

        // While a large table is indexed: the bind buckets by PortKey in a flat array, so that a socket
        // finds its bucket without a hashed lookup (each bucket is still entered once into _byPort).
        private BindBucketList?[]? _bucketsBeingBuilt;
        private readonly EstablishedTable _established;
        private readonly Dictionary<ChainKey, List<IndexedSocket>> _listenerChains = new Dictionary<ChainKey, List<IndexedSocket>>();
        private readonly List<List<IndexedSocket>> _groups = new List<List<IndexedSocket>>();
        // The TCP bind buckets' caches as a known history left them; null when each bucket holds its own.
        private readonly Dictionary<int, BindBucketCache>? _historyBucketCaches;
        private ConnectTables? _connectTables;

        // The index this one is a view of, when the connect() lookups can be shared (the same reserved ports).
        private readonly SocketIndex? _lookupsOf;

        private SocketIndex(IReadOnlyList<SocketTuple> table, HostFacts facts, SocketTableOrder order, IReadOnlyList<BindEvent>? history)
        {
            Facts = facts;
            Order = order;
            _entries = new List<IndexedSocket>(table.Count);
            _established = new EstablishedTable(table.Count);

            // The listeners, in table order, are set apart as they are met: the passes that need only
            // them then do not read the whole table again. A large table also counts each bind bucket's
            // sockets, so that the bucket is made at its final size.
            var listeners = new List<IndexedSocket>();
            int[]? bucketSizes = table.Count >= LargeTable ? new int[0x20000] : null;
            for (int i = 0; i < table.Count; i++)
            {
                SocketTuple socket = table[i] ?? throw new ArgumentException("The socket table holds a null entry at position " + i + ".", nameof(table));
                var entry = new IndexedSocket(socket, i, facts);
                HasBoundDevice |= entry.Device is not null;
                _entries.Add(entry);
                if (bucketSizes is not null && entry.InBindBucket && (uint)PortKey(entry.Protocol, entry.Port) < (uint)bucketSizes.Length)
                {
                    bucketSizes[PortKey(entry.Protocol, entry.Port)]++;
                }

                if (entry.IsListener)
                {
                    listeners.Add(entry);
                }
            }

            // What the table itself proves of options it does not show, before any chain, group or bucket cache
            // is formed (the UDP sockets' share, which none of them reads, from their buckets once filled).
            if (facts.OS == TargetOS.Linux)
            {
                SocketOptionInference.ApplyToListeners(listeners);
            }

            // The dump lists each UDP port slot in chain order; bind order is rebuilt from it.
            IReadOnlyList<IndexedSocket> bindOrder = order == SocketTableOrder.KernelOrder ? UdpBindOrder(_entries) : _entries;
            _bucketsBeingBuilt = bucketSizes is not null ? new BindBucketList?[0x20000] : null;

            // UDP sockets with SO_REUSEPORT, in bind order: the only ones that form groups at bind().
            var udpSharers = new List<IndexedSocket>();
            for (int i = 0; i < bindOrder.Count; i++)
            {
                IndexedSocket entry = bindOrder[i];
                entry.BindSequence = i;
                if (entry.Protocol == TransportProtocol.Udp && entry.ReusePort)
                {
                    udpSharers.Add(entry);
                }

                if (entry.InBindBucket)
                {
                    BindBucketList bucket = Bucket(entry.Protocol, entry.Port, bucketSizes);
                    bucket.Add(entry);

                    // Without a history, each TCP bucket's fast-path caches are replayed as the bucket fills (bind order).
                    if (history is null && entry.Protocol == TransportProtocol.Tcp)
                    {
                        (bucket.Cache ??= new BindBucketCache()).Replay(entry);
                    }
                }

                if (entry.InEstablishedHash && _established.TryAdd(entry))
                {
                    entry.HoldsTuple = true;
                }
            }

            if (facts.OS == TargetOS.Linux)
            {
                foreach (KeyValuePair<int, BindBucketList> bucket in _byPort)
                {
                    if (bucket.Key >= PortKey(TransportProtocol.Udp, 0))
                    {
                        SocketOptionInference.ApplyToUdpPort(bucket.Value);
                    }
                }
            }

            BuildListenerChains(listeners, order);

            // Groups form at bind() against the port's sockets (udp_lib_get_port, udp_reuseport_add_sock).
            // The port's hash2 and primary chains are made from its bucket when first asked for.
            foreach (IndexedSocket entry in udpSharers)
            {
                JoinOrCreateGroup(entry, BindBucket(TransportProtocol.Udp, entry.Port)!);
            }

            _historyBucketCaches = history is null ? null : BindBucketCache.Replay(bindOrder, history, facts);
            _bucketsBeingBuilt = null;
        }

        // A view of another index with other host facts: the same sockets, chains and caches.
        private SocketIndex(SocketIndex source, HostFacts facts)
        {
            Facts = facts;
            Order = source.Order;
            _entries = source._entries;
            _byPort = source._byPort;
            _established = source._established;
            _listenerChains = source._listenerChains;
            _groups = source._groups;
            _historyBucketCaches = source._historyBucketCaches;
            HasBoundDevice = source.HasBoundDevice;
            _lookupsOf = ReferenceEquals(facts.ReservedPorts, source.Facts.ReservedPorts) ? source._lookupsOf ?? source : null;
            NetworkNamespace = source.NetworkNamespace;
        }

        /// <summary>
        /// The same table with other facts about the binder and the addresses (a simulation weighing
        /// what it does not know): the sockets keep what they were indexed with.
        /// </summary>
        internal SocketIndex WithFacts(HostFacts facts) => new SocketIndex(this, facts);

        /// <summary>The host facts the table was indexed with.</summary>
        public HostFacts Facts { get; }

        /// <summary>How the table's order was read.</summary>
        public SocketTableOrder Order { get; }

        /// <summary>Whether any socket of the table is bound to a device (SO_BINDTODEVICE).</summary>
        internal bool HasBoundDevice { get; }

        /// <summary>The number of sockets.</summary>
        public int Count => _entries.Count;

        internal IReadOnlyList<IndexedSocket> Entries => _entries;

        /// <summary>Indexes a table.</summary>
        /// <param name="table">The sockets; for <see cref="SocketTableOrder.BindOrder"/>, oldest first.</param>
        /// <param name="facts">The host facts (the default IPV6_V6ONLY among them).</param>
        /// <param name="order">How to read the table's order.</param>
        /// <returns>The index.</returns>
        /// <exception cref="ArgumentException">The table holds sockets of more than one network namespace: index each with <see cref="BuildPerNetworkNamespace"/>.</exception>
        public static SocketIndex Build(IReadOnlyList<SocketTuple> table, HostFacts facts, SocketTableOrder order = SocketTableOrder.BindOrder)
        {
            if (table is null)
            {
                throw new ArgumentNullException(nameof(table));
            }

            // Two namespaces' port 8080 never conflict: one index holds one namespace.
            int spaces = NetworkNamespacePartition.Count(table, s => s?.NetworkNamespace);
            if (spaces > 1)
            {
                throw new ArgumentException(
                    "The socket table holds sockets of " + spaces + " network namespaces, which never share a port or a packet: index each namespace on its own (SocketIndex.BuildPerNetworkNamespace), or keep one, such as Where-Object { $_.NetworkNamespace.Inode -eq 4026531840 }.",
                    nameof(table));
            }

            return new SocketIndex(table, facts ?? throw new ArgumentNullException(nameof(facts)), order, null)
            {
                NetworkNamespace = table.Count > 0 ? table[0]?.NetworkNamespace : null,
            };
        }

        /// <summary>
        /// Indexes each network namespace of a table on its own, in order of first appearance (sockets
        /// whose namespace is unknown form one more), so that questions are answered namespace by namespace.
        /// </summary>
        /// <param name="table">The sockets.</param>
        /// <param name="facts">The host facts (the same for every namespace: give each namespace's own where they differ).</param>
        /// <param name="order">How to read the table's order.</param>
        /// <returns>One index per namespace; one (empty) index for an empty table.</returns>
        public static IReadOnlyList<SocketIndex> BuildPerNetworkNamespace(IReadOnlyList<SocketTuple> table, HostFacts facts, SocketTableOrder order = SocketTableOrder.BindOrder)
        {
            if (table is null)
            {
                throw new ArgumentNullException(nameof(table));
            }

            var indexes = new List<SocketIndex>();
            foreach (IGrouping<NetworkNamespaceInfo?, SocketTuple> partition in NetworkNamespacePartition.Split(table, s => s?.NetworkNamespace))
            {
                indexes.Add(new SocketIndex(partition.ToList(), facts ?? throw new ArgumentNullException(nameof(facts)), order, null) { NetworkNamespace = partition.Key });
            }

            if (indexes.Count == 0)
            {
                indexes.Add(Build(table, facts, order));
            }

            return indexes;
        }

        /// <summary>The network namespace the indexed sockets live in, when the table said; results are stamped with it.</summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; private set; }

        /// <summary>Indexes a table whose bind()/listen() history is known exactly (simulations that replay operations).</summary>
        internal static SocketIndex Build(IReadOnlyList<SocketTuple> table, HostFacts facts, IReadOnlyList<BindEvent> history) =>
            new SocketIndex(table, facts, SocketTableOrder.BindOrder, history);

        /// <summary>The lookups of connect() decisions, built on the first one (tables asked only about binds never pay for them).</summary>
        internal ConnectTables ConnectTables => _lookupsOf?.ConnectTables ?? _connectTables ?? System.Threading.LazyInitializer.EnsureInitialized(ref _connectTables, () => new ConnectTables(this))!;

        /// <summary>The fast-path caches of the TCP bind bucket of a port, or null when no socket holds it.</summary>
        internal BindBucketCache? TcpBucketCache(int port) => _historyBucketCaches is not null
            ? _historyBucketCaches.TryGetValue(port, out BindBucketCache? cache) ? cache : null
            : _byPort.TryGetValue(PortKey(TransportProtocol.Tcp, port), out BindBucketList? bucket) ? bucket.Cache : null;

        /// <summary>The sockets that hold (protocol, port) in the bind table, in bind order: TIME-WAIT entries included, half-open requests not.</summary>
        internal List<IndexedSocket>? BindBucket(TransportProtocol protocol, int port) =>
            _byPort.TryGetValue(PortKey(protocol, port), out BindBucketList? bucket) ? bucket : null;

        /// <summary>
        /// The TCP bind bucket of a port with, from the same lookup, its fast-path caches and its holder
        /// classes (the first socket of each class of sockets a bind's conflict check cannot tell apart, in
        /// bind order; null when there are too many to be worth it). Null when no socket holds the port.
        /// </summary>
        internal List<IndexedSocket>? TcpBucket(int port, out BindBucketCache? cache, out IndexedSocket[]? holderClasses)
        {
            if (!_byPort.TryGetValue(PortKey(TransportProtocol.Tcp, port), out BindBucketList? bucket))
            {
                cache = null;
                holderClasses = null;
                return null;
            }

            cache = _historyBucketCaches is not null ? TcpBucketCache(port) : bucket.Cache;
            holderClasses = bucket.HolderClasses();
            return bucket;
        }

        internal IndexedSocket? Established(TransportProtocol protocol, Ip16 local, int localPort, Ip16 remote, int remotePort) =>
            _established.Find(protocol, local, localPort, remote, remotePort);

        /// <summary>TCP listeners of one lhash2 bucket (port, address; :: and 0.0.0.0 share one), in the order the kernel walks them.</summary>
        internal List<IndexedSocket>? ListenerChain(int port, Ip16 address) =>
            _listenerChains.TryGetValue(new ChainKey(port, address), out List<IndexedSocket>? chain) ? chain : null;

        /// <summary>UDP sockets of one hash2 slot (port, address), in the order the kernel walks them.</summary>
        internal List<IndexedSocket>? UdpChain(int port, Ip16 address) => FindUdpChain(port, address);

        private UdpChainList? FindUdpChain(int port, Ip16 address) =>
            _byPort.TryGetValue(PortKey(TransportProtocol.Udp, port), out BindBucketList? bucket) ? bucket.UdpChains().Find(address) : null;

        /// <summary>
        /// One UDP hash2 slot as <see cref="UdpChain(int, Ip16)"/> gives it, with what a delivery reads of each socket
        /// in one flat array alongside (made on the first delivery to it, never changed after).
        /// </summary>
        internal List<IndexedSocket>? UdpChain(int port, Ip16 address, out UdpChainEntry[]? entries)
        {
            UdpChainList? chain = FindUdpChain(port, address);
            if (chain is null)
            {
                entries = null;
                return null;
            }

            entries = chain.Entries ??= UdpChainEntry.Of(chain);
            return chain;
        }

        /// <summary>The UDP sockets of a port in the order udp_lib_lport_inuse walks them (the primary hash chain).</summary>
        internal List<IndexedSocket>? UdpPrimaryChain(int port) =>
            _byPort.TryGetValue(PortKey(TransportProtocol.Udp, port), out BindBucketList? bucket) ? bucket.UdpPrimaryChain(Order) : null;

        internal IReadOnlyList<IndexedSocket> GroupMembers(int group) => _groups[group];

        private BindBucketList Bucket(TransportProtocol protocol, int port, int[]? sizes)
        {
            int key = PortKey(protocol, port);
            BindBucketList?[]? flat = _bucketsBeingBuilt;
            if (flat is not null && sizes is not null && (uint)key < (uint)flat.Length)
            {
                BindBucketList? known = flat[key];
                if (known is null)
                {
                    known = new BindBucketList(sizes[key]);
                    flat[key] = known;
                    _byPort.Add(key, known);
                }

                return known;
            }

            if (!_byPort.TryGetValue(key, out BindBucketList? bucket))
            {
                bucket = new BindBucketList();
                _byPort.Add(key, bucket);
            }

            return bucket;
        }

        // From this many sockets on, the build finds buckets in flat arrays by port (small tables keep to dictionaries).
        private const int LargeTable = 4096;

        private static int PortKey(TransportProtocol protocol, int port) => (protocol == TransportProtocol.Tcp ? 0 : 0x10000) | port;

        /// <summary>
        /// Rebuilds UDP bind order from a dump, which walks each port's primary chain: the head part
        /// (newest first) reversed, then the AF_INET6 SO_REUSEPORT tail (oldest first). How the two
        /// parts interleaved in time is not recorded, and no chain order depends on it.
        /// </summary>
        private static IReadOnlyList<IndexedSocket> UdpBindOrder(List<IndexedSocket> entries)
        {
            var result = new List<IndexedSocket>(entries);
            var perPort = new Dictionary<int, List<int>>();
            for (int i = 0; i < entries.Count; i++)
            {
                if (entries[i].Protocol == TransportProtocol.Udp)
                {
                    if (!perPort.TryGetValue(entries[i].Port, out List<int>? positions))
                    {
                        positions = new List<int>();
                        perPort.Add(entries[i].Port, positions);
                    }

                    positions.Add(i);
                }
            }

            foreach (List<int> positions in perPort.Values)
            {
                var head = new List<IndexedSocket>();
                var tail = new List<IndexedSocket>();
                foreach (int position in positions)
                {
                    (entries[position].Inet6 && entries[position].ReusePort ? tail : head).Add(entries[position]);
                }

                head.Reverse();
                head.AddRange(tail);
                for (int k = 0; k < positions.Count; k++)
                {
                    result[positions[k]] = head[k];
                }
            }

            return result;
        }

        /// <summary>
        /// lhash2 chains (net/ipv4/inet_hashtables.c __inet_hash): a listener goes to the head of its
        /// bucket, except an AF_INET6 SO_REUSEPORT listener, which goes to the tail. SO_REUSEPORT
        /// groups form at listen() (inet_reuseport_add_sock): same family, IPV6_V6ONLY, device, uid
        /// and exact address as an earlier listener with SO_REUSEPORT.
        /// </summary>
        private void BuildListenerChains(List<IndexedSocket> listenersInTableOrder, SocketTableOrder order)
        {
            foreach (IndexedSocket entry in listenersInTableOrder)
            {
                if (!entry.IsListener)
                {
                    continue;
                }

                var key = new ChainKey(entry.Port, entry.ChainAddress);
                if (!_listenerChains.TryGetValue(key, out List<IndexedSocket>? chain))
                {
                    chain = new List<IndexedSocket>(1);
                    _listenerChains.Add(key, chain);
                }

                if (entry.ReusePort)
                {
                    JoinOrCreateGroup(entry, chain);
                }

                // A live table lists each chain already in walk order.
                if (order == SocketTableOrder.KernelOrder || (entry.Inet6 && entry.ReusePort))
                {
                    chain.Add(entry);
                }
                else
                {
                    chain.Insert(0, entry);
                }
            }
        }

        private void JoinOrCreateGroup(IndexedSocket entry, List<IndexedSocket> candidates)
        {
            foreach (IndexedSocket other in candidates)
            {
                if (other != entry && other.Group >= 0 && other.ReusePort && other.Protocol == entry.Protocol && other.Inet6 == entry.Inet6
                    && other.V6Only == entry.V6Only && string.Equals(other.Device, entry.Device, StringComparison.Ordinal)
                    && other.Port == entry.Port && other.Local.Equals(entry.Local) && other.Uid == entry.Uid
                    && (entry.Protocol == TransportProtocol.Udp || other.IsListener))
                {
                    entry.Group = other.Group;
                    _groups[other.Group].Add(entry);
                    return;
                }
            }

            entry.Group = _groups.Count;
            _groups.Add(new List<IndexedSocket> { entry });
        }

        /// <summary>The sockets of one bind bucket, in bind order, with a summary of them made on first use.</summary>
        private sealed class BindBucketList : List<IndexedSocket>
        {
            // More classes than this and reading the bucket socket by socket costs no more.
            private const int MaximumClasses = 16;

            private IndexedSocket[]? _classes;
            private bool _tooManyClasses;
            private UdpPortChains? _udpChains;
            private List<IndexedSocket>? _udpPrimaryChain;

            public BindBucketList()
            {
            }

            public BindBucketList(int capacity)
                : base(capacity)
            {
            }

            /// <summary>
            /// A UDP bucket's hash2 chains (net/ipv4/udp.c udp_lib_get_port): head insertion, AF_INET6
            /// SO_REUSEPORT sockets at the tail; connect() on a wildcard-bound socket rehashes it to the head
            /// of its new slot, and connected sockets were (most likely) connected after the binds. Made from
            /// the bucket (bind order) when first asked for and never changed after; threads that race make
            /// it alike and all keep the first one published.
            /// </summary>
            public UdpPortChains UdpChains() =>
                _udpChains ?? System.Threading.Interlocked.CompareExchange(ref _udpChains, UdpPortChains.Of(this), null) ?? _udpChains!;

            /// <summary>
            /// A UDP bucket's primary hash chain (sk_add_node_rcu), in the order udp_lib_lport_inuse walks it:
            /// a socket goes to the head, an AF_INET6 SO_REUSEPORT socket to the tail. A live dump lists it
            /// in walk order already (table order). Made when first asked for, as <see cref="UdpChains"/> is.
            /// </summary>
            public List<IndexedSocket> UdpPrimaryChain(SocketTableOrder order) =>
                _udpPrimaryChain ?? System.Threading.Interlocked.CompareExchange(ref _udpPrimaryChain, PrimaryChainOf(this, order), null) ?? _udpPrimaryChain!;

            private static List<IndexedSocket> PrimaryChainOf(List<IndexedSocket> bindOrder, SocketTableOrder order)
            {
                var chain = new List<IndexedSocket>(bindOrder.Count);
                if (order == SocketTableOrder.KernelOrder)
                {
                    chain.AddRange(bindOrder);
                    chain.Sort((a, b) => a.Position.CompareTo(b.Position));
                    return chain;
                }

                // Head insertions in bind order leave the newest first; tail appends stay oldest first.
                for (int i = bindOrder.Count - 1; i >= 0; i--)
                {
                    if (!(bindOrder[i].Inet6 && bindOrder[i].ReusePort))
                    {
                        chain.Add(bindOrder[i]);
                    }
                }

                foreach (IndexedSocket socket in bindOrder)
                {
                    if (socket.Inet6 && socket.ReusePort)
                    {
                        chain.Add(socket);
                    }
                }

                return chain;
            }

            /// <summary>A TCP bucket's fast-path caches, replayed from its sockets (tables without a known history).</summary>
            public BindBucketCache? Cache { get; set; }

            /// <summary>
            /// The bucket's first socket of each holder class, in bind order: sockets that agree in all a
            /// bind's conflict check reads of a holder (device, family, address, IPV6_V6ONLY, whether it
            /// listens or is in TIME-WAIT, the sharing options and whether each is known, uid) meet any
            /// proposed socket alike. A busy server port holds hundreds of accepted connections of one class:
            /// an unrecorded bind decision reads one of them instead of all. Made when first asked for and
            /// never changed after, so readers on several threads at worst make it twice.
            /// </summary>
            public IndexedSocket[]? HolderClasses()
            {
                if (_classes is not null || _tooManyClasses)
                {
                    return _classes;
                }

                var classes = new List<IndexedSocket>(2);
                foreach (IndexedSocket holder in this)
                {
                    bool known = false;
                    foreach (IndexedSocket seen in classes)
                    {
                        if (SameHolderClass(seen, holder))
                        {
                            known = true;
                            break;
                        }
                    }

                    if (!known)
                    {
                        if (classes.Count == MaximumClasses)
                        {
                            _tooManyClasses = true;
                            return null;
                        }

                        classes.Add(holder);
                    }
                }

                return _classes = classes.ToArray();
            }

            private static bool SameHolderClass(IndexedSocket a, IndexedSocket b) =>
                a.Protocol == b.Protocol && a.Inet6 == b.Inet6 && a.Class == b.Class && a.Local.Equals(b.Local) && a.V6Only == b.V6Only
                && (a.State == SocketState.Listen) == (b.State == SocketState.Listen) && (a.State == SocketState.TimeWait) == (b.State == SocketState.TimeWait)
                && a.ReuseAddress == b.ReuseAddress && a.ReuseAddressKnown == b.ReuseAddressKnown && a.ReusePort == b.ReusePort && a.ReusePortKnown == b.ReusePortKnown
                && a.Uid == b.Uid && string.Equals(a.Device, b.Device, StringComparison.Ordinal);
        }

        /// <summary>A UDP hash2 chain with its delivery entries, made when first asked for.</summary>
        private sealed class UdpChainList : List<IndexedSocket>
        {
            public UdpChainList(int capacity)
                : base(capacity)
            {
            }

            public UdpChainEntry[]? Entries { get; set; }
        }

        /// <summary>The hash2 chains of one UDP port, by slot address (:: for both wildcards).</summary>
        private sealed class UdpPortChains
        {
            // Fewer slots than this are found by comparing addresses; more through a dictionary.
            private const int MaximumScanned = 8;

            private readonly Ip16[] _addresses;
            private readonly UdpChainList[] _chains;
            private readonly Dictionary<Ip16, UdpChainList>? _byAddress;

            private UdpPortChains(Ip16[] addresses, UdpChainList[] chains)
            {
                _addresses = addresses;
                _chains = chains;
                if (chains.Length > MaximumScanned)
                {
                    _byAddress = new Dictionary<Ip16, UdpChainList>(chains.Length);
                    for (int i = 0; i < chains.Length; i++)
                    {
                        _byAddress.Add(addresses[i], chains[i]);
                    }
                }
            }

            public UdpChainList? Find(Ip16 address)
            {
                if (_byAddress is not null)
                {
                    return _byAddress.TryGetValue(address, out UdpChainList? chain) ? chain : null;
                }

                for (int i = 0; i < _addresses.Length; i++)
                {
                    if (_addresses[i].Equals(address))
                    {
                        return _chains[i];
                    }
                }

                return null;
            }

            /// <summary>
            /// The chains as the kernel leaves them after the binds in bind order (newest first, AF_INET6
            /// SO_REUSEPORT sockets appended oldest first), then each connected socket moved to its slot's
            /// head in bind order: the connected ones newest first, then the rest of the heads newest first,
            /// then the rest of the tail oldest first. Built in linear time, without inserting at the head.
            /// </summary>
            public static UdpPortChains Of(List<IndexedSocket> bindOrder)
            {
                // Each socket's slot, in order of first appearance.
                var addresses = new List<Ip16>(1);
                var sizes = new List<int>(1);
                var slotOf = new int[bindOrder.Count];
                Dictionary<Ip16, int>? slotByAddress = null;
                for (int i = 0; i < bindOrder.Count; i++)
                {
                    Ip16 address = bindOrder[i].ChainAddress;
                    int slot = slotByAddress is null ? addresses.IndexOf(address) : slotByAddress.TryGetValue(address, out int known) ? known : -1;
                    if (slot < 0)
                    {
                        slot = addresses.Count;
                        addresses.Add(address);
                        sizes.Add(0);
                        if (slotByAddress is not null)
                        {
                            slotByAddress.Add(address, slot);
                        }
                        else if (addresses.Count > MaximumScanned)
                        {
                            slotByAddress = new Dictionary<Ip16, int>();
                            for (int k = 0; k < addresses.Count; k++)
                            {
                                slotByAddress.Add(addresses[k], k);
                            }
                        }
                    }

                    slotOf[i] = slot;
                    sizes[slot]++;
                }

                var chains = new UdpChainList[addresses.Count];
                for (int slot = 0; slot < chains.Length; slot++)
                {
                    chains[slot] = new UdpChainList(sizes[slot]);
                }

                for (int i = bindOrder.Count - 1; i >= 0; i--)
                {
                    if (bindOrder[i].HasPeer)
                    {
                        chains[slotOf[i]].Add(bindOrder[i]);
                    }
                }

                for (int i = bindOrder.Count - 1; i >= 0; i--)
                {
                    IndexedSocket socket = bindOrder[i];
                    if (!socket.HasPeer && !(socket.Inet6 && socket.ReusePort))
                    {
                        chains[slotOf[i]].Add(socket);
                    }
                }

                for (int i = 0; i < bindOrder.Count; i++)
                {
                    IndexedSocket socket = bindOrder[i];
                    if (!socket.HasPeer && socket.Inet6 && socket.ReusePort)
                    {
                        chains[slotOf[i]].Add(socket);
                    }
                }

                return new UdpPortChains(addresses.ToArray(), chains);
            }
        }

        private readonly struct ChainKey : IEquatable<ChainKey>
        {
            private readonly int _port;
            private readonly Ip16 _address;

            public ChainKey(int port, Ip16 address)
            {
                _port = port;
                _address = address;
            }

            public bool Equals(ChainKey other) => other._port == _port && other._address.Equals(_address);

            public override bool Equals(object? obj) => obj is ChainKey other && Equals(other);

            public override int GetHashCode() => _address.GetHashCode() ^ (_port * 397);
        }

        /// <summary>
        /// The established hash: sockets by exact (protocol, local, remote) 4-tuple, first one in bind order
        /// kept. Open addressing over one flat array of (hash, socket) slots, sized up front at twice the
        /// table, linear probing: one probe sequence inserts (where a Dictionary asks ContainsKey, then
        /// Add), no per-entry node or key copy is kept, a slot's hash and socket share a cache line, and a
        /// probe reads a socket only when the 32-bit hashes agree.
        /// </summary>
        private sealed class EstablishedTable
        {
            private readonly Slot[] _slots;
            private readonly int _shift;

            public EstablishedTable(int capacity)
            {
                int bits = 4;
                while ((1L << bits) < 2L * capacity)
                {
                    bits++;
                }

                _slots = new Slot[1 << bits];
                _shift = 32 - bits;
            }

            /// <summary>Adds a socket unless one of the same 4-tuple is there already (a text table may repeat one).</summary>
            public bool TryAdd(IndexedSocket entry)
            {
                int hash = Hash(entry.Protocol, entry.Local, entry.Port, entry.Remote, entry.RemotePort);
                int mask = _slots.Length - 1;
                for (int slot = Home(hash); ; slot = (slot + 1) & mask)
                {
                    IndexedSocket? held = _slots[slot].Socket;
                    if (held is null)
                    {
                        _slots[slot] = new Slot(hash, entry);
                        return true;
                    }

                    if (_slots[slot].Hash == hash && Matches(held, entry.Protocol, entry.Local, entry.Port, entry.Remote, entry.RemotePort))
                    {
                        return false;
                    }
                }
            }

            public IndexedSocket? Find(TransportProtocol protocol, Ip16 local, int localPort, Ip16 remote, int remotePort)
            {
                int hash = Hash(protocol, local, localPort, remote, remotePort);
                int mask = _slots.Length - 1;
                for (int slot = Home(hash); ; slot = (slot + 1) & mask)
                {
                    IndexedSocket? held = _slots[slot].Socket;
                    if (held is null)
                    {
                        return null;
                    }

                    if (_slots[slot].Hash == hash && Matches(held, protocol, local, localPort, remote, remotePort))
                    {
                        return held;
                    }
                }
            }

            // Fibonacci hashing: the top bits of the product spread ports and addresses over the whole array.
            private int Home(int hash) => (int)(((uint)hash * 2654435769u) >> _shift);

            private static bool Matches(IndexedSocket held, TransportProtocol protocol, Ip16 local, int localPort, Ip16 remote, int remotePort) =>
                held.Port == localPort && held.RemotePort == remotePort && (held.Protocol == TransportProtocol.Udp) == (protocol == TransportProtocol.Udp)
                && held.Local.Equals(local) && held.Remote.Equals(remote);

            private static int Hash(TransportProtocol protocol, Ip16 local, int localPort, Ip16 remote, int remotePort)
            {
                int ports = ((localPort << 16) | remotePort) ^ (protocol == TransportProtocol.Udp ? int.MinValue : 0);
                return ports ^ (local.GetHashCode() * 31) ^ (remote.GetHashCode() * 17);
            }

            private readonly struct Slot
            {
                public Slot(int hash, IndexedSocket socket)
                {
                    Hash = hash;
                    Socket = socket;
                }

                public int Hash { get; }

                public IndexedSocket? Socket { get; }
            }
        }
    }

    /// <summary>
    /// What a UDP delivery reads of one socket of a hash2 chain, copied out of it so that a chain's sockets
    /// lie side by side in one array: scoring a chain then reads consecutive memory instead of a scattered
    /// object per socket (a socket spans several cache lines, and a chain's sockets were made far apart).
    /// </summary>
    internal readonly struct UdpChainEntry
    {
        private const int FlagV6Only = 1;
        private const int FlagInet6 = 2;
        private const int FlagMapped = 4;
        private const int FlagHasPeer = 8;
        private const int FlagConnected = 16;
        private const int FlagMayReusePort = 32;
        private const int FlagReusePortKnown = 64;

        private readonly int _flags;

        private UdpChainEntry(IndexedSocket socket)
        {
            Socket = socket;
            Device = socket.Device;
            Local = socket.Local;
            Remote = socket.Remote;
            Uid = socket.Uid;
            V4 = socket.V4;
            RemotePort = socket.RemotePort;
            Group = socket.Group;
            _flags = (socket.V6Only ? FlagV6Only : 0) | (socket.Inet6 ? FlagInet6 : 0) | (socket.Class == AddressClass.V4 ? FlagMapped : 0)
                | (socket.HasPeer ? FlagHasPeer : 0) | (socket.State == SocketState.Connected ? FlagConnected : 0)
                | (socket.MayReusePort ? FlagMayReusePort : 0) | (socket.ReusePortKnown ? FlagReusePortKnown : 0);
        }

        public IndexedSocket Socket { get; }

        public string? Device { get; }

        public Ip16 Local { get; }

        public Ip16 Remote { get; }

        public long Uid { get; }

        /// <summary><see cref="IndexedSocket.V4"/>.</summary>
        public uint V4 { get; }

        public int RemotePort { get; }

        public int Group { get; }

        public bool V6Only => (_flags & FlagV6Only) != 0;

        public bool Inet6 => (_flags & FlagInet6) != 0;

        /// <summary>Its address class is V4 (AF_INET, or v4-mapped).</summary>
        public bool ClassV4 => (_flags & FlagMapped) != 0;

        public bool HasPeer => (_flags & FlagHasPeer) != 0;

        /// <summary>In state Connected.</summary>
        public bool Connected => (_flags & FlagConnected) != 0;

        public bool MayReusePort => (_flags & FlagMayReusePort) != 0;

        public bool ReusePortKnown => (_flags & FlagReusePortKnown) != 0;

        public static UdpChainEntry[] Of(List<IndexedSocket> chain)
        {
            var entries = new UdpChainEntry[chain.Count];
            for (int i = 0; i < entries.Length; i++)
            {
                entries[i] = new UdpChainEntry(chain[i]);
            }

            return entries;
        }
    }

    /// <summary>The address classes of kernel-rules.md 1A: V4(a) (AF_INET, or AF_INET6 v4-mapped), ANY6 (::) and SPEC6.</summary>
    internal enum AddressClass
    {
        V4,
        Any6,
        Spec6,
    }

    /// <summary>A socket as the rule engines see it: normalized once from its SocketTuple.</summary>
    /// <remarks>
    /// A million-socket table makes a million of these, so each is kept small (104 bytes where plain
    /// fields took 144): the yes/no facts share one word of flags, protocol, state and address class
    /// are a byte each, ports two bytes, and what few sockets carry (an inference, a description)
    /// lies in a side object made when first set.
    /// </remarks>
    internal sealed class IndexedSocket
    {
        private const int FlagInet6 = 1;
        private const int FlagV6Only = 1 << 1;
        private const int FlagV6OnlyKnown = 1 << 2;
        private const int FlagReuseAddress = 1 << 3;
        private const int FlagReusePort = 1 << 4;
        private const int FlagReuseAddressKnown = 1 << 5;
        private const int FlagReusePortKnown = 1 << 6;
        private const int FlagSharingProven = 1 << 7;
        private const int FlagReusePortLoadBalance = 1 << 8;
        private const int FlagExclusiveAddressUse = 1 << 9;
        private const int FlagUidKnown = 1 << 10;
        private const int FlagHasPeer = 1 << 11;
        private const int FlagHoldsTuple = 1 << 12;

        // A protocol or state whose value does not fit a byte is kept whole in the side object.
        private const byte Overflow = byte.MaxValue;

        // The SocketTuple, or for a proposed socket what makes it when first read (sealed, so that storing
        // sockets in arrays and lists costs no covariance check).
        private object _socket;
        private Rare? _rare;
        private readonly ushort _port;
        private readonly ushort _remotePort;
        private ushort _flags;
        private readonly byte _protocol;
        private readonly byte _state;
        private readonly byte _class;

        public IndexedSocket(SocketTuple socket, int position, HostFacts facts)
            : this(
                position,
                facts,
                socket.Protocol,
                socket.LocalAddress,
                socket.LocalPort,
                socket.State,
                socket.IPv6Only,
                socket.ReuseAddress,
                socket.ReusePort,
                socket.ReusePortLoadBalance,
                socket.ExclusiveAddressUse,
                socket.UserId,
                socket.BoundInterface,
                socket.HasRemote ? socket.RemoteAddress : null,
                socket.RemotePort)
        {
            _socket = socket;
        }

        /// <summary>A socket from its parts, for one whose SocketTuple is made only when asked for (<see cref="Proposed"/>).</summary>
        private IndexedSocket(
            int position,
            HostFacts facts,
            TransportProtocol protocol,
            IPAddress localAddress,
            int localPort,
            SocketState state,
            bool? ipv6Only,
            bool? reuseAddress,
            bool? reusePort,
            bool? reusePortLoadBalance,
            bool? exclusiveAddressUse,
            long? userId,
            string? device,
            IPAddress? remoteAddress,
            int remotePort)
        {
            Position = position;
            _protocol = (ulong)protocol < Overflow ? (byte)protocol : Overflow;
            _state = (ulong)state < Overflow ? (byte)state : Overflow;
            if (_protocol == Overflow || _state == Overflow)
            {
                _rare = new Rare { Protocol = protocol, State = state };
            }

            Inet6 = localAddress.AddressFamily == AddressFamily.InterNetworkV6;
            Local = Ip16.From(localAddress);
            _port = checked((ushort)localPort);
            _class = (byte)Classify(Inet6, Local);

            // IPV6_V6ONLY is read only for IPv6 sockets (SocketTuple.IPv6Only is null for IPv4 ones).
            bool? v6Only = Inet6 ? ipv6Only : null;

            // A specific, non-mapped IPv6 bind sets IPV6_V6ONLY in the kernel (__inet6_bind).
            V6Only = Inet6 && (Class == AddressClass.Spec6 || (v6Only ?? DefaultV6Only(facts)));
            V6OnlyKnown = !Inet6 || Class == AddressClass.Spec6 || v6Only.HasValue;
            ReuseAddress = reuseAddress ?? false;
            ReusePort = reusePort ?? false;
            ReuseAddressKnown = reuseAddress.HasValue;
            ReusePortKnown = reusePort.HasValue;
            ReusePortLoadBalance = reusePortLoadBalance ?? false;
            ExclusiveAddressUse = exclusiveAddressUse ?? false;
            UidKnown = userId.HasValue;
            Uid = userId ?? facts.UserId;
            Device = device;
            HasPeer = remoteAddress is not null;
            Remote = remoteAddress is null ? default : Ip16.From(remoteAddress);
            _remotePort = checked((ushort)remotePort);
            _socket = null!;
        }

        public SocketTuple Socket => _socket as SocketTuple ?? MakeProposedTuple();

        /// <summary>
        /// The socket a bind proposes, normalized from the request as the constructor normalizes the
        /// SocketTuple <paramref name="makeTuple"/> gives (the same values); that tuple is made only when
        /// something reads <see cref="Socket"/> (a result naming it), so a decision allocates none.
        /// </summary>
        public static IndexedSocket Proposed(BindRequest request, HostFacts facts, bool? ipv6Only, Func<BindRequest, HostFacts, SocketTuple> makeTuple)
        {
            // A port out of range fails as it did when the tuple was made first (SocketTuple checks it).
            if ((uint)request.Port > 65535)
            {
                return new IndexedSocket(makeTuple(request, facts), -1, facts);
            }

            SocketState state = request.Protocol == TransportProtocol.Udp ? SocketState.Unconnected : request.Listen ? SocketState.Listen : SocketState.Bound;
            return new IndexedSocket(-1, facts, request.Protocol, request.Address, request.Port, state, ipv6Only, request.ReuseAddress, request.ReusePort, null, null, request.UserId ?? facts.UserId, request.Interface, null, 0)
            {
                _socket = new TupleMaker(request, facts, makeTuple),
            };
        }

        private SocketTuple MakeProposedTuple()
        {
            SocketTuple made = ((TupleMaker)_socket).Make();
            _socket = made;
            return made;
        }

        /// <summary>Position in the table as given.</summary>
        public int Position { get; }

        /// <summary>Position in bind order (oldest first), derived from the table order.</summary>
        public int BindSequence { get; set; }

        public TransportProtocol Protocol => _protocol != Overflow ? (TransportProtocol)_protocol : _rare!.Protocol;

        /// <summary>AF_INET6.</summary>
        public bool Inet6
        {
            get => Has(FlagInet6);
            private set => Set(FlagInet6, value);
        }

        public AddressClass Class => (AddressClass)_class;

        /// <summary>The local address, IPv4 as v4-mapped.</summary>
        public Ip16 Local { get; }

        /// <summary>The lhash2/hash2 bucket address: :: for both wildcards (they hash alike), else the address (worked out when read: a million sockets need not hold it).</summary>
        public Ip16 ChainAddress => Class == AddressClass.Any6 || (Class == AddressClass.V4 && Local.V4 == 0) ? default : Local;

        public int Port => _port;

        public SocketState State => _state != Overflow ? (SocketState)_state : _rare!.State;

        public bool V6Only
        {
            get => Has(FlagV6Only);
            private set => Set(FlagV6Only, value);
        }

        public bool V6OnlyKnown
        {
            get => Has(FlagV6OnlyKnown);
            private set => Set(FlagV6OnlyKnown, value);
        }

        /// <summary>SO_REUSEADDR; false also when unknown (see <see cref="ReuseAddressKnown"/>).</summary>
        public bool ReuseAddress
        {
            get => Has(FlagReuseAddress);
            private set => Set(FlagReuseAddress, value);
        }

        /// <summary>SO_REUSEPORT; false also when unknown (see <see cref="ReusePortKnown"/>).</summary>
        public bool ReusePort
        {
            get => Has(FlagReusePort);
            private set => Set(FlagReusePort, value);
        }

        /// <summary>Whether SO_REUSEADDR is known: read, given by the table, or proved by it (<see cref="SocketOptionInference"/>).</summary>
        public bool ReuseAddressKnown
        {
            get => Has(FlagReuseAddressKnown);
            private set => Set(FlagReuseAddressKnown, value);
        }

        /// <summary>Whether SO_REUSEPORT is known.</summary>
        public bool ReusePortKnown
        {
            get => Has(FlagReusePortKnown);
            private set => Set(FlagReusePortKnown, value);
        }

        /// <summary>The table proves that at least one of SO_REUSEADDR and SO_REUSEPORT is set (which one is not known).</summary>
        public bool SharingProven
        {
            get => Has(FlagSharingProven);
            private set => Set(FlagSharingProven, value);
        }

        /// <summary>How the table proved an option that was not read, in words; null when nothing was inferred.</summary>
        public string? Inference
        {
            get => _rare?.Inference;
            private set => RareFacts().Inference = value;
        }

        /// <summary>SO_REUSEPORT may be on: set, or not known.</summary>
        public bool MayReusePort => ReusePort || !ReusePortKnown;

        /// <summary>SO_REUSEADDR may be on: set, or not known.</summary>
        public bool MayReuseAddress => ReuseAddress || !ReuseAddressKnown;

        internal void InferReusePort(string because)
        {
            ReusePort = true;
            ReusePortKnown = true;
            Inference = because;
        }

        internal void InferReuseAddress(string because)
        {
            ReuseAddress = true;
            ReuseAddressKnown = true;
            Inference = because;
        }

        internal void InferSharing(string because)
        {
            SharingProven = true;
            Inference ??= because;
        }

        /// <summary>SO_REUSEPORT_LB (FreeBSD); unknown counts as off.</summary>
        public bool ReusePortLoadBalance
        {
            get => Has(FlagReusePortLoadBalance);
            private set => Set(FlagReusePortLoadBalance, value);
        }

        /// <summary>SO_EXCLUSIVEADDRUSE (Windows); unknown counts as off.</summary>
        public bool ExclusiveAddressUse
        {
            get => Has(FlagExclusiveAddressUse);
            private set => Set(FlagExclusiveAddressUse, value);
        }

        /// <summary>Whether SO_REUSEADDR and SO_REUSEPORT are both known (read, given, or proved by the table).</summary>
        public bool FlagsKnown => ReuseAddressKnown && ReusePortKnown;

        public long Uid { get; }

        public bool UidKnown
        {
            get => Has(FlagUidKnown);
            private set => Set(FlagUidKnown, value);
        }

        public string? Device { get; }

        public bool HasPeer
        {
            get => Has(FlagHasPeer);
            private set => Set(FlagHasPeer, value);
        }

        public Ip16 Remote { get; }

        public int RemotePort => _remotePort;

        /// <summary>The entry the established hash holds for its 4-tuple (a text table may repeat one).</summary>
        public bool HoldsTuple
        {
            get => Has(FlagHoldsTuple);
            set => Set(FlagHoldsTuple, value);
        }

        /// <summary>The SO_REUSEPORT group, or -1.</summary>
        public int Group { get; set; } = -1;

        /// <summary>The socket in words for notes (DemuxExplanation.Describe), made once when first needed.</summary>
        public string? Description
        {
            get => _rare?.Description;
            set => RareFacts().Description = value;
        }

        public bool IsListener => Protocol == TransportProtocol.Tcp && State == SocketState.Listen;

        /// <summary>TCP sockets in the established hash: every state but LISTEN and the unhashed ones.</summary>
        public bool InEstablishedHash => Protocol == TransportProtocol.Tcp
            ? State is not (SocketState.Listen or SocketState.Bound or SocketState.Closed or SocketState.Unknown)
            : State == SocketState.Connected;

        /// <summary>Owners of the port in the bind table: half-open requests (SYN-RECV) are not.</summary>
        public bool InBindBucket => State != SocketState.SynReceived || Protocol == TransportProtocol.Udp;

        /// <summary>The IPv4 address as the kernel's sk_rcv_saddr for IPv4 matching: the mapped part, 0 for ::.</summary>
        public uint V4 => Class switch
        {
            AddressClass.V4 => Local.V4,
            AddressClass.Any6 => 0,
            _ => 0x0600007F, // 127.0.0.6 (LOOPBACK4_IPV6): a specific IPv6 socket never matches IPv4
        };

        /// <summary>
        /// The IPV6_V6ONLY a new AF_INET6 socket gets when nobody sets it: Linux's
        /// net.ipv6.bindv6only (HostFacts.BindV6Only, off by default); on for Windows (Vista and
        /// later, kernel-rules.md 2A) and FreeBSD (net.inet6.ip6.v6only=1, 3D), whatever BindV6Only
        /// says; off for macOS (KAME's ip6_mapped_addr_on, 4A) unless BindV6Only turns it on.
        /// </summary>
        public static bool DefaultV6Only(HostFacts facts) => facts.OS is TargetOS.Windows or TargetOS.FreeBSD || facts.BindV6Only;

        public static AddressClass Classify(bool inet6, Ip16 address)
        {
            if (!inet6 || address.IsV4Mapped)
            {
                return AddressClass.V4;
            }

            return address.IsZero ? AddressClass.Any6 : AddressClass.Spec6;
        }

        public override string ToString() => Socket.ToString();

        private bool Has(int flag) => (_flags & flag) != 0;

        // Flags change only while the index is built (one thread); a description is a side object's.
        private void Set(int flag, bool value) => _flags = (ushort)(value ? _flags | flag : _flags & ~flag);

        private Rare RareFacts() => _rare ?? System.Threading.Interlocked.CompareExchange(ref _rare, new Rare(), null) ?? _rare!;

        /// <summary>What few sockets carry.</summary>
        private sealed class Rare
        {
            public TransportProtocol Protocol { get; set; }

            public SocketState State { get; set; }

            public string? Inference { get; set; }

            public string? Description { get; set; }
        }

        private sealed class TupleMaker
        {
            private readonly BindRequest _request;
            private readonly HostFacts _facts;
            private readonly Func<BindRequest, HostFacts, SocketTuple> _make;

            public TupleMaker(BindRequest request, HostFacts facts, Func<BindRequest, HostFacts, SocketTuple> make)
            {
                _request = request;
                _facts = facts;
                _make = make;
            }

            public SocketTuple Make() => _make(_request, _facts);
        }
    }

    /// <summary>A 16-byte address with IPv4 held v4-mapped, comparable and hashable without allocation.</summary>
    internal readonly struct Ip16 : IEquatable<Ip16>
    {
        private const ulong MappedPrefix = 0x0000FFFF00000000UL;

        public Ip16(ulong high, ulong low)
        {
            High = high;
            Low = low;
        }

        public ulong High { get; }

        public ulong Low { get; }

        public bool IsZero => High == 0 && Low == 0;

        public bool IsV4Mapped => High == 0 && (Low & 0xFFFFFFFF00000000UL) == MappedPrefix;

        /// <summary>The IPv4 address in network byte order as a little-endian word (first octet lowest), as IPAddress(long) takes it.</summary>
        public uint V4 => IsV4Mapped ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)Low) : 0;

        public bool IsLinkLocal => (High >> 54) == (0xFE80UL >> 6);

        public bool IsMulticast => IsV4Mapped ? (V4 & 0xF0) == 0xE0 : (High >> 56) == 0xFF;

        public bool IsLoopbackV6 => High == 0 && Low == 1;

        /// <summary>
        /// __ipv6_addr_needs_scope_id: link-local unicast, and multicast of interface-local (ff01)
        /// or link-local (ff02) scope.
        /// </summary>
        public bool NeedsScope => !IsV4Mapped && (IsLinkLocal || ((High >> 56) == 0xFF && ((High >> 48) & 0xF) is 1 or 2));

        public static Ip16 From(IPAddress address)
        {
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                // IPAddress.Address holds the first octet in its lowest byte; reading it allocates
                // nothing, where GetAddressBytes would for every socket of a million-socket table.
#pragma warning disable CS0618
                uint value = (uint)address.Address;
#pragma warning restore CS0618
                return new Ip16(0, MappedPrefix | System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value));
            }

            byte[] bytes = address.GetAddressBytes();

            return new Ip16(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8)));
        }

        public static Ip16 FromV4(ReadOnlySpan<byte> v4) =>
            new Ip16(0, MappedPrefix | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(v4));

        public bool Equals(Ip16 other) => other.High == High && other.Low == Low;

        public override bool Equals(object? obj) => obj is Ip16 other && Equals(other);

        public override int GetHashCode() => (High ^ (Low * 0x9E3779B97F4A7C15UL)).GetHashCode();
    }
}
