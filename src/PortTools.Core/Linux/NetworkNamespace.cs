using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// A Linux network namespace to read from, named as ss -N and ip netns do: a name under
    /// /run/netns, a path to a namespace file, or a process id (its /proc/[pid]/ns/net). Work inside
    /// it runs on a dedicated thread that enters the namespace with setns(2); sockets that thread
    /// creates (netlink included) belong to the namespace, and the thread ends with the work, so no
    /// other thread of the process is ever moved.
    /// </summary>
    internal sealed unsafe class NetworkNamespace
    {
        private static readonly string[] s_namedDirectories = { "/run/netns", "/var/run/netns" };

        /// <summary>The namespace file of this process (its main thread), which names the namespace it was started in.</summary>
        internal const string OwnNamespaceFile = "/proc/self/ns/net";

        private NetworkNamespace(string specification, string path, string? procNetDirectory, int? processId = null)
        {
            Specification = specification;
            Path = path;
            ProcNetDirectory = procNetDirectory;
            ProcessId = processId;
        }

        /// <summary>The process the namespace was named by, or null.</summary>
        public int? ProcessId { get; }

        /// <summary>What the user gave.</summary>
        public string Specification { get; }

        /// <summary>The namespace file.</summary>
        public string Path { get; }

        /// <summary>/proc/[pid]/net when the namespace was named by a process; null otherwise.</summary>
        public string? ProcNetDirectory { get; }

        public static NetworkNamespace Resolve(string specification)
        {
            string spec = (specification ?? string.Empty).Trim();
            if (spec.Length == 0)
            {
                throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, specification ?? string.Empty, "An empty network namespace name was given: expected a name (ip netns list), a path to a namespace file, or a process id.");
            }

            if (int.TryParse(spec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid))
            {
                string path = "/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/ns/net";
                if (!File.Exists(path))
                {
                    throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, spec, "Network namespace '" + spec + "' was not found: there is no process with id " + spec + ".");
                }

                return new NetworkNamespace(spec, path, "/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/net", pid);
            }

            if (spec.IndexOf('/') >= 0)
            {
                if (!File.Exists(spec))
                {
                    throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, spec, "Network namespace '" + spec + "' was not found: the file does not exist.");
                }

                return new NetworkNamespace(spec, spec, null);
            }

            foreach (string directory in s_namedDirectories)
            {
                string path = directory + "/" + spec;
                if (File.Exists(path))
                {
                    return new NetworkNamespace(spec, path, null);
                }
            }

            throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, spec, "Network namespace '" + spec + "' was not found: there is no /run/netns/" + spec + " (see 'ip netns list'). Give a namespace name, a path such as /proc/1234/ns/net, or a process id.");
        }

        /// <summary>This process's own namespace, to read the way another one is read (Run does not need setns for it).</summary>
        public static NetworkNamespace Own() => new NetworkNamespace(OwnNamespaceFile, OwnNamespaceFile, null);

        /// <summary>
        /// Which namespace this is: its inode and its /run/netns name, marked as read live by this
        /// process through <see cref="Path"/>. Call it after <see cref="Run{T}"/> has entered the
        /// namespace, which proves the file is one.
        /// </summary>
        /// <exception cref="NetworkNamespaceException">The file is gone or cannot be examined.</exception>
        public NetworkNamespaceInfo Identify() =>
            Identify(Path, NamesByInode(), ProcessId)
            ?? throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, Specification, "Network namespace '" + Specification + "' (" + Path + ") can no longer be examined: " + LibC.ErrorText(LibC.LastError) + ".");

        /// <summary>
        /// Identifies the namespace a namespace file refers to (a /proc/[pid]/ns/net link or a
        /// /run/netns bind mount): its inode, and its name when one of <paramref name="names"/> refers
        /// to the same namespace. The result is marked as read live through that file. Null when
        /// the file cannot be examined. Reusable for walks over many namespaces: read the names once.
        /// </summary>
        /// <param name="namespaceFile">The namespace file.</param>
        /// <param name="names">The named namespaces by inode (<see cref="NamesByInode"/>).</param>
        /// <param name="processId">A process known to live in it, or null.</param>
        /// <returns>The namespace, or null.</returns>
        internal static NetworkNamespaceInfo? Identify(string namespaceFile, IReadOnlyDictionary<ulong, string> names, int? processId = null)
        {
            (ulong Device, ulong Inode)? identity = LibC.PathIdentity(namespaceFile);
            if (identity is null || identity.Value.Inode == 0)
            {
                return null;
            }

            ulong inode = identity.Value.Inode;
            return new NetworkNamespaceInfo(inode, names.TryGetValue(inode, out string? name) ? name : null, processId) { LiveEntryPath = namespaceFile };
        }

        /// <summary>
        /// The named namespaces (ip netns list) by inode; where two names refer to one namespace,
        /// the first in order. Every namespace file lives on the one nsfs, so the inode alone tells
        /// them apart on this host.
        /// </summary>
        /// <returns>The names by inode.</returns>
        internal static IReadOnlyDictionary<ulong, string> NamesByInode()
        {
            var names = new Dictionary<ulong, string>();
            foreach (string name in HostNetwork.NamedNetworkNamespaces())
            {
                foreach (string directory in s_namedDirectories)
                {
                    (ulong Device, ulong Inode)? identity = LibC.PathIdentity(directory + "/" + name);
                    if (identity is not null && !names.ContainsKey(identity.Value.Inode))
                    {
                        names.Add(identity.Value.Inode, name);
                        break;
                    }
                }
            }

            return names;
        }

        /// <summary>
        /// Finds again a namespace this process read live, to read more of it (its host facts):
        /// through the file it was entered by, checking that the file still refers to it (a
        /// process id may have been reused, a name deleted and made again).
        /// </summary>
        /// <param name="info">A namespace stamped by a live read (<see cref="NetworkNamespaceInfo.LiveEntryPath"/> set).</param>
        /// <returns>The namespace, ready to <see cref="Run{T}"/>.</returns>
        /// <exception cref="NetworkNamespaceException">It no longer exists, or was never read live here.</exception>
        internal static NetworkNamespace Reopen(NetworkNamespaceInfo info)
        {
            string label = info.ToString();
            if (info.LiveEntryPath is null)
            {
                throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, label, "Network namespace " + label + " was not read on this host by this session, so its facts cannot be read here.");
            }

            (ulong Device, ulong Inode)? identity = LibC.PathIdentity(info.LiveEntryPath);
            if (identity is null || identity.Value.Inode != info.Inode)
            {
                throw new NetworkNamespaceException(NetworkNamespaceError.NotFound, label, "Network namespace " + label + " no longer exists (" + info.LiveEntryPath + " " + (identity is null ? "is gone" : "now refers to another namespace") + "), so its facts cannot be read.");
            }

            return new NetworkNamespace(label, info.LiveEntryPath, null, info.ProcessId);
        }

        /// <summary>Runs <paramref name="work"/> inside the namespace and returns its result; exceptions pass through.</summary>
        public T Run<T>(Func<T> work)
        {
            int fd = LibC.Open(Path, LibC.O_RDONLY);
            if (fd < 0)
            {
                int errno = LibC.LastError;
                throw new NetworkNamespaceException(
                    errno == LibC.EACCES || errno == LibC.EPERM ? NetworkNamespaceError.AccessDenied : NetworkNamespaceError.NotFound,
                    Specification,
                    "Cannot open network namespace '" + Specification + "' (" + Path + "): " + LibC.ErrorText(errno) + ".");
            }

            try
            {
                if (IsCurrentNamespace(fd))
                {
                    return work(); // already there: no setns, which would need CAP_SYS_ADMIN for nothing
                }

                T result = default!;
                ExceptionDispatchInfo? failure = null;
                var thread = new Thread(() =>
                {
                    try
                    {
                        if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0)
                        {
                            int errno = LibC.LastError;
                            throw errno == LibC.EPERM
                                ? new NetworkNamespaceException(NetworkNamespaceError.AccessDenied, Specification, "Cannot enter network namespace '" + Specification + "': permission denied (entering another namespace needs root or CAP_SYS_ADMIN).")
                                : new NetworkNamespaceException(NetworkNamespaceError.NotANamespace, Specification, "'" + Path + "' is not a network namespace (" + LibC.ErrorText(errno) + "): expected a file under /run/netns or a /proc/<pid>/ns/net link.");
                        }

                        result = work();
                    }
                    catch (Exception exception)
                    {
                        failure = ExceptionDispatchInfo.Capture(exception);
                    }
                });
                thread.IsBackground = true;
                thread.Name = "PortTools netns " + Specification;
                thread.Start();

                // The work polls the cancellation token itself, so this join ends promptly on Ctrl+C.
                thread.Join();

                failure?.Throw();
                return result;
            }
            finally
            {
                LibC.close(fd);
            }
        }

        private static bool IsCurrentNamespace(int fd)
        {
            int current = LibC.Open("/proc/thread-self/ns/net", LibC.O_RDONLY);
            if (current < 0)
            {
                return false;
            }

            try
            {
                (ulong, ulong)? mine = LibC.FileIdentity(current);
                return mine is not null && mine == LibC.FileIdentity(fd);
            }
            finally
            {
                LibC.close(current);
            }
        }
    }
}
