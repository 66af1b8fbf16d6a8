using System;
using System.Collections.Generic;

namespace PortTools
{
    /// <summary>
    /// One UNIX domain socket: its type, state, address (a file system path, an abstract name or
    /// none), the socket at the other end and who holds it, queues and owners.
    /// <see cref="ToString"/> writes a one-line canonical text that <see cref="Parse"/> reads back,
    /// for example <c>u_str LISTEN /run/app.sock ino=93660 pid=812 process=app</c>.
    /// </summary>
    /// <remarks>
    /// Facts a source does not give (/proc/net/unix has no peers or queues) are null, meaning
    /// unknown. UNIX sockets are Listen, Established or Unconnected, as ss shows them: a connected
    /// datagram socket is Established too.
    /// </remarks>
    public sealed class UnixSocket : IEquatable<UnixSocket>
    {
        private readonly SocketOwnerList _processes = SocketOwnerList.Empty;
        private readonly SocketOwnerList _peerProcesses = SocketOwnerList.Empty;
        private readonly UnixAddressKind? _addressKind;
        private readonly string? _path;

        /// <summary>Stream, Datagram or SeqPacket.</summary>
        public UnixSocketType Type { get; init; }

        /// <summary>Listen, Established (connected, of any type) or Unconnected.</summary>
        public SocketState State { get; init; }

        /// <summary>
        /// The address: a file system path as it was given to bind() (it may be relative), an abstract
        /// name as <c>@name</c> (NUL bytes inside it shown as @, as ss shows them), or null when unnamed.
        /// Accepted sockets carry their listener's address.
        /// </summary>
        public string? Path
        {
            get => _path;
            init => _path = string.IsNullOrEmpty(value) ? null : value;
        }

        /// <summary>Path, Abstract or Unnamed. Text sources that do not say are read from <see cref="Path"/>: a leading @ is abstract.</summary>
        public UnixAddressKind AddressKind
        {
            get => _addressKind ?? (_path is null ? UnixAddressKind.Unnamed : _path[0] == '@' ? UnixAddressKind.Abstract : UnixAddressKind.Path);
            init => _addressKind = value;
        }

        /// <summary>The socket's inode (what /proc/[pid]/fd links name as socket:[inode]).</summary>
        public ulong? Inode { get; init; }

        /// <summary>
        /// The inode of the socket file the socket is bound to (unix_diag VFS), for sockets bound to a
        /// path; null otherwise and when the source does not say. The kernel reports its low 32 bits.
        /// </summary>
        public ulong? FileInode { get; init; }

        /// <summary>The device of that file as major:minor (as /proc/self/mountinfo writes it), or null.</summary>
        public string? FileDevice { get; init; }

        /// <summary>The inode of the socket at the other end of a connection, or null when unconnected or unknown.</summary>
        public ulong? PeerInode { get; init; }

        /// <summary>
        /// The address of the peer socket (for a client, the path of the server it reached), when the
        /// peer was in the same read; null when the peer is unnamed or was not read.
        /// </summary>
        public string? PeerPath { get; init; }

        /// <summary>
        /// The processes that hold the peer socket. For a connection not yet accepted, the owners of
        /// the listener whose queue holds it.
        /// </summary>
        public IReadOnlyList<SocketOwner> PeerProcesses
        {
            get => _peerProcesses;
            init => _peerProcesses = Wrap(value);
        }

        /// <summary>The first process that holds the peer socket, or null.</summary>
        public int? PeerProcessId => _peerProcesses.Count > 0 ? _peerProcesses[0].ProcessId : null;

        /// <summary>The name of the first process that holds the peer socket, or null.</summary>
        public string? PeerProcessName => _peerProcesses.Count > 0 ? _peerProcesses[0].ProcessName : null;

        /// <summary>Bytes (stream) or bytes of queued datagrams waiting to be read; for a listener, connections waiting to be accepted.</summary>
        public long? ReceiveQueue { get; init; }

        /// <summary>Bytes sent and not yet read by the peer; for a listener, its backlog limit.</summary>
        public long? SendQueue { get; init; }

        /// <summary>The user id that created the socket (Linux 5.3 and later report it), or null.</summary>
        public long? UserId { get; init; }

        /// <summary>Every process that holds the socket open, in process-id order; empty when unknown.</summary>
        public IReadOnlyList<SocketOwner> Processes
        {
            get => _processes;
            init => _processes = Wrap(value);
        }

        /// <summary>The first owning process, or null when no owner is known.</summary>
        public int? ProcessId => _processes.Count > 0 ? _processes[0].ProcessId : null;

        /// <summary>The first owning process's name.</summary>
        public string? ProcessName => _processes.Count > 0 ? _processes[0].ProcessName : null;

        /// <summary>
        /// The network namespace the socket lives in, when known. Abstract names are per network
        /// namespace; paths are shared by every namespace that sees the file. Not part of equality.
        /// </summary>
        public NetworkNamespaceInfo? NetworkNamespace { get; init; }

        /// <summary>The container that holds the socket, where the owners' cgroups say so (Get-SocketTuple -AllNetworkNamespaces). Not part of equality.</summary>
        public ContainerInfo? Container { get; init; }

        /// <summary>Where the object came from: Live, or a text format and line number. Not part of equality.</summary>
        public string? Source { get; init; }

        /// <summary>The computer the socket was read on, when it came from elsewhere. Not part of equality.</summary>
        public string? ComputerName { get; init; }

        /// <summary>"u_str", "u_dgr" or "u_seq", as ss names the types.</summary>
        public string NetId => UnixSocketText.NetId(Type);

        /// <summary>This socket labelled with the computer it was read on: itself when it already is, else a copy.</summary>
        /// <param name="computerName">The computer.</param>
        /// <returns>The socket; every other property is unchanged.</returns>
        public UnixSocket WithComputerName(string computerName)
        {
            if (string.IsNullOrEmpty(computerName))
            {
                throw new ArgumentException("A computer name cannot be empty.", nameof(computerName));
            }

            return string.Equals(computerName, ComputerName, StringComparison.Ordinal) ? this : Copy(computerName: computerName);
        }

        /// <summary>A copy with the namespace, container or computer replaced.</summary>
        internal UnixSocket Copy(NetworkNamespaceInfo? networkNamespace = null, ContainerInfo? container = null, string? computerName = null) => new UnixSocket
        {
            Type = Type,
            State = State,
            Path = _path,
            AddressKind = AddressKind,
            Inode = Inode,
            FileInode = FileInode,
            FileDevice = FileDevice,
            PeerInode = PeerInode,
            PeerPath = PeerPath,
            PeerProcesses = _peerProcesses,
            ReceiveQueue = ReceiveQueue,
            SendQueue = SendQueue,
            UserId = UserId,
            Processes = _processes,
            NetworkNamespace = networkNamespace ?? NetworkNamespace,
            Container = container ?? Container,
            Source = Source,
            ComputerName = computerName ?? ComputerName,
        };

        /// <summary>Parses the canonical text form.</summary>
        /// <param name="text">Such as <c>u_str LISTEN /run/app.sock ino=93660 pid=812 process=app</c>.</param>
        /// <returns>The socket.</returns>
        /// <exception cref="FormatException">The text is not valid; the message names the bad token.</exception>
        public static UnixSocket Parse(string text) =>
            UnixSocketText.TryParse(text, out UnixSocket? socket, out string? error) ? socket : throw new FormatException(error);

        /// <summary>Parses the canonical text form.</summary>
        /// <param name="text">The text.</param>
        /// <param name="socket">The socket, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out UnixSocket? socket) =>
            UnixSocketText.TryParse(text, out socket, out _);

        /// <summary>The canonical one-line text form, which <see cref="Parse"/> reads back.</summary>
        public override string ToString() => UnixSocketText.Format(this);

        /// <inheritdoc/>
        public bool Equals(UnixSocket? other)
        {
            if (other is null)
            {
                return false;
            }

            return ReferenceEquals(this, other)
                || (Type == other.Type
                && State == other.State
                && AddressKind == other.AddressKind
                && string.Equals(_path, other._path, StringComparison.Ordinal)
                && Inode == other.Inode
                && FileInode == other.FileInode
                && string.Equals(FileDevice, other.FileDevice, StringComparison.Ordinal)
                && PeerInode == other.PeerInode
                && string.Equals(PeerPath, other.PeerPath, StringComparison.Ordinal)
                && ReceiveQueue == other.ReceiveQueue
                && SendQueue == other.SendQueue
                && UserId == other.UserId
                && OwnersEqual(_processes, other._processes)
                && OwnersEqual(_peerProcesses, other._peerProcesses));
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as UnixSocket);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            unchecked
            {
                int hash = (int)Type;
                hash = (hash * 31) + (int)State;
                hash = (hash * 31) + (Inode?.GetHashCode() ?? 0);
                hash = (hash * 31) + (_path is null ? 0 : StringComparer.Ordinal.GetHashCode(_path));
                return hash;
            }
        }

        private static SocketOwnerList Wrap(IReadOnlyList<SocketOwner>? owners) =>
            owners is null || owners.Count == 0 ? SocketOwnerList.Empty : owners as SocketOwnerList ?? new SocketOwnerList(owners);

        private static bool OwnersEqual(SocketOwnerList a, SocketOwnerList b)
        {
            if (a.Count != b.Count)
            {
                return false;
            }

            for (int i = 0; i < a.Count; i++)
            {
                if (!a[i].Equals(b[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
