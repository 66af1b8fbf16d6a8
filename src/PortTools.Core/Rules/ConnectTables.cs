using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools
{
    /// <summary>
    /// What connect() decisions look up, built once per socket index on the first such question
    /// (linear in the table): per port, whether bind() put a TCP socket there and whether any socket
    /// holds it, as bitmaps with prefix counts per parity; the reserved ports; the connections to each
    /// destination; the distinct ports in use per protocol. With these a decision costs the ports it
    /// must look at, never a scan of the table.
    /// </summary>
    internal sealed class ConnectTables
    {
        private const int PortCount = 65536;

        private readonly ulong[] _tcpBindHeld = new ulong[PortCount / 64];
        private readonly ulong[] _tcpOccupied = new ulong[PortCount / 64];
        private readonly ulong[] _reserved = new ulong[PortCount / 64];

        // Per parity: the count of ports q <= p with q = p (mod 2) that are blocked for connect() (reserved, or a
        // bind bucket bind() made), and of those held only by connections (shared by connect()).
        private readonly int[] _blockedPrefix = new int[PortCount];
        private readonly int[] _sharedPrefix = new int[PortCount];
        private readonly int[] _reservedPrefix = new int[PortCount];

        // The connections of the table grouped by destination and, within a group, sorted by local port,
        // in flat arrays: a decision reads one contiguous slice (port and source side by side) and touches
        // a socket object only for the TIME-WAIT entries it must judge. No list per destination.
        private readonly Dictionary<DestinationKey, int> _destinations;
        private readonly int[] _groupStarts;
        private readonly IndexedSocket[] _tupleSockets;
        private readonly int[] _tuplePorts;
        private readonly Ip16[] _tupleLocals;
        private readonly bool[] _tupleTimeWait;

        public ConnectTables(SocketIndex index)
        {
            Index = index;
            HostFacts facts = index.Facts;
            foreach (PortRange range in facts.ReservedPorts)
            {
                for (int port = range.Start; port <= range.End; port++)
                {
                    Set(_reserved, port);
                }
            }

            var connections = new List<IndexedSocket>();
            var tcpPorts = new List<int>();
            var udpPorts = new List<int>();
            var udpSeen = new ulong[PortCount / 64];
            foreach (IndexedSocket entry in index.Entries)
            {
                int port = entry.Port;
                if (entry.Protocol == TransportProtocol.Tcp)
                {
                    if (entry.InBindBucket)
                    {
                        if (!Get(_tcpOccupied, port))
                        {
                            Set(_tcpOccupied, port);
                            tcpPorts.Add(port);
                        }

                        // Listeners and bound sockets were put in their bucket by bind(): connect() never
                        // takes such a port (fastreuse >= 0), and their accepted children share the bucket.
                        if (!entry.InEstablishedHash)
                        {
                            Set(_tcpBindHeld, port);
                        }
                    }
                }
                else if (!Get(udpSeen, port))
                {
                    Set(udpSeen, port);
                    udpPorts.Add(port);
                }

                // One entry per 4-tuple, as the established hash holds it (a text table may repeat a line).
                if (entry.HasPeer && entry.HoldsTuple)
                {
                    connections.Add(entry);
                }
            }

            // A counting sort by destination (one dictionary lookup per connection), then each group sorted by port.
            var groupOf = new int[connections.Count];
            var counts = new List<int>();
            var groups = new Dictionary<DestinationKey, int>();
            for (int i = 0; i < connections.Count; i++)
            {
                IndexedSocket entry = connections[i];
                var key = new DestinationKey(entry.Protocol, entry.Remote, entry.RemotePort);
                if (!groups.TryGetValue(key, out int group))
                {
                    group = counts.Count;
                    groups.Add(key, group);
                    counts.Add(0);
                }

                groupOf[i] = group;
                counts[group]++;
            }

            _groupStarts = new int[counts.Count + 1];
            for (int group = 0; group < counts.Count; group++)
            {
                _groupStarts[group + 1] = _groupStarts[group] + counts[group];
            }

            _destinations = groups;
            _tupleSockets = new IndexedSocket[connections.Count];
            _tuplePorts = new int[connections.Count];
            _tupleLocals = new Ip16[connections.Count];
            var filled = new int[counts.Count];
            for (int i = 0; i < connections.Count; i++)
            {
                int at = _groupStarts[groupOf[i]] + filled[groupOf[i]]++;
                _tupleSockets[at] = connections[i];
                _tuplePorts[at] = connections[i].Port;
            }

            for (int group = 0; group < counts.Count; group++)
            {
                if (counts[group] > 1)
                {
                    Array.Sort(_tuplePorts, _tupleSockets, _groupStarts[group], counts[group]);
                }
            }

            _tupleTimeWait = new bool[_tupleSockets.Length];
            for (int i = 0; i < _tupleSockets.Length; i++)
            {
                _tupleLocals[i] = _tupleSockets[i].Local;
                _tupleTimeWait[i] = _tupleSockets[i].State == SocketState.TimeWait;
            }

            tcpPorts.Sort();
            udpPorts.Sort();
            TcpPorts = tcpPorts.ToArray();
            UdpPorts = udpPorts.ToArray();
            for (int port = 0; port < PortCount; port++)
            {
                bool reserved = Get(_reserved, port);
                bool blocked = reserved || Get(_tcpBindHeld, port);
                bool shared = !blocked && Get(_tcpOccupied, port);
                _blockedPrefix[port] = (blocked ? 1 : 0) + (port >= 2 ? _blockedPrefix[port - 2] : 0);
                _sharedPrefix[port] = (shared ? 1 : 0) + (port >= 2 ? _sharedPrefix[port - 2] : 0);
                _reservedPrefix[port] = (reserved ? 1 : 0) + (port >= 2 ? _reservedPrefix[port - 2] : 0);
            }
        }

        public SocketIndex Index { get; }

        /// <summary>Distinct ports with a TCP socket in their bind bucket, ascending.</summary>
        public int[] TcpPorts { get; }

        /// <summary>Distinct ports with a UDP socket, ascending.</summary>
        public int[] UdpPorts { get; }

        public int[] PortsOf(TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? TcpPorts : UdpPorts;

        public bool IsReserved(int port) => Get(_reserved, port);

        /// <summary>A TCP bind bucket that bind() made (a listener or a bound socket holds the port).</summary>
        public bool IsTcpBindHeld(int port) => Get(_tcpBindHeld, port);

        /// <summary>Any TCP socket holds the port in the bind table.</summary>
        public bool IsTcpOccupied(int port) => Get(_tcpOccupied, port);

        /// <summary>The sockets in the established hash (TCP) or connected (UDP) whose peer is the destination.</summary>
        public ConnectionChain ConnectionsTo(TransportProtocol protocol, Ip16 address, int port) =>
            _destinations.TryGetValue(new DestinationKey(protocol, address, port), out int group) ? new ConnectionChain(this, _groupStarts[group], _groupStarts[group + 1] - _groupStarts[group]) : default;

        internal IndexedSocket[] TupleSockets => _tupleSockets;

        internal int[] TuplePorts => _tuplePorts;

        internal Ip16[] TupleLocals => _tupleLocals;

        /// <summary>Whether each connection is a TIME-WAIT entry (read without touching the socket).</summary>
        internal bool[] TupleTimeWait => _tupleTimeWait;

        /// <summary>Ports first, first + step, ... up to last (step 1 or 2).</summary>
        public static int ClassSize(int first, int last, int step) => first > last ? 0 : ((last - first) / step) + 1;

        /// <summary>Ports of the class blocked for connect() (reserved, or held by bind()).</summary>
        public int BlockedIn(int first, int last, int step) => CountIn(_blockedPrefix, first, last, step);

        /// <summary>Ports of the class held only by TCP connections (bind buckets connect() made).</summary>
        public int SharedIn(int first, int last, int step) => CountIn(_sharedPrefix, first, last, step);

        /// <summary>Reserved ports of the class.</summary>
        public int ReservedIn(int first, int last, int step) => CountIn(_reservedPrefix, first, last, step);

        /// <summary>Index of the first port at or above <paramref name="port"/> in a sorted port array.</summary>
        public static int LowerBound(int[] ports, int port)
        {
            int low = 0;
            int high = ports.Length;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                if (ports[middle] < port)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }

        private static int CountIn(int[] prefix, int first, int last, int step)
        {
            if (first > last)
            {
                return 0;
            }

            if (step == 1)
            {
                return CountIn(prefix, first, last, 2) + CountIn(prefix, first + 1, last, 2);
            }

            int end = last - ((last - first) & 1);
            return prefix[end] - (first >= 2 ? prefix[first - 2] : 0);
        }

        private static bool Get(ulong[] bits, int port) => (bits[port >> 6] & (1UL << (port & 63))) != 0;

        private static void Set(ulong[] bits, int port) => bits[port >> 6] |= 1UL << (port & 63);

        private readonly struct DestinationKey : IEquatable<DestinationKey>
        {
            private readonly Ip16 _address;
            private readonly int _port;

            public DestinationKey(TransportProtocol protocol, Ip16 address, int port)
            {
                _address = address;
                _port = port | (protocol == TransportProtocol.Udp ? 0x10000 : 0);
            }

            public bool Equals(DestinationKey other) => other._port == _port && other._address.Equals(_address);

            public override bool Equals(object? obj) => obj is DestinationKey other && Equals(other);

            public override int GetHashCode() => _address.GetHashCode() ^ (_port * 397);
        }
    }

    /// <summary>The connections to one destination, a slice of the tables' arrays sorted by local port, walked without allocation.</summary>
    internal readonly struct ConnectionChain
    {
        public ConnectionChain(ConnectTables tables, int start, int count)
        {
            Tables = tables;
            Start = start;
            Count = count;
        }

        public ConnectTables? Tables { get; }

        public int Start { get; }

        public int Count { get; }

        public int End => Start + Count;

        public bool IsEmpty => Count == 0;

        /// <summary>The first position whose port is at or above <paramref name="port"/>.</summary>
        public int LowerBound(int port)
        {
            int[] ports = Tables!.TuplePorts;
            int low = Start;
            int high = End;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                if (ports[middle] < port)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }

        public Enumerator GetEnumerator() => new Enumerator(Tables?.TupleSockets, Start, End);

        public struct Enumerator
        {
            private readonly IndexedSocket[]? _sockets;
            private readonly int _end;
            private int _current;

            public Enumerator(IndexedSocket[]? sockets, int start, int end)
            {
                _sockets = sockets;
                _end = end;
                _current = start - 1;
            }

            public IndexedSocket Current => _sockets![_current];

            public bool MoveNext() => _sockets is not null && ++_current < _end;
        }
    }
}
