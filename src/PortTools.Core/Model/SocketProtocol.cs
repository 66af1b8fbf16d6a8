namespace PortTools
{
    /// <summary>
    /// What Get-SocketTuple and ConvertFrom-SocketTable list: TCP and UDP sockets (SocketTuple), or
    /// UNIX domain sockets (UnixSocket). The values of Tcp and Udp are those of
    /// <see cref="TransportProtocol"/>, so either enum converts to the other.
    /// </summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum SocketProtocol : long
    {
        /// <summary>UNIX domain sockets (AF_UNIX): listed as UnixSocket objects, in a call of their own.</summary>
        Unix = 1,

        /// <summary>TCP.</summary>
        Tcp = 6,

        /// <summary>UDP.</summary>
        Udp = 17,
    }
}
