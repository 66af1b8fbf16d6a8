namespace PortTools
{
    /// <summary>The transport protocol of a socket or packet.</summary>
    public enum TransportProtocol
    {
        /// <summary>TCP.</summary>
        Tcp = 6,

        /// <summary>UDP.</summary>
        Udp = 17,
    }
}
