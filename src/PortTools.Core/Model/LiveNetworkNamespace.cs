using System;
using System.Runtime.InteropServices;

namespace PortTools
{
    /// <summary>The network namespaces of this host, as a cmdlet names them.</summary>
    public static class LiveNetworkNamespace
    {
        /// <summary>Describes a namespace of this host given as for -NetworkNamespace: a name, a namespace file path, or a process id.</summary>
        /// <param name="specification">The namespace.</param>
        /// <returns>Its inode, name and (when given by one) a process inside it.</returns>
        /// <exception cref="NetworkNamespaceException">It does not exist or cannot be examined.</exception>
        /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
        public static NetworkNamespaceInfo Describe(string specification)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux.");
            }

            return Linux.NetworkNamespace.Resolve(specification).Identify();
        }

        /// <summary>The inode of a namespace given as for -NetworkNamespace.</summary>
        /// <param name="specification">The namespace.</param>
        /// <returns>Its inode.</returns>
        public static ulong InodeOf(string specification) => Describe(specification).Inode;
    }
}
