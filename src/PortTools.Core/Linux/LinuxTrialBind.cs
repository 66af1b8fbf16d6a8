using System;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortTools.Linux
{
    /// <summary>What a real bind on this host answered.</summary>
    internal readonly struct TrialBindOutcome
    {
        public TrialBindOutcome(int errno, string step, int boundPort)
        {
            Errno = errno;
            Step = step;
            BoundPort = boundPort;
        }

        /// <summary>0 on success, else the errno of the step that failed.</summary>
        public int Errno { get; }

        /// <summary>The call that failed (socket, setsockopt(...), bind, listen), or "listen"/"bind" when all succeeded.</summary>
        public string Step { get; }

        /// <summary>The port the socket got (the kernel's pick for port 0), or 0.</summary>
        public int BoundPort { get; }
    }

    /// <summary>
    /// A real trial bind with the requested options: socket, setsockopt, bind, and listen when asked,
    /// then close at once. The socket is closed in a finally and never left open.
    /// </summary>
    internal static unsafe class LinuxTrialBind
    {
        public static TrialBindOutcome Probe(BindRequest request)
        {
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            int type = (request.Protocol == TransportProtocol.Tcp ? LibC.SOCK_STREAM : LibC.SOCK_DGRAM) | LibC.SOCK_CLOEXEC;
            int fd = LibC.socket(inet6 ? LibC.AF_INET6 : LibC.AF_INET, type, (int)request.Protocol);
            if (fd < 0)
            {
                return new TrialBindOutcome(LibC.LastError, "socket", 0);
            }

            try
            {
                if (request.ReuseAddress && !SetInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1))
                {
                    return new TrialBindOutcome(LibC.LastError, "setsockopt(SO_REUSEADDR)", 0);
                }

                if (request.ReusePort && !SetInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1))
                {
                    return new TrialBindOutcome(LibC.LastError, "setsockopt(SO_REUSEPORT)", 0);
                }

                if (inet6 && request.IPv6Only.HasValue && !SetInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, request.IPv6Only.Value ? 1 : 0))
                {
                    return new TrialBindOutcome(LibC.LastError, "setsockopt(IPV6_V6ONLY)", 0);
                }

                if (request.FreeBind && !SetInt(fd, LibC.IPPROTO_IP, LibC.IP_FREEBIND, 1))
                {
                    return new TrialBindOutcome(LibC.LastError, "setsockopt(IP_FREEBIND)", 0);
                }

                if (request.Interface is not null)
                {
                    byte[] name = Encoding.UTF8.GetBytes(request.Interface + "\0");
                    fixed (byte* value = name)
                    {
                        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_BINDTODEVICE, value, (uint)name.Length) != 0)
                        {
                            return new TrialBindOutcome(LibC.LastError, "setsockopt(SO_BINDTODEVICE)", 0);
                        }
                    }
                }

                byte* address = stackalloc byte[SockAddr.MaxLength];
                int length = SockAddr.Write(new Span<byte>(address, SockAddr.MaxLength), request.Address, request.Port);
                if (LibC.bind(fd, address, (uint)length) != 0)
                {
                    return new TrialBindOutcome(LibC.LastError, "bind", 0);
                }

                int bound = BoundPort(fd);
                if (request.Listen && request.Protocol == TransportProtocol.Tcp && LibC.listen(fd, 1) != 0)
                {
                    return new TrialBindOutcome(LibC.LastError, "listen", bound);
                }

                return new TrialBindOutcome(0, request.Listen ? "listen" : "bind", bound);
            }
            finally
            {
                LibC.close(fd);
            }
        }

        private static bool SetInt(int fd, int level, int name, int value) => LibC.setsockopt(fd, level, name, &value, sizeof(int)) == 0;

        private static int BoundPort(int fd)
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            uint length = SockAddr.MaxLength;
            return LibC.getsockname(fd, buffer, &length) == 0 ? SockAddr.Read(new ReadOnlySpan<byte>(buffer, (int)length)).Port : 0;
        }
    }
}
