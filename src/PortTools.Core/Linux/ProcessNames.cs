using System;
using System.IO;
using System.Text;

namespace PortTools.Linux
{
    /// <summary>
    /// Process names as ss, ps -o comm and top show them on Linux: the kernel's command name.
    /// (.NET's Process.ProcessName prefers argv[0], which daemons such as nginx rewrite into
    /// "nginx: master process ..."; the command name stays "nginx", which is what people filter on.)
    /// </summary>
    internal static class ProcessNames
    {
        // The kernel truncates comm to TASK_COMM_LEN - 1 characters.
        private const int CommLength = 15;

        /// <summary>
        /// /proc/[pid]/comm; when that is cut at 15 characters, the file name of argv[0] if it starts
        /// with the same text. Null if the process has exited.
        /// </summary>
        public static string? Read(string procRoot, int pid)
        {
            string directory = procRoot + "/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string comm;
            try
            {
                comm = File.ReadAllText(directory + "/comm").TrimEnd('\n');
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }

            if (comm.Length < CommLength)
            {
                return comm;
            }

            try
            {
                byte[] cmdline = File.ReadAllBytes(directory + "/cmdline");
                int end = Array.IndexOf(cmdline, (byte)0);
                string argv0 = Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
                string name = Path.GetFileName(argv0);
                return name.StartsWith(comm, StringComparison.Ordinal) ? name : comm;
            }
            catch (IOException)
            {
                return comm;
            }
            catch (UnauthorizedAccessException)
            {
                return comm;
            }
        }
    }
}
