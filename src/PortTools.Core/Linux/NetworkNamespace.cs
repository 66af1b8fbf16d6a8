using System;
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

        private NetworkNamespace(string specification, string path, string? procNetDirectory)
        {
            Specification = specification;
            Path = path;
            ProcNetDirectory = procNetDirectory;
        }

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

                return new NetworkNamespace(spec, path, "/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/net");
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
