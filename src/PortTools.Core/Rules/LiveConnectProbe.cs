using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using PortTools.Linux;

namespace PortTools
{
    /// <summary>
    /// What a connect() question asks of a live host (this one, or a Linux network namespace) besides
    /// its socket table and its SocketHost: the source address its route to a destination gives (a
    /// UDP socket's connect() answers that without sending anything), and how long its TIME-WAIT
    /// entries have existed (Linux /proc/net/tcp timers), read only when an answer turns on them.
    /// Both are read inside the namespace.
    /// </summary>
    public sealed class LiveConnectProbe
    {
        private readonly NetworkNamespace? _space;
        private Dictionary<(Ip16, int, Ip16, int), TimeSpan>? _timeWaitAges;

        private LiveConnectProbe(NetworkNamespace? space)
        {
            _space = space;
        }

        /// <summary>The namespace, as the user named it, or null for this process's.</summary>
        public string? NetworkNamespace => _space?.Specification;

        /// <summary>How long each TIME-WAIT entry has existed (Linux; read on first use), or null where that cannot be read.</summary>
        public Func<SocketTuple, TimeSpan?>? TimeWaitAges => RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? TimeWaitAge : null;

        /// <summary>Opens this host or, on Linux, a network namespace, whose route and TIME-WAIT timers are then read on a thread inside it.</summary>
        /// <param name="networkNamespace">A name under /run/netns, a namespace file, or a process id; null for this process's namespace.</param>
        /// <returns>The probe.</returns>
        /// <exception cref="NetworkNamespaceException">The namespace does not exist or cannot be entered.</exception>
        /// <exception cref="PlatformNotSupportedException">A namespace was named on another OS than Linux.</exception>
        public static LiveConnectProbe Open(string? networkNamespace)
        {
            if (networkNamespace is null)
            {
                return new LiveConnectProbe(null);
            }

            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; -NetworkNamespace cannot be used on " + RuntimeInformation.OSDescription + ".");
            }

            return new LiveConnectProbe(Linux.NetworkNamespace.Resolve(networkNamespace));
        }

        /// <summary>A namespace this process read a table from, entered again; null when it is gone or cannot be entered.</summary>
        internal static LiveConnectProbe? Open(NetworkNamespaceInfo origin)
        {
            try
            {
                return new LiveConnectProbe(Linux.NetworkNamespace.Reopen(origin));
            }
            catch (NetworkNamespaceException)
            {
                return null;
            }
        }

        /// <summary>
        /// The question completed with what the host knows: the source address its route to the
        /// destination gives (unless a specific address is bound), whether there is a route at all,
        /// and the ages of TIME-WAIT entries (read on first need).
        /// </summary>
        /// <param name="request">The question.</param>
        /// <returns>A copy with SourceAddress, NoRoute and TimeWaitAge set.</returns>
        public ConnectRequest Complete(ConnectRequest request)
        {
            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            IPAddress? source = request.SourceAddress;
            bool noRoute = request.NoRoute;
            bool boundSpecific = request.Address is not null && !ConnectSupport.IsAnyAddress(request.Address);
            if (source is null && !boundSpecific)
            {
                (source, noRoute) = Route(request);
            }

            return new ConnectRequest
            {
                Protocol = request.Protocol,
                Destination = request.Destination,
                Address = request.Address,
                Port = request.Port,
                ReuseAddress = request.ReuseAddress,
                ReusePort = request.ReusePort,
                BindAddressNoPort = request.BindAddressNoPort,
                LocalPortRange = request.LocalPortRange,
                Count = request.Count,
                SourceAddress = source,
                NoRoute = noRoute,
                UserId = request.UserId,
                Privileged = request.Privileged,
                TimeWaitAge = request.TimeWaitAge ?? TimeWaitAges,
            };
        }

        /// <summary>
        /// The route's source address toward the destination: connect() on a UDP socket picks it (and
        /// fails without a route) and sends nothing.
        /// </summary>
        private (IPAddress? Source, bool NoRoute) Route(ConnectRequest request)
        {
            IPAddress destination = request.SocketDestination;
            AddressFamily family = request.AddressFamily;
            (IPAddress? Source, bool NoRoute) Ask()
            {
                using var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
                if (family == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = true;
                }

                try
                {
                    socket.Connect(new IPEndPoint(destination, request.Destination.Port));
                    return (((IPEndPoint)socket.LocalEndPoint!).Address, false);
                }
                catch (SocketException exception) when (exception.SocketErrorCode is SocketError.NetworkUnreachable or SocketError.HostUnreachable)
                {
                    return (null, true);
                }
                catch (SocketException)
                {
                    return (null, false);
                }
            }

            return _space is null ? Ask() : _space.Run(Ask);
        }

        /// <summary>How long a TIME-WAIT entry has existed: TCP_TIMEWAIT_LEN (60 s) less what its timer has left, read from /proc/net/tcp and tcp6 once.</summary>
        private TimeSpan? TimeWaitAge(SocketTuple socket)
        {
            Dictionary<(Ip16, int, Ip16, int), TimeSpan> ages = LazyInitializer.EnsureInitialized(ref _timeWaitAges, () => _space is null ? ReadTimeWaitAges("/proc/thread-self/net") : _space.Run(() => ReadTimeWaitAges(_space.ProcNetDirectory ?? "/proc/thread-self/net")))!;
            return ages.TryGetValue((Ip16.From(socket.LocalAddress), socket.LocalPort, Ip16.From(socket.RemoteAddress), socket.RemotePort), out TimeSpan age) ? age : null;
        }

        private static Dictionary<(Ip16, int, Ip16, int), TimeSpan> ReadTimeWaitAges(string directory)
        {
            var ages = new Dictionary<(Ip16, int, Ip16, int), TimeSpan>();
            foreach ((string file, bool ipv6) in new[] { ("tcp", false), ("tcp6", true) })
            {
                try
                {
                    using var stream = new FileStream(Path.Combine(directory, file), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                    ProcNetReader.ReadLines(stream, line => TimeWaitLine(line, ipv6, ages), CancellationToken.None);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Without the file the ages stay unknown, and answers that turn on them say so.
                }
            }

            return ages;
        }

        /// <summary>"sl: local:port remote:port 06 tx:rx 03:when ...": a TIME-WAIT entry with its timer in clock ticks (USER_HZ, 100 a second).</summary>
        internal static void TimeWaitLine(ReadOnlySpan<byte> line, bool ipv6, Dictionary<(Ip16, int, Ip16, int), TimeSpan> ages)
        {
            var cursor = new ProcNetReader.Cursor(line);
            Span<byte> local = stackalloc byte[16];
            Span<byte> remote = stackalloc byte[16];
            int length = ipv6 ? 16 : 4;
            if (!cursor.SkipField() || !cursor.TrySkipSpaces()
                || !cursor.TryAddress(local.Slice(0, length), BitConverter.IsLittleEndian) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong localPort)
                || !cursor.TrySkipSpaces() || !cursor.TryAddress(remote.Slice(0, length), BitConverter.IsLittleEndian) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong remotePort)
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong state) || state != 6
                || !cursor.TrySkipSpaces() || !cursor.SkipField()
                || !cursor.TrySkipSpaces() || !cursor.TryHex(out ulong timer) || !cursor.Expect((byte)':') || !cursor.TryHex(out ulong ticks) || timer != 3)
            {
                return;
            }

            TimeSpan left = TimeSpan.FromMilliseconds(ticks * 10.0);
            TimeSpan age = TimeSpan.FromSeconds(TimeWait.LinuxSeconds) - left;
            Ip16 localAddress = ipv6 ? new Ip16(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(local), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(local.Slice(8))) : Ip16.FromV4(local.Slice(0, 4));
            Ip16 remoteAddress = ipv6 ? new Ip16(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(remote), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(remote.Slice(8))) : Ip16.FromV4(remote.Slice(0, 4));
            ages[(localAddress, (int)localPort, remoteAddress, (int)remotePort)] = age < TimeSpan.Zero ? TimeSpan.Zero : age;
        }
    }
}
