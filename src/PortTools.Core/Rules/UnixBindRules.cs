using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace PortTools
{
    /// <summary>
    /// The rules of bind() for a UNIX domain socket (net/unix/af_unix.c unix_bind, checked against the
    /// live kernel by the tests): the address holds at most 108 bytes (sun_path; a path of exactly 108
    /// bytes needs no NUL); a path is created with mknod, so it fails with EADDRINUSE when anything at
    /// all is at the path (a socket file, bound or stale, a directory, a file, even a dangling symbolic
    /// link, which is not followed), after the directories on the way were searched (EACCES, ENOENT,
    /// ENOTDIR) and before write permission on the directory is checked (EACCES, EROFS); an abstract
    /// name (a leading NUL, written @name) has no file and no permissions and is taken when a socket of
    /// the same network namespace and the same type holds it (the kernel hashes the type into the
    /// name's bucket, so a stream and a seqpacket socket can hold one name at once). Simulations against a socket table answer here; live
    /// checks of this host are in Linux/UnixPathProbe.
    /// </summary>
    public static class UnixBindRules
    {
        /// <summary>The size of sun_path: the most bytes a UNIX socket address holds.</summary>
        public const int MaxAddressBytes = 108;

        /// <summary>Checks an address given to Test-PortBind -Path: not empty, and no NUL in a path.</summary>
        /// <param name="path">A path, or @name for an abstract name.</param>
        /// <returns>Whether it is abstract.</returns>
        /// <exception cref="ArgumentException">The address is empty, or a path holds a NUL.</exception>
        public static UnixAddressKind Classify(string path)
        {
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("A UNIX socket address cannot be empty: give a path such as /run/app.sock, or @name for an abstract name. (An empty address makes the kernel pick an abstract name: that always succeeds.)", nameof(path));
            }

            if (path[0] == '@')
            {
                return UnixAddressKind.Abstract;
            }

            int nul = path.IndexOf('\0');
            if (nul >= 0)
            {
                throw new ArgumentException(
                    "'" + path.Replace('\0', '?') + "' holds a NUL character at position " + nul.ToString(CultureInfo.InvariantCulture) + ": the kernel reads a path only up to its first NUL, so bind() would create '" + path.Substring(0, nul) + "' instead. Remove the NUL (an abstract name, which may hold NULs, is written @name).",
                    nameof(path));
            }

            return UnixAddressKind.Path;
        }

        /// <summary>The bytes bind() is given: the UTF-8 path, or a NUL and the name for an abstract one.</summary>
        /// <param name="path">The address as given.</param>
        /// <returns>The byte count.</returns>
        public static int AddressBytes(string path) =>
            path.Length > 0 && path[0] == '@' ? 1 + Encoding.UTF8.GetByteCount(path.Substring(1)) : Encoding.UTF8.GetByteCount(path);

        /// <summary>EINVAL when the address does not fit in sun_path; null when it fits.</summary>
        internal static UnixBindResult? TooLong(string path, string? fullPath, UnixAddressKind kind, BindCheckMethod method, long? userId, string? computerName)
        {
            int bytes = AddressBytes(path);
            if (bytes <= MaxAddressBytes)
            {
                return null;
            }

            string what = kind == UnixAddressKind.Abstract ? "the abstract name " + path + " is " + bytes + " bytes with its leading NUL" : "'" + path + "' is " + bytes + " bytes (UTF-8)";
            return new UnixBindResult
            {
                Path = path,
                FullPath = fullPath,
                AddressKind = kind,
                CanBind = false,
                Error = "EINVAL",
                ErrorCode = 22,
                Reason = Capitalize(what) + ", and a UNIX socket address holds at most " + MaxAddressBytes + " (sun_path). Use a shorter " + (kind == UnixAddressKind.Abstract ? "name." : "path, or bind a relative path from a working directory nearer the socket."),
                Rule = "unix.address-too-long",
                Method = method,
                UserId = userId,
                ComputerName = computerName,
            };
        }

        /// <summary>
        /// Decides against a socket table (UnixSockets from any source), one result per network
        /// namespace the table holds (abstract names are per namespace, and sockets of different
        /// namespaces never share one): an abstract name is certain from the table; a path is not, since
        /// a table lists sockets, not files.
        /// </summary>
        /// <param name="path">A path, or @name.</param>
        /// <param name="table">The sockets.</param>
        /// <param name="userId">Whose permissions matter, when given.</param>
        /// <param name="computerName">Where the table came from.</param>
        /// <returns>One result per namespace partition of the table (one for a table without namespaces).</returns>
        /// <param name="type">The type of the socket to bind: an abstract name is taken only by a socket of the same type.</param>
        public static IReadOnlyList<UnixBindResult> Simulate(string path, IReadOnlyList<UnixSocket> table, long? userId = null, string? computerName = null, UnixSocketType type = UnixSocketType.Stream)
        {
            if (table is null)
            {
                throw new ArgumentNullException(nameof(table));
            }

            UnixAddressKind kind = Classify(path);
            var results = new List<UnixBindResult>();
            foreach (IGrouping<NetworkNamespaceInfo?, UnixSocket> partition in NetworkNamespacePartition.Split(table, s => s.NetworkNamespace))
            {
                results.Add(SimulateOne(path, kind, type, partition.ToList(), partition.Key, userId, computerName ?? partition.FirstOrDefault(s => s.ComputerName is not null)?.ComputerName));
            }

            if (results.Count == 0)
            {
                results.Add(SimulateOne(path, kind, type, Array.Empty<UnixSocket>(), null, userId, computerName));
            }

            return results;
        }

        private static UnixBindResult SimulateOne(string path, UnixAddressKind kind, UnixSocketType type, IReadOnlyList<UnixSocket> table, NetworkNamespaceInfo? space, long? userId, string? computerName)
        {
            UnixBindResult? tooLong = TooLong(path, null, kind, BindCheckMethod.Simulated, userId, computerName);
            if (tooLong is not null)
            {
                return With(tooLong, space);
            }

            var named = table.Where(s => s.AddressKind == kind && string.Equals(s.Path, path, StringComparison.Ordinal)).ToArray();
            var holders = kind == UnixAddressKind.Abstract ? named.Where(s => s.Type == type).ToArray() : SplitAccepted(named).Bound;
            int accepted = kind == UnixAddressKind.Path ? SplitAccepted(named).Accepted : 0;
            string where = space is null ? string.Empty : " in network namespace " + space;
            if (kind == UnixAddressKind.Abstract)
            {
                return holders.Length > 0
                    ? InUse(path, null, kind, holders, "The abstract name " + path + " is held by " + DescribeHolders(holders) + where + ". Stop that process or pick another name.", "unix.abstract.in-use", BindCheckMethod.Simulated, userId, space, computerName)
                    : AbstractFree(path, type, named, (space is null ? "the table" : "network namespace " + space), BindCheckMethod.Simulated, space, computerName);
            }

            string who = userId is long uid ? "uid " + uid.ToString(CultureInfo.InvariantCulture) : "the binding user";
            string directory = DirectoryOf(path);
            if (holders.Length > 0)
            {
                return new UnixBindResult
                {
                    Path = path,
                    AddressKind = kind,
                    CanBind = null,
                    DependsOn = new[] { "whether " + path + " still exists on that host (a socket keeps its name after its file is unlinked)" },
                    Error = "EADDRINUSE",
                    ErrorCode = 98,
                    FileType = null,
                    Stale = false,
                    Holders = holders,
                    Reason = "A socket of " + DescribeHolders(holders) + " is bound to " + path + where + ": while its file exists, bind() fails with EADDRINUSE. A table lists sockets, not files, so whether the file is still there is not known. Stop that process or bind another path.",
                    Rule = "unix.path.in-use",
                    Method = BindCheckMethod.Simulated,
                    UserId = userId,
                    NetworkNamespace = space,
                    ComputerName = computerName,
                };
            }

            return new UnixBindResult
            {
                Path = path,
                AddressKind = kind,
                CanBind = null,
                DependsOn = new[]
                {
                    "whether anything exists at " + path + " on that host (a stale socket file or any other file makes bind() fail with EADDRINUSE)",
                    "whether " + directory + " exists and " + who + " may search it and create files in it",
                },
                Error = "EADDRINUSE",
                ErrorCode = 98,
                Reason = "No socket of the table is bound to " + path + where + (accepted > 0 ? " (" + accepted + " accepted connection" + (accepted == 1 ? " carries" : "s carry") + " its name, but their listener is not in the table: ss -x lists listeners only with -a)" : string.Empty) + ". The rest is about files, which a socket table does not list: bind() succeeds if nothing is at the path and " + who + " may create files in " + directory + ".",
                Rule = "unix.path.not-in-table",
                Method = BindCheckMethod.Simulated,
                UserId = userId,
                NetworkNamespace = space,
                ComputerName = computerName,
            };
        }

        /// <summary>A free abstract name; sockets of other types that hold the same name are named, since they do not count.</summary>
        internal static UnixBindResult AbstractFree(string path, UnixSocketType type, IReadOnlyList<UnixSocket> sameName, string where, BindCheckMethod method, NetworkNamespaceInfo? space, string? computerName)
        {
            string others = sameName.Count == 0
                ? string.Empty
                : " " + Capitalize(DescribeHolders(sameName)) + " holds the same name, which does not count: abstract names are per socket type.";
            return new UnixBindResult
            {
                Path = path,
                AddressKind = UnixAddressKind.Abstract,
                CanBind = true,
                Reason = "bind() succeeds: no " + type.ToString().ToLowerInvariant() + " socket holds the abstract name " + path + " in " + where + " (abstract names have no file and no permissions; each network namespace has its own)." + others,
                Rule = "unix.abstract.free",
                Method = method,
                NetworkNamespace = space,
                ComputerName = computerName,
            };
        }

        internal static UnixBindResult InUse(string path, string? fullPath, UnixAddressKind kind, IReadOnlyList<UnixSocket> holders, string reason, string rule, BindCheckMethod method, long? userId, NetworkNamespaceInfo? space, string? computerName, UnixPathFileType? fileType = null) => new UnixBindResult
        {
            Path = path,
            FullPath = fullPath,
            AddressKind = kind,
            CanBind = false,
            Error = "EADDRINUSE",
            ErrorCode = 98,
            FileType = fileType,
            Stale = kind == UnixAddressKind.Path ? false : null,
            Holders = holders,
            Reason = reason,
            Rule = rule,
            Method = method,
            UserId = userId,
            NetworkNamespace = space,
            ComputerName = computerName,
        };

        /// <summary>"a listening socket of app (pid 812)", "a bound datagram socket of app (pid 812)" or "2 sockets of app (pid 812), web (pid 900)".</summary>
        internal static string DescribeHolders(IReadOnlyList<UnixSocket> holders)
        {
            var owners = holders.SelectMany(h => h.Processes).GroupBy(o => o.ProcessId).Select(g => g.First().ToString()).ToArray();
            string who = owners.Length == 0 ? "a process whose descriptors this user cannot see" : string.Join(", ", owners);
            if (holders.Count == 1)
            {
                UnixSocket holder = holders[0];
                string state = holder.State == SocketState.Listen ? "listening" : holder.State == SocketState.Established ? "connected" : "bound";
                string type = holder.Type == UnixSocketType.Stream ? string.Empty : " " + holder.Type.ToString().ToLowerInvariant();
                return "a " + state + type + " socket of " + who;
            }

            return holders.Count.ToString(CultureInfo.InvariantCulture) + " sockets of " + who;
        }

        /// <summary>
        /// The sockets bound to a path among those that carry its file: accepted connections carry their
        /// listener's file too, but are not bound to it (closing the listener leaves the file stale).
        /// </summary>
        internal static (UnixSocket[] Bound, int Accepted) SplitAccepted(IReadOnlyList<UnixSocket> carriers)
        {
            UnixSocket[] bound = carriers.Where(s => s.Type == UnixSocketType.Datagram || s.State != SocketState.Established).ToArray();
            return (bound, carriers.Count - bound.Length);
        }

        internal static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text.Substring(1);

        internal static string DirectoryOf(string path)
        {
            int slash = path.TrimEnd('/').LastIndexOf('/');
            return slash < 0 ? "the working directory" : slash == 0 ? "/" : path.Substring(0, slash);
        }

        private static UnixBindResult With(UnixBindResult result, NetworkNamespaceInfo? space) => space is null ? result : new UnixBindResult
        {
            Path = result.Path,
            FullPath = result.FullPath,
            AddressKind = result.AddressKind,
            CanBind = result.CanBind,
            DependsOn = result.DependsOn,
            Error = result.Error,
            ErrorCode = result.ErrorCode,
            FileType = result.FileType,
            Stale = result.Stale,
            Holders = result.Holders,
            Reason = result.Reason,
            Rule = result.Rule,
            Method = result.Method,
            UserId = result.UserId,
            NetworkNamespace = space,
            ComputerName = result.ComputerName,
        };
    }

    /// <summary>Splits a table by network namespace, keeping the order of first appearance; sockets whose namespace is unknown form one partition.</summary>
    public static class NetworkNamespacePartition
    {
        /// <summary>The partitions of a table, each keyed by its namespace (null: not known).</summary>
        /// <typeparam name="T">The socket type.</typeparam>
        /// <param name="table">The sockets.</param>
        /// <param name="namespaceOf">A socket's namespace.</param>
        /// <returns>The partitions in order of first appearance.</returns>
        public static IEnumerable<IGrouping<NetworkNamespaceInfo?, T>> Split<T>(IEnumerable<T> table, Func<T, NetworkNamespaceInfo?> namespaceOf) =>
            table.GroupBy(namespaceOf, NamespaceComparer.Instance);

        /// <summary>How many distinct namespaces (counting "unknown" as one) a table holds.</summary>
        /// <typeparam name="T">The socket type.</typeparam>
        /// <param name="table">The sockets.</param>
        /// <param name="namespaceOf">A socket's namespace.</param>
        /// <returns>The count.</returns>
        public static int Count<T>(IEnumerable<T> table, Func<T, NetworkNamespaceInfo?> namespaceOf)
        {
            // One pass that only compares with the first namespace while all agree (a million sockets of
            // one namespace cost no set); the set is built only once a second namespace appears.
            bool any = false;
            NetworkNamespaceInfo? first = null;
            HashSet<NetworkNamespaceInfo?>? seen = null;
            foreach (T socket in table)
            {
                NetworkNamespaceInfo? space = namespaceOf(socket);
                if (!any)
                {
                    any = true;
                    first = space;
                }
                else if (seen is not null)
                {
                    seen.Add(space);
                }
                else if (!NamespaceComparer.Instance.Equals(first, space))
                {
                    seen = new HashSet<NetworkNamespaceInfo?>(NamespaceComparer.Instance) { first, space };
                }
            }

            return seen?.Count ?? (any ? 1 : 0);
        }

        private sealed class NamespaceComparer : IEqualityComparer<NetworkNamespaceInfo?>
        {
            public static readonly NamespaceComparer Instance = new NamespaceComparer();

            public bool Equals(NetworkNamespaceInfo? x, NetworkNamespaceInfo? y) => x is null ? y is null : x.Equals(y);

            public int GetHashCode(NetworkNamespaceInfo? obj) => obj?.GetHashCode() ?? 0;
        }
    }
}
