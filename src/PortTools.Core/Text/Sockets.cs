namespace PortTools.Text
{
    /// <summary>Helpers for building sockets from parsed text.</summary>
    internal static class Sockets
    {
        /// <summary>A copy of a socket with another Source (SocketTuple is immutable).</summary>
        public static SocketTuple WithSource(SocketTuple socket, string source) => new SocketTuple
        {
            Protocol = socket.Protocol,
            State = socket.State,
            LocalAddress = socket.LocalAddress,
            LocalPort = socket.LocalPort,
            RemoteAddress = socket.RemoteAddress,
            RemotePort = socket.RemotePort,
            Processes = socket.Processes,
            UserId = socket.UserId,
            Inode = socket.Inode,
            ReceiveQueue = socket.ReceiveQueue,
            SendQueue = socket.SendQueue,
            BoundInterface = socket.BoundInterface,
            IPv6Only = socket.IPv6Only,
            ReuseAddress = socket.ReuseAddress,
            ReusePort = socket.ReusePort,
            Source = source,
        };
    }
}
