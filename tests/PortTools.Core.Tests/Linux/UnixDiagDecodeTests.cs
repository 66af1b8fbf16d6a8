using System;
using System.Collections.Generic;
using System.Text;
using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>unix_diag_msg records and /proc/net/unix lines laid out as include/uapi/linux/unix_diag.h and unix_seq_show define them.</summary>
    public class UnixDiagDecodeTests
    {
        private static byte[] Attribute(ushort type, byte[] payload)
        {
            int length = 4 + payload.Length;
            var attribute = new byte[(length + 3) & ~3];
            BitConverter.GetBytes((ushort)length).CopyTo(attribute, 0);
            BitConverter.GetBytes(type).CopyTo(attribute, 2);
            payload.CopyTo(attribute, 4);
            return attribute;
        }

        private static byte[] Message(byte type, byte state, uint inode, params byte[][] attributes)
        {
            var message = new List<byte> { 1, type, state, 0 };
            message.AddRange(BitConverter.GetBytes(inode));
            message.AddRange(new byte[8]); // cookie
            foreach (byte[] attribute in attributes)
            {
                message.AddRange(attribute);
            }

            return message.ToArray();
        }

        private static byte[] U32(params uint[] values)
        {
            var bytes = new List<byte>();
            foreach (uint value in values)
            {
                bytes.AddRange(BitConverter.GetBytes(value));
            }

            return bytes.ToArray();
        }

        [Fact]
        public void Decodes_a_listener_with_name_file_queues_pending_clients_and_uid()
        {
            var table = new RawUnixSocketTable();
            byte[] name = Encoding.UTF8.GetBytes("/run/app.sock\0");
            uint device = (254u << 20) | 3; // the kernel's dev_t: major 254, minor 3
            UnixDiagReader.Decode(Message(1, 10, 4242, Attribute(0, name), Attribute(1, U32(777, device)), Attribute(3, U32(5001, 5002)), Attribute(4, U32(2, 128)), Attribute(7, U32(1000))), table);

            RawUnixSocketTable.Record record = table[0];
            Assert.Equal((1, 10, 4242u, 777u, 2u, 128u, 1000u), (record.Type, record.KernelState, record.Inode, record.FileInode, record.ReceiveQueue, record.SendQueue, record.UserId));
            Assert.Equal("254:3", UnixSocketReader.DeviceText(record.FileDevice));
            Assert.Equal(new uint[] { 5001, 5002 }, table.Icons(0).ToArray());
            Assert.Equal("/run/app.sock", UnixNameCache.Decode(table.Name(0)));
            Assert.Equal(SocketState.Listen, UnixSocketReader.MapState(record.KernelState));
        }

        [Fact]
        public void Decodes_an_abstract_name_with_NULs_and_a_peer()
        {
            var table = new RawUnixSocketTable();
            UnixDiagReader.Decode(Message(2, 1, 9, Attribute(0, Encoding.ASCII.GetBytes("\0ab\0c")), Attribute(2, U32(10))), table);
            Assert.Equal("@ab@c", UnixNameCache.Decode(table.Name(0)));
            Assert.Equal((10u, false, false), (table[0].Peer, table[0].HasQueues, table[0].HasFile));
            Assert.Equal(SocketState.Established, UnixSocketReader.MapState(table[0].KernelState));
        }

        [Fact]
        public void An_unnamed_socket_has_no_name_and_a_truncated_attribute_stops_decoding()
        {
            var table = new RawUnixSocketTable();
            byte[] message = Message(1, 7, 11, Attribute(4, U32(0, 0)));
            byte[] broken = new byte[message.Length + 4];
            message.CopyTo(broken, 0);
            BitConverter.GetBytes((ushort)40).CopyTo(broken, message.Length); // claims more than there is
            UnixDiagReader.Decode(broken, table);
            Assert.Equal(0, table.Name(0).Length);
            Assert.Null(UnixNameCache.Decode(table.Name(0)));
            Assert.Equal(SocketState.Unconnected, UnixSocketReader.MapState(table[0].KernelState));
            Assert.True(table[0].HasQueues);
        }

        [Theory]
        [InlineData("0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/a b.sock", 1, SocketState.Listen, 12345u, "/run/a b.sock")]
        [InlineData("0000000000000000: 00000003 00000000 00000000 0001 03 12346", 1, SocketState.Established, 12346u, null)]
        [InlineData("0000000000000000: 00000002 00000000 00000000 0002 01 12347 @ab@c", 2, SocketState.Unconnected, 12347u, "@ab@c")]
        [InlineData("ffff8881: 00000002 00000000 00000000 0005 02 12348", 5, SocketState.Established, 12348u, null)]
        [InlineData("0000000000000000: 00000002 00000000 00000000 0001 04 12349 /x", 1, SocketState.Unconnected, 12349u, "/x")]
        public void Reads_proc_net_unix_lines(string line, int type, SocketState state, uint inode, string? path)
        {
            var table = new RawUnixSocketTable();
            ProcNetUnixReader.DecodeLine(Encoding.UTF8.GetBytes(line), table);
            Assert.Equal(1, table.Count);
            Assert.Equal((type, state, inode, path), ((int)table[0].Type, UnixSocketReader.MapState(table[0].KernelState), table[0].Inode, UnixNameCache.Decode(table.Name(0))));
        }

        [Theory]
        [InlineData("Num       RefCount Protocol Flags    Type St Inode Path")]
        [InlineData("0000000000000000: 00000002 00000000 00000000 0001 02     0 /run/app.sock")] // not accepted yet: unix_diag leaves it out
        public void Skips_the_header_and_connections_not_yet_accepted(string line)
        {
            var table = new RawUnixSocketTable();
            ProcNetUnixReader.DecodeLine(Encoding.UTF8.GetBytes(line), table);
            Assert.Equal(0, table.Count);
        }

        [Theory]
        [InlineData("net:[4026531840]", 4026531840ul)]
        [InlineData("net:[1]", 1ul)]
        [InlineData("mnt:[4026531840]", null)]
        [InlineData("net:[]", null)]
        [InlineData("net:[12x]", null)]
        public void Reads_namespace_links(string link, ulong? inode) =>
            Assert.Equal(inode, NetworkNamespaceDiscovery.ParseNetLink(Encoding.ASCII.GetBytes(link)));

        [Theory]
        [InlineData("45 44 0:4 net:[4026532177] /run/netns/red rw shared:2 - nsfs nsfs rw", "/run/netns/red", 4026532177ul, "red")]
        [InlineData("46 30 0:4 net:[4026532300] /run/docker/netns/1a2b3c4d5e6f rw - nsfs nsfs rw", "/run/docker/netns/1a2b3c4d5e6f", 4026532300ul, null)]
        [InlineData("47 30 0:4 net:[4026532301] /var/run/netns/cni-1234 rw,nosuid shared:5 master:1 - nsfs nsfs rw", "/var/run/netns/cni-1234", 4026532301ul, "cni-1234")]
        [InlineData("48 30 0:4 net:[4026532302] /tmp/my\\040ns rw - nsfs nsfs rw", "/tmp/my ns", 4026532302ul, null)]
        public void Finds_namespace_bind_mounts_in_mountinfo(string line, string mountPoint, ulong inode, string? name)
        {
            KeyValuePair<string, ulong>? mount = NetworkNamespaceDiscovery.ParseMountInfoLine(line);
            Assert.Equal(new KeyValuePair<string, ulong>(mountPoint, inode), mount);
            Assert.Equal(name, NetworkNamespaceDiscovery.NameOf(mountPoint));
        }

        [Theory]
        [InlineData("45 44 0:4 mnt:[4026532177] /run/x rw - nsfs nsfs rw")]
        [InlineData("21 26 0:20 / /proc rw,relatime - proc proc rw")]
        [InlineData("garbage")]
        public void Ignores_other_mounts(string line) => Assert.Null(NetworkNamespaceDiscovery.ParseMountInfoLine(line));
    }
}
