using System;
using System.Runtime.InteropServices;
using Xunit;

namespace PortTools.Tests.Support
{
    /// <summary>A fact that runs only on Linux (the live reader and the kernel oracle).</summary>
    public sealed class LinuxFactAttribute : FactAttribute
    {
        public LinuxFactAttribute()
        {
            if (!OperatingSystem.IsLinux())
            {
                Skip = "Needs Linux: it reads the live kernel's socket tables.";
            }
        }
    }

    /// <summary>A fact that needs root on Linux (network namespaces, other users' processes).</summary>
    public sealed class LinuxRootFactAttribute : FactAttribute
    {
        public LinuxRootFactAttribute()
        {
            if (!OperatingSystem.IsLinux())
            {
                Skip = "Needs Linux.";
            }
            else if (geteuid() != 0)
            {
                Skip = "Needs root: it creates network namespaces or processes under other users.";
            }
        }

        [DllImport("libc")]
        private static extern uint geteuid();
    }

    /// <summary>A fact that runs a child process as another user: it needs root on Linux, setpriv, and a .NET runtime that user can reach.</summary>
    public sealed class OtherUserFactAttribute : FactAttribute
    {
        public OtherUserFactAttribute()
        {
            Skip = OtherUser.UnavailableReason;
        }
    }

    /// <summary>Root check for tests that decide at run time.</summary>
    public static class Privilege
    {
        public static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;

        [DllImport("libc")]
        private static extern uint geteuid();
    }
}
