using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace PortTools.Windows
{
    /// <summary>
    /// Names for the pids iphlpapi reports, from one snapshot of the process list per read.
    /// </summary>
    internal static class WindowsProcessNames
    {
        /// <summary>The kernel's pid; it owns HTTP.sys listeners (port 80, 443, 5985, ...) and SMB's 445.</summary>
        internal const int SystemProcessId = 4;

        /// <summary>
        /// Every process's name as Get-Process shows it (the image name without ".exe"). One call:
        /// on Windows, Process.GetProcesses reads the whole list at once (NtQuerySystemInformation),
        /// needs no rights over the processes, and cannot fail on a process that exits meanwhile.
        /// </summary>
        public static Dictionary<int, string> Snapshot()
        {
            var names = new Dictionary<int, string>();
            Process[] processes = Process.GetProcesses();
            foreach (Process process in processes)
            {
                try
                {
                    names[process.Id] = process.ProcessName;
                }
                catch (InvalidOperationException)
                {
                    // It exited between the snapshot and this read.
                }
                finally
                {
                    process.Dispose();
                }
            }

            return names;
        }

        /// <summary>
        /// The owner of a row with <paramref name="processId"/>, or null when no process holds it:
        /// pid 0 is what the tables report for TIME_WAIT and for endpoints whose owner "is
        /// unavailable" (MIB_UDP6ROW_OWNER_PID), not the System Idle Process.
        /// </summary>
        public static SocketOwner? Owner(uint processId, IReadOnlyDictionary<int, string>? names, Dictionary<uint, SocketOwner> cache)
        {
            if (processId == 0 || processId > int.MaxValue)
            {
                return null;
            }

            if (!cache.TryGetValue(processId, out SocketOwner? owner))
            {
                int pid = (int)processId;
                string? name = null;
                if (names is not null && !names.TryGetValue(pid, out name))
                {
                    name = null; // exited after its socket was listed
                }

                if (pid == SystemProcessId)
                {
                    name = "System";
                }

                owner = new SocketOwner(pid, name);
                cache[processId] = owner;
            }

            return owner;
        }
    }
}
