using System;
using System.Runtime.InteropServices;

namespace PortTools.Windows
{
    /// <summary>
    /// The iphlpapi.dll calls the Windows reader makes. Thin: no logic lives here. Signatures and
    /// values from Microsoft Learn: GetExtendedTcpTable and GetExtendedUdpTable (iphlpapi.h),
    /// TCP_TABLE_CLASS and UDP_TABLE_CLASS (iprtrmib.h), the heap functions (heapapi.h). The two
    /// bound-endpoint exports are undocumented.
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

        /// <summary>
        /// UNDOCUMENTED export: allocates a MIB_TCPTABLE2 of the bound IPv4 TCP endpoints from
        /// <paramref name="heap"/> and stores its address in <paramref name="table"/>; the caller frees
        /// it with HeapFree. Signature as System Informer declares it (see <see cref="BoundTcpTableDecoder"/>);
        /// a Windows without the export throws EntryPointNotFoundException at the call.
        /// </summary>
        [DllImport(Library, ExactSpelling = true)]
        public static extern uint InternalGetBoundTcpEndpointTable(out IntPtr table, IntPtr heap, uint heapFlags);

        /// <summary>UNDOCUMENTED export: as <see cref="InternalGetBoundTcpEndpointTable"/>, for IPv6, with a MIB_TCP6TABLE2.</summary>
        [DllImport(Library, ExactSpelling = true)]
        public static extern uint InternalGetBoundTcp6EndpointTable(out IntPtr table, IntPtr heap, uint heapFlags);

        /// <summary>GetProcessHeap (heapapi.h, kernel32.dll).</summary>
        [DllImport("kernel32.dll", ExactSpelling = true)]
        public static extern IntPtr GetProcessHeap();

        /// <summary>HeapSize (heapapi.h): the block's size, or (SIZE_T)-1 on failure.</summary>
        [DllImport("kernel32.dll", ExactSpelling = true)]
        public static extern UIntPtr HeapSize(IntPtr heap, uint flags, IntPtr block);

        /// <summary>HeapFree (heapapi.h).</summary>
        [DllImport("kernel32.dll", ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool HeapFree(IntPtr heap, uint flags, IntPtr block);
    }
}
