using System.Runtime.InteropServices;

namespace PortTools
{
    /// <summary>
    /// An operating system whose port rules PortTools knows. The rules differ (privileged ports,
    /// ephemeral ranges, TIME_WAIT, sharing a source port across destinations), so every
    /// computation that depends on them takes the OS as a value instead of assuming the one it runs on.
    /// </summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum TargetOS : long
    {
        /// <summary>Linux.</summary>
        Linux,

        /// <summary>Windows (Vista and later).</summary>
        Windows,

        /// <summary>FreeBSD.</summary>
        FreeBSD,

        /// <summary>macOS (XNU).</summary>
        MacOS,
    }

    /// <summary>Which <see cref="TargetOS"/> this process runs on.</summary>
    public static class TargetOSInfo
    {
        /// <summary>The OS of this process; Linux when the runtime names none of the four.</summary>
        public static TargetOS Current
        {
            get
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                {
                    return TargetOS.Windows;
                }

                if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
                {
                    return TargetOS.MacOS;
                }

                return RuntimeInformation.OSDescription.IndexOf("FreeBSD", System.StringComparison.OrdinalIgnoreCase) >= 0 ? TargetOS.FreeBSD : TargetOS.Linux;
            }
        }
    }
}
