using System.Collections.Generic;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules.CrossOs
{
    /// <summary>kernel-rules.md section 5, the Windows column, row by row.</summary>
    public class WindowsCrossOsTests
    {
        private const TransportProtocol Tcp = TransportProtocol.Tcp;
        private const TransportProtocol Udp = TransportProtocol.Udp;

        public static readonly IReadOnlyList<CrossOsRow> Rows = new[]
        {
            new CrossOsRow(1, "TCP: A listens on 0.0.0.0:P; B binds 0.0.0.0:P; no options: WSAEADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0"), "WSAEADDRINUSE", "windows.inuse.same-wildcard")),
            new CrossOsRow(2, "A listens on 0.0.0.0:P; B binds 192.0.2.1:P; no options: ok (CHECK); another user gets WSAEACCES",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1"), null, "windows.ok.shared"),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", user: OtherUser), "WSAEACCES", "windows.check.wildcard-then-specific")),
            new CrossOsRow(3, "as #2, but B has SO_REUSEADDR: ok (CHECK); another user gets WSAEACCES",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", reuseAddress: true), null),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", reuseAddress: true, user: OtherUser), "WSAEACCES", "windows.check.wildcard-then-specific")),
            new CrossOsRow(4, "A (REUSEADDR) listens on 0.0.0.0:P; B (REUSEADDR) binds 192.0.2.1:P: ok",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), null)),
            new CrossOsRow(5, "A listens on 192.0.2.1:P; B binds 0.0.0.0:P; no options: ok",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0"), null)),
            new CrossOsRow(6, "as #5, but B has SO_REUSEADDR: ok",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0", reuseAddress: true), null)),
            new CrossOsRow(7, "both REUSEADDR on 192.0.2.1:P, then both listen: ok; which socket gets connections is undetermined",
                new BindCheck(new[] { S("tcp UNCONN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), null) { Caveat = "indeterminate" },
                new DemuxCheck(new[] { S("tcp LISTEN 192.0.2.1:P", "reuseaddr"), S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Nondeterministic, 0, 1) { Caveat = "no guarantee" }),
            new CrossOsRow(8, "both REUSEADDR on 192.0.2.1:P, A already listening: ok",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), null)),
            new CrossOsRow(9, "both SO_REUSEPORT on 0.0.0.0:P: n/a (Windows has no SO_REUSEPORT: WSAENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0", reusePort: true), "WSAENOPROTOOPT", "windows.enoprotoopt.reuseport") { Caveat = "Windows has no SO_REUSEPORT" }),
            new CrossOsRow(10, "as #9 but different users: n/a (WSAENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "uid=" + OtherUser) }, Bind("0.0.0.0", reusePort: true), "WSAENOPROTOOPT", "windows.enoprotoopt.reuseport")),
            new CrossOsRow(11, "both SO_REUSEPORT_LB on 0.0.0.0:P: n/a (WSAENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0", loadBalance: true), "WSAENOPROTOOPT", "windows.enoprotoopt.reuseport-lb") { Caveat = "has no SO_REUSEPORT_LB" }),
            new CrossOsRow(12, "TIME_WAIT on 192.0.2.1:P left by a server without REUSEADDR; new bind 0.0.0.0:P, no options: ok✱",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0"), null) { Caveat = "UNVERIFIED" }),
            new CrossOsRow(13, "as #12, the new socket has REUSEADDR: ok✱",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0", reuseAddress: true), null) { Caveat = "UNVERIFIED" }),
            new CrossOsRow(14, "as #12, both old and new REUSEADDR: ok",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000", "reuseaddr") }, Bind("0.0.0.0", reuseAddress: true), null)),
            new CrossOsRow(15, "UDP: both REUSEADDR on 0.0.0.0:P: ok; unicast undetermined",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Bind("0.0.0.0", Udp, reuseAddress: true), null),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Nondeterministic, 0, 1)),
            new CrossOsRow(16, "UDP: both REUSEADDR bound to 239.1.1.1:P: ok; all group members receive",
                new BindCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Bind("239.1.1.1", Udp, reuseAddress: true), null),
                new DemuxCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr"), S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(17, "UDP: both SO_REUSEPORT on 0.0.0.0:P: n/a (WSAENOPROTOOPT)",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P") }, Bind("0.0.0.0", Udp, reusePort: true), "WSAENOPROTOOPT", "windows.enoprotoopt.reuseport")),
            new CrossOsRow(18, "AF_INET6 [::]:P with V6ONLY=0 first, then AF_INET 0.0.0.0:P: WSAEADDRINUSE✱",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "nov6only") }, Bind("0.0.0.0"), "WSAEADDRINUSE", "windows.inuse.same-wildcard") { Caveat = "UNVERIFIED" }),
            new CrossOsRow(19, "AF_INET 0.0.0.0:P first, then AF_INET6 [::]:P with V6ONLY=0: WSAEADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: false), "WSAEADDRINUSE", "windows.inuse.same-wildcard")),
            new CrossOsRow(20, "AF_INET6 [::]:P with V6ONLY=1, plus AF_INET 0.0.0.0:P: ok (either order)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "v6only") }, Bind("0.0.0.0"), null, "windows.ok"),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: true), null, "windows.ok")),
            new CrossOsRow(21, "default options: AF_INET6 [::]:P, then AF_INET 0.0.0.0:P: ok (V6ONLY defaults to 1)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P") }, Bind("0.0.0.0"), null, "windows.ok"),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::"), null, "windows.ok")),
            new CrossOsRow(22, "SYN to 192.0.2.1:P with listeners on 0.0.0.0:P and 192.0.2.1:P: the specific one",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P"), S("tcp LISTEN 192.0.2.1:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 1),
                new DemuxCheck(new[] { S("tcp LISTEN 192.0.2.1:P"), S("tcp LISTEN 0.0.0.0:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0)),
            new CrossOsRow(23, "IPv4 SYN to P with AF_INET 0.0.0.0:P and dual-stack [::]:P listeners: UNVERIFIED (nondeterministic between them)",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr"), S("tcp LISTEN [::]:P", "reuseaddr", "nov6only") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Nondeterministic, 0, 1) { Caveat = "UNVERIFIED" }),
            new CrossOsRow(24, "unprivileged bind to 0.0.0.0:80: ok✱",
                new BindCheck(System.Array.Empty<string>(), Bind("0.0.0.0", port: 80), null, "windows.ok") { Caveat = "UNVERIFIED" }),
            new CrossOsRow(25, "two connect() calls without bind, to different peers, sharing a source port: UNVERIFIED (counted as one shared pool)",
                new SourcePortPoolCheck(SourcePortPool.Shared) { Caveat = "UNVERIFIED" }),
            new CrossOsRow(26, "SO_BINDTODEVICE eth0 and eth1, both 0.0.0.0:P: n/a (no such option: WSAENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0", device: "eth1"), "WSAENOPROTOOPT", "windows.enoprotoopt.bindtodevice") { Caveat = "SO_BINDTODEVICE" }),
        };

        public static IEnumerable<object[]> Table() => CrossOsRow.Data(Rows);

        [Theory]
        [MemberData(nameof(Table))]
        public void Windows_outcome_is_the_one_the_spec_table_gives(string row) => Verify(TargetOS.Windows, CrossOsRow.Find(Rows, row));

        [Fact]
        public void Every_row_of_the_table_is_covered() => Assert.Equal(System.Linq.Enumerable.Range(1, 26), System.Linq.Enumerable.Select(Rows, r => r.Number));
    }
}
