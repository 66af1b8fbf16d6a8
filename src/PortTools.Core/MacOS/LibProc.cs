using System.Runtime.InteropServices;

namespace PortTools.MacOS
{
    /// <summary>
    /// The libproc calls the macOS reader makes. Thin: no logic lives here. Each returns the bytes it
    /// wrote, or 0 with the errno (libsyscall/wrappers/libproc/libproc.c in XNU returns 0 when the
    /// proc_info call fails). Values from XNU's bsd/sys/proc_info.h (xnu-11417.101.15).
    /// </summary>
    internal static class LibProc
    {
        // The name dotnet/runtime itself binds for these calls (Interop.Libraries.libproc): /usr/lib/libproc.dylib.
        private const string Library = "libproc";

        /// <summary>PROC_ALL_PIDS: proc_listpids lists every process.</summary>
        public const uint PROC_ALL_PIDS = 1;

        /// <summary>PROC_PIDLISTFDS: proc_pidinfo fills an array of struct proc_fdinfo.</summary>
        public const int PROC_PIDLISTFDS = 1;

        /// <summary>PROC_PIDTBSDINFO: proc_pidinfo fills a struct proc_bsdinfo.</summary>
        public const int PROC_PIDTBSDINFO = 3;

        /// <summary>PROC_PIDFDSOCKETINFO: proc_pidfdinfo fills a struct socket_fdinfo.</summary>
        public const int PROC_PIDFDSOCKETINFO = 3;

        /// <summary>EPERM (bsd/sys/errno.h): the process belongs to another user and the caller is not root.</summary>
        public const int EPERM = 1;

        /// <summary>ESRCH (bsd/sys/errno.h): the process has exited.</summary>
        public const int ESRCH = 3;

        public static int ListPids(byte[] buffer, out int errno) => Result(proc_listpids(PROC_ALL_PIDS, 0, buffer, buffer.Length), out errno);

        public static int ListDescriptors(int pid, byte[] buffer, out int errno) => Result(proc_pidinfo(pid, PROC_PIDLISTFDS, 0, buffer, buffer.Length), out errno);

        public static int BsdInfo(int pid, byte[] buffer, out int errno) => Result(proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, buffer, buffer.Length), out errno);

        public static int SocketInfo(int pid, int fd, byte[] buffer, out int errno) => Result(proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, buffer, buffer.Length), out errno);

        private static int Result(int bytes, out int errno)
        {
            errno = bytes > 0 ? 0 : Marshal.GetLastWin32Error();
            return bytes;
        }

        [DllImport(Library, SetLastError = true)]
        private static extern int proc_listpids(uint type, uint typeinfo, [Out] byte[] buffer, int buffersize);

        [DllImport(Library, SetLastError = true)]
        private static extern int proc_pidinfo(int pid, int flavor, ulong arg, [Out] byte[] buffer, int buffersize);

        [DllImport(Library, SetLastError = true)]
        private static extern int proc_pidfdinfo(int pid, int fd, int flavor, [Out] byte[] buffer, int buffersize);
    }
}
