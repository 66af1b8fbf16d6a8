using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Maps socket inodes to the processes holding them, from one pass over /proc/[pid]/fd: every
    /// descriptor whose link reads "socket:[inode]". This is what ss -p, netstat -p and lsof do, but
    /// in a single walk with a hash table, so the cost grows linearly with the number of descriptors.
    /// Processes that exit mid-walk are skipped; processes whose descriptors are hidden (another
    /// user's, without root) are counted.
    /// </summary>
    internal sealed unsafe class ProcessSocketMap
    {
        // Each socket's first owner with the descriptor number it holds it under (for pidfd_getfd).
        private readonly Dictionary<ulong, SocketDescriptor> _firstOwner;
        private readonly List<KeyValuePair<ulong, int>> _moreOwners = new List<KeyValuePair<ulong, int>>();
        private SocketReadProgress? _progress;

        private ProcessSocketMap(int capacity) => _firstOwner = new Dictionary<ulong, SocketDescriptor>(capacity);

        /// <summary>Processes whose descriptor directory could not be read for lack of permission.</summary>
        public int HiddenProcessCount { get; private set; }

        /// <summary>Socket descriptors seen in the walk.</summary>
        public int SocketDescriptorCount { get; private set; }

        /// <summary>Walks /proc (or a copy of its layout under <paramref name="procRoot"/>).</summary>
        public static ProcessSocketMap Build(string procRoot, int expectedSockets, CancellationToken cancellation, SocketReadProgress? progress = null)
        {
            var map = new ProcessSocketMap(Math.Max(expectedSockets, 16)) { _progress = progress };
            if (!map.TryWalkWithGetdents(procRoot, cancellation))
            {
                map.WalkManaged(procRoot, cancellation);
            }

            return map;
        }

        /// <summary>Adds the owners of <paramref name="inode"/> to <paramref name="owners"/>, without duplicates.</summary>
        public bool TryGetOwners(ulong inode, List<int> owners)
        {
            owners.Clear();
            if (inode == 0 || !_firstOwner.TryGetValue(inode, out SocketDescriptor first))
            {
                return false;
            }

            owners.Add(first.ProcessId);
            if (_moreOwners.Count > 0)
            {
                foreach (KeyValuePair<ulong, int> extra in _moreOwners)
                {
                    if (extra.Key == inode && !owners.Contains(extra.Value))
                    {
                        owners.Add(extra.Value);
                    }
                }
            }

            return true;
        }

        /// <summary>The first process seen holding <paramref name="inode"/> and its descriptor number there.</summary>
        public bool TryGetDescriptor(ulong inode, out SocketDescriptor descriptor) => _firstOwner.TryGetValue(inode, out descriptor);

        private void Add(ulong inode, int pid, int fd)
        {
            SocketDescriptorCount++;
            if (!_firstOwner.TryGetValue(inode, out SocketDescriptor existing))
            {
                _firstOwner.Add(inode, new SocketDescriptor(pid, fd));
            }
            else if (existing.ProcessId != pid)
            {
                // Shared after fork (or passed over a unix socket): rare, so a list is enough.
                _moreOwners.Add(new KeyValuePair<ulong, int>(inode, pid));
            }
        }

        /// <summary>The fast path: getdents64 and readlinkat on raw buffers, no strings per descriptor.</summary>
        private bool TryWalkWithGetdents(string procRoot, CancellationToken cancellation)
        {
            int procFd = LibC.Open(procRoot, LibC.O_RDONLY | LibC.O_DIRECTORY);
            if (procFd < 0)
            {
                throw new IOException("Cannot open " + procRoot + ": " + LibC.ErrorText(LibC.LastError));
            }

            try
            {
                byte[] processEntries = new byte[64 * 1024];
                byte[] fdEntries = new byte[64 * 1024];
                byte* path = stackalloc byte[32];
                byte* link = stackalloc byte[64];
                fixed (byte* processBuffer = processEntries)
                fixed (byte* fdBuffer = fdEntries)
                {
                    while (true)
                    {
                        nint count;
                        try
                        {
                            count = LibC.getdents64(procFd, processBuffer, (nuint)processEntries.Length);
                        }
                        catch (EntryPointNotFoundException)
                        {
                            return false; // libc without getdents64 (glibc before 2.30)
                        }

                        if (count <= 0)
                        {
                            return true;
                        }

                        for (int offset = 0; offset < count;)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            ushort recordLength = *(ushort*)(processBuffer + offset + 16);
                            byte* name = processBuffer + offset + 19;
                            offset += recordLength;
                            int pid = ParsePid(name);
                            if (pid <= 0)
                            {
                                continue;
                            }

                            // "<pid>/fd" relative to /proc.
                            int n = 0;
                            while (name[n] != 0)
                            {
                                path[n] = name[n];
                                n++;
                            }

                            path[n++] = (byte)'/';
                            path[n++] = (byte)'f';
                            path[n++] = (byte)'d';
                            path[n] = 0;
                            WalkProcess(procFd, path, pid, fdBuffer, fdEntries.Length, link);
                        }
                    }
                }
            }
            finally
            {
                LibC.close(procFd);
            }
        }

        private void WalkProcess(int procFd, byte* fdDirectory, int pid, byte* buffer, int bufferLength, byte* link)
        {
            _progress?.AddProcessWalked();
            int dirFd = LibC.openat(procFd, fdDirectory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (dirFd < 0)
            {
                int errno = LibC.LastError;
                if (errno == LibC.EACCES || errno == LibC.EPERM)
                {
                    HiddenProcessCount++;
                }

                return; // ENOENT: the process exited
            }

            try
            {
                while (true)
                {
                    nint count = LibC.getdents64(dirFd, buffer, (nuint)bufferLength);
                    if (count <= 0)
                    {
                        return;
                    }

                    for (int offset = 0; offset < count;)
                    {
                        ushort recordLength = *(ushort*)(buffer + offset + 16);
                        byte* name = buffer + offset + 19;
                        offset += recordLength;
                        if (name[0] == (byte)'.')
                        {
                            continue;
                        }

                        nint length = LibC.readlinkat(dirFd, name, link, 63);
                        if (length > 9)
                        {
                            ulong inode = ParseSocketLink(new ReadOnlySpan<byte>(link, (int)length));
                            if (inode != 0)
                            {
                                Add(inode, pid, ParsePid(name));
                            }
                        }
                    }
                }
            }
            finally
            {
                LibC.close(dirFd);
            }
        }

        /// <summary>The portable path: managed directory listing and readlink per descriptor.</summary>
        private void WalkManaged(string procRoot, CancellationToken cancellation)
        {
            byte* link = stackalloc byte[64];
            byte* path = stackalloc byte[512];
            foreach (string processDirectory in Directory.EnumerateDirectories(procRoot))
            {
                cancellation.ThrowIfCancellationRequested();
                if (!int.TryParse(Path.GetFileName(processDirectory), out int pid) || pid <= 0)
                {
                    continue;
                }

                _progress?.AddProcessWalked();
                IEnumerable<string> descriptors;
                try
                {
                    descriptors = Directory.GetFileSystemEntries(Path.Combine(processDirectory, "fd"));
                }
                catch (UnauthorizedAccessException)
                {
                    HiddenProcessCount++;
                    continue;
                }
                catch (IOException)
                {
                    continue;
                }

                foreach (string descriptor in descriptors)
                {
                    int n = Encoding.UTF8.GetByteCount(descriptor);
                    if (n >= 511)
                    {
                        continue;
                    }

                    fixed (char* chars = descriptor)
                    {
                        Encoding.UTF8.GetBytes(chars, descriptor.Length, path, n);
                    }

                    path[n] = 0;
                    nint length = LibC.readlinkat(-100 /* AT_FDCWD */, path, link, 63);
                    if (length > 9)
                    {
                        ulong inode = ParseSocketLink(new ReadOnlySpan<byte>(link, (int)length));
                        if (inode != 0)
                        {
                            int.TryParse(Path.GetFileName(descriptor), out int fd);
                            Add(inode, pid, fd);
                        }
                    }
                }
            }
        }

        /// <summary>A decimal name ("812", or a descriptor's "7"); 0 for anything else.</summary>
        private static int ParsePid(byte* name)
        {
            int pid = 0;
            int i = 0;
            for (; name[i] != 0; i++)
            {
                if (name[i] < (byte)'0' || name[i] > (byte)'9' || i > 9)
                {
                    return 0;
                }

                pid = (pid * 10) + (name[i] - '0');
            }

            return i == 0 ? 0 : pid;
        }

        /// <summary>"socket:[12345]" gives 12345; anything else 0.</summary>
        internal static ulong ParseSocketLink(ReadOnlySpan<byte> link)
        {
            ReadOnlySpan<byte> prefix = "socket:["u8;
            if (!link.StartsWith(prefix) || link[link.Length - 1] != (byte)']')
            {
                return 0;
            }

            ulong inode = 0;
            for (int i = prefix.Length; i < link.Length - 1; i++)
            {
                byte c = link[i];
                if (c < (byte)'0' || c > (byte)'9')
                {
                    return 0;
                }

                inode = (inode * 10) + (ulong)(c - '0');
            }

            return inode;
        }
    }

    /// <summary>A process and the descriptor number under which it holds a socket.</summary>
    internal readonly struct SocketDescriptor
    {
        public SocketDescriptor(int processId, int fd)
        {
            ProcessId = processId;
            Descriptor = fd;
        }

        public int ProcessId { get; }

        public int Descriptor { get; }
    }
}
