using System.Runtime.InteropServices;

namespace PortTools.MacOS
{
    /// <summary>
    /// The libc calls and constants of the macOS trial bind. Thin: no logic lives here. Values from
    /// XNU (apple-oss-distributions/xnu, tag xnu-11417.101.15): bsd/sys/socket.h (SOCK_STREAM 1,
    /// SOCK_DGRAM 2, SOL_SOCKET 0xffff, SO_REUSEADDR 0x4, SO_BROADCAST 0x20, SO_REUSEPORT 0x200,
    /// AF_INET 2, AF_INET6 30), bsd/netinet/in.h (IPPROTO_IP 0, IPPROTO_TCP 6, IPPROTO_UDP 17,
    /// IP_BOUND_IF 25) and bsd/netinet6/in6.h (IPPROTO_IPV6 41, IPV6_V6ONLY 27, IPV6_BOUND_IF 125).
    /// They differ from Linux's (SOL_SOCKET 1, SO_REUSEADDR 2, SO_REUSEPORT 15, AF_INET6 10), which
    /// is why the Linux declarations are not used here.
    /// </summary>
    /// <remarks>
    /// None of these functions is variadic: a P/Invoke of a variadic C function (fcntl, ioctl) is
    /// wrong on Apple's arm64 ABI, so the trial socket is not marked close-on-exec; it lives for a
    /// few system calls and is closed in a finally.
    /// </remarks>
    internal static unsafe class BsdLibC
    {
        // The runtime resolves "libc" to /usr/lib/libc.dylib on macOS, as dotnet/runtime's own interop does.
        private const string Lib = "libc";

        public const int AF_INET = 2;
        public const int AF_INET6 = 30;
        public const int SOCK_STREAM = 1;
        public const int SOCK_DGRAM = 2;
        public const int IPPROTO_IP = 0;
        public const int IPPROTO_TCP = 6;
        public const int IPPROTO_UDP = 17;
        public const int IPPROTO_IPV6 = 41;
        public const int SOL_SOCKET = 0xffff;
        public const int SO_REUSEADDR = 0x4;
        public const int SO_BROADCAST = 0x20;
        public const int SO_REUSEPORT = 0x200;
        public const int IP_BOUND_IF = 25;
        public const int IPV6_V6ONLY = 27;
        public const int IPV6_BOUND_IF = 125;

        /// <summary>ENXIO (bsd/sys/errno.h): what XNU's inp_bindif answers for an interface index that does not exist.</summary>
        public const int ENXIO = 6;

        [DllImport(Lib, SetLastError = true)]
        public static extern int socket(int domain, int type, int protocol);

        [DllImport(Lib, SetLastError = true)]
        public static extern int setsockopt(int fd, int level, int name, int* value, uint length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int bind(int fd, byte* address, uint length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int listen(int fd, int backlog);

        [DllImport(Lib, SetLastError = true)]
        public static extern int getsockname(int fd, byte* address, uint* length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int close(int fd);

        /// <summary>if_nametoindex(3): the interface's index, or 0 when there is none by that name.</summary>
        [DllImport(Lib, SetLastError = true)]
        public static extern uint if_nametoindex(byte* name);

        [DllImport(Lib)]
        public static extern uint geteuid();

        public static int LastError => Marshal.GetLastWin32Error();
    }
}
