using System;
using System.Runtime.InteropServices;

namespace PortTools.Linux
{
    /// <summary>The libc calls the Linux readers make. Thin: no logic lives here.</summary>
    internal static unsafe class LibC
    {
        private const string Lib = "libc";

        public const int AF_INET = 2;
        public const int AF_INET6 = 10;
        public const int AF_NETLINK = 16;
        public const int SOCK_STREAM = 1;
        public const int SOCK_DGRAM = 2;
        public const int SOCK_RAW = 3;
        public const int SOCK_CLOEXEC = 0x80000;
        public const int NETLINK_SOCK_DIAG = 4;
        public const int O_RDONLY = 0;
        public const int O_DIRECTORY = 0x10000;
        public const int O_CLOEXEC = 0x80000;
        public const int CLONE_NEWNET = 0x40000000;
        public const int SOL_SOCKET = 1;
        public const int SO_RCVBUF = 8;
        public const int SO_REUSEADDR = 2;
        public const int SO_REUSEPORT = 15;
        public const int SO_BINDTODEVICE = 25;
        public const int SO_BROADCAST = 6;
        public const int SO_LINGER = 13;
        public const int IPPROTO_IP = 0;
        public const int IPPROTO_IPV6 = 41;
        public const int IP_FREEBIND = 15;
        public const int IPV6_V6ONLY = 26;
        public const int EADDRINUSE = 98;
        public const int EINTR = 4;
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int EACCES = 13;
        public const int EPERM = 1;
        public const int EBADF = 9;
        public const int ENOSYS = 38;

        // pidfd_open and pidfd_getfd have these numbers on every architecture .NET runs on
        // (x86_64, arm64, arm, s390x, ppc64le, riscv64, loongarch64: the syscall tables were unified in 5.1).
        public const long SYS_pidfd_open = 434;
        public const long SYS_pidfd_getfd = 438;

        /// <summary>syscall(2), for calls glibc before 2.36 has no wrapper for; the arguments are widened to longs.</summary>
        [DllImport(Lib, SetLastError = true)]
        public static extern long syscall(long number, long a, long b, long c);

        [DllImport(Lib, SetLastError = true)]
        public static extern int getsockopt(int fd, int level, int name, void* value, uint* length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int socket(int domain, int type, int protocol);

        [DllImport(Lib, SetLastError = true)]
        public static extern nint send(int fd, byte* buffer, nuint length, int flags);

        [DllImport(Lib, SetLastError = true)]
        public static extern nint recv(int fd, byte* buffer, nuint length, int flags);

        [DllImport(Lib, SetLastError = true)]
        public static extern int setsockopt(int fd, int level, int name, int* value, uint length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int close(int fd);

        [DllImport(Lib, SetLastError = true)]
        public static extern int bind(int fd, byte* address, uint length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int listen(int fd, int backlog);

        [DllImport(Lib, SetLastError = true)]
        public static extern int getsockname(int fd, byte* address, uint* length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int setsockopt(int fd, int level, int name, byte* value, uint length);

        [DllImport(Lib, SetLastError = true)]
        public static extern int open(byte* path, int flags);

        [DllImport(Lib, SetLastError = true)]
        public static extern int openat(int dirfd, byte* path, int flags);

        [DllImport(Lib, SetLastError = true)]
        public static extern nint readlinkat(int dirfd, byte* path, byte* buffer, nuint size);

        [DllImport(Lib, SetLastError = true)]
        public static extern nint getdents64(int fd, byte* buffer, nuint count);

        [DllImport(Lib, SetLastError = true)]
        public static extern int setns(int fd, int nstype);

        [DllImport(Lib)]
        public static extern uint geteuid();

        /// <summary>statx(2): its struct has one layout on every architecture, unlike struct stat.</summary>
        [DllImport(Lib, SetLastError = true)]
        public static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

        public const int AT_EMPTY_PATH = 0x1000;
        public const int AT_FDCWD = -100;
        public const uint STATX_INO = 0x100;

        /// <summary>The (device, inode) pair that identifies an open file, or null when statx fails.</summary>
        public static (ulong Device, ulong Inode)? FileIdentity(int fd)
        {
            byte* buffer = stackalloc byte[256];
            byte empty = 0;
            if (statx(fd, &empty, AT_EMPTY_PATH, STATX_INO, buffer) != 0)
            {
                return null;
            }

            // struct statx: stx_ino at offset 32, stx_dev_major and stx_dev_minor at 136 and 140.
            ulong inode = *(ulong*)(buffer + 32);
            ulong device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
            return (device, inode);
        }

        /// <summary>The (device, inode) pair of the file a path names (bind mounts followed), or null when statx fails.</summary>
        public static (ulong Device, ulong Inode)? PathIdentity(string path)
        {
            int length = System.Text.Encoding.UTF8.GetByteCount(path);
            byte* bytes = stackalloc byte[length + 1];
            fixed (char* chars = path)
            {
                System.Text.Encoding.UTF8.GetBytes(chars, path.Length, bytes, length);
            }

            bytes[length] = 0;
            byte* buffer = stackalloc byte[256];
            if (statx(AT_FDCWD, bytes, 0, STATX_INO, buffer) != 0)
            {
                return null;
            }

            return (((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140), *(ulong*)(buffer + 32));
        }

        [DllImport(Lib, SetLastError = true)]
        public static extern byte* if_indextoname(uint index, byte* name);

        public static int LastError => Marshal.GetLastWin32Error();

        /// <summary>The text of an errno value, as strerror gives it.</summary>
        public static string ErrorText(int errno) => new System.ComponentModel.Win32Exception(errno).Message;

        /// <summary>Opens a path with a NUL-terminated UTF-8 copy on the stack.</summary>
        public static int Open(string path, int flags)
        {
            int length = System.Text.Encoding.UTF8.GetByteCount(path);
            byte* bytes = stackalloc byte[length + 1];
            fixed (char* chars = path)
            {
                System.Text.Encoding.UTF8.GetBytes(chars, path.Length, bytes, length);
            }

            bytes[length] = 0;
            return open(bytes, flags | O_CLOEXEC);
        }
    }
}
