using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace PortTools
{
    /// <summary>Facts about this host's network set-up that completers and defaults need.</summary>
    public static class HostNetwork
    {
        /// <summary>The named network namespaces (what ip netns list shows); empty off Linux.</summary>
        /// <returns>The names, sorted.</returns>
        public static IReadOnlyList<string> NamedNetworkNamespaces()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return Array.Empty<string>();
            }

            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (string directory in new[] { "/run/netns", "/var/run/netns" })
            {
                try
                {
                    foreach (string file in Directory.EnumerateFiles(directory))
                    {
                        names.Add(Path.GetFileName(file));
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }

            return names.ToArray();
        }
    }
}
