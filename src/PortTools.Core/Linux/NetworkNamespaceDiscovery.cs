using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>A network namespace found on the host, with every way to enter it.</summary>
    internal sealed class DiscoveredNamespace
    {
        public DiscoveredNamespace(ulong inode) => Inode = inode;

        /// <summary>The namespace's inode number: its identity.</summary>
        public ulong Inode { get; }

        /// <summary>The name under /run/netns, where it has one.</summary>
        public string? Name { get; set; }

        /// <summary>The processes whose /proc/[pid]/ns/net links to it, in pid order once discovery ends.</summary>
        public List<int> ProcessIds { get; } = new List<int>();

        /// <summary>Files bind-mounted onto it (ip netns, docker, CNI, podman): they keep it alive without a process.</summary>
        public List<string> MountPoints { get; } = new List<string>();

        /// <summary>Whether this process lives in it.</summary>
        public bool IsOwn { get; set; }

        /// <summary>The container the namespace belongs to as a whole, where its processes' cgroups agree.</summary>
        public ContainerInfo? Container { get; set; }

        /// <summary>The path the read entered it by (a bind mount, or a process's namespace link).</summary>
        public string? EnteredBy { get; set; }

        /// <summary>
        /// What sockets read in it are stamped with: the inode, the name, the first process inside, and
        /// the path that reopens it (so that its host facts can be read later, checked to be the same namespace).
        /// </summary>
        public NetworkNamespaceInfo Info => new NetworkNamespaceInfo(Inode, Name, ProcessIds.Count > 0 ? ProcessIds[0] : null) { LiveEntryPath = EnteredBy ?? FirstEntryPath() };

        private string? FirstEntryPath()
        {
            foreach (string path in EntryPaths())
            {
                return path;
            }

            return null;
        }

        /// <summary>Paths that open the namespace, the steadiest first: bind mounts outlive processes.</summary>
        public IEnumerable<string> EntryPaths()
        {
            foreach (string mount in MountPoints)
            {
                yield return mount;
            }

            foreach (int pid in ProcessIds)
            {
                yield return "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/ns/net";
            }
        }

        public override string ToString() => Info.ToString() + (ProcessIds.Count > 0 ? " (pid " + ProcessIds[0].ToString(CultureInfo.InvariantCulture) + ")" : MountPoints.Count > 0 ? " (" + MountPoints[0] + ")" : string.Empty);
    }

    /// <summary>What a discovery found, and how much it could not see.</summary>
    internal sealed class NamespaceDiscovery
    {
        public NamespaceDiscovery(IReadOnlyList<DiscoveredNamespace> namespaces, int hiddenProcesses)
        {
            Namespaces = namespaces;
            HiddenProcessCount = hiddenProcesses;
        }

        /// <summary>Every distinct namespace: this process's first, then by inode.</summary>
        public IReadOnlyList<DiscoveredNamespace> Namespaces { get; }

        /// <summary>Processes whose namespace link could not be read (another user's, without root).</summary>
        public int HiddenProcessCount { get; }
    }

    /// <summary>
    /// Finds every network namespace of the host: the namespace link of every process
    /// (/proc/[pid]/ns/net), and every namespace file bind-mounted anywhere in this mount namespace
    /// (nsfs entries of /proc/self/mountinfo, whose root field names the namespace as net:[inode]):
    /// that covers /run/netns and /var/run/netns (ip netns, CNI, podman), /run/docker/netns and
    /// /run/user/[uid]/netns (rootless podman) without a list of runtimes to keep up to date.
    /// </summary>
    internal static unsafe class NetworkNamespaceDiscovery
    {
        private static readonly string[] s_namedDirectories = { "/run/netns/", "/var/run/netns/" };

        [DllImport("libc")]
        private static extern int getpid();

        /// <summary>This process's id (Environment.ProcessId is not in netstandard2.0).</summary>
        public static int CurrentProcessId => getpid();

        /// <summary>The namespace inode a /proc/.../ns/net link names, or null when it cannot be read.</summary>
        public static ulong? InodeOf(string link)
        {
            byte* buffer = stackalloc byte[64];
            int length = ReadLink(-100, link, buffer, 64);
            return length > 0 ? ParseNetLink(new ReadOnlySpan<byte>(buffer, length)) : null;
        }

        /// <summary>A namespace described for stamping: its inode, its /run/netns name if it has one, and a process inside.</summary>
        public static NetworkNamespaceInfo Describe(ulong inode, int? processId)
        {
            string? name = null;
            foreach (KeyValuePair<string, ulong> mount in NamespaceMounts("/proc/self/mountinfo"))
            {
                if (mount.Value == inode && NameOf(mount.Key) is string named)
                {
                    name = named;
                    break;
                }
            }

            return new NetworkNamespaceInfo(inode, name, processId);
        }

        /// <summary>Walks /proc and the mount table.</summary>
        public static NamespaceDiscovery Discover(string procRoot, CancellationToken cancellation)
        {
            var found = new Dictionary<ulong, DiscoveredNamespace>();
            ulong? own = InodeOf(procRoot + "/self/ns/net");
            int hidden = WalkProcesses(procRoot, found, cancellation);
            foreach (KeyValuePair<string, ulong> mount in NamespaceMounts(procRoot + "/self/mountinfo"))
            {
                DiscoveredNamespace space = Get(found, mount.Value);
                space.MountPoints.Add(mount.Key);
                space.Name ??= NameOf(mount.Key);
            }

            if (own is ulong ownInode)
            {
                DiscoveredNamespace mine = Get(found, ownInode);
                mine.IsOwn = true;
                if (!mine.ProcessIds.Contains(CurrentProcessId))
                {
                    mine.ProcessIds.Add(CurrentProcessId);
                }
            }

            var list = new List<DiscoveredNamespace>(found.Values);
            foreach (DiscoveredNamespace space in list)
            {
                space.ProcessIds.Sort();
            }

            list.Sort((a, b) => a.IsOwn != b.IsOwn ? (a.IsOwn ? -1 : 1) : a.Inode.CompareTo(b.Inode));
            return new NamespaceDiscovery(list, hidden);
        }

        private static DiscoveredNamespace Get(Dictionary<ulong, DiscoveredNamespace> found, ulong inode)
        {
            if (!found.TryGetValue(inode, out DiscoveredNamespace? space))
            {
                space = new DiscoveredNamespace(inode);
                found.Add(inode, space);
            }

            return space;
        }

        /// <summary>The name ip netns gives a bind mount under /run/netns or /var/run/netns; null elsewhere.</summary>
        internal static string? NameOf(string mountPoint)
        {
            foreach (string directory in s_namedDirectories)
            {
                if (mountPoint.StartsWith(directory, StringComparison.Ordinal) && mountPoint.IndexOf('/', directory.Length) < 0 && mountPoint.Length > directory.Length)
                {
                    return mountPoint.Substring(directory.Length);
                }
            }

            return null;
        }

        private static int WalkProcesses(string procRoot, Dictionary<ulong, DiscoveredNamespace> found, CancellationToken cancellation)
        {
            int hidden = 0;
            int procFd = LibC.Open(procRoot, LibC.O_RDONLY | LibC.O_DIRECTORY);
            if (procFd < 0)
            {
                throw new IOException("Cannot open " + procRoot + ": " + LibC.ErrorText(LibC.LastError));
            }

            try
            {
                byte[] entries = new byte[32 * 1024];
                byte* path = stackalloc byte[40];
                byte* link = stackalloc byte[64];
                fixed (byte* buffer = entries)
                {
                    while (true)
                    {
                        nint count = LibC.getdents64(procFd, buffer, (nuint)entries.Length);
                        if (count <= 0)
                        {
                            return hidden;
                        }

                        for (int offset = 0; offset < count;)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            ushort recordLength = *(ushort*)(buffer + offset + 16);
                            byte* name = buffer + offset + 19;
                            offset += recordLength;
                            int pid = 0;
                            int n = 0;
                            for (; name[n] != 0 && n < 10; n++)
                            {
                                if (name[n] < (byte)'0' || name[n] > (byte)'9')
                                {
                                    pid = -1;
                                    break;
                                }

                                pid = (pid * 10) + (name[n] - '0');
                                path[n] = name[n];
                            }

                            if (pid <= 0 || name[n] != 0)
                            {
                                continue;
                            }

                            foreach (byte c in "/ns/net"u8)
                            {
                                path[n++] = c;
                            }

                            path[n] = 0;
                            nint length = LibC.readlinkat(procFd, path, link, 63);
                            if (length <= 0)
                            {
                                int errno = LibC.LastError;
                                if (errno == LibC.EACCES || errno == LibC.EPERM)
                                {
                                    hidden++;
                                }

                                continue; // ENOENT: exited, or a kernel thread without a namespace link
                            }

                            ulong? inode = ParseNetLink(new ReadOnlySpan<byte>(link, (int)length));
                            if (inode is ulong value)
                            {
                                Get(found, value).ProcessIds.Add(pid);
                            }
                        }
                    }
                }
            }
            finally
            {
                LibC.close(procFd);
            }
        }

        /// <summary>"net:[4026531840]" gives 4026531840; anything else null.</summary>
        internal static ulong? ParseNetLink(ReadOnlySpan<byte> link)
        {
            ReadOnlySpan<byte> prefix = "net:["u8;
            if (!link.StartsWith(prefix) || link.Length <= prefix.Length + 1 || link[link.Length - 1] != (byte)']')
            {
                return null;
            }

            ulong inode = 0;
            for (int i = prefix.Length; i < link.Length - 1; i++)
            {
                byte c = link[i];
                if (c < (byte)'0' || c > (byte)'9')
                {
                    return null;
                }

                inode = (inode * 10) + (ulong)(c - '0');
            }

            return inode == 0 ? null : inode;
        }

        /// <summary>Every nsfs mount of a network namespace in a mountinfo file: (mount point, namespace inode).</summary>
        internal static IEnumerable<KeyValuePair<string, ulong>> NamespaceMounts(string mountInfo)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(mountInfo);
            }
            catch (IOException)
            {
                yield break;
            }
            catch (UnauthorizedAccessException)
            {
                yield break;
            }

            foreach (string line in lines)
            {
                if (ParseMountInfoLine(line) is KeyValuePair<string, ulong> mount)
                {
                    yield return mount;
                }
            }
        }

        /// <summary>
        /// One mountinfo line: "45 44 0:4 net:[4026532177] /run/netns/red rw shared:2 - nsfs nsfs rw".
        /// The fourth field is the mount's root (for nsfs, the namespace), the fifth its mount point with
        /// octal escapes (\040 for a space); the file system type follows the lone "-".
        /// </summary>
        internal static KeyValuePair<string, ulong>? ParseMountInfoLine(string line)
        {
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 7 || separator < 6 || separator + 1 >= fields.Length || fields[separator + 1] != "nsfs")
            {
                return null;
            }

            ulong? inode = ParseNetLink(Encoding.ASCII.GetBytes(fields[3]));
            return inode is ulong value ? new KeyValuePair<string, ulong>(UnescapeMountPath(fields[4]), value) : null;
        }

        private static string UnescapeMountPath(string path)
        {
            if (path.IndexOf('\\') < 0)
            {
                return path;
            }

            var bytes = new List<byte>(path.Length);
            for (int i = 0; i < path.Length; i++)
            {
                if (path[i] == '\\' && IsOctal(path, i + 1))
                {
                    bytes.Add((byte)(((path[i + 1] - '0') << 6) | ((path[i + 2] - '0') << 3) | (path[i + 3] - '0')));
                    i += 3;
                }
                else
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(path[i].ToString()));
                }
            }

            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        private static bool IsOctal(string text, int at) =>
            at + 2 < text.Length && text[at] >= '0' && text[at] <= '3' && text[at + 1] >= '0' && text[at + 1] <= '7' && text[at + 2] >= '0' && text[at + 2] <= '7';

        private static int ReadLink(int directoryFd, string path, byte* buffer, int size)
        {
            int length = Encoding.UTF8.GetByteCount(path);
            byte* bytes = stackalloc byte[length + 1];
            fixed (char* chars = path)
            {
                Encoding.UTF8.GetBytes(chars, path.Length, bytes, length);
            }

            bytes[length] = 0;
            return (int)LibC.readlinkat(directoryFd, bytes, buffer, (nuint)(size - 1));
        }
    }
}
