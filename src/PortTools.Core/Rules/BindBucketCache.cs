using System.Collections.Generic;
using PortTools.Rules.Linux;

namespace PortTools
{
    /// <summary>What happened to a socket, for replaying the kernel's bind-bucket caches.</summary>
    internal enum BindEventKind
    {
        Bind,
        Listen,
    }

    /// <summary>One bind() or listen() in a table's history, oldest first.</summary>
    internal readonly struct BindEvent
    {
        public BindEvent(SocketTuple socket, BindEventKind kind)
        {
            Socket = socket;
            Kind = kind;
        }

        public SocketTuple Socket { get; }

        public BindEventKind Kind { get; }
    }

    /// <summary>
    /// The fast-path caches of a Linux TCP bind bucket (struct inet_bind_bucket: fastreuse,
    /// fastreuseport, fastuid, fast_rcv_saddr and friends; inet_csk_update_fastreuse and
    /// sk_reuseport_match in net/ipv4/inet_connection_sock.c). They are meant to repeat the slow
    /// check's answer, but they do not always: a SO_REUSEPORT cache reset by a socket that also had
    /// SO_REUSEADDR admits later SO_REUSEPORT sockets without looking at every owner, which the
    /// differential tests showed on the live kernel. So the engine replays them.
    /// </summary>
    internal sealed class BindBucketCache
    {
        private const int ReusePortAny = 1;
        private const int ReusePortStrict = 2;

        /// <summary>1: every owner bound with SO_REUSEADDR and none has listened; 0: not; -1: the bucket was made by connect().</summary>
        public int FastReuse { get; private set; }

        /// <summary>0, ANY (1), STRICT (2), or -1 for a bucket made by connect().</summary>
        public int FastReusePort { get; private set; }

        public long FastUid { get; private set; }

        /// <summary>The socket whose address, family and IPV6_V6ONLY the cache holds.</summary>
        public IndexedSocket? FastSocket { get; private set; }

        /// <summary>How many sockets have joined the bucket (it is never emptied in a replay).</summary>
        public int Owners { get; private set; }

        /// <summary>A connect() that made the bucket: both caches off (-1).</summary>
        public void Connected()
        {
            if (Owners++ == 0)
            {
                FastReuse = -1;
                FastReusePort = -1;
            }
        }

        /// <summary>An owner that joins without updating the caches (accepted children, TIME-WAIT entries).</summary>
        public void Joined() => Owners++;

        /// <summary>inet_csk_update_fastreuse after a successful bind() or listen().</summary>
        public void Update(IndexedSocket socket, BindEventKind kind)
        {
            bool reuse = socket.ReuseAddress && kind == BindEventKind.Bind;
            bool first = kind == BindEventKind.Bind && Owners == 0;
            if (kind == BindEventKind.Bind)
            {
                Owners++;
            }

            if (first)
            {
                FastReuse = reuse ? 1 : 0;
                if (socket.ReusePort)
                {
                    Set(socket, ReusePortAny);
                }
                else
                {
                    FastReusePort = 0;
                }

                return;
            }

            if (!reuse)
            {
                FastReuse = 0;
            }

            if (!socket.ReusePort)
            {
                FastReusePort = 0;
            }
            else if (!ReusePortMatch(socket))
            {
                Set(socket, ReusePortStrict);
            }
        }

        /// <summary>sk_reuseport_match: the cache admits a SO_REUSEPORT socket of the cached uid whose address the cached one covers.</summary>
        public bool ReusePortMatch(IndexedSocket socket)
        {
            if (FastReusePort <= 0 || !socket.ReusePort || FastUid != socket.Uid)
            {
                return false;
            }

            return FastReusePort == ReusePortAny || LinuxBindRules.RcvSaddrEqual(FastSocket!, socket, matchFirstWildcard: true, matchSecondWildcard: false);
        }

        private void Set(IndexedSocket socket, int mode)
        {
            FastReusePort = mode;
            FastUid = socket.Uid;
            FastSocket = socket;
        }

        /// <summary>Replays a history (or, without one, the table in bind order with each listener listening right after its bind).</summary>
        public static Dictionary<int, BindBucketCache> Replay(IReadOnlyList<IndexedSocket> bindOrder, IReadOnlyList<BindEvent>? history, HostFacts facts)
        {
            var caches = new Dictionary<int, BindBucketCache>();
            BindBucketCache For(int port)
            {
                if (!caches.TryGetValue(port, out BindBucketCache? cache))
                {
                    cache = new BindBucketCache();
                    caches.Add(port, cache);
                }

                return cache;
            }

            if (history is not null)
            {
                foreach (BindEvent e in history)
                {
                    if (e.Socket.Protocol == TransportProtocol.Tcp)
                    {
                        For(e.Socket.LocalPort).Update(new IndexedSocket(e.Socket, -1, facts), e.Kind);
                    }
                }

                return caches;
            }

            foreach (IndexedSocket socket in bindOrder)
            {
                if (socket.Protocol != TransportProtocol.Tcp || !socket.InBindBucket)
                {
                    continue;
                }

                For(socket.Port).Replay(socket);
            }

            return caches;
        }

        /// <summary>
        /// One socket of the bucket, in bind order, as a replay without a history takes it (a listener
        /// listens right after its bind): for an index that fills each bucket's cache as it fills the
        /// bucket, with no lookup per socket.
        /// </summary>
        public void Replay(IndexedSocket socket)
        {
            switch (socket.State)
            {
                case SocketState.Bound:
                    Update(socket, BindEventKind.Bind);
                    break;
                case SocketState.Listen:
                    Update(socket, BindEventKind.Bind);
                    Update(socket, BindEventKind.Listen);
                    break;
                case SocketState.Established or SocketState.SynSent when Owners == 0:
                    Connected();
                    break;
                default:
                    Joined();
                    break;
            }
        }
    }
}
