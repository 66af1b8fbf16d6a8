using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools
{
    /// <summary>Reads this host's socket table.</summary>
    public static class LiveSocketTable
    {
        /// <summary>Reads the sockets the query asks for.</summary>
        /// <param name="query">Filters and options.</param>
        /// <param name="cancellationToken">Stops the read promptly.</param>
        /// <param name="progress">Counts the read's progress as it goes, for a progress bar; null when nobody watches.</param>
        /// <returns>The sockets and any warnings.</returns>
        /// <exception cref="PlatformNotSupportedException">There is no reader for this OS, or a network namespace was asked for off Linux.</exception>
        /// <exception cref="NetworkNamespaceException">The requested namespace cannot be read.</exception>
        /// <exception cref="System.IO.IOException">The platform's socket table could not be read.</exception>
        public static SocketTableReadResult Read(SocketQuery query, CancellationToken cancellationToken = default, SocketReadProgress? progress = null)
        {
            if (query is null)
            {
                throw new ArgumentNullException(nameof(query));
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return Linux.LinuxSocketReader.Read(query, cancellationToken, Linux.LinuxTableSource.Automatic, progress);
            }

            if (query.NetworkNamespace is not null || query.AllNetworkNamespaces)
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; " + (query.AllNetworkNamespaces ? "-AllNetworkNamespaces" : "-NetworkNamespace") + " cannot be used on " + RuntimeInformation.OSDescription + ".");
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return Windows.WindowsSocketReader.Read(query, cancellationToken, progress);
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
            {
                return MacOS.MacSocketReader.Read(query, cancellationToken, progress);
            }

            throw new PlatformNotSupportedException("Reading the live socket table is not available on " + RuntimeInformation.OSDescription + " in this version: only Linux, Windows and macOS are supported.");
        }
    }
}
