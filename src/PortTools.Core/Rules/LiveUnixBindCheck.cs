using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace PortTools
{
    /// <summary>Whether a UNIX socket could bind a path or abstract name on this host, and what stands in the way.</summary>
    public static class LiveUnixBindCheck
    {
        /// <summary>Checks a path (walked as bind() walks it, a socket file probed for a bound socket) or an abstract name (against the namespace's sockets).</summary>
        /// <param name="path">A path, or @name for an abstract name.</param>
        /// <param name="fullPath">For a path, its absolute form (a relative path resolved by the caller); null resolves it against the process's working directory.</param>
        /// <param name="userId">Evaluate directory permissions for this uid; null for the caller's own (effective ids, groups, ACLs).</param>
        /// <param name="networkNamespace">For an abstract name, the network namespace to look in; null for this process's.</param>
        /// <param name="type">The type of the socket to bind (Stream by default): an abstract name is taken only by a socket of the same type.</param>
        /// <param name="cancellationToken">Stops the reads of the socket tables.</param>
        /// <returns>The answer.</returns>
        /// <exception cref="ArgumentException">The address is empty, or a path holds a NUL.</exception>
        /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
        public static UnixBindResult Probe(string path, string? fullPath = null, long? userId = null, string? networkNamespace = null, UnixSocketType type = UnixSocketType.Stream, CancellationToken cancellationToken = default)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                throw new PlatformNotSupportedException("Checking a UNIX socket path on this host is available on Linux only in this version.");
            }

            return Linux.UnixPathProbe.Probe(path, fullPath, userId, networkNamespace, type, cancellationToken);
        }
    }
}
