using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>connect()'s source port (kernel-rules.md 1C, 3C, 4C, 2C): the rules one by one, each on a small table.</summary>
    public class ConnectRulesTests
    {
        private static readonly IPEndPoint Db = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 5432);

        private static HostFacts Linux(string range = "40000-40009", int twReuse = 2, bool autobindReuse = false, params string[] reserved) => Linux(KnownHostFacts.None, range, twReuse, autobindReuse, reserved);

        private static HostFacts Linux(KnownHostFacts unknown, string range = "40000-40009", int twReuse = 2, bool autobindReuse = false, params string[] reserved) => new HostFacts(TargetOS.Linux, new[] { IPAddress.Parse("10.0.0.1"), IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            EphemeralPortRange = PortRange.Parse(range),
            TcpTwReuse = twReuse,
            AutobindReuse = autobindReuse,
            ReservedPorts = reserved.Select(PortRange.Parse).ToArray(),
            Known = KnownHostFacts.All & ~unknown,
        };

        private static PortConnectResult Decide(HostFacts facts, ConnectRequest request, params string[] table) =>
            RuleEngine.DecideConnect(SocketIndex.Build(table.Select(SocketTuple.Parse).ToArray(), facts), request);

        private static ConnectRequest To(IPEndPoint destination, int count = 1) => new ConnectRequest { Destination = destination, Count = count, SourceAddress = IPAddress.Parse("10.0.0.1") };

        private static string[] Connections(int from, int to, string destination, string state = "ESTAB", string source = "10.0.0.1") =>
            Enumerable.Range(from, to - from + 1).Select(p => "tcp " + state + " " + source + ":" + p + " " + destination).ToArray();

        [Theory]
        [InlineData(0, null)]
        [InlineData(10, null)]
        [InlineData(0, KnownHostFacts.EphemeralPortRange)]
        public void CanConnect_is_the_answer_DecideConnect_puts_into_words(int taken, KnownHostFacts? unknown)
        {
            HostFacts facts = unknown is KnownHostFacts missing ? Linux(missing) : Linux();
            SocketIndex index = SocketIndex.Build(Connections(40000, 40000 + taken - 1, "10.0.0.5:5432").Select(SocketTuple.Parse).ToArray(), facts);
            PortConnectResult result = RuleEngine.DecideConnect(index, To(Db));
            Assert.Equal(result.CanConnect, RuleEngine.CanConnect(index, To(Db)));
            Assert.Equal(taken == 10 ? false : unknown is null ? true : (bool?)null, result.CanConnect);
        }

        [Fact]
        public void A_free_range_offers_every_port_and_the_even_ones_first()
        {
            PortConnectResult result = Decide(Linux(), To(Db));
            Assert.True(result.CanConnect);
            Assert.Null(result.Error);
            Assert.Equal(10, result.Available);
            Assert.Equal(new[] { 40000, 40002, 40004, 40006, 40008 }, result.SourcePorts);
            Assert.Null(result.SourcePort);
            Assert.Equal("linux.connect.ephemeral", result.Rule);
            Assert.Contains("trying the even ports first, then the odd ones", result.Reason, StringComparison.Ordinal);
            Assert.Contains("per-boot hash", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Connections_to_other_destinations_share_their_ports()
        {
            PortConnectResult result = Decide(Linux("40000-40000"), To(Db), "tcp ESTAB 10.0.0.1:40000 10.0.0.9:443");
            Assert.True(result.CanConnect);
            Assert.Equal(40000, result.SourcePort);
            Assert.Equal(1, result.Available);
            Assert.Contains("Of the ports it can take, 1 also carries other connections (to other destinations, or from other addresses)", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_taken_4_tuple_exhausts_a_one_port_range()
        {
            PortConnectResult result = Decide(Linux("40000-40000"), To(Db), "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432");
            Assert.False(result.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", result.Error);
            Assert.Equal(99, result.ErrorCode);
            Assert.Equal(0, result.Available);
            Assert.Empty(result.SourcePorts);
            Assert.Equal("linux.connect.exhausted", result.Rule);
            Assert.Contains("1 already carries a connection from 10.0.0.1 to 10.0.0.5:5432", result.Reason, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("tcp LISTEN 0.0.0.0:40000")]
        [InlineData("tcp LISTEN 127.0.0.1:40000")]
        [InlineData("tcp UNCONN 10.0.0.1:40000")]
        public void A_port_bind_put_in_its_bucket_is_never_taken_by_connect(string holder)
        {
            PortConnectResult result = Decide(Linux("40000-40001"), To(Db), holder);
            Assert.Equal(40001, result.SourcePort);
            Assert.Equal(1, result.Available);
            Assert.Contains("1 is held by bind()", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Reserved_ports_are_skipped()
        {
            PortConnectResult result = Decide(Linux("40000-40003", 2, false, "40000-40002"), To(Db));
            Assert.Equal(40003, result.SourcePort);
            Assert.Equal(1, result.Available);
            Assert.Contains("3 are reserved (ip_local_reserved_ports)", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_range_of_three_ports_never_tries_its_last()
        {
            PortConnectResult free = Decide(Linux("40000-40002"), To(Db));
            Assert.Equal(2, free.Available);
            Assert.Equal(new[] { 40000 }, free.SourcePorts);
            Assert.Equal(40000, free.SourcePort);

            PortConnectResult onlyLast = Decide(Linux("40000-40002"), To(Db), Connections(40000, 40001, "10.0.0.5:5432"));
            Assert.False(onlyLast.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", onlyLast.Error);
            Assert.Contains("port 40002 is never tried", onlyLast.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void An_odd_range_leaves_out_low_or_high_as_the_hash_decides()
        {
            // 40000-40004: only 40000 is left; the hash's offset decides whether this call tries it.
            PortConnectResult result = Decide(Linux("40000-40004"), To(Db), Connections(40001, 40004, "10.0.0.5:5432"));
            Assert.Null(result.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", result.Error);
            Assert.Equal(0, result.Available);
            Assert.Contains(result.DependsOn, d => d.Contains("per-boot hash", StringComparison.Ordinal));
            Assert.Equal(new[] { 40000 }, result.SourcePorts);

            // With an odd port free as well, the call always finds one; only the count is uncertain.
            PortConnectResult more = Decide(Linux("40000-40004"), To(Db), Connections(40002, 40004, "10.0.0.5:5432"));
            Assert.True(more.CanConnect);
            Assert.Equal(1, more.Available);
            Assert.Contains("At least 1 and up to 2", more.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Count_asks_about_calls_in_a_row()
        {
            string[] table = Connections(40000, 40003, "10.0.0.5:5432");
            Assert.True(Decide(Linux(), To(Db, 6), table).CanConnect);
            PortConnectResult seven = Decide(Linux(), To(Db, 7), table);
            Assert.False(seven.CanConnect);
            Assert.Equal(6, seven.Available);
            Assert.Equal("EADDRNOTAVAIL", seven.Error);
            Assert.Contains("the 7th fails with EADDRNOTAVAIL", seven.Reason, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(0, 2000, false)]
        [InlineData(1, 2000, true)]
        [InlineData(1, 500, false)]
        [InlineData(2, 2000, false)] // not loopback
        public void TIME_WAIT_entries_are_taken_over_as_tcp_tw_reuse_says(int twReuse, int ageMs, bool taken)
        {
            HostFacts facts = Linux("40000-40000", twReuse);
            var request = new ConnectRequest { Destination = Db, SourceAddress = IPAddress.Parse("10.0.0.1"), TimeWaitAge = _ => TimeSpan.FromMilliseconds(ageMs) };
            PortConnectResult result = Decide(facts, request, "tcp TIME-WAIT 10.0.0.1:40000 10.0.0.5:5432");

            // A remote peer's timestamps are not known: a takeover that needs them depends on them.
            if (taken)
            {
                Assert.Null(result.CanConnect);
                Assert.Contains(result.DependsOn, d => d.Contains("timestamps", StringComparison.Ordinal));
            }
            else
            {
                Assert.False(result.CanConnect);
                Assert.Equal("EADDRNOTAVAIL", result.Error);
            }
        }

        [Theory]
        [InlineData(2, true)]
        [InlineData(1, true)]
        [InlineData(0, false)]
        public void Loopback_TIME_WAIT_is_taken_over_with_tcp_tw_reuse_1_or_2(int twReuse, bool taken)
        {
            HostFacts facts = Linux("40000-40000", twReuse);
            var request = new ConnectRequest { Destination = new IPEndPoint(IPAddress.Loopback, 5001), TimeWaitAge = _ => TimeSpan.FromSeconds(2) };
            PortConnectResult result = Decide(facts, request, "tcp TIME-WAIT 127.0.0.1:40000 127.0.0.1:5001");
            Assert.Equal(taken, result.CanConnect);
            Assert.Equal(taken ? 40000 : null, result.SourcePort);
            Assert.Equal(IPAddress.Loopback, result.SourceAddress);
        }

        [Theory]
        [InlineData(KnownHostFacts.TcpTwReuse, "net.ipv4.tcp_tw_reuse of that host")]
        [InlineData(KnownHostFacts.TcpTimestamps, "net.ipv4.tcp_timestamps of that host")]
        [InlineData(KnownHostFacts.TcpTwReuseDelay, "net.ipv4.tcp_tw_reuse_delay of that host")]
        public void An_unknown_TIME_WAIT_sysctl_is_named_never_taken_as_its_default(KnownHostFacts unknown, string named)
        {
            // Loopback, old enough, tcp_tw_reuse 2: taken over when every fact is known.
            var request = new ConnectRequest { Destination = new IPEndPoint(IPAddress.Loopback, 5001), TimeWaitAge = _ => TimeSpan.FromSeconds(2) };
            const string entry = "tcp TIME-WAIT 127.0.0.1:40000 127.0.0.1:5001";
            Assert.True(Decide(Linux("40000-40000"), request, entry).CanConnect);

            PortConnectResult result = Decide(Linux(unknown, "40000-40000"), request, entry);
            Assert.Null(result.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", result.Error);
            Assert.Contains(result.DependsOn, d => d.StartsWith(named, StringComparison.Ordinal));
            Assert.Single(result.DependsOn);
        }

        [Fact]
        public void Tcp_timestamps_off_on_this_host_leaves_no_TIME_WAIT_entry_to_take_over()
        {
            var request = new ConnectRequest { Destination = new IPEndPoint(IPAddress.Loopback, 5001), TimeWaitAge = _ => TimeSpan.FromSeconds(2) };
            HostFacts off = new HostFacts(TargetOS.Linux) { EphemeralPortRange = PortRange.Parse("40000-40000"), TcpTimestamps = 0 };
            PortConnectResult result = Decide(off, request, "tcp TIME-WAIT 127.0.0.1:40000 127.0.0.1:5001");
            Assert.False(result.CanConnect);
            Assert.Empty(result.DependsOn);
        }

        [Fact]
        public void A_TIME_WAIT_entry_of_unknown_age_leaves_the_answer_open()
        {
            PortConnectResult result = Decide(Linux("40000-40000", 1), new ConnectRequest { Destination = new IPEndPoint(IPAddress.Loopback, 5001) }, "tcp TIME-WAIT 127.0.0.1:40000 127.0.0.1:5001");
            Assert.Null(result.CanConnect);
            Assert.Contains(result.DependsOn, d => d.Contains("tcp_tw_reuse_delay", StringComparison.Ordinal));
            Assert.Equal("EADDRNOTAVAIL", result.Error);
        }

        [Fact]
        public void A_bound_port_checks_only_the_4_tuple()
        {
            var request = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), Port = 40000, ReuseAddress = true };
            PortConnectResult taken = Decide(Linux(), request, "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432 reuseaddr");
            Assert.False(taken.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", taken.Error);
            Assert.Single(taken.Conflicts);

            PortConnectResult other = Decide(Linux(), request, "tcp ESTAB 10.0.0.1:40000 10.0.0.9:5432 reuseaddr");
            Assert.True(other.CanConnect);
            Assert.Equal(40000, other.SourcePort);

            // A TIME-WAIT entry is taken over from a bound port when it recorded timestamps, whatever tcp_tw_reuse says.
            var loopback = new ConnectRequest { Destination = new IPEndPoint(IPAddress.Loopback, 5001), Address = IPAddress.Loopback, Port = 40000, ReuseAddress = true };
            PortConnectResult overTimeWait = Decide(Linux(twReuse: 0), loopback, "tcp TIME-WAIT 127.0.0.1:40000 127.0.0.1:5001 reuseaddr");
            Assert.True(overTimeWait.CanConnect);
        }

        [Fact]
        public void The_bind_before_connect_can_fail_first()
        {
            var request = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), Port = 40000 };
            PortConnectResult result = Decide(Linux(), request, "tcp LISTEN 0.0.0.0:40000");
            Assert.False(result.CanConnect);
            Assert.Equal("EADDRINUSE", result.Error);
            Assert.StartsWith("bind() before connect() fails with EADDRINUSE", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_second_call_from_the_same_bound_port_fails()
        {
            var plain = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), Port = 40000, Count = 2 };
            PortConnectResult noShare = Decide(Linux(), plain);
            Assert.False(noShare.CanConnect);
            Assert.Equal("EADDRINUSE", noShare.Error);
            Assert.Equal(1, noShare.Available);

            PortConnectResult share = Decide(Linux(), new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), Port = 40000, Count = 2, ReuseAddress = true });
            Assert.Equal("EADDRNOTAVAIL", share.Error);
        }

        [Fact]
        public void Binding_port_0_first_takes_no_port_another_destination_uses()
        {
            var request = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1") };
            string[] table = Connections(40000, 40001, "10.0.0.9:443");
            PortConnectResult bound = Decide(Linux("40000-40001"), request, table);
            Assert.False(bound.CanConnect);
            Assert.Equal("EADDRINUSE", bound.Error);
            Assert.Contains("bind() shares no port with them", bound.Reason, StringComparison.Ordinal);

            // IP_BIND_ADDRESS_NO_PORT leaves the choice to connect(), which shares.
            PortConnectResult noPort = Decide(Linux("40000-40001"), new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), BindAddressNoPort = true }, table);
            Assert.True(noPort.CanConnect);
            Assert.Equal(2, noPort.Available);
        }

        [Fact]
        public void Bind_0_prefers_the_other_parity()
        {
            PortConnectResult result = Decide(Linux("40000-40003"), new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1") });
            Assert.Equal(new[] { 40001, 40003 }, result.SourcePorts);
            Assert.Equal(4, result.Available);
        }

        [Fact]
        public void Ip_autobind_reuse_shares_a_port_with_SO_REUSEADDR_sockets()
        {
            var request = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1"), ReuseAddress = true };
            string other = "tcp ESTAB 10.0.0.1:40000 10.0.0.9:443 reuseaddr noreuseport";
            Assert.False(Decide(Linux("40000-40000", autobindReuse: false), request, other).CanConnect);

            PortConnectResult shared = Decide(Linux("40000-40000", autobindReuse: true), request, other);
            Assert.True(shared.CanConnect);
            Assert.Equal("linux.bind0.autobind-reuse", shared.Rule);

            PortConnectResult sameDestination = Decide(Linux("40000-40000", autobindReuse: true), request, "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432 reuseaddr noreuseport");
            Assert.False(sameDestination.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", sameDestination.Error);

            // Not with a listener, and not without SO_REUSEADDR on the new socket.
            Assert.False(Decide(Linux("40000-40000", autobindReuse: true), request, "tcp LISTEN 10.0.0.1:40000 reuseaddr noreuseport").CanConnect);
            Assert.False(Decide(Linux("40000-40000", autobindReuse: true), new ConnectRequest { Destination = Db, Address = IPAddress.Parse("10.0.0.1") }, other).CanConnect);
        }

        [Fact]
        public void Bind_port_0_never_tries_the_last_port_of_three_and_names_an_unknown_ip_autobind_reuse()
        {
            SocketIndex index = SocketIndex.Build(new[] { SocketTuple.Parse("tcp LISTEN 127.0.0.1:40000"), SocketTuple.Parse("tcp LISTEN 127.0.0.1:40001") }, Linux("40000-40002"));
            PortBindResult three = RuleEngine.DecideBind(index, new BindRequest { Address = IPAddress.Loopback, Port = 0 });
            Assert.False(three.CanBind);
            Assert.Equal("EADDRINUSE", three.Error);

            SocketIndex shared = SocketIndex.Build(new[] { SocketTuple.Parse("tcp ESTAB 127.0.0.1:40000 127.0.0.1:5000 reuseaddr noreuseport") }, Linux(KnownHostFacts.AutobindReuse, "40000-40000"));
            PortBindResult unknown = RuleEngine.DecideBind(shared, new BindRequest { Address = IPAddress.Loopback, Port = 0, ReuseAddress = true });
            Assert.Null(unknown.CanBind);
            Assert.Equal("EADDRINUSE", unknown.Error);
            Assert.Contains(unknown.DependsOn, d => d.Contains("ip_autobind_reuse", StringComparison.Ordinal));

            PortBindResult known = RuleEngine.DecideBind(SocketIndex.Build(new[] { SocketTuple.Parse("tcp ESTAB 127.0.0.1:40000 127.0.0.1:5000 reuseaddr noreuseport") }, Linux("40000-40000", autobindReuse: true)), new BindRequest { Address = IPAddress.Loopback, Port = 0, ReuseAddress = true });
            Assert.True(known.CanBind);
            Assert.Equal("linux.port0.autobind-reuse", known.Rule);
        }

        [Fact]
        public void IP_LOCAL_PORT_RANGE_narrows_the_range_and_drops_the_parity_order()
        {
            PortConnectResult result = Decide(Linux(), new ConnectRequest { Destination = Db, SourceAddress = IPAddress.Parse("10.0.0.1"), LocalPortRange = PortRange.Parse("40003-40005") });
            Assert.Equal(new[] { 40003, 40004, 40005 }, result.SourcePorts);
            Assert.Equal(PortRange.Parse("40003-40005"), result.SearchedRange);

            // A bound outside the system range is ignored.
            PortConnectResult wide = Decide(Linux(), new ConnectRequest { Destination = Db, LocalPortRange = PortRange.Parse("40008-50000") });
            Assert.Equal(PortRange.Parse("40008-40009"), wide.SearchedRange);
        }

        [Fact]
        public void UDP_autobind_shares_no_port_and_fails_with_EAGAIN()
        {
            var request = new ConnectRequest { Protocol = TransportProtocol.Udp, Destination = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 53) };
            PortConnectResult result = Decide(Linux("40000-40001"), request, "udp ESTAB 10.0.0.1:40000 10.0.0.9:53", "udp UNCONN 0.0.0.0:40001");
            Assert.False(result.CanConnect);
            Assert.Equal("EAGAIN", result.Error);
            Assert.Equal(11, result.ErrorCode);

            PortConnectResult one = Decide(Linux("40000-40001"), request, "udp UNCONN 0.0.0.0:40001");
            Assert.Equal(40000, one.SourcePort);
            Assert.Equal(1, one.Available);
        }

        [Fact]
        public void UDP_with_SO_REUSEADDR_shares_with_SO_REUSEADDR_holders_and_sets_no_limit()
        {
            var request = new ConnectRequest { Protocol = TransportProtocol.Udp, Destination = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 53), ReuseAddress = true };
            PortConnectResult result = Decide(Linux("40000-40000"), request, "udp UNCONN 0.0.0.0:40000 reuseaddr noreuseport");
            Assert.True(result.CanConnect);
            Assert.Null(result.Available);

            PortConnectResult unknown = Decide(Linux("40000-40000"), request, "udp UNCONN 0.0.0.0:40000");
            Assert.Null(unknown.CanConnect);
            Assert.Contains(unknown.DependsOn, d => d.Contains("SO_REUSEADDR", StringComparison.Ordinal));
        }

        [Fact]
        public void IPv6_and_v4_mapped_destinations()
        {
            var v6 = new IPEndPoint(IPAddress.Parse("2001:db8::5"), 443);
            PortConnectResult result = Decide(Linux("40000-40000"), new ConnectRequest { Destination = v6, SourceAddress = IPAddress.Parse("2001:db8::1") }, "tcp ESTAB [2001:db8::1]:40000 [2001:db8::5]:443");
            Assert.Equal("EADDRNOTAVAIL", result.Error);

            // An AF_INET6 socket reaching an IPv4 destination shares the IPv4 4-tuples.
            PortConnectResult mapped = Decide(Linux("40000-40000"), new ConnectRequest { Destination = Db, Address = IPAddress.IPv6Any, BindAddressNoPort = true, SourceAddress = IPAddress.Parse("10.0.0.1") }, "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432");
            Assert.Equal("EADDRNOTAVAIL", mapped.Error);
        }

        [Fact]
        public void The_source_address_comes_from_the_table_when_the_route_is_not_known()
        {
            ConnectRequest request = new ConnectRequest { Destination = Db };
            PortConnectResult inferred = Decide(Linux("40000-40000"), request, "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432");
            Assert.Equal(IPAddress.Parse("10.0.0.1"), inferred.SourceAddress);
            Assert.False(inferred.CanConnect);

            PortConnectResult ambiguous = Decide(Linux("40000-40000"), request, "tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432", "tcp ESTAB 10.0.0.2:40001 10.0.0.5:5432");
            Assert.Null(ambiguous.CanConnect);
            Assert.Contains(ambiguous.DependsOn, d => d.Contains("10.0.0.1 and 10.0.0.2", StringComparison.Ordinal));
        }

        [Fact]
        public void Unknown_host_facts_are_named_never_borrowed()
        {
            HostFacts facts = HostFacts.From(new SocketHost { OS = TargetOS.Linux, NonLocalBind = false, TcpTwReuse = 2, TcpTimestamps = 1, AutobindReuse = false });
            PortConnectResult result = Decide(facts, new ConnectRequest { Destination = Db });
            Assert.Null(result.CanConnect);
            Assert.Contains(result.DependsOn, d => d.Contains("ip_local_port_range", StringComparison.Ordinal));
            Assert.Equal(28232, result.Available);

            HostFacts rangeKnown = HostFacts.From(new SocketHost { OS = TargetOS.Linux, EphemeralPortRange = PortRange.Parse("40000-40009"), ReservedPorts = Array.Empty<PortRange>(), NonLocalBind = false, TcpTwReuse = 2, TcpTimestamps = 1, AutobindReuse = false, UserId = 0, Privileged = true });
            PortConnectResult address = Decide(rangeKnown, new ConnectRequest { Destination = Db, Address = IPAddress.Parse("192.0.2.7"), BindAddressNoPort = true });
            Assert.Null(address.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", address.Error);
            Assert.Contains(address.DependsOn, d => d.Contains("whether 192.0.2.7 is an address of that host", StringComparison.Ordinal));
        }

        [Fact]
        public void The_bind_before_connect_is_weighed_like_any_bind()
        {
            // The host's addresses are not known; its user is: uid 1000, without CAP_NET_BIND_SERVICE.
            HostFacts facts = HostFacts.From(new SocketHost { OS = TargetOS.Linux, EphemeralPortRange = PortRange.Parse("40000-40009"), ReservedPorts = Array.Empty<PortRange>(), UnprivilegedPortStart = 1024, NonLocalBind = false, UserId = 1000, Privileged = false });
            var request = new ConnectRequest { Destination = Db, Address = IPAddress.Parse("192.0.2.6"), Port = 80 };
            PortConnectResult result = Decide(facts, request);

            // Not local: EADDRNOTAVAIL; local: EACCES. It fails either way, and the Reason says both.
            Assert.NotEqual(true, result.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", result.Error);
            Assert.Equal(false, result.CanConnect); // certain: only which error comes first is not
            Assert.Empty(result.DependsOn);
            Assert.StartsWith("bind() before connect() fails whatever the unknown facts are, with one error or another: ", result.Reason, StringComparison.Ordinal);
            Assert.Contains("whether 192.0.2.6 is an address of that host", result.Reason, StringComparison.Ordinal);
            Assert.Contains("the other way: bind() fails with EACCES", result.Reason, StringComparison.Ordinal);

            // Port 8080 binds wherever the address is local, so the connect() answer waits on that fact alone.
            PortConnectResult unprivileged = Decide(facts, new ConnectRequest { Destination = Db, Address = IPAddress.Parse("192.0.2.6"), Port = 8080 });
            Assert.Null(unprivileged.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", unprivileged.Error);
            Assert.Equal(new[] { "whether 192.0.2.6 is an address of that host" }, unprivileged.DependsOn);
        }

        public static IEnumerable<object[]> BadRequests() => new[]
        {
            new object[] { new ConnectRequest { Destination = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 0) }, "has no port" },
            new object[] { new ConnectRequest { Destination = Db, Port = 40000, BindAddressNoPort = true }, "IP_BIND_ADDRESS_NO_PORT" },
            new object[] { new ConnectRequest { Destination = new IPEndPoint(IPAddress.Any, 80) }, "wildcard" },
            new object[] { new ConnectRequest { Destination = new IPEndPoint(IPAddress.Parse("2001:db8::5"), 443), Address = IPAddress.Loopback }, "cannot connect to the IPv6 destination" },
        };

        [Theory]
        [MemberData(nameof(BadRequests))]
        public void Bad_requests_are_named(ConnectRequest request, string expected)
        {
            ArgumentException error = Assert.Throws<ArgumentException>(() => Decide(Linux(), request));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void FreeBSD_shares_ports_across_destinations_and_macOS_does_not()
        {
            string[] table = { "tcp ESTAB 10.0.0.1:10000 10.0.0.9:443" };
            HostFacts freeBsd = new HostFacts(TargetOS.FreeBSD, new[] { IPAddress.Parse("10.0.0.1") }) { EphemeralPortRange = PortRange.Parse("10000-10000") };
            HostFacts mac = new HostFacts(TargetOS.MacOS, new[] { IPAddress.Parse("10.0.0.1") }) { EphemeralPortRange = PortRange.Parse("10000-10000") };
            Assert.True(Decide(freeBsd, To(Db), table).CanConnect);
            PortConnectResult onMac = Decide(mac, To(Db), table);
            Assert.False(onMac.CanConnect);
            Assert.Equal("EADDRNOTAVAIL", onMac.Error);
            Assert.Equal(49, onMac.ErrorCode);
            Assert.Contains("[derived]", onMac.Reason, StringComparison.Ordinal);

            PortConnectResult sameOnBsd = Decide(freeBsd, To(Db), "tcp ESTAB 10.0.0.1:10000 10.0.0.5:5432");
            Assert.False(sameOnBsd.CanConnect);

            // A FreeBSD listener on the wildcard holds the port for every destination.
            Assert.False(Decide(freeBsd, To(Db), "tcp LISTEN 0.0.0.0:10000").CanConnect);
        }

        [Fact]
        public void Windows_says_what_is_not_documented()
        {
            HostFacts windows = new HostFacts(TargetOS.Windows) { EphemeralPortRange = PortRange.Parse("49152-49152") };
            PortConnectResult result = Decide(windows, To(Db), "tcp ESTAB 10.0.0.1:49152 10.0.0.9:443");
            Assert.False(result.CanConnect);
            Assert.Equal("WSAENOBUFS", result.Error);
            Assert.Contains("UNVERIFIED", result.Reason, StringComparison.Ordinal);

            PortConnectResult linuxOnly = Decide(windows, new ConnectRequest { Destination = Db, Address = IPAddress.Any, BindAddressNoPort = true });
            Assert.Equal("WSAENOPROTOOPT", linuxOnly.Error);
        }

        [Fact]
        public void Decisions_cost_the_ports_they_look_at_and_name_no_candidates_until_asked()
        {
            // A range with thousands of free ports: the candidates are computed only when read.
            PortConnectResult result = Decide(Linux("32768-60999"), To(Db));
            Assert.Equal(28232, result.Available);
            Assert.Equal(14116, result.SourcePorts.Count);
            Assert.Equal(32768, result.SourcePorts[0]);
        }
    }
}
