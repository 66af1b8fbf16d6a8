using System;
using System.Collections.Generic;

namespace PortTools
{
    /// <summary>What is at the path a UNIX socket would bind to.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum UnixPathFileType : long
    {
        /// <summary>Nothing: bind() can create the socket file there.</summary>
        None,

        /// <summary>A socket file: either a socket is bound to it, or it is stale (left by a process that ended without unlinking it).</summary>
        Socket,

        /// <summary>A directory, where a socket is expected (what a container runtime creates when it bind-mounts a socket path that did not exist yet).</summary>
        Directory,

        /// <summary>A regular file.</summary>
        File,

        /// <summary>A symbolic link (bind() does not follow it, even when it dangles).</summary>
        SymbolicLink,

        /// <summary>A device, a FIFO or another kind of file.</summary>
        Other,
    }

    /// <summary>
    /// Whether bind() of a UNIX domain socket to a path (or an abstract name) would succeed: what is at
    /// the path, whether a socket still listens on it or the file is stale, which processes hold it,
    /// and what the answer depends on when a fact is not known.
    /// </summary>
    public sealed class UnixBindResult
    {
        private IReadOnlyList<string> _dependsOn = TextList<string>.Empty;
        private IReadOnlyList<UnixSocket> _holders = TextList<UnixSocket>.Empty;

        /// <summary>The address as given: a path, or @name for an abstract one.</summary>
        public string Path { get; init; } = string.Empty;

        /// <summary>The absolute path the check resolved (for a relative path, against the current location); null for an abstract name.</summary>
        public string? FullPath { get; init; }

        /// <summary>Path or Abstract.</summary>
        public UnixAddressKind AddressKind { get; init; }

        /// <summary>Whether bind() succeeds; null when the answer turns on a fact that is not known (see <see cref="DependsOn"/>).</summary>
        public bool? CanBind { get; init; }

        /// <summary>The unknown facts the answer turns on; empty when it is certain. When not empty, <see cref="CanBind"/> is null and <see cref="Error"/> is what bind() gets if they go against it.</summary>
        public IReadOnlyList<string> DependsOn { get => _dependsOn; init => _dependsOn = TextList<string>.From(value); }

        /// <summary>The errno name bind() fails with: EADDRINUSE, EACCES, ENOENT, ENOTDIR, EROFS, ELOOP or EINVAL; null on success.</summary>
        public string? Error { get; init; }

        /// <summary>The errno number; null on success.</summary>
        public int? ErrorCode { get; init; }

        /// <summary>What is at the path: None, Socket, Directory, File, SymbolicLink or Other; null when not known (a simulation, or an abstract name).</summary>
        public UnixPathFileType? FileType { get; init; }

        /// <summary>
        /// True when a socket file is at the path and no socket is bound to it: it is safe to unlink, and
        /// bind() succeeds once it is gone. False when a socket holds it or the file is not a socket file;
        /// null when not known.
        /// </summary>
        public bool? Stale { get; init; }

        /// <summary>The sockets bound to the path or name, with their owners.</summary>
        public IReadOnlyList<UnixSocket> Holders { get => _holders; init => _holders = TextList<UnixSocket>.From(value); }

        /// <summary>
        /// Who holds the path or name, short, for the table view: the first owner as "webapp (8265)",
        /// with "+1" when another process (or a socket without a known owner) holds it too, "uid 1000"
        /// when only the owner's uid is known, "?" when nothing is; null when no socket holds it.
        /// </summary>
        public string? Holder => HolderNames.Short(_holders, socket => socket.Processes, socket => HolderNames.User(socket.UserId));

        /// <summary>The decision in sentences: the cause first, then what to do about it.</summary>
        public string Reason { get; init; } = string.Empty;

        /// <summary>A short stable name of the rule that decided, such as unix.path.stale-socket-file.</summary>
        public string Rule { get; init; } = string.Empty;

        /// <summary>Probed (this host's file system and sockets) or Simulated (a socket table alone).</summary>
        public BindCheckMethod Method { get; init; }

        /// <summary>The user id whose permissions were evaluated; null when the check ran as the caller.</summary>
        public long? UserId { get; init; }

        /// <summary>The network namespace whose abstract names were checked (abstract names are per network namespace); for a table, the namespace of its sockets.</summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; init; }

        /// <summary>The computer the socket table came from, when known.</summary>
        public string? ComputerName { get; init; }

        /// <summary>"/run/app.sock: EADDRINUSE".</summary>
        public override string ToString() =>
            Path + ": " + (CanBind == true ? "ok" : CanBind is null ? "depends on " + string.Join("; ", DependsOn) : Error);
    }
}
