using System.Collections.Generic;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules.CrossOs
{
    /// <summary>kernel-rules.md section 5, the macOS column, row by row.</summary>
    public class MacOsCrossOsTests
    {
        private const TransportProtocol Tcp = TransportProtocol.Tcp;
        private const TransportProtocol Udp = TransportProtocol.Udp;

        public static readonly IReadOnlyList<CrossOsRow> Rows = new[]
        {
            new CrossOsRow(1, "TCP: A listens on 0.0.0.0:P; B binds 0.0.0.0:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0"), "EADDRINUSE", "macos.inuse.best-fit")),
            new CrossOsRow(2, "A listens on 0.0.0.0:P; B binds 192.0.2.1:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1"), "EADDRINUSE", "macos.inuse.best-fit")),
            new CrossOsRow(3, "as #2, but B has SO_REUSEADDR: ok; another non-root uid: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", reuseAddress: true), null, "macos.ok"),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", reuseAddress: true, user: OtherUser), "EADDRINUSE", "macos.cross-user") { Caveat = "SOF_REUSESHAREUID" }),
            new CrossOsRow(4, "A (REUSEADDR) listens on 0.0.0.0:P; B (REUSEADDR) binds 192.0.2.1:P: ok",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), null, "macos.ok")),
            new CrossOsRow(5, "A listens on 192.0.2.1:P; B binds 0.0.0.0:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0"), "EADDRINUSE", "macos.inuse.best-fit")),
            new CrossOsRow(6, "as #5, but B has SO_REUSEADDR: ok",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0", reuseAddress: true), null, "macos.ok")),
            new CrossOsRow(7, "both REUSEADDR on 192.0.2.1:P, then both listen: second bind EADDRINUSE",
                new BindCheck(new[] { S("tcp UNCONN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true, listen: false), "EADDRINUSE", "macos.inuse.exact")),
            new CrossOsRow(8, "both REUSEADDR on 192.0.2.1:P, A already listening: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), "EADDRINUSE", "macos.inuse.exact")),
            new CrossOsRow(9, "both SO_REUSEPORT on 0.0.0.0:P, same uid, both listen: ok; one listener gets everything (oldest)✱",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", reusePort: true), null, "macos.ok"),
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport"), S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0) { Caveat = "[derived]" }),
            new CrossOsRow(10, "as #9 but different non-root uids: ok✱",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", reusePort: true, user: OtherUser), null, "macos.ok") { Caveat = "[derived]" }),
            new CrossOsRow(11, "both SO_REUSEPORT_LB on 0.0.0.0:P: n/a (macOS has no SO_REUSEPORT_LB: ENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0", loadBalance: true), "ENOPROTOOPT", "macos.enoprotoopt.reuseport-lb") { Caveat = "macOS has no SO_REUSEPORT_LB" }),
            new CrossOsRow(12, "TIME_WAIT on 192.0.2.1:P left by a server without REUSEADDR; new bind 0.0.0.0:P, no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0"), "EADDRINUSE", "macos.inuse.best-fit")),
            new CrossOsRow(13, "as #12, the new socket has REUSEADDR (the old one did not): ok",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0", reuseAddress: true), null, "macos.ok")),
            new CrossOsRow(14, "as #12, both old and new REUSEADDR: ok",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000", "reuseaddr") }, Bind("0.0.0.0", reuseAddress: true), null, "macos.ok")),
            new CrossOsRow(15, "UDP: both REUSEADDR on 0.0.0.0:P: EADDRINUSE",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Bind("0.0.0.0", Udp, reuseAddress: true), "EADDRINUSE", "macos.inuse.exact")),
            new CrossOsRow(16, "UDP: both REUSEADDR bound to 239.1.1.1:P: ok; all receive",
                new BindCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Bind("239.1.1.1", Udp, reuseAddress: true), null, "macos.ok"),
                new DemuxCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr"), S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(17, "UDP: both SO_REUSEPORT on 0.0.0.0:P, same uid: ok; unicast to one✱; mcast to all",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", Udp, reusePort: true), null, "macos.ok"),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 0.0.0.0:P", "reuseport") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0) { Caveat = "[derived]" },
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 0.0.0.0:P", "reuseport") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(18, "AF_INET6 [::]:P with V6ONLY=0 first, then AF_INET 0.0.0.0:P: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "nov6only") }, Bind("0.0.0.0"), "EADDRINUSE", "macos.inuse.best-fit")),
            new CrossOsRow(19, "AF_INET 0.0.0.0:P first, then AF_INET6 [::]:P with V6ONLY=0: ok?✱",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: false), null, "macos.ok") { Caveat = "UNVERIFIED" }),
            new CrossOsRow(20, "AF_INET6 [::]:P with V6ONLY=1, plus AF_INET 0.0.0.0:P: ok (either order)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "v6only") }, Bind("0.0.0.0"), null, "macos.ok"),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: true), null, "macos.ok")),
            new CrossOsRow(21, "default options: AF_INET6 [::]:P, then AF_INET 0.0.0.0:P: EADDRINUSE✱ (dual-stack by default)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P") }, Bind("0.0.0.0"), "EADDRINUSE", "macos.inuse.best-fit") { Caveat = "UNVERIFIED" }),
            new CrossOsRow(22, "SYN to 192.0.2.1:P with listeners on 0.0.0.0:P and 192.0.2.1:P: the specific one",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P"), S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 1),
                new DemuxCheck(new[] { S("tcp LISTEN 192.0.2.1:P"), S("tcp LISTEN 0.0.0.0:P", "reuseaddr") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0)),
            new CrossOsRow(23, "IPv4 SYN to P with AF_INET 0.0.0.0:P and dual-stack [::]:P listeners: AF_INET",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P"), S("tcp LISTEN [::]:P", "nov6only") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0),
                new DemuxCheck(new[] { S("tcp LISTEN [::]:P", "nov6only"), S("tcp LISTEN 0.0.0.0:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 1)),
            new CrossOsRow(24, "unprivileged bind to 0.0.0.0:80: ok (192.0.2.1:80 gives EACCES)",
                new BindCheck(System.Array.Empty<string>(), Bind("0.0.0.0", port: 80), null, "macos.ok"),
                new BindCheck(System.Array.Empty<string>(), Bind("192.0.2.1", port: 80), "EACCES", "macos.eacces.specific-low-port")),
            new CrossOsRow(25, "two connect() calls without bind, to different peers, share a source port: no",
                new SourcePortPoolCheck(SourcePortPool.Shared)),
            new CrossOsRow(26, "IP_BOUND_IF eth0 and eth1, both 0.0.0.0:P: EADDRINUSE✱ (IP_BOUND_IF is ignored by bind)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "dev=eth0") }, Bind("0.0.0.0", device: "eth1"), "EADDRINUSE", "macos.inuse.best-fit") { Caveat = "UNVERIFIED" }),
        };

        public static IEnumerable<object[]> Table() => CrossOsRow.Data(Rows);

        [Theory]
        [MemberData(nameof(Table))]
        public void MacOs_outcome_is_the_one_the_spec_table_gives(string row) => Verify(TargetOS.MacOS, CrossOsRow.Find(Rows, row));

        [Fact]
        public void Every_row_of_the_table_is_covered() => Assert.Equal(System.Linq.Enumerable.Range(1, 26), System.Linq.Enumerable.Select(Rows, r => r.Number));
    }
}
