using System;
using System.Collections.Generic;

namespace PortTools
{
    /// <summary>
    /// Which UNIX domain sockets to read, and which to keep. Filters combine with AND; the values of
    /// one filter combine with OR. Every filter runs on the raw records, before objects are built.
    /// </summary>
    public sealed class UnixSocketQuery
    {
        /// <summary>Keep sockets whose address (a path, or @name for an abstract one) matches; the caller supplies the matcher, such as a wildcard pattern. Unnamed sockets never match.</summary>
        public Func<string, bool>? PathMatch { get; set; }

        /// <summary>States to keep (Listen, Established, Unconnected; Connected counts as Established); null or empty for all.</summary>
        public IReadOnlyCollection<SocketState>? States { get; set; }

        /// <summary>Keep only listening sockets (ss -xl).</summary>
        public bool ListeningOnly { get; set; }

        /// <summary>Keep sockets held by one of these processes.</summary>
        public IReadOnlyCollection<int>? ProcessIds { get; set; }

        /// <summary>Keep sockets held by a process whose name matches.</summary>
        public Func<string, bool>? ProcessNameMatch { get; set; }

        /// <summary>Map sockets (and their peers) to the processes that hold them.</summary>
        public bool IncludeProcesses { get; set; } = true;

        /// <summary>Read another network namespace: a name from /run/netns, a path to a namespace file, or a process id.</summary>
        public string? NetworkNamespace { get; set; }

        /// <summary>Read every network namespace of the host, each once (Linux; root sees them all).</summary>
        public bool AllNetworkNamespaces { get; set; }

        /// <summary>Whether a UNIX socket can be in a state given as a filter: Listen, Established (or Connected) and Unconnected (or Closed, Bound).</summary>
        /// <param name="state">The state.</param>
        /// <returns>Whether any UNIX socket can match it.</returns>
        public static bool IsUnixState(SocketState state) =>
            UnixSocketText.Normalize(state) is SocketState.Listen or SocketState.Established or SocketState.Unconnected;

        internal bool NeedsProcesses => IncludeProcesses || HasProcessFilter;

        internal bool HasProcessFilter => ProcessIds is { Count: > 0 } || ProcessNameMatch is not null;

        internal bool WantsState(SocketState state)
        {
            if (ListeningOnly && state != SocketState.Listen)
            {
                return false;
            }

            if (States is not { Count: > 0 })
            {
                return true;
            }

            foreach (SocketState wanted in States)
            {
                if (UnixSocketText.Normalize(wanted) == state)
                {
                    return true;
                }
            }

            return false;
        }

        internal bool WantsPath(string? path) => PathMatch is null || (path is not null && PathMatch(path));

        internal bool WantsOwners(IReadOnlyList<SocketOwner> owners)
        {
            if (ProcessIds is { Count: > 0 })
            {
                bool any = false;
                foreach (SocketOwner owner in owners)
                {
                    foreach (int pid in ProcessIds)
                    {
                        any |= owner.ProcessId == pid;
                    }
                }

                if (!any)
                {
                    return false;
                }
            }

            if (ProcessNameMatch is not null)
            {
                foreach (SocketOwner owner in owners)
                {
                    if (owner.ProcessName is not null && ProcessNameMatch(owner.ProcessName))
                    {
                        return true;
                    }
                }

                return false;
            }

            return true;
        }

        /// <summary>Applies every filter to a socket that is already built (tables from text).</summary>
        /// <param name="socket">The socket.</param>
        /// <returns>Whether it passes.</returns>
        public bool Matches(UnixSocket socket) =>
            socket is not null && WantsState(socket.State) && WantsPath(socket.Path) && (!HasProcessFilter || WantsOwners(socket.Processes));
    }

    /// <summary>What a live read of UNIX domain sockets returned.</summary>
    public sealed class UnixSocketReadResult
    {
        internal UnixSocketReadResult(IReadOnlyList<UnixSocket> sockets, IReadOnlyList<string> warnings, string method)
        {
            Sockets = sockets;
            Warnings = warnings;
            Method = method;
        }

        /// <summary>The sockets that passed the query's filters, in the order the kernel listed them (namespace by namespace).</summary>
        public IReadOnlyList<UnixSocket> Sockets { get; }

        /// <summary>Things to tell the user once, such as owners hidden for lack of privilege.</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>How the table was read: "netlink unix_diag" or "/proc/net/unix".</summary>
        public string Method { get; }

        /// <summary>The number of distinct network namespaces the sockets came from (1 for a single read).</summary>
        public int NetworkNamespaceCount { get; internal set; } = 1;
    }
}
