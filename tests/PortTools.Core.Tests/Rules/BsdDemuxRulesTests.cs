using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules
{
    /// <summary>FreeBSD (kernel-rules.md 3B) and macOS (4B) delivery beyond the cross-OS table.</summary>
    public class BsdDemuxRulesTests
    {
        private const TransportProtocol Tcp = TransportProtocol.Tcp;
        private const TransportProtocol Udp = TransportProtocol.Udp;

        private static (DemuxResult Result, IReadOnlyList<SocketTuple> Table) Deliver(TargetOS os, DemuxRequest packet, params string[] table)
        {
            var sockets = table.Select(SocketTuple.Parse).ToList();
            return (RuleEngine.DecideDelivery(SocketIndex.Build(sockets, Facts(os)), packet), sockets);
        }

        /// <summary>Rule, OS, table, packet, outcome, receivers (table indexes), text the Reason must hold.</summary>
        public static IEnumerable<object[]> DeliveryRules() => new[]
        {
            new object[] { "FreeBSD: a SO_REUSEPORT_LB group on the destination address is preferred to one on the wildcard", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport_lb"), S("tcp LISTEN 0.0.0.0:P", "reuseport_lb"), S("tcp LISTEN 192.0.2.1:P", "reuseport_lb"), S("tcp LISTEN 192.0.2.1:P", "reuseport_lb") },
                Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 2, 3 }, "SO_REUSEPORT_LB group" },
            new object[] { "FreeBSD: a wildcard SO_REUSEPORT_LB group comes before a specific listener without it", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport_lb"), S("tcp LISTEN 0.0.0.0:P", "reuseport_lb"), S("tcp LISTEN 192.0.2.1:P", "reuseaddr") },
                Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 0, 1 }, "before the wildcard list" },
            new object[] { "FreeBSD: a group of one is a plain delivery", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport_lb") }, Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 0 }, "receives it" },
            new object[] { "FreeBSD: a dual-stack [::] never joins a group", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN [::]:P", "reuseport_lb", "nov6only"), S("tcp LISTEN [::]:P", "reuseport_lb", "nov6only") }, Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "most recently bound first" },
            new object[] { "FreeBSD: the most recently bound of two specific listeners", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN 192.0.2.1:P", "reuseport"), S("tcp LISTEN 192.0.2.1:P", "reuseport") }, Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "[derived]" },
            new object[] { "FreeBSD: a socket that is bound but not listening comes first and refuses", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN 0.0.0.0:P"), S("tcp UNCONN 192.0.2.1:P", "reuseaddr") }, Syn("192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "does not listen, so the connection is refused ([derived]" },
            new object[] { "FreeBSD: a connected UDP socket's exact 4-tuple comes first", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 192.0.2.1:P"), S("udp ESTAB 192.0.2.1:P 198.51.100.7:40000", "reuseaddr") }, Datagram("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "connected socket matches the 4-tuple" },
            new object[] { "FreeBSD: IPv6 mirrors IPv4 (UNVERIFIED)", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN [::]:P", "v6only"), S("tcp LISTEN [2001:db8::1]:P", "reuseaddr") }, new DemuxRequest { Protocol = Tcp, Source = new IPEndPoint(IPAddress.Parse("2001:db8::7"), 40000), Destination = new IPEndPoint(IPAddress.Parse("2001:db8::1"), Port) }, DemuxOutcome.Delivered, new[] { 1 }, "(UNVERIFIED: FreeBSD's IPv6 lookup" },
            new object[] { "FreeBSD: a V6ONLY [::] takes no IPv4", TargetOS.FreeBSD,
                new[] { S("tcp LISTEN [::]:P") }, Syn("192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "RST" },
            new object[] { "FreeBSD: nobody on a UDP port", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 127.0.0.1:P") }, Datagram("192.0.2.1:P"), DemuxOutcome.PortUnreachable, Array.Empty<int>(), "ICMP port unreachable" },
            new object[] { "FreeBSD: the multicast scan stops at a socket without reuse options", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P"), S("udp UNCONN 239.1.1.1:P", "reuseaddr") },
                Datagram("239.1.1.1:P"), DemuxOutcome.Delivered, new[] { 2, 1 }, "The scan stopped at udp UNCONN 0.0.0.0:8080" },
            new object[] { "FreeBSD: a socket whose reuse options a table does not show may or may not stop the multicast scan", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), "udp UNCONN 0.0.0.0:8080 uid=1000", S("udp UNCONN 239.1.1.1:P", "reuseaddr") },
                Datagram("239.1.1.1:P"), DemuxOutcome.Delivered, new[] { 2, 1, 0 }, "turns on reuse options the socket table does not show" },
            new object[] { "FreeBSD: SO_REUSEPORT_LB keeps the multicast scan going", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P", "reuseport_lb") }, Datagram("239.1.1.1:P"), DemuxOutcome.Delivered, new[] { 0, 1 }, "each receive a copy" },
            new object[] { "macOS: SO_REUSEPORT_LB does not keep the multicast scan going", TargetOS.MacOS,
                new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P", "reuseport_lb") }, Datagram("239.1.1.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "scan stopped" },
            new object[] { "broadcast goes to every wildcard socket", TargetOS.MacOS,
                new[] { S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 0.0.0.0:P", "reuseport") }, Datagram("192.0.2.255:P"), DemuxOutcome.Delivered, new[] { 0, 1 }, "each receive a copy" },
            new object[] { "multicast nobody takes is dropped", TargetOS.FreeBSD,
                new[] { S("udp UNCONN 239.1.1.2:P") }, Datagram("239.1.1.1:P"), DemuxOutcome.Dropped, Array.Empty<int>(), "dropped" },
            new object[] { "macOS: the most recently bound of two sockets on the destination address", TargetOS.MacOS,
                new[] { S("tcp LISTEN 192.0.2.1:P", "reuseport"), S("tcp LISTEN 192.0.2.1:P", "reuseport") }, Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 1 }, "most recently bound ([derived])" },
            new object[] { "macOS: the earliest bound of two dual-stack wildcards", TargetOS.MacOS,
                new[] { S("tcp LISTEN [::]:P", "reuseport", "nov6only"), S("tcp LISTEN [::]:P", "reuseport", "nov6only") }, Syn("192.0.2.1:P"), DemuxOutcome.Delivered, new[] { 0 }, "earliest bound" },
            new object[] { "macOS: a socket tied to another interface is skipped (UNVERIFIED)", TargetOS.MacOS,
                new[] { S("tcp LISTEN 0.0.0.0:P", "dev=eth1") }, Syn("192.0.2.1:P"), DemuxOutcome.Refused, Array.Empty<int>(), "(UNVERIFIED: a socket tied to an interface" },
            new object[] { "macOS: IPv6 mirrors IPv4 (UNVERIFIED)", TargetOS.MacOS,
                new[] { S("udp UNCONN [::]:P") }, new DemuxRequest { Protocol = Udp, Source = new IPEndPoint(IPAddress.Parse("2001:db8::7"), 40000), Destination = new IPEndPoint(IPAddress.Parse("2001:db8::1"), Port) }, DemuxOutcome.Delivered, new[] { 0 }, "(UNVERIFIED: XNU's IPv6 lookup" },
        };

        [Theory]
        [MemberData(nameof(DeliveryRules))]
        public void Delivery(string rule, TargetOS os, string[] table, DemuxRequest packet, DemuxOutcome outcome, int[] receivers, string reason)
        {
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(os, packet, table);
            Assert.True(outcome == result.Outcome, rule + ": " + result.Reason);
            Assert.True(receivers.Select(i => sockets[i]).ToHashSet().SetEquals(result.Sockets), rule + ": got " + string.Join(" | ", result.Sockets));
            Assert.Equal(outcome == DemuxOutcome.Delivered && receivers.Length == 1 ? sockets[receivers[0]] : null, result.Socket);
            Assert.True(result.Reason.Contains(reason, StringComparison.Ordinal), rule + ": " + result.Reason);
        }

        [Fact]
        public void A_load_balancing_group_holds_at_most_256_sockets()
        {
            string[] table = Enumerable.Range(0, 300).Select(i => S("tcp LISTEN 0.0.0.0:P", "reuseport_lb")).ToArray();
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(TargetOS.FreeBSD, Syn("192.0.2.1:P"), table);
            Assert.Equal(256, result.Sockets.Count);
            Assert.Same(sockets[0], result.Sockets[0]);
            Assert.Contains("at most 256", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_SYN_to_a_TIME_WAIT_4_tuple_looks_for_a_listener()
        {
            (DemuxResult result, IReadOnlyList<SocketTuple> sockets) = Deliver(TargetOS.MacOS, Syn("192.0.2.1:P"), S("tcp LISTEN 0.0.0.0:P"), "tcp TIME-WAIT 192.0.2.1:8080 198.51.100.7:40000");
            Assert.Same(sockets[0], result.Socket);
            Assert.Contains("TIME-WAIT", result.Reason, StringComparison.Ordinal);
            Assert.Equal("established (exact 4-tuple)", result.Candidates[0].Stage);
        }

        [Fact]
        public void Candidates_show_the_kernel_s_classes_and_order()
        {
            (DemuxResult result, _) = Deliver(TargetOS.FreeBSD, Syn("192.0.2.1:P"), S("tcp LISTEN [::]:P", "nov6only"), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"), S("tcp LISTEN 192.0.2.1:P", "reuseaddr"), S("tcp LISTEN 127.0.0.1:P", "reuseaddr"));
            Assert.Equal(new[] { 3, 2, 1, -1 }, result.Candidates.Select(c => c.Score));
            Assert.Equal("bound to the destination address", result.Candidates[0].Stage);
            Assert.Contains("takes it first", result.Candidates[1].Note, StringComparison.Ordinal);
            Assert.Equal("bound to another address", result.Candidates[3].Note);
        }

        [Fact]
        public void FreeBSD_never_takes_an_unknown_SO_REUSEPORT_LB_as_off()
        {
            // sockstat text: two listeners on one address, options not shown. With SO_REUSEPORT_LB they
            // form a group the lookup hashes over; without it the newest takes every connection.
            (DemuxResult result, IReadOnlyList<SocketTuple> table) = Deliver(TargetOS.FreeBSD, Syn("192.0.2.1:P"), "tcp LISTEN 0.0.0.0:8080 uid=1000 pid=10", "tcp LISTEN 0.0.0.0:8080 uid=1000 pid=11");
            Assert.Equal(DemuxOutcome.Delivered, result.Outcome);
            Assert.Null(result.Socket);
            Assert.True(table.ToHashSet().SetEquals(result.Sockets));
            Assert.Equal(2, result.DependsOn.Count);
            Assert.StartsWith("SO_REUSEPORT_LB of tcp LISTEN 0.0.0.0:8080", result.DependsOn[0], StringComparison.Ordinal);
            Assert.StartsWith("2 sockets may receive it", result.Reason, StringComparison.Ordinal);

            // Shown options keep the certain answer: the newest of two plain listeners.
            (DemuxResult known, IReadOnlyList<SocketTuple> shown) = Deliver(TargetOS.FreeBSD, Syn("192.0.2.1:P"), S("tcp LISTEN 0.0.0.0:P", "reuseport"), S("tcp LISTEN 0.0.0.0:P", "reuseport"));
            Assert.Same(shown[1], known.Socket);
            Assert.Empty(known.DependsOn);

            // A lone listener receives whatever its options are.
            Assert.NotNull(Deliver(TargetOS.FreeBSD, Syn("192.0.2.1:P"), "tcp LISTEN 0.0.0.0:8080 uid=1000 pid=10").Result.Socket);
        }

        [Fact]
        public void A_multicast_scan_never_takes_unknown_reuse_options_as_off()
        {
            (DemuxResult result, _) = Deliver(TargetOS.MacOS, Datagram("239.1.1.1:P"), S("udp UNCONN 0.0.0.0:P", "reuseport"), "udp UNCONN 0.0.0.0:8080 uid=1000");
            Assert.Null(result.Socket);
            Assert.Equal(2, result.Sockets.Count);
            Assert.Equal(new[] { "SO_REUSEADDR and SO_REUSEPORT of udp UNCONN 0.0.0.0:8080, which the socket table does not show: with none of SO_REUSEPORT and SO_REUSEADDR set, the scan stops there and the sockets walked after it get no copy" }, result.DependsOn);
            Assert.DoesNotContain("taken as off", result.Reason, StringComparison.Ordinal);
        }

        private static DemuxRequest Syn(string destination) => Packet(Tcp, "198.51.100.7:40000", destination);

        private static DemuxRequest Datagram(string destination) => Packet(Udp, "198.51.100.7:40000", destination);
    }
}
