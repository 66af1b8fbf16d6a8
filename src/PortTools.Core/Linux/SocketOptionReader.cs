using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads SO_REUSEADDR and SO_REUSEPORT (and confirms IPV6_V6ONLY and SO_BINDTODEVICE) of live
    /// sockets, which no socket dump carries: a copy of the owner's descriptor is taken with
    /// pidfd_getfd(2) (Linux 5.6+, ptrace rights over the owner), asked with getsockopt and closed at
    /// once. Only listening, bound and unconnected sockets are read: accepted and TIME-WAIT sockets
    /// take their flags from their listener or client, and the rules never need them. Every socket
    /// that cannot be read is counted by cause, for one warning.
    /// </summary>
    internal sealed class SocketOptionReader : IDisposable
    {
        private readonly ISocketOptionCalls _calls;

        // pid to its pidfd, or to -errno when pidfd_open failed (asked once per process).
        private readonly Dictionary<int, int> _processes = new Dictionary<int, int>();
        private int _notPermitted;
        private int _notSupported;
        private int _gone;
        private int _noOwner;
        private int _other;
        private int _otherErrno;

        public SocketOptionReader(ISocketOptionCalls calls) => _calls = calls;

        /// <summary>Sockets whose options were read.</summary>
        public int ReadCount { get; private set; }

        /// <summary>Sockets whose options were wanted but could not be read.</summary>
        public int FailedCount => _notPermitted + _notSupported + _gone + _noOwner + _other;

        /// <summary>The sockets whose options the rules need: TCP listening or bound, UDP unconnected.</summary>
        public static bool Wants(TransportProtocol protocol, SocketState state) => protocol == TransportProtocol.Tcp
            ? state is SocketState.Listen or SocketState.Bound or SocketState.Closed
            : state == SocketState.Unconnected;

        /// <summary>A socket no process holds (a kernel socket, or one whose owner this user cannot see): counted, not read.</summary>
        public void NoOwner() => _noOwner++;

        /// <summary>Reads the options of the socket <paramref name="inode"/>, held by <paramref name="pid"/> as <paramref name="fd"/>.</summary>
        public SocketOptions Read(int pid, int fd, ulong inode, bool inet6)
        {
            if (!_processes.TryGetValue(pid, out int pidfd))
            {
                pidfd = _calls.OpenProcess(pid);
                _processes.Add(pid, pidfd);
            }

            if (pidfd < 0)
            {
                return Failed(-pidfd);
            }

            int copy = _calls.DuplicateDescriptor(pidfd, fd);
            if (copy < 0)
            {
                return Failed(-copy);
            }

            try
            {
                // The descriptor may have been closed and its number reused since the /proc walk.
                if (_calls.InodeOf(copy) != inode)
                {
                    _gone++;
                    return default;
                }

                int reuseAddress = _calls.GetInt(copy, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
                int reusePort = _calls.GetInt(copy, LibC.SOL_SOCKET, LibC.SO_REUSEPORT);
                int v6Only = inet6 ? _calls.GetInt(copy, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : -1;
                if (reuseAddress < 0 || reusePort < 0)
                {
                    return Failed(-Math.Min(reuseAddress, reusePort));
                }

                ReadCount++;
                return new SocketOptions(reuseAddress != 0, reusePort != 0, v6Only < 0 ? null : v6Only != 0, _calls.GetDevice(copy));
            }
            finally
            {
                _calls.Close(copy);
            }
        }

        private SocketOptions Failed(int errno)
        {
            switch (errno)
            {
                case LibC.EPERM:
                case LibC.EACCES:
                    _notPermitted++;
                    break;
                case LibC.ENOSYS:
                    _notSupported++;
                    break;
                case LibC.ESRCH:
                case LibC.EBADF:
                    _gone++;
                    break;
                default:
                    _other++;
                    _otherErrno = errno;
                    break;
            }

            return default;
        }

        /// <summary>One sentence on the sockets whose options stay unknown, and why; null when every wanted socket was read.</summary>
        public string? Warning()
        {
            if (FailedCount == 0)
            {
                return null;
            }

            var causes = new List<string>();
            Add(causes, _notPermitted, "their owners are other users' processes, and pidfd_getfd needs ptrace rights over the owner (EPERM: run as root, or as the owner with kernel.yama.ptrace_scope 0)");
            Add(causes, _notSupported, "the kernel has no pidfd_getfd (ENOSYS: it needs Linux 5.6 or later)");
            Add(causes, _gone, "their process closed them or exited during the read");
            Add(causes, _noOwner, "no process this user can see holds them (kernel sockets, or other users' processes without root)");
            Add(causes, _other, "pidfd_getfd or getsockopt failed (" + LibC.ErrorText(_otherErrno) + ")");
            var text = new StringBuilder();
            text.Append(SocketTableReadResult.SocketOptionsWarningStart)
                .Append(FailedCount.ToString(CultureInfo.InvariantCulture))
                .Append(" listening or unconnected socket(s) could not be read and stay unknown ($null): ")
                .Append(string.Join("; ", causes))
                .Append(". Test-PortBind and Resolve-Demux say where an answer depends on them.");
            return text.ToString();
        }

        private static void Add(List<string> causes, int count, string why)
        {
            if (count > 0)
            {
                causes.Add(count.ToString(CultureInfo.InvariantCulture) + " because " + why);
            }
        }

        public void Dispose()
        {
            foreach (int pidfd in _processes.Values)
            {
                if (pidfd >= 0)
                {
                    _calls.Close(pidfd);
                }
            }

            _processes.Clear();
        }
    }

    /// <summary>What was read of one socket; <see cref="Known"/> false when nothing could be.</summary>
    internal readonly struct SocketOptions
    {
        public SocketOptions(bool reuseAddress, bool reusePort, bool? v6Only, string? device)
        {
            Known = true;
            ReuseAddress = reuseAddress;
            ReusePort = reusePort;
            V6Only = v6Only;
            Device = device;
        }

        public bool Known { get; }

        public bool ReuseAddress { get; }

        public bool ReusePort { get; }

        public bool? V6Only { get; }

        /// <summary>SO_BINDTODEVICE's name; null when the socket is bound to no device.</summary>
        public string? Device { get; }
    }

    /// <summary>The system calls of <see cref="SocketOptionReader"/>; errors come back as -errno.</summary>
    internal interface ISocketOptionCalls
    {
        int OpenProcess(int pid);

        int DuplicateDescriptor(int pidfd, int fd);

        ulong InodeOf(int fd);

        int GetInt(int fd, int level, int name);

        string? GetDevice(int fd);

        void Close(int fd);
    }

    /// <summary>The real calls: pidfd_open, pidfd_getfd, statx and getsockopt. Thin: no logic lives here.</summary>
    internal sealed unsafe class NativeSocketOptionCalls : ISocketOptionCalls
    {
        public static readonly NativeSocketOptionCalls Instance = new NativeSocketOptionCalls();

        public int OpenProcess(int pid)
        {
            long fd = LibC.syscall(LibC.SYS_pidfd_open, pid, 0, 0);
            return fd < 0 ? -LibC.LastError : (int)fd;
        }

        public int DuplicateDescriptor(int pidfd, int fd)
        {
            long copy = LibC.syscall(LibC.SYS_pidfd_getfd, pidfd, fd, 0);
            return copy < 0 ? -LibC.LastError : (int)copy;
        }

        public ulong InodeOf(int fd) => LibC.FileIdentity(fd)?.Inode ?? 0;

        public int GetInt(int fd, int level, int name)
        {
            int value = 0;
            uint length = sizeof(int);
            return LibC.getsockopt(fd, level, name, &value, &length) != 0 ? -LibC.LastError : value;
        }

        public string? GetDevice(int fd)
        {
            byte* name = stackalloc byte[32];
            uint length = 32;
            if (LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_BINDTODEVICE, name, &length) != 0 || length == 0 || name[0] == 0)
            {
                return null;
            }

            int end = 0;
            while (end < (int)length && name[end] != 0)
            {
                end++;
            }

            return Encoding.UTF8.GetString(name, end);
        }

        public void Close(int fd) => LibC.close(fd);
    }
}
