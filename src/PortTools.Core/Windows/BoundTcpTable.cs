using System;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace PortTools.Windows
{
    /// <summary>
    /// Calls the UNDOCUMENTED iphlpapi exports InternalGetBoundTcpEndpointTable and
    /// InternalGetBoundTcp6EndpointTable (see <see cref="BoundTcpTableDecoder"/> for the evidence)
    /// and copies the table they allocate out of the process heap before freeing it. Thin: the
    /// decoding is <see cref="BoundTcpTableDecoder"/>. The copy is as long as the heap block
    /// (HeapSize), so a table whose rows are not laid out as assumed is caught by the decoder's length
    /// check instead of being read past its end. Called only on Windows 10 1809 and later, as System
    /// Informer does; elsewhere, and where the exports are missing or fail, one warning says why.
    /// </summary>
    internal static class BoundTcpTable
    {
        /// <summary>The warning when iphlpapi.dll lacks the exports, said once for both.</summary>
        internal const string MissingExport = "Bound TCP sockets (bound, neither listening nor connected) are not listed: this Windows' iphlpapi.dll does not export InternalGetBoundTcpEndpointTable and InternalGetBoundTcp6EndpointTable, the undocumented calls that list them.";

        /// <summary>Windows 10 1809 and Windows Server 2019: the first build System Informer calls the exports on.</summary>
        internal const int FirstBuild = 17763;

        /// <summary>
        /// Whether this Windows is one the exports are called on. System Informer calls them only on
        /// Windows 10 1809 (build 17763) and later, even where they resolve (netprv.c checks
        /// WindowsVersion &gt;= WINDOWS_10_RS5); what they take on older builds is unknown, and a wrong
        /// signature could corrupt the process, so older builds get a warning instead.
        /// </summary>
        /// <returns>Null when supported, else the warning.</returns>
        internal static string? Unsupported(int major, int build) => major > 10 || (major == 10 && build >= FirstBuild)
            ? null
            : string.Format(CultureInfo.InvariantCulture, "Bound TCP sockets (bound, neither listening nor connected) are not listed: the undocumented iphlpapi calls that list them are used only on Windows 10 1809 (build {0}) and later, and this is Windows {1} build {2}.", FirstBuild, major, build);

        /// <summary>This Windows' major version and build, from RtlGetVersion, which no compatibility manifest shims.</summary>
        internal static (int Major, int Build) Version()
        {
            // OSVERSIONINFOW (winnt.h): five DWORDs, dwOSVersionInfoSize first, then WCHAR szCSDVersion[128].
            var info = new byte[OsVersionInfoLength];
            BitConverter.GetBytes(OsVersionInfoLength).CopyTo(info, 0);
            return RtlGetVersion(info) == 0 ? (BitConverter.ToInt32(info, 4), BitConverter.ToInt32(info, 12)) : (0, 0);
        }

        private const int OsVersionInfoLength = (5 * 4) + (128 * 2);

        /// <summary>RtlGetVersion (wdm.h, ntdll.dll; Microsoft Learn): STATUS_SUCCESS (0) always.</summary>
        [DllImport("ntdll.dll", ExactSpelling = true)]
        private static extern int RtlGetVersion([In, Out] byte[] versionInformation);

        /// <summary>The table's bytes, or null with a warning when it cannot be read.</summary>
        public static byte[]? Read(bool ipv6, out string? warning)
        {
            (int major, int build) = Version();
            warning = Unsupported(major, build);
            if (warning is not null)
            {
                return null;
            }

            IntPtr heap = IpHelper.GetProcessHeap();
            IntPtr table = IntPtr.Zero;
            uint status;
            try
            {
                status = ipv6 ? IpHelper.InternalGetBoundTcp6EndpointTable(out table, heap, 0) : IpHelper.InternalGetBoundTcpEndpointTable(out table, heap, 0);
            }
            catch (EntryPointNotFoundException)
            {
                warning = MissingExport;
                return null;
            }

            try
            {
                string function = ipv6 ? "InternalGetBoundTcp6EndpointTable" : "InternalGetBoundTcpEndpointTable";
                if (status != 0)
                {
                    warning = string.Format(CultureInfo.InvariantCulture, "Bound TCP {0} sockets are not listed: {1}, an undocumented iphlpapi call, failed with Windows error {2}: {3}", ipv6 ? "IPv6" : "IPv4", function, status, new Win32Exception(unchecked((int)status)).Message);
                    return null;
                }

                if (table == IntPtr.Zero)
                {
                    warning = null;
                    return new byte[MibTableDecoder.HeaderLength];
                }

                ulong size = IpHelper.HeapSize(heap, 0, table).ToUInt64();
                if (size < MibTableDecoder.HeaderLength || size > int.MaxValue)
                {
                    warning = string.Format(CultureInfo.InvariantCulture, "Bound TCP {0} sockets are not listed: the table {1} returned has an unusable size ({2}).", ipv6 ? "IPv6" : "IPv4", function, unchecked((long)size));
                    return null;
                }

                var copy = new byte[(int)size];
                Marshal.Copy(table, copy, 0, copy.Length);
                warning = null;
                return copy;
            }
            finally
            {
                if (table != IntPtr.Zero)
                {
                    IpHelper.HeapFree(heap, 0, table);
                }
            }
        }
    }
}
