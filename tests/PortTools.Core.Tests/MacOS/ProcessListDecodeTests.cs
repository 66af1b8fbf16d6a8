using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using PortTools.MacOS;
using Xunit;

namespace PortTools.Tests.MacOS
{
    /// <summary>
    /// libproc's lists and process records, laid out per XNU's bsd/sys/proc_info.h
    /// (apple-oss-distributions/xnu tag xnu-11417.101.15), LP64: proc_listpids fills an int array;
    /// PROC_PIDLISTFDS fills struct proc_fdinfo { int32_t proc_fd; uint32_t proc_fdtype; } (8 bytes,
    /// PROX_FDTYPE_SOCKET = 2); PROC_PIDTBSDINFO fills struct proc_bsdinfo (136 bytes) with pbi_uid at
    /// 20, pbi_comm[MAXCOMLEN = 16] at 48 and pbi_name[2 * MAXCOMLEN] at 64.
    /// </summary>
    public class ProcessListDecodeTests
    {
        [Fact]
        public void Lists_pids_without_the_kernel()
        {
            var list = new byte[5 * 4];
            int[] pids = { 812, 1, 0, 45231, 99 };
            for (int i = 0; i < pids.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(list.AsSpan(i * 4), pids[i]);
            }

            Assert.Equal(new[] { 812, 1, 45231, 99 }, ProcessListDecoder.Pids(list));
        }

        [Fact]
        public void Keeps_only_socket_descriptors()
        {
            (int Fd, uint Type)[] entries = { (0, 1), (1, 1), (3, 2), (4, 6), (5, 2), (7, 5) }; // vnode, vnode, socket, pipe, socket, kqueue
            var list = new byte[entries.Length * 8];
            for (int i = 0; i < entries.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(list.AsSpan(i * 8), entries[i].Fd);
                BinaryPrimitives.WriteUInt32LittleEndian(list.AsSpan((i * 8) + 4), entries[i].Type);
            }

            var sockets = new List<int> { 99 };
            ProcessListDecoder.SocketDescriptors(list, sockets);
            Assert.Equal(new[] { 3, 5 }, sockets);
        }

        private static byte[] BsdInfo(uint uid, string comm, string name)
        {
            var info = new byte[136];
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(12), 812); // pbi_pid
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(20), uid);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(28), 0);   // pbi_ruid
            Encoding.UTF8.GetBytes(comm).CopyTo(info, 48);
            Encoding.UTF8.GetBytes(name).CopyTo(info, 64);
            return info;
        }

        [Fact]
        public void Reads_the_registered_name_and_the_effective_uid()
        {
            Assert.True(ProcessListDecoder.TryReadBsdInfo(BsdInfo(501, "com.docker.backe", "com.docker.backend"), out string name, out uint uid));
            Assert.Equal("com.docker.backend", name);
            Assert.Equal(501u, uid);
        }

        [Fact]
        public void Falls_back_to_the_command_name_as_proc_name_does()
        {
            Assert.True(ProcessListDecoder.TryReadBsdInfo(BsdInfo(0, "mDNSResponder", string.Empty), out string name, out uint uid));
            Assert.Equal("mDNSResponder", name);
            Assert.Equal(0u, uid);
        }

        [Fact]
        public void Names_that_fill_their_array_have_no_terminator()
        {
            Assert.True(ProcessListDecoder.TryReadBsdInfo(BsdInfo(0, "abcdefghijklmnop", string.Empty), out string comm, out _));
            Assert.Equal("abcdefghijklmnop", comm);
            Assert.True(ProcessListDecoder.TryReadBsdInfo(BsdInfo(0, "x", new string('n', 32)), out string name, out _));
            Assert.Equal(new string('n', 32), name);
        }

        [Fact]
        public void A_short_record_is_rejected()
        {
            Assert.False(ProcessListDecoder.TryReadBsdInfo(new byte[100], out _, out _));
        }
    }

    /// <summary>
    /// The retry loop for libproc's lists: the kernel copies what fits and says nothing of the rest
    /// (proc_listpids and proc_pidfdlist, bsd/kern/proc_info.c), so a full buffer is retried larger.
    /// </summary>
    public class GrowingListBufferTests
    {
        private static ListCall Holding(int listBytes, List<int> offered) => (byte[] buffer, out int errno) =>
        {
            offered.Add(buffer.Length);
            errno = 0;
            return Math.Min(listBytes, buffer.Length);
        };

        [Fact]
        public void A_list_with_room_to_spare_takes_one_call()
        {
            var offered = new List<int>();
            byte[] buffer = new byte[64];
            Assert.Equal(40, GrowingListBuffer.Fill(ref buffer, Holding(40, offered), out _));
            Assert.Single(offered);
        }

        [Fact]
        public void A_full_buffer_is_doubled_until_the_list_fits()
        {
            var offered = new List<int>();
            byte[] buffer = new byte[64];
            Assert.Equal(300, GrowingListBuffer.Fill(ref buffer, Holding(300, offered), out _));
            Assert.Equal(new[] { 64, 128, 256, 512 }, offered);
            Assert.Equal(512, buffer.Length);
        }

        [Fact]
        public void A_list_exactly_as_long_as_the_buffer_is_checked_again()
        {
            var offered = new List<int>();
            byte[] buffer = new byte[64];
            Assert.Equal(64, GrowingListBuffer.Fill(ref buffer, Holding(64, offered), out _));
            Assert.Equal(new[] { 64, 128 }, offered);
        }

        [Fact]
        public void An_empty_list_is_zero_and_a_failure_is_minus_one_with_errno()
        {
            byte[] buffer = new byte[64];
            Assert.Equal(0, GrowingListBuffer.Fill(ref buffer, (byte[] b, out int e) => { e = 0; return 0; }, out int none));
            Assert.Equal(0, none);
            Assert.Equal(-1, GrowingListBuffer.Fill(ref buffer, (byte[] b, out int e) => { e = LibProc.EPERM; return 0; }, out int errno));
            Assert.Equal(LibProc.EPERM, errno);
        }
    }

    /// <summary>What the macOS reader says once, whatever the number of sockets.</summary>
    public class MacWarningTests
    {
        [Fact]
        public void One_warning_counts_the_processes_that_could_not_be_inspected()
        {
            string warning = Assert.Single(MacSocketReader.Warnings(new SocketQuery(), 173));
            Assert.StartsWith("173 processes could not be inspected", warning, StringComparison.Ordinal);
            Assert.Contains("sudo", warning, StringComparison.Ordinal);
        }

        [Fact]
        public void No_warning_when_every_process_was_inspected()
        {
            Assert.Empty(MacSocketReader.Warnings(new SocketQuery(), 0));
        }

        [Fact]
        public void Asking_for_TIME_WAIT_says_why_none_are_listed()
        {
            string warning = Assert.Single(MacSocketReader.Warnings(new SocketQuery { States = new[] { SocketState.TimeWait } }, 0));
            Assert.Contains("TIME_WAIT", warning, StringComparison.Ordinal);
        }
    }
}
