namespace PortTools
{
    /// <summary>
    /// Who can reach a listening socket, judged from the local address it is bound to and the
    /// device it is tied to (SO_BINDTODEVICE). The values are ordered for an audit, most exposed
    /// first, so sorting sockets by Exposure lists wildcard and public listeners at the top. Only
    /// listening TCP sockets and unconnected UDP sockets have one; see <see cref="ExposureClassifier"/>
    /// for the rules.
    /// </summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum Exposure : long
    {
        /// <summary>
        /// Bound to 0.0.0.0 or :: (the wildcard): reachable on every interface, including ones
        /// added later. On Linux an IPv6 socket on :: with IPV6_V6ONLY off (the default,
        /// net.ipv6.bindv6only=0) also takes IPv4 traffic.
        /// </summary>
        AllInterfaces,

        /// <summary>
        /// Bound to the wildcard address but tied to one device with SO_BINDTODEVICE (other than
        /// the loopback device): reachable only through that interface, which the socket's
        /// ExposureInterface names.
        /// </summary>
        OneInterface,

        /// <summary>Bound to a globally routable address: reachable from wherever routing and firewalls allow.</summary>
        Public,

        /// <summary>Bound to a private address (RFC 1918, ULA fc00::/7, CGNAT 100.64.0.0/10): reachable within that network.</summary>
        Private,

        /// <summary>Bound to a link-local address (169.254.0.0/16, fe80::/10): reachable only from the same link.</summary>
        LinkLocal,

        /// <summary>Bound to a loopback address (127.0.0.0/8, ::1), or tied to the loopback device (lo) whatever its address: reachable only from this host.</summary>
        Loopback,
    }
}
