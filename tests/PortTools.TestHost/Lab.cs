using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using PortTools.Linux;

namespace PortTools.TestHost
{
    /// <summary>
    /// Real sockets driven by a line protocol on stdin, one reply line per command, so that tests can
    /// interleave operations of several users (this process may run under another uid) and ask the
    /// kernel what happened. Commands:
    ///   open ID tcp|udp inet|inet6 [reuseaddr] [reuseport] [v6only=0|1] [dev=NAME] [broadcast] -> ok | err ERRNO
    ///   bind ID ADDRESS PORT   -> ok PORT | err ERRNO        listen ID -> ok | err ERRNO
    ///   connect ID ADDRESS PORT -> ok PORT LOCALADDRESS | err ERRNO (TCP: blocking; UDP: sets the peer)
    ///   accept ID              -> ok NEWID PEERADDR PEERPORT | none
    ///   send ID TEXT           -> ok | err ERRNO             sendto ID ADDRESS PORT TEXT -> ok | err ERRNO
    ///   recv ID                -> got TEXT | none | err ERRNO (non-blocking)
    ///   linger0 ID             -> ok                          close ID -> ok
    ///   sleep MS               -> ok                          quit
    /// </summary>
    internal static unsafe class Lab
    {
        private const int MSG_DONTWAIT = 0x40;
        private const int SOCK_NONBLOCK = 0x800;
        private const int EAGAIN = 11;
        private static readonly Dictionary<string, int> s_sockets = new Dictionary<string, int>(StringComparer.Ordinal);

        [DllImport("libc", SetLastError = true)]
        private static extern int connect(int fd, byte* address, uint length);

        [DllImport("libc", SetLastError = true)]
        private static extern int accept4(int fd, byte* address, uint* length, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int poll(long* fds, nuint count, int timeout);

        [DllImport("libc", SetLastError = true)]
        private static extern nint send(int fd, byte* buffer, nuint length, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern nint sendto(int fd, byte* buffer, nuint length, int flags, byte* address, uint addressLength);

        [DllImport("libc", SetLastError = true)]
        private static extern nint recv(int fd, byte* buffer, nuint length, int flags);

        public static int Run()
        {
            Console.Out.Flush();
            string? line;
            while ((line = Console.ReadLine()) is not null)
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length == 0)
                {
                    continue;
                }

                if (words[0] == "quit")
                {
                    break;
                }

                string reply;
                try
                {
                    reply = Execute(words);
                }
                catch (Exception exception)
                {
                    reply = "fail " + exception.GetType().Name + ": " + exception.Message.Replace('\n', ' ');
                }

                Console.WriteLine(reply);
                Console.Out.Flush();
            }

            foreach (int fd in s_sockets.Values)
            {
                LibC.close(fd);
            }

            return 0;
        }

        private static string Execute(string[] words)
        {
            switch (words[0])
            {
                case "open":
                    return Open(words);
                case "bind":
                    return WithAddress(words, 2, (fd, address, length) => LibC.bind(fd, address, length) == 0 ? "ok " + LocalPort(fd).ToString(CultureInfo.InvariantCulture) : Error());
                case "listen":
                    return LibC.listen(Fd(words[1]), 64) == 0 ? "ok" : Error();
                case "connect":
                    // A SYN that gets no answer must not stall the lab for the kernel's two minutes of retries.
                    long* timeout = stackalloc long[2];
                    timeout[0] = 2;
                    timeout[1] = 0;
                    LibC.setsockopt(Fd(words[1]), LibC.SOL_SOCKET, 21 /* SO_SNDTIMEO */, (byte*)timeout, 16);
                    return WithAddress(words, 2, (fd, address, length) => connect(fd, address, length) == 0 ? "ok " + LocalPort(fd).ToString(CultureInfo.InvariantCulture) + " " + LocalAddress(fd) : Error());
                case "accept":
                    return Accept(words[1]);
                case "send":
                    return Send(Fd(words[1]), words[2], null);
                case "sendto":
                    return Send(Fd(words[1]), words[4], words);
                case "recv":
                    return Receive(Fd(words[1]));
                case "linger0":
                    int* linger = stackalloc int[2];
                    linger[0] = 1;
                    linger[1] = 0;
                    return LibC.setsockopt(Fd(words[1]), LibC.SOL_SOCKET, LibC.SO_LINGER, (byte*)linger, 8) == 0 ? "ok" : Error();
                case "close":
                    LibC.close(Fd(words[1]));
                    s_sockets.Remove(words[1]);
                    return "ok";
                case "sleep":
                    System.Threading.Thread.Sleep(int.Parse(words[1], CultureInfo.InvariantCulture));
                    return "ok";
                default:
                    return "fail unknown command " + words[0];
            }
        }

        private static string Open(string[] words)
        {
            bool tcp = words[2] == "tcp";
            bool inet6 = words[3] == "inet6";
            int fd = LibC.socket(inet6 ? LibC.AF_INET6 : LibC.AF_INET, (tcp ? LibC.SOCK_STREAM : LibC.SOCK_DGRAM) | LibC.SOCK_CLOEXEC, tcp ? 6 : 17);
            if (fd < 0)
            {
                return Error();
            }

            for (int i = 4; i < words.Length; i++)
            {
                string option = words[i];
                int result = option switch
                {
                    "reuseaddr" => SetInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1),
                    "reuseport" => SetInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1),
                    "broadcast" => SetInt(fd, LibC.SOL_SOCKET, LibC.SO_BROADCAST, 1),
                    "v6only=0" => SetInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, 0),
                    "v6only=1" => SetInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, 1),
                    _ when option.StartsWith("dev=", StringComparison.Ordinal) => SetDevice(fd, option.Substring(4)),
                    _ => -2,
                };
                if (result == -2)
                {
                    LibC.close(fd);
                    return "fail unknown option " + option;
                }

                if (result != 0)
                {
                    string error = Error();
                    LibC.close(fd);
                    return error;
                }
            }

            s_sockets[words[1]] = fd;
            return "ok";
        }

        private static string Accept(string id)
        {
            // The listener is blocking; poll first so that an empty queue answers at once.
            // struct pollfd { int fd; short events; short revents; } with POLLIN = 1.
            long pollfd = (uint)Fd(id) | (1L << 32);
            if (poll(&pollfd, 1, 0) <= 0)
            {
                return "none";
            }

            byte* address = stackalloc byte[SockAddr.MaxLength];
            uint length = SockAddr.MaxLength;
            int fd = accept4(Fd(id), address, &length, SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
            if (fd < 0)
            {
                return LibC.LastError == EAGAIN ? "none" : Error();
            }

            string newId = id + "+" + fd.ToString(CultureInfo.InvariantCulture);
            s_sockets[newId] = fd;
            IPEndPoint peer = SockAddr.Read(new ReadOnlySpan<byte>(address, (int)length));
            return "ok " + newId + " " + peer.Address + " " + peer.Port.ToString(CultureInfo.InvariantCulture);
        }

        private static string Send(int fd, string text, string[]? destination)
        {
            byte[] payload = Encoding.UTF8.GetBytes(text);
            byte* address = stackalloc byte[SockAddr.MaxLength];
            int length = destination is null ? 0 : SockAddr.Write(new Span<byte>(address, SockAddr.MaxLength), IPAddress.Parse(destination[2]), int.Parse(destination[3], CultureInfo.InvariantCulture));
            fixed (byte* data = payload)
            {
                nint sent = destination is null
                    ? send(fd, data, (nuint)payload.Length, 0)
                    : sendto(fd, data, (nuint)payload.Length, 0, address, (uint)length);
                return sent >= 0 ? "ok" : Error();
            }
        }

        private static string Receive(int fd)
        {
            byte* buffer = stackalloc byte[512];
            nint n = recv(fd, buffer, 512, MSG_DONTWAIT);
            if (n < 0)
            {
                return LibC.LastError == EAGAIN ? "none" : Error();
            }

            return "got " + Encoding.UTF8.GetString(buffer, (int)n);
        }

        private delegate string AddressCall(int fd, byte* address, uint length);

        private static string WithAddress(string[] words, int at, AddressCall call)
        {
            int fd = Fd(words[1]);
            IPAddress address = IPAddress.Parse(words[at]);
            int port = int.Parse(words[at + 1], CultureInfo.InvariantCulture);
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            int length = SockAddr.Write(new Span<byte>(buffer, SockAddr.MaxLength), address, port);
            return call(fd, buffer, (uint)length);
        }

        private static int LocalPort(int fd)
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            uint length = SockAddr.MaxLength;
            return LibC.getsockname(fd, buffer, &length) == 0 ? SockAddr.Read(new ReadOnlySpan<byte>(buffer, (int)length)).Port : 0;
        }

        private static IPAddress LocalAddress(int fd)
        {
            byte* buffer = stackalloc byte[SockAddr.MaxLength];
            uint length = SockAddr.MaxLength;
            return LibC.getsockname(fd, buffer, &length) == 0 ? SockAddr.Read(new ReadOnlySpan<byte>(buffer, (int)length)).Address : IPAddress.None;
        }

        private static int SetInt(int fd, int level, int name, int value) => LibC.setsockopt(fd, level, name, &value, sizeof(int));

        private static int SetDevice(int fd, string device)
        {
            byte[] name = Encoding.ASCII.GetBytes(device + "\0");
            fixed (byte* value = name)
            {
                return LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_BINDTODEVICE, value, (uint)name.Length);
            }
        }

        private static int Fd(string id) => s_sockets.TryGetValue(id, out int fd) ? fd : throw new ArgumentException("no socket " + id);

        private static string Error() => "err " + LibC.LastError.ToString(CultureInfo.InvariantCulture);
    }
}
