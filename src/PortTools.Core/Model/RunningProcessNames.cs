using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PortTools
{
    /// <summary>
    /// The names of this host's processes as socket owners carry them, which -ProcessName matches: on
    /// Linux the kernel's command name (nginx, not "nginx: worker process"), without kernel threads;
    /// elsewhere the name .NET gives, which is the one the live readers use there.
    /// </summary>
    public static class RunningProcessNames
    {
        /// <summary>Reads the names now.</summary>
        /// <returns>The names, one per process (duplicates included), in no particular order.</returns>
        public static IReadOnlyList<string> Read()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return Linux.ProcessNames.ReadAll("/proc");
            }

            var names = new List<string>();
            foreach (Process process in Process.GetProcesses())
            {
                try
                {
                    names.Add(process.ProcessName);
                }
                catch (InvalidOperationException)
                {
                    // exited while listing
                }
                finally
                {
                    process.Dispose();
                }
            }

            return names;
        }
    }
}
