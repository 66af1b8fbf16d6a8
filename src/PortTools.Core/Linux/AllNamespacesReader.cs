using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads every network namespace of the host once: discovers them (process links and bind
    /// mounts), dumps each on a worker thread that enters it with setns(2), a few at a time, while
    /// one /proc/[pid]/fd walk maps the sockets of all of them to their processes (socket inodes are
    /// host-wide). Each socket is stamped with its namespace (inode, /run/netns name, a process
    /// inside) and its container where the cgroups say so. A namespace that disappears between
    /// discovery and its read is skipped and named in one warning.
    /// </summary>
    internal static unsafe class AllNamespacesReader
    {
        private const string ProcRoot = "/proc";

        /// <summary>How many namespaces are read at once: enough to overlap the kernel's dumps, few enough to leave the host its cores.</summary>
        internal static int Parallelism => Math.Max(2, Math.Min(Environment.ProcessorCount, 8));

        public static SocketTableReadResult ReadInet(SocketQuery query, CancellationToken cancellation, LinuxTableSource source, SocketReadProgress? progress)
        {
            CheckQuery(query.NetworkNamespace);
            NamespaceDiscovery discovery = NetworkNamespaceDiscovery.Discover(ProcRoot, cancellation);
            return ReadInet(discovery, query, cancellation, source, progress);
        }

        internal static SocketTableReadResult ReadInet(NamespaceDiscovery discovery, SocketQuery query, CancellationToken cancellation, LinuxTableSource source, SocketReadProgress? progress)
        {
            var containers = new ContainerAttribution(ProcRoot);
            Task<ProcessSocketMap>? walk = StartWalk(query.NeedsProcesses, cancellation, progress);
            NamespaceReads<LinuxSocketReader.KernelTables> reads;
            try
            {
                reads = ReadEach(discovery.Namespaces, space => LinuxSocketReader.ReadKernelTables(query, ProcRoot + "/thread-self/net", source, progress, cancellation), cancellation);
            }
            catch
            {
                walk?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                throw;
            }

            ProcessSocketMap? owners = walk?.GetAwaiter().GetResult();
            var sockets = new List<SocketTuple>();
            var warnings = new List<string>();
            var methods = new SortedSet<string>(StringComparer.Ordinal);

            // pidfd_getfd reaches a socket of any namespace through its owner: one reader, one warning.
            using SocketOptionReader? options = LinuxSocketReader.OptionReader(query, owners);
            foreach ((DiscoveredNamespace space, LinuxSocketReader.KernelTables tables) in reads.Done)
            {
                SocketTableReadResult one = LinuxSocketReader.Build(tables, owners, space.Info, query, options, progress, cancellation);
                methods.Add(one.Method);
                AddDistinct(warnings, one.Warnings);
                ContainerInfo? common = containers.Common(space.ProcessIds);
                foreach (SocketTuple socket in one.Sockets)
                {
                    ContainerInfo? container = socket.ProcessId is int pid ? containers.OfProcess(pid) : common;
                    sockets.Add(container is null ? socket : socket.Copy(container: container));
                }
            }

            warnings.AddRange(reads.Warnings(discovery));
            if (options?.Warning() is string unread)
            {
                warnings.Add(unread);
            }

            return new SocketTableReadResult(sockets, warnings, string.Join(" and ", methods) + " in " + Plural(reads.Done.Count, "network namespace"))
            {
                NetworkNamespaceCount = reads.Done.Count,
            };
        }

        public static UnixSocketReadResult ReadUnix(UnixSocketQuery query, CancellationToken cancellation, SocketReadProgress? progress)
        {
            CheckQuery(query.NetworkNamespace);
            NamespaceDiscovery discovery = NetworkNamespaceDiscovery.Discover(ProcRoot, cancellation);
            return ReadUnix(discovery, query, cancellation, LinuxTableSource.Automatic, progress);
        }

        internal static UnixSocketReadResult ReadUnix(NamespaceDiscovery discovery, UnixSocketQuery query, CancellationToken cancellation, LinuxTableSource source, SocketReadProgress? progress)
        {
            var containers = new ContainerAttribution(ProcRoot);
            Task<ProcessSocketMap>? walk = StartWalk(query.NeedsProcesses, cancellation, progress);
            NamespaceReads<UnixSocketReader.UnixKernelTable> reads;
            try
            {
                reads = ReadEach(discovery.Namespaces, space => UnixSocketReader.ReadKernel(ProcRoot + "/thread-self/net", source, progress, cancellation, space.Info), cancellation);
            }
            catch
            {
                walk?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                throw;
            }

            ProcessSocketMap? owners = walk?.GetAwaiter().GetResult();
            var tables = new List<UnixSocketReader.UnixKernelTable>(reads.Done.Count);
            foreach ((DiscoveredNamespace space, UnixSocketReader.UnixKernelTable table) in reads.Done)
            {
                table.Container = containers.Common(space.ProcessIds);
                tables.Add(table);
            }

            UnixSocketReadResult result = UnixSocketReader.Build(tables, owners, query, containers.OfProcess, progress, cancellation);
            var warnings = new List<string>(result.Warnings);
            warnings.AddRange(reads.Warnings(discovery));
            return new UnixSocketReadResult(result.Sockets, warnings, result.Method + " in " + Plural(reads.Done.Count, "network namespace"))
            {
                NetworkNamespaceCount = reads.Done.Count,
            };
        }

        private static void CheckQuery(string? networkNamespace)
        {
            if (networkNamespace is not null)
            {
                throw new ArgumentException("A read of every network namespace cannot also name one namespace: give either, not both.", nameof(networkNamespace));
            }
        }

        private static Task<ProcessSocketMap>? StartWalk(bool needed, CancellationToken cancellation, SocketReadProgress? progress) => needed
            ? Task.Factory.StartNew(() => ProcessSocketMap.Build(ProcRoot, 16384, cancellation, progress), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : null;

        private static void AddDistinct(List<string> warnings, IEnumerable<string> more)
        {
            foreach (string warning in more)
            {
                if (!warnings.Contains(warning))
                {
                    warnings.Add(warning);
                }
            }
        }

        private static string Plural(int count, string noun) => count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? string.Empty : "s");

        /// <summary>The outcome of reading each namespace: what was read, in discovery order, and what could not be.</summary>
        internal sealed class NamespaceReads<T>
        {
            public List<(DiscoveredNamespace Space, T Result)> Done { get; } = new List<(DiscoveredNamespace, T)>();

            /// <summary>Namespaces that were gone by the time they were opened (their last process exited, their bind mount was removed).</summary>
            public List<DiscoveredNamespace> Vanished { get; } = new List<DiscoveredNamespace>();

            /// <summary>Namespaces this process may not enter (setns needs CAP_SYS_ADMIN).</summary>
            public List<DiscoveredNamespace> Denied { get; } = new List<DiscoveredNamespace>();

            public IEnumerable<string> Warnings(NamespaceDiscovery discovery)
            {
                if (Vanished.Count > 0)
                {
                    yield return string.Format(
                        CultureInfo.InvariantCulture,
                        "{0} disappeared before it could be read and {1} skipped: {2}. Its sockets closed with it.",
                        Vanished.Count == 1 ? "A network namespace" : Vanished.Count.ToString(CultureInfo.InvariantCulture) + " network namespaces",
                        Vanished.Count == 1 ? "was" : "were",
                        string.Join(", ", Vanished.Select(v => v.ToString())));
                }

                if (Denied.Count > 0)
                {
                    yield return string.Format(
                        CultureInfo.InvariantCulture,
                        "{0} network namespace(s) could not be entered and were not read ({1}): entering another namespace needs root or CAP_SYS_ADMIN.",
                        Denied.Count,
                        string.Join(", ", Denied.Take(5).Select(v => v.ToString())) + (Denied.Count > 5 ? ", ..." : string.Empty));
                }

                if (discovery.HiddenProcessCount > 0)
                {
                    yield return string.Format(
                        CultureInfo.InvariantCulture,
                        "The network namespace of {0} process(es) could not be seen (their /proc/<pid>/ns/net refused access{1}); a namespace held only by them was not read.",
                        discovery.HiddenProcessCount,
                        LibC.geteuid() == 0 ? ", even to root" : ": other users' processes need root");
                }
            }
        }

        /// <summary>
        /// Runs <paramref name="work"/> inside each namespace on a few dedicated threads (setns
        /// changes the calling thread only, and these threads end with the work, so no other thread of
        /// the process ever moves). Results keep the namespaces' order.
        /// </summary>
        internal static NamespaceReads<T> ReadEach<T>(IReadOnlyList<DiscoveredNamespace> spaces, Func<DiscoveredNamespace, T> work, CancellationToken cancellation, Action<DiscoveredNamespace>? beforeEnter = null)
        {
            var results = new T[spaces.Count];
            var outcome = new Outcome[spaces.Count];
            int next = -1;
            ExceptionDispatchInfo? failure = null;
            var threads = new List<Thread>();
            int count = Math.Min(spaces.Count, Parallelism);
            for (int t = 0; t < count; t++)
            {
                var thread = new Thread(() =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < spaces.Count && Volatile.Read(ref failure) is null && !cancellation.IsCancellationRequested)
                    {
                        try
                        {
                            beforeEnter?.Invoke(spaces[i]);
                            outcome[i] = Enter(spaces[i]);
                            if (outcome[i] == Outcome.Read)
                            {
                                results[i] = work(spaces[i]);
                            }
                        }
                        catch (Exception exception)
                        {
                            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(exception), null);
                        }
                    }
                })
                {
                    IsBackground = true,
                    Name = "PortTools netns reader " + t.ToString(CultureInfo.InvariantCulture),
                };
                threads.Add(thread);
                thread.Start();
            }

            // The work polls the cancellation token itself, so these joins end promptly on Ctrl+C.
            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            cancellation.ThrowIfCancellationRequested();
            failure?.Throw();
            var reads = new NamespaceReads<T>();
            for (int i = 0; i < spaces.Count; i++)
            {
                switch (outcome[i])
                {
                    case Outcome.Read:
                        reads.Done.Add((spaces[i], results[i]));
                        break;
                    case Outcome.Vanished:
                        reads.Vanished.Add(spaces[i]);
                        break;
                    default:
                        reads.Denied.Add(spaces[i]);
                        break;
                }
            }

            return reads;
        }

        private enum Outcome
        {
            Vanished,
            Read,
            Denied,
        }

        /// <summary>
        /// Moves the calling thread into the namespace through the first of its entry paths that still
        /// opens onto it: a pid may have exited (or been reused by a process elsewhere), a bind mount
        /// may have been removed.
        /// </summary>
        private static Outcome Enter(DiscoveredNamespace space)
        {
            foreach (string path in space.EntryPaths())
            {
                int fd = LibC.Open(path, LibC.O_RDONLY);
                if (fd < 0)
                {
                    int errno = LibC.LastError;
                    if (errno == LibC.EACCES || errno == LibC.EPERM)
                    {
                        return Outcome.Denied;
                    }

                    continue; // ENOENT, ESRCH: gone
                }

                try
                {
                    if (LibC.FileIdentity(fd) is not (ulong, ulong) identity || identity.Item2 != space.Inode)
                    {
                        continue; // the pid now belongs to a process of another namespace
                    }

                    space.EnteredBy = path;
                    if (NetworkNamespaceDiscovery.InodeOf(ProcRoot + "/thread-self/ns/net") == space.Inode)
                    {
                        return Outcome.Read;
                    }

                    if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0)
                    {
                        int errno = LibC.LastError;
                        return errno == LibC.EPERM ? Outcome.Denied : Outcome.Vanished;
                    }

                    return Outcome.Read;
                }
                finally
                {
                    LibC.close(fd);
                }
            }

            return Outcome.Vanished;
        }
    }
}
