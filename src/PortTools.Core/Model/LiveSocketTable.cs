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
        /// <returns>The sockets and any warnings.</returns>
        /// <exception cref="PlatformNotSupportedException">There is no reader for this OS, or a network namespace was asked for off Linux.</exception>
        /// <exception cref="NetworkNamespaceException">The requested namespace cannot be read.</exception>
        /// <exception cref="System.IO.IOException">The platform's socket table could not be read.</exception>
        public static SocketTableReadResult Read(SocketQuery query, CancellationToken cancellationToken = default)
        {
            if (query is null)
            {
                throw new ArgumentNullException(nameof(query));
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return Linux.LinuxSocketReader.Read(query, cancellationToken);
            }

            if (query.NetworkNamespace is not null)
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; -NetworkNamespace cannot be used on " + RuntimeInformation.OSDescription + ".");
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return Windows.WindowsSocketReader.Read(query, cancellationToken);
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
            {
                return MacOS.MacSocketReader.Read(query, cancellationToken);
            }

            throw new PlatformNotSupportedException("Reading the live socket table is not available on " + RuntimeInformation.OSDescription + " in this version: only Linux, Windows and macOS are supported.");
        }
    }
}
