using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    public class ProcessSocketMapTests
    {
        [Theory]
        [InlineData("socket:[12345]", 12345ul)]
        [InlineData("socket:[0]", 0ul)]
        [InlineData("pipe:[12345]", 0ul)]
        [InlineData("socket:[12a45]", 0ul)]
        [InlineData("/dev/null", 0ul)]
        [InlineData("socket:[12345", 0ul)]
        public void Reads_the_inode_of_socket_links_only(string link, ulong expected)
        {
            Assert.Equal(expected, ProcessSocketMap.ParseSocketLink(Encoding.ASCII.GetBytes(link)));
        }

        [LinuxFact]
        public void Walks_a_proc_tree_and_keeps_every_owner_of_a_shared_socket()
        {
            string root = Path.Combine(Path.GetTempPath(), "pt-proc-" + Guid.NewGuid().ToString("N"));
            try
            {
                MakeFd(root, 100, 3, "socket:[5001]");
                MakeFd(root, 100, 4, "pipe:[7]");
                MakeFd(root, 100, 5, "socket:[5001]"); // dup in the same process: one owner
                MakeFd(root, 200, 3, "socket:[5001]"); // inherited after fork: a second owner
                MakeFd(root, 200, 9, "socket:[5002]");
                Directory.CreateDirectory(Path.Combine(root, "self"));
                Directory.CreateDirectory(Path.Combine(root, "300")); // exited: no fd directory

                ProcessSocketMap map = ProcessSocketMap.Build(root, 16, CancellationToken.None);
                var owners = new List<int>();
                Assert.True(map.TryGetOwners(5001, owners));
                Assert.Equal(new[] { 100, 200 }, Sorted(owners));
                Assert.True(map.TryGetOwners(5002, owners));
                Assert.Equal(new[] { 200 }, owners);
                Assert.False(map.TryGetOwners(7, owners));
                Assert.False(map.TryGetOwners(0, owners));
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static int[] Sorted(List<int> values)
        {
            int[] array = values.ToArray();
            Array.Sort(array);
            return array;
        }

        private static void MakeFd(string root, int pid, int fd, string target)
        {
            string directory = Path.Combine(root, pid.ToString(), "fd");
            Directory.CreateDirectory(directory);
            File.CreateSymbolicLink(Path.Combine(directory, fd.ToString()), target);
        }
    }
}
