using System;
using System.ComponentModel;
using System.Globalization;
using System.IO;

namespace PortTools.Windows
{
    /// <summary>
    /// A native call that copies a table into <paramref name="buffer"/> and returns NO_ERROR, or
    /// returns ERROR_INSUFFICIENT_BUFFER with the size it needs in <paramref name="size"/>.
    /// </summary>
    internal delegate uint TableCall(byte[] buffer, ref uint size);

    /// <summary>
    /// The grow-and-retry loop that iphlpapi's table functions need: the table can grow between the
    /// call that says how big it is and the call that copies it, so a read that comes back too small
    /// is retried with a bigger buffer, a bounded number of times.
    /// </summary>
    internal static class GrowingTableBuffer
    {
        /// <summary>NO_ERROR (winerror.h).</summary>
        public const uint NoError = 0;

        /// <summary>ERROR_INSUFFICIENT_BUFFER (winerror.h).</summary>
        public const uint ErrorInsufficientBuffer = 122;

        /// <summary>A busy host adds connections between two calls; eight rounds of growth is far more than that needs.</summary>
        public const int MaxAttempts = 8;

        /// <summary>Room for about 700 IPv4 TCP rows: most hosts' tables fit in the first call.</summary>
        public const int InitialSize = 16 * 1024;

        /// <summary>
        /// Calls until the table fits and returns the buffer that holds it (possibly
        /// <paramref name="reuse"/>, possibly larger than the table).
        /// </summary>
        /// <exception cref="IOException">The call failed, or the table kept outgrowing the buffer.</exception>
        public static byte[] Read(TableCall call, string tableName, byte[]? reuse = null)
        {
            byte[] buffer = reuse ?? new byte[InitialSize];
            for (int attempt = 0; attempt < MaxAttempts; attempt++)
            {
                uint size = (uint)buffer.Length;
                uint status = call(buffer, ref size);
                if (status == NoError)
                {
                    return buffer;
                }

                if (status != ErrorInsufficientBuffer)
                {
                    var native = new Win32Exception(unchecked((int)status));
                    throw new IOException(string.Format(CultureInfo.InvariantCulture, "Reading the {0} failed with Windows error {1}: {2}", tableName, status, native.Message), native);
                }

                // Leave room for the rows that arrive before the next call.
                long needed = Math.Max(size, (uint)buffer.Length + 1u);
                long next = needed + (needed / 8) + 1024;
                if (next > int.MaxValue)
                {
                    break;
                }

                buffer = new byte[next];
            }

            throw new IOException(string.Format(CultureInfo.InvariantCulture, "The {0} kept growing faster than it could be read ({1} attempts); try again.", tableName, MaxAttempts));
        }
    }
}
