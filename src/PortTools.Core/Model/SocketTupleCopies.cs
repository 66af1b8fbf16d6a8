namespace PortTools
{
    /// <summary>Copies of a socket with a field changed: simulations that move a socket through states, parsers that stamp a source.</summary>
    internal static class SocketTupleCopies
    {
        /// <summary>A copy with its reuse options and user set: one possibility of what a table does not show.</summary>
        public static SocketTuple WithOptions(this SocketTuple socket, bool? reuseAddress, bool? reusePort, bool? reusePortLoadBalance, long? userId) =>
            socket.Copy(options: (reuseAddress, reusePort, reusePortLoadBalance, userId));

        public static SocketTuple Copy(this SocketTuple socket, SocketState? state = null, int? localPort = null, System.Net.IPAddress? localAddress = null, System.Net.IPAddress? remoteAddress = null, int? remotePort = null, string? computerName = null, string? source = null, NetworkNamespaceInfo? networkNamespace = null, ContainerInfo? container = null, (bool? ReuseAddress, bool? ReusePort, bool? ReusePortLoadBalance, long? UserId)? options = null) => new SocketTuple
        {
            Protocol = socket.Protocol,
            State = state ?? socket.State,
            LocalAddress = localAddress ?? socket.LocalAddress,
            LocalPort = localPort ?? socket.LocalPort,
            RemoteAddress = remoteAddress ?? socket.RemoteAddress,
            RemotePort = remotePort ?? socket.RemotePort,
            ReuseAddress = options is { } set ? set.ReuseAddress : socket.ReuseAddress,
            ReusePort = options is { } port ? port.ReusePort : socket.ReusePort,
            ReusePortLoadBalance = options is { } balance ? balance.ReusePortLoadBalance : socket.ReusePortLoadBalance,
            ExclusiveAddressUse = socket.ExclusiveAddressUse,
            IPv6Only = socket.IPv6Only,
            BoundInterface = socket.BoundInterface,
            UserId = options is { } user ? user.UserId : socket.UserId,
            Processes = socket.Processes,
            Inode = socket.Inode,
            Source = source ?? socket.Source,
            ComputerName = computerName ?? socket.ComputerName,
            NetworkNamespace = networkNamespace ?? socket.NetworkNamespace,
            Container = container ?? socket.Container,
            ReadHere = socket.ReadHere,
            ReceiveQueue = socket.ReceiveQueue,
            SendQueue = socket.SendQueue,
            Timer = socket.Timer,
            TimerExpiresIn = socket.TimerExpiresIn,
            Retransmits = socket.Retransmits,
        };
    }
}
