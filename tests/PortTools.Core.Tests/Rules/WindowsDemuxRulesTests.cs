using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules
{
    public class WindowsDemuxRulesTests
    {
        private const TransportProtocol Tcp = TransportProtocol.Tcp;
        private const TransportProtocol Udp = TransportProtocol.Udp;

        private static (DemuxResult Result, IReadOnlyList<SocketTuple> Table) Deliver(DemuxRequest packet, params string[] table)
        {
            var sockets = table.Select(SocketTuple.Parse).ToList();
            return (RuleEngine.DecideDelivery(SocketIndex.Build(sockets, Facts(TargetOS.Windows)), packet), sockets);
        }

        /// <summary>Rule, table, packet, outcome, receivers (table indexes), text the Reason must hold.</summary>
        public static IEnumerable<object[]> DeliveryRules() => new[]
        {
            new object[] { "a connection's exact 4-tuple comes first", new[] { S("tcp LISTEN 192.0.2.1:P"), "tcp ESTAB 192.0.2.1:8080 198.51.100.7:40000" }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "matches the 4-tuple exactly" },
            new object[] { "a wildcard serves an address no specific bind holds", new[] { S("tcp LISTEN 127.0.0.1:P"), S("tcp LISTEN 0.0.0.0:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "the wildcard serves every address" },
            new object[] { "IPv6: the specific bind takes its address", new[] { S("tcp LISTEN [::]:P"), S("tcp LISTEN [2001:db8::1]:P") }, Packet(Tcp, "[2001:db8::7]:40000", "[2001:db8::1]:P"), DemuxOutcome.Delivered, new[] { 1 }, "a specific bind takes the traffic" },
            new object[] { "a V6ONLY [::] takes no IPv4", new[] { S("tcp LISTEN [::]:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "answers with a RST" },
            new object[] { "a dual-stack [::] takes IPv4", new[] { S("tcp LISTEN [::]:P", "nov6only") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 0 }, "receives it" },
            new object[] { "a bound socket that does not listen takes no SYN", new[] { S("tcp UNCONN 0.0.0.0:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "No listening socket" },
            new object[] { "two listeners on different specifics and none on the destination", new[] { S("tcp LISTEN 127.0.0.1:P"), S("tcp LISTEN 198.51.100.1:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "connection refused" },
            new object[] { "UDP: a connected socket of the sender and an unconnected one tie (UNVERIFIED)", new[] { S("udp UNCONN 192.0.2.1:P", "reuseaddr"), S("udp ESTAB 192.0.2.1:P 198.51.100.7:40000", "reuseaddr") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Nondeterministic, new[] { 0, 1 }, "connected UDP socket to an unconnected one is not documented" },
            new object[] { "UDP: a socket connected to another peer is passed over", new[] { S("udp UNCONN 192.0.2.1:P", "reuseaddr"), S("udp ESTAB 192.0.2.1:P 198.51.100.8:40000", "reuseaddr") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 0 }, "receives it" },
            new object[] { "UDP: sockets bound alike in different ways tie (UNVERIFIED)", new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN [::]:P", "reuseaddr", "nov6only") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Nondeterministic, new[] { 0, 1 }, "UNVERIFIED" },
            new object[] { "UDP: nobody on the port", new[] { S("udp UNCONN 0.0.0.0:9") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.PortUnreachable, Array.Empty<int>(), "ICMP port unreachable" },
            new object[] { "multicast: wildcard and group sockets receive; a unicast address of another interface does not", new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 239.1.1.1:P", "reuseaddr"), S("udp UNCONN 198.51.100.1:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, new[] { 0, 1 }, "taken as given" },
            new object[] { "multicast with nobody on the port is dropped", new[] { S("udp UNCONN 239.1.1.2:P") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Dropped, Array.Empty<int>(), "dropped without an answer" },
            new object[] { "broadcast reaches wildcard sockets (UNVERIFIED)", new[] { S("udp UNCONN 0.0.0.0:P"), S("udp UNCONN 192.0.2.1:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "192.0.2.255:P"), DemuxOutcome.Delivered, new[] { 0 }, "(UNVERIFIED: Windows broadcast delivery" },
        };

        [Theory]
        [MemberData(nameof(DeliveryRules))]
        public void Delivery(string rule, string[] table, DemuxRequest packet, DemuxOutcome outcome, int[] receivers, string reason)
        {
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(packet, table);
            Assert.True(outcome == result.Outcome, rule + ": " + result.Reason);
            Assert.Equal(receivers.Select(i => sockets[i]).ToHashSet(), result.Sockets.ToHashSet());
            Assert.Equal(outcome == DemuxOutcome.Delivered && receivers.Length == 1 ? sockets[receivers[0]] : null, result.Socket);
            Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
            Assert.Equal(TargetOS.Windows, result.TargetOS);
        }

        [Fact]
        public void A_nondeterministic_outcome_names_every_candidate_and_never_one_socket()
        {
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"));
            Assert.Equal(DemuxOutcome.Nondeterministic, result.Outcome);
            Assert.Null(result.Socket);
            Assert.Equal(3, result.Sockets.Count);
            Assert.Contains("Windows does not define which of these 3 wildcard sockets receives it", result.Reason, StringComparison.Ordinal);
            Assert.Contains("the engine does not guess", result.Reason, StringComparison.Ordinal);
            Assert.All(result.Candidates, c => Assert.Contains("Windows does not define", c.Note, StringComparison.Ordinal));
        }

        [Fact]
        public void A_segment_that_is_not_a_SYN_and_matches_no_connection_is_reset()
        {
            var packet = new DemuxRequest { Protocol = Tcp, Source = Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P").Source, Destination = Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P").Destination, Segment = TcpSegmentKind.Other };
            (DemuxResult result, _) = Deliver(packet, S("tcp LISTEN 0.0.0.0:P"));
            Assert.Equal(DemuxOutcome.Refused, result.Outcome);
            Assert.Contains("not a SYN", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_multicast_socket_bound_to_an_address_of_the_arriving_interface_receives()
        {
            var packet = new DemuxRequest { Protocol = Udp, Source = Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P").Source, Destination = Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P").Destination, Interface = "eth0" };
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(packet, S("udp UNCONN 192.0.2.1:P"), S("udp UNCONN 198.51.100.1:P"));
            Assert.Equal(new[] { sockets[0] }, result.Sockets);
        }
    }
}
