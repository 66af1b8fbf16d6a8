using System.Collections.Generic;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules.CrossOs
{
    /// <summary>
    /// kernel-rules.md section 5, the Linux column, row by row: the Linux engine (proven against the
    /// live kernel by the differential suite, so its ✱ rows need no caveat) agrees with the table.
    /// </summary>
    public class LinuxCrossOsTests
    {
        private const TransportProtocol Tcp = TransportProtocol.Tcp;
        private const TransportProtocol Udp = TransportProtocol.Udp;

        public static readonly IReadOnlyList<CrossOsRow> Rows = new[]
        {
            new CrossOsRow(1, "TCP: A listens on 0.0.0.0:P; B binds 0.0.0.0:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0"), "EADDRINUSE")),
            new CrossOsRow(2, "A listens on 0.0.0.0:P; B binds 192.0.2.1:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1"), "EADDRINUSE")),
            new CrossOsRow(3, "as #2, but B has SO_REUSEADDR: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("192.0.2.1", reuseAddress: true), "EADDRINUSE")),
            new CrossOsRow(4, "A (REUSEADDR) listens on 0.0.0.0:P; B (REUSEADDR) binds 192.0.2.1:P: EADDRINUSE (A is in LISTEN)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), "EADDRINUSE", "linux.tcp.reuseaddr-vs-listener")),
            new CrossOsRow(5, "A listens on 192.0.2.1:P; B binds 0.0.0.0:P; no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0"), "EADDRINUSE")),
            new CrossOsRow(6, "as #5, but B has SO_REUSEADDR: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("0.0.0.0", reuseAddress: true), "EADDRINUSE")),
            new CrossOsRow(7, "both REUSEADDR on 192.0.2.1:P, then both listen: bind ok; second listen() EADDRINUSE",
                new BindCheck(new[] { S("tcp UNCONN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true, listen: false), null),
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true), "EADDRINUSE")),
            new CrossOsRow(8, "both REUSEADDR on 192.0.2.1:P, A already listening: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 192.0.2.1:P", "reuseaddr") }, Bind("192.0.2.1", reuseAddress: true, listen: false), "EADDRINUSE")),
            new CrossOsRow(9, "both SO_REUSEPORT on 0.0.0.0:P, same uid, both listen: ok; SYNs hashed across the group",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", reusePort: true), null),
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport"), S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(10, "as #9 but different non-root uids: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", reusePort: true, user: OtherUser), "EADDRINUSE", "linux.tcp.reuseport-other-user")),
            new CrossOsRow(11, "both SO_REUSEPORT_LB on 0.0.0.0:P: n/a (ENOPROTOOPT)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("0.0.0.0", loadBalance: true), "ENOPROTOOPT", "linux.enoprotoopt.reuseport-lb")),
            new CrossOsRow(12, "TIME_WAIT on 192.0.2.1:P left by a server without REUSEADDR; new bind 0.0.0.0:P, no options: EADDRINUSE",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0"), "EADDRINUSE")),
            new CrossOsRow(13, "as #12, the new socket has REUSEADDR (the old one did not): EADDRINUSE (TIME_WAIT keeps old flags)",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("0.0.0.0", reuseAddress: true), "EADDRINUSE")),
            new CrossOsRow(14, "as #12, both old and new REUSEADDR: ok",
                new BindCheck(new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000", "reuseaddr") }, Bind("0.0.0.0", reuseAddress: true), null)),
            new CrossOsRow(15, "UDP: both REUSEADDR on 0.0.0.0:P: ok; unicast to one socket (newest on ties); bcast to all",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Bind("0.0.0.0", Udp, reuseAddress: true), null),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 1),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseaddr"), S("udp UNCONN 0.0.0.0:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "192.0.2.255:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(16, "UDP: both REUSEADDR bound to 239.1.1.1:P: ok; all receive",
                new BindCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Bind("239.1.1.1", Udp, reuseAddress: true), null),
                new DemuxCheck(new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr"), S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(17, "UDP: both SO_REUSEPORT on 0.0.0.0:P, same uid: ok; unicast hashed over 4-tuple; mcast to all",
                new BindCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", Udp, reusePort: true), null),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 0.0.0.0:P", "reuseport") }, Packet(Udp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0, 1),
                new DemuxCheck(new[] { S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 0.0.0.0:P", "reuseport") }, Packet(Udp, "192.0.2.7:5000", "239.1.1.1:P"), DemuxOutcome.Delivered, 0, 1)),
            new CrossOsRow(18, "AF_INET6 [::]:P with V6ONLY=0 first, then AF_INET 0.0.0.0:P: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "nov6only") }, Bind("0.0.0.0"), "EADDRINUSE")),
            new CrossOsRow(19, "AF_INET 0.0.0.0:P first, then AF_INET6 [::]:P with V6ONLY=0: EADDRINUSE",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: false), "EADDRINUSE")),
            new CrossOsRow(20, "AF_INET6 [::]:P with V6ONLY=1, plus AF_INET 0.0.0.0:P: ok (either order)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P", "v6only") }, Bind("0.0.0.0"), null),
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::", v6Only: true), null)),
            new CrossOsRow(21, "default options: AF_INET6 [::]:P, then AF_INET 0.0.0.0:P: EADDRINUSE (bindv6only=0)",
                new BindCheck(new[] { S("tcp LISTEN [::]:P") }, Bind("0.0.0.0"), "EADDRINUSE")),
            new CrossOsRow(22, "SYN to 192.0.2.1:P with listeners on 0.0.0.0:P and 192.0.2.1:P: the specific one (pass 1)",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P"), S("tcp LISTEN 192.0.2.1:P") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 1)),
            new CrossOsRow(23, "IPv4 SYN to P with AF_INET 0.0.0.0:P and dual-stack [::]:P listeners (via SO_REUSEPORT): AF_INET (+1 family bonus)",
                new DemuxCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport"), S("tcp LISTEN [::]:P", "reuseport", "nov6only") }, Packet(Tcp, "198.51.100.7:40000", "192.0.2.1:P"), DemuxOutcome.Delivered, 0)),
            new CrossOsRow(24, "unprivileged bind to 0.0.0.0:80: EACCES",
                new BindCheck(System.Array.Empty<string>(), Bind("0.0.0.0", port: 80), "EACCES", "linux.eacces.privileged-port")),
            new CrossOsRow(25, "two connect() calls without bind, to different peers, share a source port: yes",
                new SourcePortPoolCheck(SourcePortPool.PerDestination)),
            new CrossOsRow(26, "SO_BINDTODEVICE eth0 and eth1, both 0.0.0.0:P: ok (different devices never conflict)",
                new BindCheck(new[] { S("tcp LISTEN 0.0.0.0:P", "dev=eth0") }, Bind("0.0.0.0", device: "eth1"), null)),
        };

        public static IEnumerable<object[]> Table() => CrossOsRow.Data(Rows);

        [Theory]
        [MemberData(nameof(Table))]
        public void Linux_outcome_is_the_one_the_spec_table_gives(string row) => Verify(TargetOS.Linux, CrossOsRow.Find(Rows, row));

        [Fact]
        public void Every_row_of_the_table_is_covered() => Assert.Equal(System.Linq.Enumerable.Range(1, 26), System.Linq.Enumerable.Select(Rows, r => r.Number));
    }
}
