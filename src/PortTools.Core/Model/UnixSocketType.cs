namespace PortTools
{
    /// <summary>The type of a UNIX domain socket, numbered as Linux numbers SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum UnixSocketType : long
    {
        /// <summary>SOCK_STREAM (ss: u_str).</summary>
        Stream = 1,

        /// <summary>SOCK_DGRAM (ss: u_dgr).</summary>
        Datagram = 2,

        /// <summary>SOCK_SEQPACKET (ss: u_seq).</summary>
        SeqPacket = 5,
    }

    /// <summary>What kind of address a UNIX domain socket is bound to.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum UnixAddressKind : long
    {
        /// <summary>Not bound: a socketpair() end, a client, or a socket that never called bind().</summary>
        Unnamed,

        /// <summary>A file system path: the socket file that bind() created.</summary>
        Path,

        /// <summary>A name in the abstract namespace (Linux): no file, one namespace per network namespace; written @name.</summary>
        Abstract,
    }
}
