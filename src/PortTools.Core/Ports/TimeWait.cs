using System.Globalization;

namespace PortTools
{
    /// <summary>How long each OS keeps a closed TCP connection's port in TIME_WAIT, and why.</summary>
    internal static class TimeWait
    {
        /// <summary>
        /// Linux: TCP_TIMEWAIT_LEN, 60 s, fixed at compile time (include/net/tcp.h). The sysctl
        /// net.ipv4.tcp_fin_timeout is often mistaken for it, but it bounds FIN-WAIT-2, not TIME-WAIT.
        /// </summary>
        public const int LinuxSeconds = 60;

        /// <summary>macOS: net.inet.tcp.msl defaults to 15000 ms; TIME_WAIT lasts 2 x MSL.</summary>
        public const int MacOSDefaultMslMilliseconds = 15000;

        /// <summary>FreeBSD: net.inet.tcp.msl defaults to 30000 ms; TIME_WAIT lasts 2 x MSL.</summary>
        public const int FreeBSDDefaultMslMilliseconds = 30000;

        /// <summary>
        /// Windows: TcpTimedWaitDelay (HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters),
        /// documented range 30-300 s, default 0x78 = 120 s in Microsoft KB 314053 (Windows XP) and the
        /// Windows Server 2003 TCP/IP registry reference; Windows 2000 used 240 s. That the default is
        /// still 120 s on Vista and later is UNVERIFIED: no current Microsoft page confirming it was found.
        /// </summary>
        public const int WindowsDefaultSeconds = 120;

        public const string LinuxSource = "fixed in the Linux kernel: TCP_TIMEWAIT_LEN = 60 s (net.ipv4.tcp_fin_timeout bounds FIN-WAIT-2, not TIME-WAIT)";

        public const string UdpSource = "UDP has no TIME_WAIT: a port is free as soon as its socket closes";

        public const string WindowsDefaultSource = "default TcpTimedWaitDelay = 120 s (Microsoft KB 314053 and the Windows Server 2003 TCP/IP registry reference; the default on Vista and later is UNVERIFIED)";

        /// <summary>2 x MSL in whole seconds, rounded up.</summary>
        public static int FromMsl(int mslMilliseconds) => (int)(((2L * mslMilliseconds) + 999) / 1000);

        public static string MslSource(TargetOS os, int mslMilliseconds, bool isDefault) => string.Format(
            CultureInfo.InvariantCulture,
            "2 x net.inet.tcp.msl = 2 x {0} ms{1}",
            mslMilliseconds,
            isDefault ? " (the " + (os == TargetOS.MacOS ? "macOS" : "FreeBSD") + " default; the value was not given)" : string.Empty);

        public static string WindowsSource(int seconds) =>
            "TcpTimedWaitDelay = " + seconds.ToString(CultureInfo.InvariantCulture) + " s (documented range 30-300)";

        /// <summary>The documented default for an OS, with its source.</summary>
        public static (int Seconds, string Source) Default(TargetOS os) => os switch
        {
            TargetOS.Linux => (LinuxSeconds, LinuxSource),
            TargetOS.Windows => (WindowsDefaultSeconds, WindowsDefaultSource),
            TargetOS.MacOS => (FromMsl(MacOSDefaultMslMilliseconds), MslSource(os, MacOSDefaultMslMilliseconds, true)),
            _ => (FromMsl(FreeBSDDefaultMslMilliseconds), MslSource(os, FreeBSDDefaultMslMilliseconds, true)),
        };
    }
}
