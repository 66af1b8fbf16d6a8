using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>
    /// The index's Linux chains, as the kernel orders them, whatever the table's size: a large table
    /// (4,096 sockets and more) sizes and finds its buckets another way, and the UDP chains of a port
    /// are made from its bucket when first asked for.
    /// </summary>
    public class SocketIndexTests
    {
        // Bind order: a, d (connected), b (AF_INET6 SO_REUSEPORT), c, f (connected), e (AF_INET6 SO_REUSEPORT).
        private static readonly string[] Port53 =
        {
            "udp UNCONN 0.0.0.0:53 pid=1 process=a",
            "udp ESTAB 0.0.0.0:53 198.51.100.1:5000 pid=4 process=d",
            "udp UNCONN [::]:53 nov6only reuseport pid=2 process=b",
            "udp UNCONN 0.0.0.0:53 pid=3 process=c",
            "udp ESTAB 0.0.0.0:53 198.51.100.2:5000 pid=6 process=f",
            "udp UNCONN [::]:53 nov6only reuseport pid=5 process=e",
            "udp UNCONN 192.0.2.1:53 pid=7 process=g",
            "udp UNCONN 192.0.2.1:53 pid=8 process=h",
        };

        public static IEnumerable<object[]> Sizes() => new[] { new object[] { 0 }, new object[] { 5000 } };

        [Theory]
        [MemberData(nameof(Sizes))]
        public void A_UDP_hash2_chain_puts_connected_sockets_first_then_the_heads_newest_first_then_the_tail(int padding)
        {
            SocketIndex index = Index(padding, SocketTableOrder.BindOrder);

            // Binds leave f c d a b e; connect() then moved d, and after it f, to the head.
            Assert.Equal("f d c a b e", Names(index.UdpChain(53, default)));
            Assert.Equal("h g", Names(index.UdpChain(53, Address("192.0.2.1"))));
            Assert.Null(index.UdpChain(53, Address("192.0.2.9")));
            Assert.Null(index.UdpChain(54, default));
            index.UdpChain(53, default, out UdpChainEntry[]? entries);
            Assert.Equal("f d c a b e", string.Join(" ", entries!.Select(e => e.Socket.Socket.ProcessName)));
        }

        [Theory]
        [MemberData(nameof(Sizes))]
        public void A_UDP_primary_chain_is_the_binds_newest_first_then_the_tail_oldest_first(int padding)
        {
            SocketIndex index = Index(padding, SocketTableOrder.BindOrder);
            Assert.Equal("h g f c d a b e", Names(index.UdpPrimaryChain(53)));
            Assert.Equal("a d b c f e g h", Names(index.BindBucket(TransportProtocol.Udp, 53)));
            Assert.Null(index.UdpPrimaryChain(54));
        }

        [Theory]
        [MemberData(nameof(Sizes))]
        public void A_live_table_lists_a_UDP_primary_chain_in_walk_order(int padding)
        {
            SocketIndex index = Index(padding, SocketTableOrder.KernelOrder);
            Assert.Equal("a d b c f e g h", Names(index.UdpPrimaryChain(53)));

            // Bind order rebuilt from the dump: the heads reversed (h g f c d a), then the tail (b e).
            Assert.Equal("h g f c d a b e", Names(index.BindBucket(TransportProtocol.Udp, 53)));
        }

        [Theory]
        [MemberData(nameof(Sizes))]
        public void Every_socket_is_in_its_bind_bucket_and_the_established_hash_once(int padding)
        {
            SocketIndex index = Index(padding, SocketTableOrder.BindOrder);
            Assert.Equal(Port53.Length + padding, index.Count);
            for (int i = 0; i < padding; i++)
            {
                List<IndexedSocket>? bucket = index.BindBucket(TransportProtocol.Tcp, 10000 + (i % 1000));
                Assert.NotNull(bucket);
                Assert.Equal(padding / 1000, bucket!.Count);
            }

            IndexedSocket? found = index.Established(TransportProtocol.Udp, Address("0.0.0.0"), 53, Address("198.51.100.2"), 5000);
            Assert.Equal("f", found?.Socket.ProcessName);
        }

        public static IEnumerable<object[]> SizesAndOrders() =>
            from size in new[] { 0, 5000 }
            from order in new[] { SocketTableOrder.BindOrder, SocketTableOrder.KernelOrder }
            select new object[] { size, order };

        [Theory]
        [MemberData(nameof(SizesAndOrders))]
        public void UDP_sockets_alone_alike_on_a_port_prove_they_share_it_whatever_the_table_size_and_order(int padding, SocketTableOrder order)
        {
            string[] udp =
            {
                "udp UNCONN 192.0.2.1:700 uid=1 pid=101 process=a",
                "udp UNCONN 192.0.2.1:700 uid=1 pid=102 process=b",
                "udp UNCONN 192.0.2.1:700 uid=1 reuseaddr reuseport pid=103 process=c",
                "udp UNCONN 192.0.2.1:701 uid=1 pid=104 process=d",
                "udp UNCONN 192.0.2.1:701 uid=2 pid=105 process=e",
                "udp UNCONN 192.0.2.1:702 uid=1 pid=106 process=f",
                "udp ESTAB 192.0.2.1:702 198.51.100.1:53 uid=1 pid=107 process=g",
                "udp UNCONN 192.0.2.1:703 uid=1 pid=108 process=h",
            };
            IEnumerable<string> others = Enumerable.Range(0, padding).Select(i => "tcp ESTAB 10.0.0.1:" + (10000 + (i % 1000)) + " 198.51.100.9:" + (20000 + i));
            SocketIndex index = SocketIndex.Build(udp.Concat(others).Select(SocketTuple.Parse).ToList(), new HostFacts(TargetOS.Linux), order);
            Dictionary<string, IndexedSocket> byName = index.Entries.Where(e => e.Protocol == TransportProtocol.Udp).ToDictionary(e => e.Socket.ProcessName!);

            Assert.Equal("3 UDP sockets share 192.0.2.1:700, which bind() allows only when each sets SO_REUSEADDR or SO_REUSEPORT", byName["a"].Inference);
            Assert.True(byName["a"].SharingProven && byName["b"].SharingProven);
            Assert.Null(byName["c"].Inference);
            Assert.True(byName["d"].ReuseAddress && byName["d"].ReuseAddressKnown && byName["e"].ReuseAddress);
            Assert.Equal("two UDP sockets of different uids share 192.0.2.1:701, which bind() allows only with SO_REUSEADDR on both", byName["e"].Inference);
            Assert.Null(byName["f"].Inference);
            Assert.False(byName["f"].SharingProven);
            Assert.Null(byName["h"].Inference);
        }

        [Fact]
        public void An_indexed_socket_keeps_every_fact_of_its_tuple_however_it_packs_them()
        {
            var odd = new SocketTuple { Protocol = (TransportProtocol)300, State = (SocketState)5000, LocalAddress = System.Net.IPAddress.IPv6Any, LocalPort = 65535, RemotePort = 65535, IPv6Only = false, ReuseAddress = true, ReusePortLoadBalance = true, UserId = 7 };
            var socket = new IndexedSocket(odd, 3, new HostFacts(TargetOS.Linux));
            Assert.Equal((TransportProtocol)300, socket.Protocol);
            Assert.Equal((SocketState)5000, socket.State);
            Assert.Equal(65535, socket.Port);
            Assert.Equal(65535, socket.RemotePort);
            Assert.Equal(AddressClass.Any6, socket.Class);
            Assert.True(socket.Inet6);
            Assert.False(socket.V6Only);
            Assert.True(socket.V6OnlyKnown);
            Assert.True(socket.ReuseAddress);
            Assert.True(socket.ReuseAddressKnown);
            Assert.False(socket.ReusePort);
            Assert.False(socket.ReusePortKnown);
            Assert.True(socket.ReusePortLoadBalance);
            Assert.False(socket.ExclusiveAddressUse);
            Assert.True(socket.UidKnown);
            Assert.Equal(7, socket.Uid);
            Assert.True(socket.HasPeer);
            Assert.False(socket.HoldsTuple);
            Assert.Null(socket.Inference);

            socket.InferReusePort("proved");
            socket.HoldsTuple = true;
            socket.Description = "described";
            Assert.True(socket.ReusePort && socket.ReusePortKnown && socket.HoldsTuple && socket.ReuseAddress);
            Assert.Equal("proved", socket.Inference);
            Assert.Equal("described", socket.Description);
            Assert.Equal((SocketState)5000, socket.State);
            Assert.Equal((TransportProtocol)300, socket.Protocol);

            var plain = new IndexedSocket(SocketTuple.Parse("udp UNCONN 192.0.2.1:53"), 0, new HostFacts(TargetOS.Linux));
            Assert.Equal(TransportProtocol.Udp, plain.Protocol);
            Assert.Equal(SocketState.Unconnected, plain.State);
            Assert.Equal(AddressClass.V4, plain.Class);
            Assert.False(plain.HasPeer || plain.Inet6 || plain.ReuseAddressKnown || plain.UidKnown);
        }

        private static SocketIndex Index(int padding, SocketTableOrder order)
        {
            // The padding: TCP connections on other ports, 5 per port (enough to take the large-table path).
            IEnumerable<string> others = Enumerable.Range(0, padding).Select(i => "tcp ESTAB 10.0.0.1:" + (10000 + (i % 1000)) + " 198.51.100.9:" + (20000 + i));
            return SocketIndex.Build(Port53.Concat(others).Select(SocketTuple.Parse).ToList(), new HostFacts(TargetOS.Linux), order);
        }

        private static string Names(List<IndexedSocket>? sockets) => sockets is null ? "(none)" : string.Join(" ", sockets.Select(s => s.Socket.ProcessName));

        private static Ip16 Address(string text) => Ip16.From(System.Net.IPAddress.Parse(text));
    }
}
