using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools
{
    /// <summary>Reads this host's UNIX domain sockets.</summary>
    public static class LiveUnixSocketTable
    {
        /// <summary>Reads the UNIX domain sockets the query asks for (Linux).</summary>
        /// <param name="query">Filters and options.</param>
        /// <param name="cancellationToken">Stops the read promptly.</param>
        /// <param name="progress">Counts the read's progress, for a progress bar; null when nobody watches.</param>
        /// <returns>The sockets and any warnings.</returns>
        /// <exception cref="PlatformNotSupportedException">Not on Linux: other systems have no interface that lists every UNIX socket with its peer.</exception>
        /// <exception cref="NetworkNamespaceException">The requested namespace cannot be read.</exception>
        /// <exception cref="System.IO.IOException">Neither netlink nor /proc/net/unix could be read.</exception>
        public static UnixSocketReadResult Read(UnixSocketQuery query, CancellationToken cancellationToken = default, SocketReadProgress? progress = null)
        {
            if (query is null)
            {
                throw new ArgumentNullException(nameof(query));
            }

            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                throw new PlatformNotSupportedException("Listing UNIX domain sockets is available on Linux only in this version (" + RuntimeInformation.OSDescription + " is not).");
            }

            return query.AllNetworkNamespaces
                ? Linux.AllNamespacesReader.ReadUnix(query, cancellationToken, progress)
                : Linux.UnixSocketReader.Read(query, cancellationToken, Linux.LinuxTableSource.Automatic, progress);
        }
    }
}
