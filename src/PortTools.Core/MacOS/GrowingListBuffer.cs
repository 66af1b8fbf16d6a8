namespace PortTools.MacOS
{
    /// <summary>A libproc call that fills <paramref name="buffer"/> with a list and returns the bytes written, or 0 with the errno.</summary>
    internal delegate int ListCall(byte[] buffer, out int errno);

    /// <summary>
    /// The retry loop for libproc's lists (pids, a process's descriptors). The kernel copies at most
    /// as many entries as the buffer holds and says nothing of the rest (proc_listpids and
    /// proc_pidfdlist in XNU's bsd/kern/proc_info.c), so a full buffer may have been cut short: it
    /// is doubled and the call repeated until the answer leaves room to spare.
    /// </summary>
    internal static class GrowingListBuffer
    {
        /// <summary>64 MiB: 8 million descriptors or 16 million pids, far past any kernel limit.</summary>
        public const int MaxLength = 64 * 1024 * 1024;

        /// <summary>
        /// Fills <paramref name="buffer"/> (replacing it with a larger one when needed; lengths stay
        /// powers of two, so every entry size divides them). Returns the bytes of the list, 0 for an
        /// empty list, or -1 when the call failed with <paramref name="errno"/>.
        /// </summary>
        public static int Fill(ref byte[] buffer, ListCall call, out int errno)
        {
            while (true)
            {
                int bytes = call(buffer, out errno);
                if (bytes <= 0)
                {
                    return errno == 0 ? 0 : -1;
                }

                if (bytes < buffer.Length || buffer.Length >= MaxLength)
                {
                    return bytes;
                }

                buffer = new byte[buffer.Length * 2];
            }
        }
    }
}
