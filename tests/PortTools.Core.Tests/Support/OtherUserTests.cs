using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Xunit;

namespace PortTools.Tests.Support
{
    /// <summary>
    /// The set-up of the tests that run a child as another user, from a checkout in a private folder
    /// (as in root's home, 0700 on Debian): the child cannot reach the build output there, and runs
    /// from the copy that <see cref="OtherUser.CopyReadable"/> makes.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public sealed class OtherUserTests : IDisposable
    {
        private readonly string _private = Path.Combine(Path.GetTempPath(), "porttools-private-" + Guid.NewGuid().ToString("N"));
        private string? _copy;

        [OtherUserFact]
        public void A_TestHost_built_in_a_private_folder_runs_as_another_user_from_its_copy()
        {
            // The checkout's build output, inside a folder only its owner can enter.
            Directory.CreateDirectory(_private);
            File.SetUnixFileMode(_private, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string build = Path.Combine(_private, "checkout", "tests", "PortTools.TestHost", "bin", "Release", "net10.0");
            CopyDirectory(Path.GetDirectoryName(TestHost.DllPath)!, build);
            string dll = Path.Combine(build, Path.GetFileName(TestHost.DllPath));
            Assert.False(OtherUser.OthersCanRead(dll));

            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);

            // From the checkout itself, the other user's child cannot even load the TestHost.
            var direct = Assert.Throws<InvalidOperationException>(() => TestHost.Run(TestHost.StartInfo(dll, TestHost.NobodyUid, "read", "--local-address", address.ToString())));
            Assert.Contains("failed", direct.Message, StringComparison.Ordinal);

            // From the copy, it runs, as that user: root's listener is listed without its owner.
            _copy = OtherUser.CopyReadable(build);
            Assert.True(OtherUser.OthersCanRead(Path.Combine(_copy, Path.GetFileName(dll))));
            var lines = TestHost.Run(TestHost.StartInfo(Path.Combine(_copy, Path.GetFileName(dll)), TestHost.NobodyUid, "read", "--local-address", address.ToString()));
            Assert.Equal("1", lines.Single(l => l.Key == "count").Value);
            Assert.DoesNotContain("pid=", lines.Single(l => l.Key == "socket").Value, StringComparison.Ordinal);
            Assert.Single(lines, l => l.Key == "warning" && l.Value.StartsWith("The owning process of 1 socket(s) is not shown", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Key == "warning" && l.Value.StartsWith("The SO_REUSEADDR and SO_REUSEPORT of 1 ", StringComparison.Ordinal));
        }

        public void Dispose()
        {
            foreach (string? directory in new[] { _private, _copy })
            {
                if (directory is not null && Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        private static void CopyDirectory(string source, string target)
        {
            Directory.CreateDirectory(target);
            foreach (string file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }

            foreach (string directory in Directory.GetDirectories(source))
            {
                CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
            }
        }
    }
}
