using System;
using System.Collections.Generic;
using System.Net;
using Xunit;

namespace PortTools.Tests.Model
{
    public class SocketTupleTextTests
    {
        public static IEnumerable<object[]> RoundTripSockets()
        {
            var full = new SocketTuple
            {
                Protocol = TransportProtocol.Tcp,
                State = SocketState.Established,
                LocalAddress = IPAddress.Parse("192.0.2.10"),
                LocalPort = 443,
                RemoteAddress = IPAddress.Parse("198.51.100.7"),
                RemotePort = 40000,
                ReuseAddress = true,
                ReusePort = false,
                BoundInterface = "eth0",
                UserId = 4294967294,
                Processes = new[] { new SocketOwner(812, "nginx"), new SocketOwner(813, "nginx") },
            };
            yield return new object[] { "every field", full };
            yield return new object[] { "listener", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 8080, ReusePort = true, UserId = 1000 } };
            yield return new object[] { "dual-stack listener", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Any, LocalPort = 22, IPv6Only = false } };
            yield return new object[] { "v6only listener", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Any, LocalPort = 22, IPv6Only = true } };
            yield return new object[] { "explicit off flags", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Bound, LocalAddress = IPAddress.Loopback, LocalPort = 5000, ReuseAddress = false, ReusePort = false } };
            yield return new object[] { "FreeBSD SO_REUSEPORT_LB listener", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 443, ReusePortLoadBalance = true, UserId = 80 } };
            yield return new object[] { "SO_REUSEPORT_LB known off", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 53, ReusePort = true, ReusePortLoadBalance = false } };
            yield return new object[] { "Windows SO_EXCLUSIVEADDRUSE listener", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Any, LocalPort = 445, ExclusiveAddressUse = true, IPv6Only = true } };
            yield return new object[] { "SO_EXCLUSIVEADDRUSE known off", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 500, ReuseAddress = true, ExclusiveAddressUse = false } };
            yield return new object[] { "every socket option", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.IPv6Any, LocalPort = 8443, ReuseAddress = false, ReusePort = true, ReusePortLoadBalance = false, ExclusiveAddressUse = false, IPv6Only = false, BoundInterface = "em0", UserId = 1001 } };
            yield return new object[] { "v4-mapped", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.TimeWait, LocalAddress = IPAddress.Parse("::ffff:127.0.0.1"), LocalPort = 1, RemoteAddress = IPAddress.Parse("::ffff:127.0.0.2"), RemotePort = 65535 } };
            yield return new object[] { "link-local with scope", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Parse("fe80::1%2"), LocalPort = 546 } };
            yield return new object[] { "udp connected", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Connected, LocalAddress = IPAddress.Parse("10.0.0.1"), LocalPort = 5353, RemoteAddress = IPAddress.Parse("10.0.0.2"), RemotePort = 53 } };
            yield return new object[] { "owner without name", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 68, Processes = new[] { new SocketOwner(1, null) } } };
            yield return new object[] { "owners with different and odd names", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 80, Processes = new[] { new SocketOwner(10, "Web Content"), new SocketOwner(11, null), new SocketOwner(12, "a,b=c%d") } } };
            yield return new object[] { "named network namespace", new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 8080, NetworkNamespace = new NetworkNamespaceInfo(4026532301, "red") } };
            yield return new object[] { "unnamed network namespace", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 53, NetworkNamespace = new NetworkNamespaceInfo(4026531840) } };
            yield return new object[] { "device name needing escapes", new SocketTuple { Protocol = TransportProtocol.Udp, State = SocketState.Unconnected, LocalAddress = IPAddress.Any, LocalPort = 67, BoundInterface = "my dev" } };
            foreach (SocketState state in Enum.GetValues<SocketState>())
            {
                if (state is SocketState.Unconnected or SocketState.Connected)
                {
                    continue;
                }

                yield return new object[] { "tcp state " + state, new SocketTuple { Protocol = TransportProtocol.Tcp, State = state, LocalAddress = IPAddress.Loopback, LocalPort = 1234, RemoteAddress = IPAddress.Loopback, RemotePort = 4321 } };
            }
        }

        [Theory]
        [InlineData("4026532301", 4026532301UL, null)]
        [InlineData("red:4026532301", 4026532301UL, "red")]
        [InlineData("net:[4026531840]", 4026531840UL, null)]
        [InlineData("cni-1a2b:4026532999", 4026532999UL, "cni-1a2b")]
        public void Network_namespace_text_reads_inode_and_name(string text, ulong inode, string? name)
        {
            NetworkNamespaceInfo space = NetworkNamespaceInfo.Parse(text);
            Assert.Equal(inode, space.Inode);
            Assert.Equal(name, space.Name);
            Assert.Equal(space, NetworkNamespaceInfo.Parse(space.ToString()));
        }

        [Theory]
        [InlineData("")]
        [InlineData("red")]
        [InlineData(":4026532301")]
        [InlineData("0")]
        [InlineData("-5")]
        public void Bad_network_namespace_text_is_rejected(string text)
        {
            Assert.False(NetworkNamespaceInfo.TryParse(text, out _));
            Assert.Throws<FormatException>(() => NetworkNamespaceInfo.Parse(text));
        }

        [Theory]
        [MemberData(nameof(RoundTripSockets))]
        public void Parse_reads_back_what_ToString_writes(string name, SocketTuple socket)
        {
            string text = socket.ToString();
            SocketTuple parsed = SocketTuple.Parse(text);
            Assert.True(socket.Equals(parsed), name + ": '" + text + "' read back as '" + parsed + "'");
            Assert.Equal(text, parsed.ToString());
        }

        [Fact]
        public void Writes_the_documented_example()
        {
            var socket = new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 8080, ReusePort = true, UserId = 1000 };
            Assert.Equal("tcp LISTEN 0.0.0.0:8080 reuseport uid=1000", socket.ToString());
        }

        [Fact]
        public void Writes_the_new_options_in_canonical_order_after_reuseport()
        {
            var socket = new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalAddress = IPAddress.Any, LocalPort = 80, ReuseAddress = true, ReusePort = false, ReusePortLoadBalance = true, ExclusiveAddressUse = false, UserId = 0 };
            Assert.Equal("tcp LISTEN 0.0.0.0:80 reuseaddr noreuseport reuseport_lb noexclusiveaddruse uid=0", socket.ToString());
        }

        [Theory]
        [InlineData("tcp LISTEN 0.0.0.0:80 reuseport_lb", true, null)]
        [InlineData("tcp LISTEN 0.0.0.0:80 NOREUSEPORT_LB", false, null)]
        [InlineData("tcp LISTEN 0.0.0.0:80 exclusiveaddruse", null, true)]
        [InlineData("tcp LISTEN 0.0.0.0:80 noexclusiveaddruse reuseport", null, false)]
        [InlineData("tcp LISTEN 0.0.0.0:80 ExclusiveAddrUse reuseport_lb", true, true)]
        public void Reads_reuseport_lb_and_exclusiveaddruse_in_any_case(string text, bool? loadBalance, bool? exclusive)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            Assert.Equal(loadBalance, socket.ReusePortLoadBalance);
            Assert.Equal(exclusive, socket.ExclusiveAddressUse);
        }

        [Fact]
        public void Equality_compares_the_new_options()
        {
            SocketTuple plain = SocketTuple.Parse("tcp LISTEN 0.0.0.0:80");
            Assert.NotEqual(plain, SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 reuseport_lb"));
            Assert.NotEqual(plain, SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 noexclusiveaddruse"));
            Assert.NotEqual(SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 reuseport_lb"), SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 noreuseport_lb"));
        }

        [Theory]
        [InlineData("tcp listen 0.0.0.0:80", SocketState.Listen)]
        [InlineData("TCP Listen 0.0.0.0:80", SocketState.Listen)]
        [InlineData("tcp ESTAB 10.0.0.1:80 10.0.0.2:5000", SocketState.Established)]
        [InlineData("tcp Established 10.0.0.1:80 10.0.0.2:5000", SocketState.Established)]
        [InlineData("tcp time-wait 10.0.0.1:80 10.0.0.2:5000", SocketState.TimeWait)]
        [InlineData("tcp TIME_WAIT 10.0.0.1:80 10.0.0.2:5000", SocketState.TimeWait)]
        [InlineData("tcp SYN-RECV 10.0.0.1:80 10.0.0.2:5000", SocketState.SynReceived)]
        [InlineData("tcp FIN-WAIT-1 10.0.0.1:80 10.0.0.2:5000", SocketState.FinWait1)]
        [InlineData("tcp LISTENING 0.0.0.0:80", SocketState.Listen)]
        [InlineData("tcp BOUND-INACTIVE 127.0.0.1:5000", SocketState.Bound)]
        [InlineData("tcp UNCONN 127.0.0.1:5000", SocketState.Bound)]
        [InlineData("udp UNCONN 0.0.0.0:53", SocketState.Unconnected)]
        [InlineData("udp ESTAB 10.0.0.1:5000 10.0.0.2:53", SocketState.Connected)]
        [InlineData("udp Connected 10.0.0.1:5000 10.0.0.2:53", SocketState.Connected)]
        public void Accepts_enum_names_and_ss_and_netstat_spellings(string text, SocketState expected)
        {
            Assert.Equal(expected, SocketTuple.Parse(text).State);
        }

        [Fact]
        public void Star_is_the_dual_stack_wildcard_as_ss_prints_it()
        {
            SocketTuple socket = SocketTuple.Parse("tcp LISTEN *:80");
            Assert.Equal(IPAddress.IPv6Any, socket.LocalAddress);
            Assert.False(socket.IPv6Only);
        }

        [Theory]
        [InlineData("tcp LISTEN 0.0.0.0:80 0.0.0.0:*")]
        [InlineData("tcp LISTEN 0.0.0.0:80 *:*")]
        [InlineData("tcp LISTEN 0.0.0.0:80")]
        public void An_unspecified_remote_is_the_same_as_none(string text)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            Assert.Equal(IPAddress.Any, socket.RemoteAddress);
            Assert.Equal(0, socket.RemotePort);
            Assert.Equal("*:*", socket.Remote);
        }

        [Fact]
        public void Tokens_after_the_endpoints_come_in_any_order()
        {
            SocketTuple socket = SocketTuple.Parse("udp UNCONN 0.0.0.0:53 pid=5 uid=0 dev=lo reuseaddr process=dnsmasq");
            Assert.True(socket.ReuseAddress);
            Assert.Null(socket.ReusePort);
            Assert.Equal("lo", socket.BoundInterface);
            Assert.Equal(0, socket.UserId);
            Assert.Equal(5, socket.ProcessId);
            Assert.Equal("dnsmasq", socket.ProcessName);
        }

        [Fact]
        public void One_process_name_applies_to_every_pid()
        {
            SocketTuple socket = SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 pid=812,813 process=nginx");
            Assert.Equal(new[] { 812, 813 }, new[] { socket.Processes[0].ProcessId, socket.Processes[1].ProcessId });
            Assert.All(socket.Processes, p => Assert.Equal("nginx", p.ProcessName));
        }

        public static IEnumerable<object[]> BadText() => new[]
        {
            new object[] { "", "expected at least a protocol" },
            new object[] { "tcp LISTEN", "expected at least a protocol" },
            new object[] { "sctp LISTEN 0.0.0.0:80", "'sctp'" },
            new object[] { "tcp LISTN 0.0.0.0:80", "'LISTN'" },
            new object[] { "udp LISTEN 0.0.0.0:53", "'LISTEN' is not a UDP state" },
            new object[] { "tcp LISTEN 0.0.0.0", "'0.0.0.0'" },
            new object[] { "tcp LISTEN 0.0.0.0:70000", "'70000'" },
            new object[] { "tcp LISTEN 0.0.0.0:-1", "'-1'" },
            new object[] { "tcp LISTEN 10.1:80", "'10.1'" },
            new object[] { "tcp LISTEN 256.0.0.1:80", "'256.0.0.1'" },
            new object[] { "tcp LISTEN ::1:80", "in brackets" },
            new object[] { "tcp LISTEN [::g]:80", "'::g'" },
            new object[] { "tcp ESTAB 10.0.0.1:80 [::1]:5000", "'[::1]:5000' is IPv6" },
            new object[] { "tcp ESTAB 10.0.0.1:80 10.0.0.2:x", "'x'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuse", "'reuse'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuseaddr reuseaddr", "'reuseaddr' repeats" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuseaddr noreuseaddr", "'noreuseaddr' repeats or contradicts" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuseport_lb noreuseport_lb", "'noreuseport_lb' repeats or contradicts" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuseport_lb reuseport_lb", "'reuseport_lb' repeats" },
            new object[] { "tcp LISTEN 0.0.0.0:80 exclusiveaddruse noexclusiveaddruse", "'noexclusiveaddruse' repeats or contradicts" },
            new object[] { "tcp LISTEN 0.0.0.0:80 reuseport-lb", "'reuseport-lb'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 exclusive", "'exclusive'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 v6only", "'v6only' applies only to IPv6" },
            new object[] { "tcp LISTEN 0.0.0.0:80 uid=-5", "'uid=-5'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 uid=4294967296", "'uid=4294967296'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 pid=abc", "'pid=abc'" },
            new object[] { "tcp LISTEN 0.0.0.0:80 dev=", "'dev='" },
            new object[] { "tcp LISTEN 0.0.0.0:80 process=nginx", "'process=' needs 'pid='" },
            new object[] { "tcp LISTEN 0.0.0.0:80 pid=1,2,3 process=a,b", "3 pids" },
            new object[] { "tcp LISTEN 0.0.0.0:80 process=%zz pid=1", "bad %-escape" },
            new object[] { "tcp LISTEN 0.0.0.0:80 netns=red", "netns=red" },
            new object[] { "tcp LISTEN 0.0.0.0:80 netns=0", "inode number" },
        };

        [Theory]
        [MemberData(nameof(BadText))]
        public void Bad_text_is_rejected_with_a_message_naming_the_bad_token(string text, string expectedInMessage)
        {
            Assert.False(SocketTuple.TryParse(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => SocketTuple.Parse(text));
            Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
            Assert.Contains("'" + text + "'", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Unknown_options_stay_unknown_rather_than_false()
        {
            SocketTuple socket = SocketTuple.Parse("tcp LISTEN [::]:80");
            Assert.Null(socket.ReuseAddress);
            Assert.Null(socket.ReusePort);
            Assert.Null(socket.ReusePortLoadBalance);
            Assert.Null(socket.ExclusiveAddressUse);
            Assert.Null(socket.IPv6Only);
        }

        [Fact]
        public void IPv6Only_does_not_apply_to_IPv4_sockets()
        {
            var socket = new SocketTuple { Protocol = TransportProtocol.Tcp, LocalAddress = IPAddress.Any, IPv6Only = true };
            Assert.Null(socket.IPv6Only);
        }

        [Fact]
        public void Ports_out_of_range_are_refused_by_the_model()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new SocketTuple { LocalPort = 65536 });
            Assert.Throws<ArgumentOutOfRangeException>(() => new SocketTuple { RemotePort = -1 });
        }

        [Fact]
        public void Equality_ignores_the_source()
        {
            SocketTuple a = SocketTuple.Parse("tcp LISTEN 0.0.0.0:80");
            SocketTuple b = new SocketTuple { Protocol = a.Protocol, State = a.State, LocalAddress = a.LocalAddress, LocalPort = a.LocalPort, Source = "Live" };
            Assert.Equal(a, b);
            Assert.Equal(a.GetHashCode(), b.GetHashCode());
        }
    }
}

namespace PortTools.Tests.Model
{
    public class SocketOwnerListTests
    {
        [Theory]
        [InlineData("")]
        [InlineData("nginx (pid 812)")]
        [InlineData("nginx (pid 812), nginx (pid 813)")]
        [InlineData("pid 1, Web Content (pid 2)")]
        [InlineData("odd (name) (pid 3)")]
        public void The_text_that_Export_Csv_writes_reads_back(string text)
        {
            Assert.True(SocketOwnerList.TryParse(text, out SocketOwnerList? owners));
            Assert.Equal(text, owners.ToString());
        }

        [Theory]
        [InlineData("nginx")]
        [InlineData("nginx (pid x)")]
        [InlineData("(pid -1)")]
        public void Anything_else_is_refused(string text)
        {
            Assert.False(SocketOwnerList.TryParse(text, out _));
        }

        [Fact]
        public void Owners_are_in_process_id_order_whatever_order_a_source_listed_them_in()
        {
            var fromSs = new SocketTuple { Processes = new[] { new SocketOwner(813, "nginx"), new SocketOwner(812, "nginx") } };
            var live = new SocketTuple { Processes = new[] { new SocketOwner(812, "nginx"), new SocketOwner(813, "nginx") } };
            Assert.Equal(812, fromSs.ProcessId);
            Assert.Equal(live, fromSs);
        }

        [Fact]
        public void Processes_always_holds_a_list_whose_text_parses()
        {
            var socket = new SocketTuple { Processes = new[] { new SocketOwner(812, "nginx"), new SocketOwner(813, null) } };
            Assert.IsType<SocketOwnerList>(socket.Processes);
            Assert.Equal("nginx (pid 812), pid 813", socket.Processes.ToString());
        }
    }
}
