using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace PortTools.MacOS
{
    /// <summary>
    /// Decodes libproc's process lists and process records. Layouts from XNU's bsd/sys/proc_info.h
    /// (apple-oss-distributions/xnu, tag xnu-11417.101.15), LP64, little-endian.
    /// </summary>
    internal static class ProcessListDecoder
    {
        /// <summary>sizeof(struct proc_fdinfo): int32_t proc_fd, uint32_t proc_fdtype.</summary>
        internal const int FdInfoLength = 8;

        /// <summary>sizeof(struct proc_bsdinfo).</summary>
        internal const int BsdInfoLength = 136;

        /// <summary>PROX_FDTYPE_SOCKET: the descriptor is a socket.</summary>
        private const uint ProxFdtypeSocket = 2;

        private const int PbiUid = 20;      // uid_t pbi_uid: the effective uid
        private const int PbiComm = 48;     // char pbi_comm[MAXCOMLEN]: the command name, cut at 16 bytes
        private const int CommLength = 16;  // MAXCOMLEN, bsd/sys/param.h
        private const int PbiName = 64;     // char pbi_name[2 * MAXCOMLEN]: "empty if no name is registered"
        private const int NameLength = 32;

        /// <summary>The pids of proc_listpids(PROC_ALL_PIDS): an array of int.</summary>
        public static List<int> Pids(ReadOnlySpan<byte> list)
        {
            var pids = new List<int>(list.Length / 4);
            for (int offset = 0; offset + 4 <= list.Length; offset += 4)
            {
                int pid = BinaryPrimitives.ReadInt32LittleEndian(list.Slice(offset));
                if (pid > 0)
                {
                    pids.Add(pid); // 0 is the kernel, which holds no descriptors
                }
            }

            return pids;
        }

        /// <summary>The socket descriptors of proc_pidinfo(PROC_PIDLISTFDS): an array of struct proc_fdinfo.</summary>
        public static void SocketDescriptors(ReadOnlySpan<byte> list, List<int> into)
        {
            into.Clear();
            for (int offset = 0; offset + FdInfoLength <= list.Length; offset += FdInfoLength)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(list.Slice(offset + 4)) == ProxFdtypeSocket)
                {
                    into.Add(BinaryPrimitives.ReadInt32LittleEndian(list.Slice(offset)));
                }
            }
        }

        /// <summary>
        /// A process's name and effective uid from struct proc_bsdinfo. The name is what libproc's
        /// proc_name returns: pbi_name when one is registered, else pbi_comm.
        /// </summary>
        public static bool TryReadBsdInfo(ReadOnlySpan<byte> info, out string name, out uint userId)
        {
            if (info.Length < BsdInfoLength)
            {
                name = string.Empty;
                userId = 0;
                return false;
            }

            userId = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(PbiUid));
            ReadOnlySpan<byte> registered = info.Slice(PbiName, NameLength);
            name = CString(registered[0] != 0 ? registered : info.Slice(PbiComm, CommLength));
            return true;
        }

        /// <summary>A C string in a fixed array, which need not end in NUL when it fills the array.</summary>
        private static string CString(ReadOnlySpan<byte> field)
        {
            int length = field.IndexOf((byte)0);
            return Encoding.UTF8.GetString(field.Slice(0, length < 0 ? field.Length : length).ToArray());
        }
    }
}
