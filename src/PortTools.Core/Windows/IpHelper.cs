using System.Runtime.InteropServices;

namespace PortTools.Windows
{
    /// <summary>
    /// The iphlpapi.dll calls the Windows reader makes. Thin: no logic lives here. Signatures and
    /// values from Microsoft Learn: GetExtendedTcpTable and GetExtendedUdpTable (iphlpapi.h),
    /// TCP_TABLE_CLASS and UDP_TABLE_CLASS (iprtrmib.h).
    /// </summary>
    internal static class IpHelper
    {
        private const string Library = "iphlpapi.dll";

        /// <summary>AF_INET (ws2def.h).</summary>
        public const uint AF_INET = 2;

        /// <summary>AF_INET6 on Windows (ws2def.h); 10 on Linux and 30 on macOS.</summary>
        public const uint AF_INET6 = 23;

        /// <summary>TCP_TABLE_OWNER_PID_ALL: listeners and connections, with the owning pid (the sixth TCP_TABLE_CLASS value).</summary>
        public const int TCP_TABLE_OWNER_PID_ALL = 5;

        /// <summary>UDP_TABLE_OWNER_PID: every UDP endpoint with the owning pid (the second UDP_TABLE_CLASS value).</summary>
        public const int UDP_TABLE_OWNER_PID = 1;

        /// <summary>The table into the buffer, or ERROR_INSUFFICIENT_BUFFER with the size it needs.</summary>
        [DllImport(Library, ExactSpelling = true)]
        public static extern uint GetExtendedTcpTable([Out] byte[] table, ref uint size, [MarshalAs(UnmanagedType.Bool)] bool order, uint family, int tableClass, uint reserved);

        /// <summary>The table into the buffer, or ERROR_INSUFFICIENT_BUFFER with the size it needs.</summary>
        [DllImport(Library, ExactSpelling = true)]
        public static extern uint GetExtendedUdpTable([Out] byte[] table, ref uint size, [MarshalAs(UnmanagedType.Bool)] bool order, uint family, int tableClass, uint reserved);
    }
}
