namespace PortTools
{
    /// <summary>The transport protocol of a socket or packet.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum TransportProtocol : long
    {
        /// <summary>TCP.</summary>
        Tcp = 6,

        /// <summary>UDP.</summary>
        Udp = 17,
    }
}
