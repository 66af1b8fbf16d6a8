using System;
using System.Runtime.InteropServices;

namespace PortTools.Windows
{
    /// <summary>A REG_DWORD read: the Win32 status of the read and, when it is 0, the value.</summary>
    internal readonly struct RegistryDword
    {
        public RegistryDword(int status, uint value)
        {
            Status = status;
            Value = value;
        }

        /// <summary>ERROR_SUCCESS (0), ERROR_FILE_NOT_FOUND (2) when the value is not set, or another Win32 error.</summary>
        public int Status { get; }

        public uint Value { get; }

        public static RegistryDword NotSet => new RegistryDword(TcpipRegistry.ErrorFileNotFound, 0);
    }

    /// <summary>
    /// Reads TcpTimedWaitDelay from HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters. Thin:
    /// one RegGetValueW call (winreg.h, advapi32.dll; Microsoft Learn "RegGetValueW function") with
    /// RRF_RT_REG_DWORD (0x10), so no registry package is needed: Microsoft.Win32.Registry is not
    /// part of netstandard2.0, and shipping its package beside the module invites assembly conflicts.
    /// </summary>
    internal static class TcpipRegistry
    {
        public const string ParametersKey = @"SYSTEM\CurrentControlSet\Services\Tcpip\Parameters";

        public const string TimedWaitDelayValue = "TcpTimedWaitDelay";

        /// <summary>ERROR_FILE_NOT_FOUND (winerror.h): the value (or key) does not exist.</summary>
        public const int ErrorFileNotFound = 2;

        // HKEY_LOCAL_MACHINE is ((HKEY)(ULONG_PTR)((LONG)0x80000002)) in winreg.h: sign-extended on 64-bit.
        private static readonly IntPtr s_localMachine = new IntPtr(unchecked((int)0x80000002));

        private const uint RrfRtRegDword = 0x00000010;

        public static RegistryDword ReadTcpTimedWaitDelay()
        {
            uint size = sizeof(uint);
            int status = RegGetValueW(s_localMachine, ParametersKey, TimedWaitDelayValue, RrfRtRegDword, IntPtr.Zero, out uint value, ref size);
            return new RegistryDword(status, status == 0 ? value : 0);
        }

        [DllImport("advapi32.dll", CharSet = CharSet.Unicode, ExactSpelling = true)]
        private static extern int RegGetValueW(IntPtr key, string subKey, string valueName, uint flags, IntPtr type, out uint data, ref uint dataSize);
    }
}
