using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using PortTools.Linux;

namespace PortTools.TestHost
{
    /// <summary>
    /// UNIX domain sockets (and a TCP listener, for namespace tests) driven by a line protocol on
    /// stdin, one reply line per command. Addresses: a path, @name for an abstract one; %20 and
    /// %00 escapes. Commands:
    ///   socket ID stream|dgram|seqpacket -> ok INODE | err ERRNO
    ///   bind ID ADDRESS -> ok | err ERRNO          listen ID -> ok | err ERRNO
    ///   connect ID ADDRESS -> ok | err ERRNO        accept ID NEWID -> ok INODE | err ERRNO
    ///   pair ID1 ID2 stream|dgram|seqpacket -> ok INODE1 INODE2
    ///   send ID TEXT -> ok | err ERRNO              close ID -> ok
    ///   tcplisten ID ADDRESS PORT -> ok INODE | err ERRNO
    ///   pid -> ok PID                               quit
    /// </summary>
    internal static unsafe class UnixLab
    {
        private const int AfUnix = 1;
        private static readonly Dictionary<string, int> s_sockets = new Dictionary<string, int>(StringComparer.Ordinal);

        [DllImport("libc", SetLastError = true)]
        private static extern int connect(int fd, byte* address, uint length);

        [DllImport("libc", SetLastError = true)]
        private static extern int accept4(int fd, byte* address, uint* length, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int socketpair(int domain, int type, int protocol, int* fds);

        [DllImport("libc", SetLastError = true)]
        private static extern nint send(int fd, byte* buffer, nuint length, int flags);

        [DllImport("libc")]
        private static extern int getpid();

        public static int Run()
        {
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

            return 0;
        }

        private static string Execute(string[] words)
        {
            switch (words[0])
            {
                case "socket":
                    int fd = LibC.socket(AfUnix, Type(words[2]) | LibC.SOCK_CLOEXEC, 0);
                    if (fd < 0)
                    {
                        return Error();
                    }

                    s_sockets[words[1]] = fd;
                    return "ok " + Inode(fd);
                case "bind":
                    return WithAddress(words[2], (address, length) => LibC.bind(Fd(words[1]), address, length));
                case "listen":
                    return LibC.listen(Fd(words[1]), 16) == 0 ? "ok" : Error();
                case "connect":
                    return WithAddress(words[2], (address, length) => connect(Fd(words[1]), address, length));
                case "accept":
                    int accepted = accept4(Fd(words[1]), null, null, LibC.SOCK_CLOEXEC);
                    if (accepted < 0)
                    {
                        return Error();
                    }

                    s_sockets[words[2]] = accepted;
                    return "ok " + Inode(accepted);
                case "pair":
                    int* fds = stackalloc int[2];
                    if (socketpair(AfUnix, Type(words[3]) | LibC.SOCK_CLOEXEC, 0, fds) != 0)
                    {
                        return Error();
                    }

                    s_sockets[words[1]] = fds[0];
                    s_sockets[words[2]] = fds[1];
                    return "ok " + Inode(fds[0]) + " " + Inode(fds[1]);
                case "send":
                    byte[] text = Encoding.UTF8.GetBytes(words[2]);
                    fixed (byte* p = text)
                    {
                        return send(Fd(words[1]), p, (nuint)text.Length, 0) >= 0 ? "ok" : Error();
                    }

                case "close":
                    LibC.close(Fd(words[1]));
                    s_sockets.Remove(words[1]);
                    return "ok";
                case "tcplisten":
                    return TcpListen(words[1], IPAddress.Parse(words[2]), int.Parse(words[3], CultureInfo.InvariantCulture));
                case "pid":
                    return "ok " + getpid().ToString(CultureInfo.InvariantCulture);
                default:
                    return "fail unknown command " + words[0];
            }
        }

        private static int Type(string name) => name switch
        {
            "stream" => 1,
            "dgram" => 2,
            "seqpacket" => 5,
            _ => throw new ArgumentException("unknown type " + name),
        };

        private static int Fd(string id) => s_sockets[id];

        private static string Inode(int fd) => (LibC.FileIdentity(fd)?.Inode ?? 0).ToString(CultureInfo.InvariantCulture);

        private delegate int AddressCall(byte* address, uint length);

        /// <summary>
        /// sockaddr_un for a path (NUL-terminated while it fits) or an abstract name (leading NUL, exact
        /// length). Longer names are passed whole, with their real length, so the kernel answers for them.
        /// </summary>
        private static string WithAddress(string text, AddressCall call)
        {
            byte[] name = Unescape(text);
            bool isAbstract = name.Length > 0 && name[0] == (byte)'@';
            byte* address = stackalloc byte[2 + 512];
            new Span<byte>(address, 2 + 512).Clear();
            *(ushort*)address = AfUnix;
            if (isAbstract)
            {
                name[0] = 0;
            }

            int length = Math.Min(name.Length, 510);
            name.AsSpan(0, length).CopyTo(new Span<byte>(address + 2, 510));
            uint addressLength = (uint)(2 + length + (isAbstract || length >= 108 ? 0 : 1));
            return call(address, addressLength) == 0 ? "ok" : Error();
        }

        private static string TcpListen(string id, IPAddress address, int port)
        {
            int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
            byte* sin = stackalloc byte[16];
            new Span<byte>(sin, 16).Clear();
            *(ushort*)sin = LibC.AF_INET;
            sin[2] = (byte)(port >> 8);
            sin[3] = (byte)port;
            address.GetAddressBytes().CopyTo(new Span<byte>(sin + 4, 4));
            if (LibC.bind(fd, sin, 16) != 0 || LibC.listen(fd, 16) != 0)
            {
                string error = Error();
                LibC.close(fd);
                return error;
            }

            s_sockets[id] = fd;
            return "ok " + Inode(fd);
        }

        private static byte[] Unescape(string text)
        {
            var bytes = new List<byte>();
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] == '%' && i + 2 < text.Length)
                {
                    bytes.Add(byte.Parse(text.Substring(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                }
                else
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
                }
            }

            return bytes.ToArray();
        }

        private static string Error() => "err " + Marshal.GetLastWin32Error().ToString(CultureInfo.InvariantCulture);
    }
}
