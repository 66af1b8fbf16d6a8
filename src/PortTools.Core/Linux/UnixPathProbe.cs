using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace PortTools.Linux
{
    /// <summary>
    /// Test-PortBind -Path on this host: the question is the path itself, not a trial bind elsewhere.
    /// The path is walked as bind() walks it (directories searched, the last component not followed),
    /// what is there is told apart, and a socket file is probed with a datagram connect(): the kernel
    /// answers ECONNREFUSED when no socket is bound to the file (stale), EPROTOTYPE when a stream or
    /// seqpacket socket is (before any connection is made, so the listener sees nothing), and connects
    /// without sending anything when a datagram socket is. Holders come from unix_diag (the file's
    /// inode and device), in this namespace and, as root, in every other. Permissions are evaluated
    /// as the caller (faccessat with the effective ids: groups, ACLs and capabilities included), or for
    /// another -UserId from the mode bits and the groups /etc/group gives it, with what is not known
    /// (groups of a user /etc/passwd does not list, POSIX ACLs) named in DependsOn.
    /// </summary>
    internal static unsafe class UnixPathProbe
    {
        private const int AtFdCwd = -100;
        private const int AtSymlinkNoFollow = 0x100;
        private const int AtEAccess = 0x200;
        private const uint StatxBasic = 0x7FF;
        private const int XOk = 1;
        private const int WOk = 2;
        private const int SockDgram = 2;
        private const int ENOTDIR = 20;
        private const int EROFS = 30;
        private const int ELOOP = 40;
        private const int ENAMETOOLONG = 36;
        private const int ECONNREFUSED = 111;
        private const int EPROTOTYPE = 91;

        [DllImport("libc", SetLastError = true)]
        private static extern int faccessat(int dirfd, byte* path, int mode, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int connect(int fd, byte* address, uint length);

        [DllImport("libc", SetLastError = true)]
        private static extern nint getxattr(byte* path, byte* name, byte* value, nuint size);

        /// <summary>Checks a path or abstract name on this host.</summary>
        /// <param name="path">The address as given.</param>
        /// <param name="fullPath">For a path, the absolute path (a relative path resolved against the caller's location).</param>
        /// <param name="userId">Evaluate permissions for this uid; null for the caller.</param>
        /// <param name="networkNamespace">For an abstract name, the namespace to look in (a name, path or pid); null for this process's.</param>
        /// <param name="cancellation">Stops reads of the socket tables.</param>
        /// <param name="type">The type of the socket to bind: abstract names are per type (the kernel hashes the type into the name's bucket).</param>
        public static UnixBindResult Probe(string path, string? fullPath, long? userId, string? networkNamespace, UnixSocketType type, CancellationToken cancellation)
        {
            UnixAddressKind kind = UnixBindRules.Classify(path);
            long? evaluatedFor = userId is long uid && uid != LibC.geteuid() ? uid : null;
            UnixBindResult? tooLong = UnixBindRules.TooLong(path, kind == UnixAddressKind.Path ? fullPath : null, kind, BindCheckMethod.Probed, evaluatedFor, null);
            if (tooLong is not null)
            {
                return tooLong;
            }

            if (kind == UnixAddressKind.Abstract)
            {
                return Abstract(path, networkNamespace, type, cancellation);
            }

            string full = fullPath ?? Path.GetFullPath(path);
            return new PathCheck(path, full, evaluatedFor, cancellation).Run();
        }

        private static UnixBindResult Abstract(string path, string? networkNamespace, UnixSocketType type, CancellationToken cancellation)
        {
            UnixSocketReadResult read = UnixSocketReader.Read(new UnixSocketQuery { NetworkNamespace = networkNamespace, PathMatch = p => string.Equals(p, path, StringComparison.Ordinal) }, cancellation);
            UnixSocket[] named = read.Sockets.Where(s => s.AddressKind == UnixAddressKind.Abstract).ToArray();
            UnixSocket[] holders = named.Where(s => s.Type == type).ToArray();
            NetworkNamespaceInfo? space = named.FirstOrDefault()?.NetworkNamespace ?? (networkNamespace is null ? UnixSocketReader.NamespaceOfSelf() : null);
            string where = space is null ? "this network namespace" : "network namespace " + space;
            if (holders.Length > 0)
            {
                return UnixBindRules.InUse(path, null, UnixAddressKind.Abstract, holders, "The abstract name " + path + " is held by " + UnixBindRules.DescribeHolders(holders) + " in " + where + ". Stop that process or pick another name.", "unix.abstract.in-use", BindCheckMethod.Probed, null, space, null);
            }

            return UnixBindRules.AbstractFree(path, type, named, where, BindCheckMethod.Probed, space, null);
        }

        /// <summary>What statx says of a file.</summary>
        private readonly struct FileStatus
        {
            public FileStatus(uint mode, uint uid, uint gid, ulong inode, uint major, uint minor)
            {
                Mode = mode;
                Uid = uid;
                Gid = gid;
                Inode = inode;
                Major = major;
                Minor = minor;
            }

            public uint Mode { get; }

            public uint Uid { get; }

            public uint Gid { get; }

            public ulong Inode { get; }

            public uint Major { get; }

            public uint Minor { get; }

            public uint Type => Mode & 0xF000;

            public bool IsDirectory => Type == 0x4000;

            public string Permissions => Convert.ToString(Mode & 0xFFF, 8).PadLeft(4, '0');
        }

        private static int Stat(string path, bool follow, out FileStatus status)
        {
            status = default;
            byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
            byte* buffer = stackalloc byte[256];
            fixed (byte* p = bytes)
            {
                if (LibC.statx(AtFdCwd, p, follow ? 0 : AtSymlinkNoFollow, StatxBasic, buffer) != 0)
                {
                    return LibC.LastError;
                }
            }

            // struct statx: uid at 20, gid at 24, mode at 28, ino at 32, dev_major/dev_minor at 136/140.
            status = new FileStatus(*(ushort*)(buffer + 28), *(uint*)(buffer + 20), *(uint*)(buffer + 24), *(ulong*)(buffer + 32), *(uint*)(buffer + 136), *(uint*)(buffer + 140));
            return 0;
        }

        private static int Access(string path, int mode)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
            fixed (byte* p = bytes)
            {
                return faccessat(AtFdCwd, p, mode, AtEAccess) == 0 ? 0 : LibC.LastError;
            }
        }

        private static bool HasAcl(string path)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
            byte[] name = Encoding.ASCII.GetBytes("system.posix_acl_access\0");
            fixed (byte* p = bytes)
            fixed (byte* n = name)
            {
                return getxattr(p, n, null, 0) > 0; // ENODATA: no ACL; EOPNOTSUPP: none possible
            }
        }

        /// <summary>A datagram connect() to the socket file: 0 (a datagram socket is bound), EPROTOTYPE (another type is), ECONNREFUSED (none is), or why it could not tell.</summary>
        private static int ConnectProbe(string path)
        {
            byte[] name = Encoding.UTF8.GetBytes(path);
            if (name.Length > UnixBindRules.MaxAddressBytes)
            {
                return ENAMETOOLONG;
            }

            int fd = LibC.socket(1, SockDgram | LibC.SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                return LibC.LastError;
            }

            try
            {
                byte* address = stackalloc byte[112];
                new Span<byte>(address, 112).Clear();
                *(ushort*)address = 1;
                name.AsSpan().CopyTo(new Span<byte>(address + 2, 108));
                return connect(fd, address, (uint)(2 + name.Length + (name.Length < 108 ? 1 : 0))) == 0 ? 0 : LibC.LastError;
            }
            finally
            {
                LibC.close(fd);
            }
        }

        private sealed class PathCheck
        {
            private readonly string _path;
            private readonly string _full;
            private readonly long? _uid;
            private readonly CancellationToken _cancellation;
            private readonly List<string> _dependsOn = new List<string>();
            private UserGroups? _groups;

            public PathCheck(string path, string full, long? uid, CancellationToken cancellation)
            {
                _path = path;
                _full = full;
                _uid = uid;
                _cancellation = cancellation;
            }

            private string Who => _uid is long uid ? "uid " + uid.ToString(CultureInfo.InvariantCulture) : "this user";

            /// <summary><see cref="Who"/> at the start of a sentence (a uid stays as the kernel writes it).</summary>
            private string WhoAtStart => _uid is null ? "This user" : Who;

            private string Shown => _path == _full ? _full : _path + " (" + _full + ")";

            public UnixBindResult Run()
            {
                // 1. The directories on the way, searched as bind() searches them.
                string directory = UnixBindRules.DirectoryOf(_full);
                UnixBindResult? walk = WalkDirectories(directory);
                if (walk is not null)
                {
                    return walk;
                }

                // 2. Anything at the path: EADDRINUSE, whatever it is.
                int error = Stat(_full, follow: false, out FileStatus status);
                if (error == 0)
                {
                    return Exists(status);
                }

                if (error != LibC.ENOENT)
                {
                    return Fail(error, "unix.path.lookup-failed", "Looking up " + Shown + " failed (" + LibC.ErrorText(error) + "). Check the path, or run the check as a user who may read it.", UnixPathFileType.None);
                }

                // 3. Creating the socket file: write and search permission on the directory, a writable file system.
                return Create(directory);
            }

            private UnixBindResult? WalkDirectories(string directory)
            {
                if (_uid is null)
                {
                    int error = Stat(directory, follow: true, out FileStatus status);
                    if (error == 0 && !status.IsDirectory)
                    {
                        error = ENOTDIR;
                    }

                    if (error == 0)
                    {
                        error = Access(directory, XOk);
                        if (error == 0)
                        {
                            return null;
                        }
                    }

                    return DirectoryFailure(FirstFailing(directory, error), error);
                }

                // Another user: every directory from / down, with its mode bits.
                string current = "/";
                foreach (string part in directory.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries).Prepend(string.Empty))
                {
                    current = part.Length == 0 ? "/" : (current == "/" ? "/" + part : current + "/" + part);
                    int error = Stat(current, follow: true, out FileStatus status);
                    if (error == 0 && !status.IsDirectory)
                    {
                        error = ENOTDIR;
                    }

                    if (error != 0)
                    {
                        return DirectoryFailure(current, error);
                    }

                    bool? search = Allowed(current, status, XOk);
                    if (search == false)
                    {
                        return DirectoryFailure(current, LibC.EACCES, status);
                    }
                }

                return null;
            }

            /// <summary>The first directory from / down that does not exist, is not a directory, or cannot be searched.</summary>
            private static string FirstFailing(string directory, int error)
            {
                string current = "/";
                foreach (string part in directory.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    current = current == "/" ? "/" + part : current + "/" + part;
                    int stat = Stat(current, follow: true, out FileStatus status);
                    if (stat != 0 || !status.IsDirectory || (error == LibC.EACCES && Access(current, XOk) != 0))
                    {
                        return current;
                    }
                }

                return directory;
            }

            private UnixBindResult DirectoryFailure(string where, int error, FileStatus? status = null)
            {
                switch (error)
                {
                    case 2: // ENOENT
                        return Fail(error, "unix.path.missing-directory", "The directory " + where + " does not exist, and bind() does not create directories. Create it (with the owner and mode the service expects) first.", null);
                    case ENOTDIR:
                        return Fail(error, "unix.path.not-a-directory", UnixBindRules.Capitalize(where) + " is on the way to " + Shown + " but is not a directory. Bind a path whose every step is a directory.", null);
                    case 13: // EACCES
                        string mode = status is FileStatus s ? " (mode " + s.Permissions + ", owner uid " + s.Uid + ", group gid " + s.Gid + ")" : string.Empty;
                        return Fail(error, "unix.path.search-denied", WhoAtStart + " may not search " + where + mode + "; every directory on the way needs search (x) permission for the binding user. Grant it (chmod o+x, or the group), or bind under a directory that user may search.", null);
                    case ELOOP:
                        return Fail(error, "unix.path.symlink-loop", "Resolving " + where + " meets too many symbolic links. Fix the link chain (a link that points at itself or round a loop), or bind a path without it.", null);
                    default:
                        return Fail(error, "unix.path.lookup-failed", UnixBindRules.Capitalize(where) + ": " + LibC.ErrorText(error) + ". Check the path, or bind another one.", null);
                }
            }

            private UnixBindResult Exists(FileStatus status)
            {
                UnixSocketReadResult here = UnixSocketReader.Read(new UnixSocketQuery(), _cancellation);
                UnixSocket[] holders = BoundTo(here.Sockets, status);
                string orphans = Orphans(here.Sockets, status);
                switch (status.Type)
                {
                    case 0xC000: // S_IFSOCK
                        return SocketFile(status, holders, orphans);
                    case 0x4000:
                        return Occupied(UnixPathFileType.Directory, "unix.path.directory", Shown + " is a directory where a socket is expected, and no socket file can replace a directory. A container runtime creates one when it bind-mounts a socket path that did not exist yet; remove it (rmdir) once nothing uses it." + orphans);
                    case 0xA000:
                        string target = ReadLinkTarget(_full);
                        return Occupied(UnixPathFileType.SymbolicLink, "unix.path.symlink", Shown + " is a symbolic link" + (target.Length > 0 ? " to " + target : string.Empty) + ", which bind() does not follow, even when it dangles. Bind the link's target path itself, or remove the link once nothing needs it." + orphans);
                    case 0x8000:
                        return Occupied(UnixPathFileType.File, "unix.path.regular-file", Shown + " is a regular file, not a socket, and bind() never replaces a file. Find out what wrote it before you remove it, or bind another path." + orphans);
                    default:
                        return Occupied(UnixPathFileType.Other, "unix.path.other-file", Shown + " is a device, FIFO or other special file, not a socket. Bind another path, or remove the file once nothing uses it." + orphans);
                }
            }

            private UnixBindResult SocketFile(FileStatus status, UnixSocket[] carriers, string orphans)
            {
                int probe = ConnectProbe(_full);
                bool bound = probe == 0 || probe == EPROTOTYPE;
                (UnixSocket[] holders, int accepted) = UnixBindRules.SplitAccepted(carriers);
                if (holders.Length == 0 && bound && LibC.geteuid() == 0)
                {
                    // Bound, but by no socket of this namespace: a container's, through a bind mount.
                    UnixSocketReadResult every = AllNamespacesReader.ReadUnix(new UnixSocketQuery(), _cancellation, null);
                    (holders, accepted) = UnixBindRules.SplitAccepted(BoundTo(every.Sockets, status));
                }

                // Accepted connections carry their listener's file but do not hold it: once the listener is closed the file is stale.
                string connections = accepted == 0 ? string.Empty : "; " + accepted + " accepted connection" + (accepted == 1 ? " carries" : "s carry") + " its name";
                if (holders.Length > 0)
                {
                    NetworkNamespaceInfo? own = UnixSocketReader.NamespaceOfSelf();
                    string space = holders[0].NetworkNamespace is NetworkNamespaceInfo info && !info.Equals(own) ? " in network namespace " + info + (info.ProcessId is int inside ? " (pid " + inside + " lives there)" : string.Empty) : string.Empty;
                    return UnixBindRules.InUse(_path, _full, UnixAddressKind.Path, holders, Shown + " is held by " + UnixBindRules.DescribeHolders(holders) + space + connections + ". Stop that process or bind another path; do not unlink a socket file that is in use (new clients could no longer reach it).", "unix.path.in-use", BindCheckMethod.Probed, _uid, holders[0].NetworkNamespace, null, UnixPathFileType.Socket);
                }

                orphans = connections.Length == 0 ? orphans : orphans + " Its listener is gone, but " + connections.Substring(2) + " (they keep working).";
                if (bound)
                {
                    return new UnixBindResult
                    {
                        Path = _path,
                        FullPath = _full,
                        AddressKind = UnixAddressKind.Path,
                        CanBind = false,
                        Error = "EADDRINUSE",
                        ErrorCode = 98,
                        FileType = UnixPathFileType.Socket,
                        Stale = false,
                        Reason = "A socket is bound to " + Shown + " (it answered a probe), in a network namespace this process cannot read" + (LibC.geteuid() == 0 ? string.Empty : " (as root every namespace is read and its holder named)") + ". Stop its holder or bind another path; do not unlink a socket file that is in use." + orphans,
                        Rule = "unix.path.in-use",
                        Method = BindCheckMethod.Probed,
                        UserId = _uid,
                    };
                }

                if (probe == ECONNREFUSED)
                {
                    return new UnixBindResult
                    {
                        Path = _path,
                        FullPath = _full,
                        AddressKind = UnixAddressKind.Path,
                        CanBind = false,
                        Error = "EADDRINUSE",
                        ErrorCode = 98,
                        FileType = UnixPathFileType.Socket,
                        Stale = true,
                        Reason = Shown + " is a stale socket file: no socket is bound to it (the process that bound it ended without unlinking it). It is safe to unlink (rm " + _full + "); bind() then succeeds." + orphans,
                        Rule = "unix.path.stale-socket-file",
                        Method = BindCheckMethod.Probed,
                        UserId = _uid,
                    };
                }

                return new UnixBindResult
                {
                    Path = _path,
                    FullPath = _full,
                    AddressKind = UnixAddressKind.Path,
                    CanBind = false,
                    Error = "EADDRINUSE",
                    ErrorCode = 98,
                    FileType = UnixPathFileType.Socket,
                    Stale = null,
                    Reason = "A socket file is at " + Shown + ". Whether a socket is still bound to it is not known: the probe got " + Name(probe) + " (" + LibC.ErrorText(probe) + "), and no socket of the namespaces this process can read is bound to it. Do not unlink it until that is known." + orphans,
                    Rule = "unix.path.socket-file-unknown-holder",
                    Method = BindCheckMethod.Probed,
                    UserId = _uid,
                };
            }

            private UnixBindResult Occupied(UnixPathFileType type, string rule, string reason) => new UnixBindResult
            {
                Path = _path,
                FullPath = _full,
                AddressKind = UnixAddressKind.Path,
                CanBind = false,
                Error = "EADDRINUSE",
                ErrorCode = 98,
                FileType = type,
                Stale = false,
                Reason = reason,
                Rule = rule,
                Method = BindCheckMethod.Probed,
                UserId = _uid,
            };

            private UnixBindResult Create(string directory)
            {
                if (_uid is null)
                {
                    int error = Access(directory, WOk | XOk);
                    if (error == EROFS)
                    {
                        return Fail(error, "unix.path.read-only", directory + " is on a read-only file system. Bind a path on a writable file system (a tmpfs such as /run).", UnixPathFileType.None);
                    }

                    if (error != 0)
                    {
                        Stat(directory, follow: true, out FileStatus status);
                        return Fail(error, "unix.path.create-denied", WhoAtStart + " may not create files in " + directory + " (mode " + status.Permissions + ", owner uid " + status.Uid + ", group gid " + status.Gid + "); bind() needs write and search permission on the directory. Bind in a directory that user may write, or grant it (chown or chmod the directory).", UnixPathFileType.None);
                    }

                    return Free(directory);
                }

                if (Access(directory, WOk) == EROFS)
                {
                    return Fail(EROFS, "unix.path.read-only", directory + " is on a read-only file system. Bind a path on a writable file system (a tmpfs such as /run).", UnixPathFileType.None);
                }

                Stat(directory, follow: true, out FileStatus parent);
                bool? allowed = Allowed(directory, parent, WOk | XOk);
                if (allowed == false)
                {
                    return Fail(13, "unix.path.create-denied", WhoAtStart + " may not create files in " + directory + " (mode " + parent.Permissions + ", owner uid " + parent.Uid + ", group gid " + parent.Gid + "); bind() needs write and search permission on the directory. Bind in a directory that user may write, or grant it (chown or chmod the directory).", UnixPathFileType.None);
                }

                return Free(directory);
            }

            private UnixBindResult Free(string directory)
            {
                bool certain = _dependsOn.Count == 0;
                return new UnixBindResult
                {
                    Path = _path,
                    FullPath = _full,
                    AddressKind = UnixAddressKind.Path,
                    CanBind = certain ? true : null,
                    DependsOn = _dependsOn.ToArray(),
                    Error = certain ? null : "EACCES",
                    ErrorCode = certain ? null : 13,
                    FileType = UnixPathFileType.None,
                    Stale = null,
                    Reason = certain
                        ? "bind() succeeds: nothing is at " + Shown + ", and " + Who + " may create files in " + directory + "."
                        : "Nothing is at " + Shown + "; whether " + Who + " may create files in " + directory + " depends on " + string.Join(" and ", _dependsOn) + ".",
                    Rule = "unix.path.free",
                    Method = BindCheckMethod.Probed,
                    UserId = _uid,
                };
            }

            private UnixBindResult Fail(int errno, string rule, string reason, UnixPathFileType? fileType) => new UnixBindResult
            {
                Path = _path,
                FullPath = _full,
                AddressKind = UnixAddressKind.Path,
                CanBind = false,
                Error = Name(errno),
                ErrorCode = errno,
                FileType = fileType,
                Reason = reason,
                Rule = rule,
                Method = BindCheckMethod.Probed,
                UserId = _uid,
            };

            /// <summary>Whether the user may do <paramref name="need"/> (x, w|x) on a directory; null when it turns on an unknown fact, which is recorded.</summary>
            private bool? Allowed(string directory, FileStatus status, int need)
            {
                long uid = _uid!.Value;
                if (uid == 0)
                {
                    return true; // CAP_DAC_OVERRIDE
                }

                int bits;
                if (uid == status.Uid)
                {
                    bits = (int)(status.Mode >> 6) & 7;
                    return (bits & need) == need;
                }

                if (HasAcl(directory))
                {
                    _dependsOn.Add("the POSIX ACL of " + directory + " (not evaluated)");
                    return null;
                }

                int group = (int)(status.Mode >> 3) & 7;
                int other = (int)status.Mode & 7;
                _groups ??= UserGroups.Of(uid);
                bool? member = _groups.Contains(status.Gid);
                if (member is null)
                {
                    if (((group & need) == need) == ((other & need) == need))
                    {
                        return (other & need) == need;
                    }

                    _dependsOn.Add("whether uid " + uid + " is in group " + status.Gid + " (" + _groups.Note + ")");
                    return null;
                }

                bits = member.Value ? group : other;
                return (bits & need) == need;
            }

            /// <summary>Sockets whose file (unix_diag VFS: the low 32 bits of the inode, and the device) is this one.</summary>
            private static UnixSocket[] BoundTo(IReadOnlyList<UnixSocket> sockets, FileStatus status)
            {
                string device = status.Major.ToString(CultureInfo.InvariantCulture) + ":" + status.Minor.ToString(CultureInfo.InvariantCulture);
                return sockets.Where(s => s.FileInode == (status.Inode & 0xFFFFFFFF) && s.FileDevice == device).ToArray();
            }

            /// <summary>Sockets that carry the path as their name but are bound to another (unlinked or replaced) file.</summary>
            private string Orphans(IReadOnlyList<UnixSocket> sockets, FileStatus status)
            {
                string device = status.Major.ToString(CultureInfo.InvariantCulture) + ":" + status.Minor.ToString(CultureInfo.InvariantCulture);
                UnixSocket[] orphans = sockets.Where(s => s.AddressKind == UnixAddressKind.Path && s.State == SocketState.Listen
                    && (s.Path == _full || s.Path == _path) && s.FileInode is not null
                    && !(s.FileInode == (status.Inode & 0xFFFFFFFF) && s.FileDevice == device)).ToArray();
                return orphans.Length == 0 ? string.Empty : " Note: " + UnixBindRules.DescribeHolders(orphans) + " still listens on a socket bound to this path whose file was unlinked or replaced; clients that connect to the path do not reach it.";
            }

            private static string ReadLinkTarget(string path)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
                byte* target = stackalloc byte[4096];
                fixed (byte* p = bytes)
                {
                    nint length = LibC.readlinkat(AtFdCwd, p, target, 4095);
                    return length > 0 ? Encoding.UTF8.GetString(target, (int)length) : string.Empty;
                }
            }
        }

        /// <summary>The errno name for an error number.</summary>
        internal static string Name(int errno) => errno switch
        {
            1 => "EPERM",
            2 => "ENOENT",
            13 => "EACCES",
            ENOTDIR => "ENOTDIR",
            22 => "EINVAL",
            EROFS => "EROFS",
            ENAMETOOLONG => "ENAMETOOLONG",
            ELOOP => "ELOOP",
            EPROTOTYPE => "EPROTOTYPE",
            98 => "EADDRINUSE",
            ECONNREFUSED => "ECONNREFUSED",
            _ => "errno " + errno.ToString(CultureInfo.InvariantCulture),
        };

        /// <summary>A user's groups as this host's /etc/passwd and /etc/group list them; unknown when the user is not listed there (LDAP, SSSD).</summary>
        private sealed class UserGroups
        {
            private readonly HashSet<uint>? _groups;

            private UserGroups(HashSet<uint>? groups, string note)
            {
                _groups = groups;
                Note = note;
            }

            public string Note { get; }

            public bool? Contains(uint gid) => _groups?.Contains(gid);

            public static UserGroups Of(long uid)
            {
                try
                {
                    string? user = null;
                    uint primary = 0;
                    foreach (string line in File.ReadLines("/etc/passwd"))
                    {
                        string[] fields = line.Split(':');
                        if (fields.Length > 3 && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id == uid && uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out primary))
                        {
                            user = fields[0];
                            break;
                        }
                    }

                    if (user is null)
                    {
                        return new UserGroups(null, "uid " + uid + " is not in /etc/passwd, so its groups are not known");
                    }

                    var groups = new HashSet<uint> { primary };
                    foreach (string line in File.ReadLines("/etc/group"))
                    {
                        string[] fields = line.Split(':');
                        if (fields.Length > 3 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid) && fields[3].Split(',').Contains(user))
                        {
                            groups.Add(gid);
                        }
                    }

                    return new UserGroups(groups, "from /etc/passwd and /etc/group");
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    return new UserGroups(null, "/etc/passwd or /etc/group could not be read");
                }
            }
        }
    }
}
