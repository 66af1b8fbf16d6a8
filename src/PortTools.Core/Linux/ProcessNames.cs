using System;
using System.Collections.Generic;
using System.Globalization;
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
        /// The names of the processes under procRoot as <see cref="Read"/> gives them, without kernel
        /// threads (whose cmdline is empty: they hold no sockets of their own).
        /// </summary>
        public static List<string> ReadAll(string procRoot)
        {
            var names = new List<string>();
            string[] directories;
            try
            {
                directories = Directory.GetDirectories(procRoot);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return names;
            }

            foreach (string directory in directories)
            {
                string leaf = Path.GetFileName(directory);
                if (!int.TryParse(leaf, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    continue;
                }

                try
                {
                    using var cmdline = new FileStream(directory + "/cmdline", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                    if (cmdline.ReadByte() < 0)
                    {
                        continue;
                    }
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    continue;
                }

                if (Read(procRoot, pid) is string name)
                {
                    names.Add(name);
                }
            }

            return names;
        }

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
