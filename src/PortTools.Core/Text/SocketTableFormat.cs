namespace PortTools
{
    /// <summary>
    /// A text layout that <see cref="SocketTableParser"/> reads. Each parsed socket's
    /// <see cref="SocketTuple.Source"/> is the format's source name (given per value) and the line number,
    /// such as "ss:12".
    /// </summary>
    public enum SocketTableFormat
    {
        /// <summary>Detect the format from the header or the shape of the first meaningful lines.</summary>
        Auto = 0,

        /// <summary>The canonical SocketTuple text, one socket per line (what SocketTuple.ToString writes). Source name "canonical".</summary>
        Canonical,

        /// <summary>iproute2 ss output (-tan, -tanp, -uan, -tuanpe, -tlnp, with or without -H). Source name "ss".</summary>
        Ss,

        /// <summary>Linux net-tools netstat (-tanp, -uanp, -tanpe, -tanpo). Source name "netstat-linux".</summary>
        NetstatLinux,

        /// <summary>Windows netstat -ano, -anob, -anoq. Source name "netstat-windows".</summary>
        NetstatWindows,

        /// <summary>macOS and FreeBSD netstat -an [-p tcp|udp] [-A] [-v], with dot-separated ports. Source name "netstat-bsd".</summary>
        NetstatBsd,

        /// <summary>/proc/net/tcp, tcp6, udp and udp6, with or without their header lines. Source name "proc-net".</summary>
        ProcNet,

        /// <summary>lsof -nP -iTCP -iUDP table output. Source name "lsof".</summary>
        Lsof,

        /// <summary>lsof -F field output (p, c, f, t, d, P, n, T lines; -F0 too). Source name "lsof-fields".</summary>
        LsofFields,

        /// <summary>
        /// Export-Csv / ConvertTo-Csv of Get-SocketTuple, Get-NetTCPConnection or Get-NetUDPEndpoint
        /// (an optional #TYPE line, then a header row). Source name "csv".
        /// </summary>
        Csv,

        /// <summary>
        /// ConvertTo-Json of Get-SocketTuple, Get-NetTCPConnection or Get-NetUDPEndpoint: an array, one
        /// object, or one compressed object per line. Source name "json".
        /// </summary>
        Json,
    }
}
