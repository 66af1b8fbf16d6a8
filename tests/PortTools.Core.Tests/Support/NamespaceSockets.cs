using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Runtime.InteropServices;
using PortTools.Linux;

namespace PortTools.Tests.Support
{
    /// <summary>
    /// Real sockets inside a network namespace made for one test: each call runs on a thread that
    /// entered the namespace, so the sockets it creates live there. Sysctls are written from inside
    /// too. Every socket is closed on dispose (with SO_LINGER 0, so no TIME-WAIT outlives the test
    /// unless the test asks for one), and the namespace is deleted.
    /// </summary>
    public sealed unsafe class NamespaceSockets : IDisposable
    {
        public const int EAGAIN = 11;
        public const int EADDRINUSE = 98;
        public const int EADDRNOTAVAIL = 99;
        public const int ENETUNREACH = 101;
        private const int IPPROTO_IP = 0;
        private const int IP_BIND_ADDRESS_NO_PORT = 24;
        private const int IP_LOCAL_PORT_RANGE = 51;
        private const int SO_SNDTIMEO = 21;
        private const int SOCK_NONBLOCK = 0x800;

        private readonly List<int> _open = new List<int>();
        private readonly NetworkNamespace _space;

        public NamespaceSockets(string name)
        {
            Name = name;
            _space = NetworkNamespace.Resolve(name);
        }

        public string Name { get; }

        /// <summary>Creates a namespace with a unique name and loopback up.</summary>
        public static NamespaceSockets Create(string prefix)
        {
            string name = prefix + "-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N").Substring(0, 6);
            TestNetworkNamespace.Ip("netns", "add", name);
            TestNetworkNamespace.Ip("-n", name, "link", "set", "lo", "up");
            return new NamespaceSockets(name);
        }

        public bool Owned { get; init; } = true;

        public void Sysctl(string name, string value) => _space.Run(() =>
        {
            File.WriteAllText("/proc/sys/net/" + name, value);
            return 0;
        });

        public string ReadSysctl(string name) => _space.Run(() => File.ReadAllText("/proc/sys/net/" + name).Trim());

        /// <summary>socket() with options; returns the descriptor.</summary>
        public int Open(bool tcp, bool inet6, bool reuseAddress = false, bool reusePort = false, bool bindAddressNoPort = false, PortRange? localPortRange = null, bool nonBlocking = false) => _space.Run(() =>
        {
            int fd = LibC.socket(inet6 ? LibC.AF_INET6 : LibC.AF_INET, (tcp ? LibC.SOCK_STREAM : LibC.SOCK_DGRAM) | LibC.SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0), tcp ? 6 : 17);
            if (fd < 0)
            {
                throw new InvalidOperationException("socket() failed: " + LibC.LastError);
            }

            _open.Add(fd);
            Set(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, reuseAddress ? 1 : 0);
            Set(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, reusePort ? 1 : 0);
            if (bindAddressNoPort)
            {
                Set(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
            }

            if (localPortRange is PortRange range)
            {
                Set(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, (int)(((uint)range.End << 16) | (uint)range.Start));
            }

            long* timeout = stackalloc long[2];
            timeout[0] = 2;
            timeout[1] = 0;
            LibC.setsockopt(fd, LibC.SOL_SOCKET, SO_SNDTIMEO, (byte*)timeout, 16);
            return fd;
        });

        /// <summary>bind(); returns 0 or the errno.</summary>
        public int Bind(int fd, IPAddress address, int port) => _space.Run(() =>
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            int length = SockAddr.Write(new Span<byte>(buffer, SockAddr.MaxLength), address, port);
            return LibC.bind(fd, buffer, (uint)length) == 0 ? 0 : LibC.LastError;
        });

        public int Listen(int fd) => LibC.listen(fd, 512) == 0 ? 0 : LibC.LastError;

        /// <summary>connect(); returns 0 or the errno.</summary>
        public int Connect(int fd, IPAddress address, int port) => _space.Run(() =>
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            int length = SockAddr.Write(new Span<byte>(buffer, SockAddr.MaxLength), address, port);
            return connect(fd, buffer, (uint)length) == 0 ? 0 : LibC.LastError;
        });

        public IPEndPoint LocalEndPoint(int fd)
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            uint length = SockAddr.MaxLength;
            return LibC.getsockname(fd, buffer, &length) == 0 ? SockAddr.Read(new ReadOnlySpan<byte>(buffer, (int)length)) : new IPEndPoint(IPAddress.None, 0);
        }

        /// <summary>Accepts every waiting connection of a listener opened non-blocking, so the backlog never fills; the accepted sockets are kept.</summary>
        public List<int> AcceptAll(int listener)
        {
            var accepted = new List<int>();
            while (true)
            {
                int fd = accept4(listener, null, null, SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
                if (fd < 0)
                {
                    return accepted;
                }

                _open.Add(fd);
                accepted.Add(fd);
            }
        }

        /// <summary>Closes with SO_LINGER 0: a reset, no TIME-WAIT.</summary>
        public void Abort(int fd)
        {
            int* linger = stackalloc int[2];
            linger[0] = 1;
            linger[1] = 0;
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, (byte*)linger, 8);
            Close(fd);
        }

        /// <summary>An ordinary close (a TCP connection closed here first ends in TIME-WAIT here).</summary>
        public void Close(int fd)
        {
            if (_open.Remove(fd))
            {
                LibC.close(fd);
            }
        }

        public void Dispose()
        {
            foreach (int fd in _open.ToArray())
            {
                Abort(fd);
            }

            if (Owned)
            {
                TestNetworkNamespace.Ip("netns", "del", Name);
            }
        }

        private static void Set(int fd, int level, int name, int value) => LibC.setsockopt(fd, level, name, &value, sizeof(int));

        [DllImport("libc", SetLastError = true)]
        private static extern int connect(int fd, byte* address, uint length);

        [DllImport("libc", SetLastError = true)]
        private static extern int accept4(int fd, byte* address, uint* length, int flags);
    }
}
