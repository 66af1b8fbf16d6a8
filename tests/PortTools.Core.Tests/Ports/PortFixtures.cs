using System.IO;
using System.Runtime.CompilerServices;

namespace PortTools.Tests.Ports
{
    /// <summary>
    /// Fixture trees under Ports/Fixtures, found beside this source file: each is a filesystem root
    /// with the files a reader takes under its root path (proc/sys/net/ipv4/*, proc/self/status, etc/services).
    /// </summary>
    public static class PortFixtures
    {
        /// <summary>The root of one fixture tree, such as "linux-tuned".</summary>
        public static string Root(string name) => Path.Combine(Directory(), "Fixtures", name);

        private static string Directory([CallerFilePath] string thisFile = "") => Path.GetDirectoryName(thisFile)!;
    }
}
