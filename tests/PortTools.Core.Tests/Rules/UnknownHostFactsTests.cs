using System;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>
    /// A simulation never borrows this process's facts: what the SocketHost leaves unknown is weighed,
    /// and an answer that turns on it says so (DependsOn) instead of guessing.
    /// </summary>
    public class UnknownHostFactsTests
    {
        private static PortBindResult Bind(SocketHost host, string address, int port, string[]? table = null, bool reusePort = false, bool listen = false, string? device = null, bool? v6Only = null)
        {
            SocketIndex index = SocketIndex.Build((table ?? Array.Empty<string>()).Select(SocketTuple.Parse).ToList(), HostFacts.From(host));
            return RuleEngine.DecideBind(index, new BindRequest { Address = IPAddress.Parse(address), Port = port, ReusePort = reusePort, Listen = listen, Interface = device, IPv6Only = v6Only });
        }

        private static readonly SocketHost Nothing = SocketHost.Unknown(TargetOS.Linux);

        [Fact]
        public void An_address_whose_locality_is_unknown_is_not_taken_from_this_host()
        {
            // The issue: 192.0.2.2 may well be an address of the machine running the test.
            PortBindResult result = Bind(Nothing, "192.0.2.2", 8500);
            Assert.Null(result.CanBind);
            Assert.Equal("EADDRNOTAVAIL", result.Error);
            Assert.Equal(new[] { "whether 192.0.2.2 is an address of that host", "net.ipv4.ip_nonlocal_bind of that host" }, result.DependsOn);
            Assert.StartsWith("192.0.2.2:8500/tcp depends on what is not known of that host: whether 192.0.2.2 is an address of that host", result.Reason, StringComparison.Ordinal);
            Assert.Contains("Otherwise: 192.0.2.2:8500/tcp can be bound.", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void What_is_known_narrows_what_the_answer_depends_on()
        {
            Assert.Equal(new[] { "whether 192.0.2.2 is an address of that host" }, Bind(new SocketHost { OS = TargetOS.Linux, NonLocalBind = false }, "192.0.2.2", 8500).DependsOn);
            Assert.True(Bind(new SocketHost { OS = TargetOS.Linux, NonLocalBind = true }, "192.0.2.2", 8500).CanBind);
            var addresses = new SocketHost { OS = TargetOS.Linux, Addresses = new[] { HostAddress.Parse("10.0.0.5/24 dev eth0") }, NonLocalBind = false };
            PortBindResult foreign = Bind(addresses, "192.0.2.2", 8500);
            Assert.Equal((false, "EADDRNOTAVAIL", 0), (foreign.CanBind!.Value, foreign.Error!, foreign.DependsOn.Count));
            Assert.True(Bind(addresses, "10.0.0.5", 8500).CanBind);
            Assert.True(Bind(Nothing, "127.0.0.9", 8500).CanBind); // every Linux host has 127.0.0.0/8
            Assert.True(Bind(Nothing, "0.0.0.0", 8500).CanBind);
        }

        [Fact]
        public void A_user_other_than_root_is_unprivileged_and_the_unknown_port_start_decides()
        {
            // The issue: as root, Test-PortBind 80 -SocketTable @() -UserId 1000 -TargetOS Linux said "can be bound".
            PortBindResult result = Bind(Nothing.With(userId: 1000), "0.0.0.0", 80);
            Assert.Null(result.CanBind);
            Assert.Equal("EACCES", result.Error);
            Assert.Equal(new[] { "net.ipv4.ip_unprivileged_port_start of that host" }, result.DependsOn);
            Assert.Contains("which uid 1000 does not have", result.Reason, StringComparison.Ordinal);

            Assert.Equal((false, "EACCES"), (Bind(Nothing.With(userId: 1000, unprivilegedPortStart: 1024), "0.0.0.0", 80).CanBind!.Value, Bind(Nothing.With(userId: 1000, unprivilegedPortStart: 1024), "0.0.0.0", 80).Error!));
            Assert.True(Bind(Nothing.With(userId: 1000, unprivilegedPortStart: 0), "0.0.0.0", 80).CanBind);
            Assert.True(Bind(Nothing.With(userId: 0), "0.0.0.0", 80).CanBind);
            Assert.True(Bind(Nothing.With(userId: 1000), "0.0.0.0", 8080).CanBind);
        }

        [Fact]
        public void Without_a_user_the_privilege_and_the_port_start_decide_and_the_reason_names_no_uid()
        {
            PortBindResult result = Bind(Nothing, "0.0.0.0", 80);
            Assert.Null(result.CanBind);
            Assert.Equal(new[] { "whether the user who binds has CAP_NET_BIND_SERVICE", "net.ipv4.ip_unprivileged_port_start of that host" }, result.DependsOn);
            Assert.Contains("which the user who binds does not have", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_held_privileged_port_fails_whatever_the_privilege_and_the_holder_leads()
        {
            // Seen on another host's ss text: nginx on 0.0.0.0:80 and no facts of that host. Whether the
            // binder may bind port 80 only decides which check refuses first; the bind fails either way.
            string[] table = { "tcp LISTEN 0.0.0.0:80 uid=0 pid=812 process=nginx" };
            PortBindResult result = Bind(Nothing, "0.0.0.0", 80, table);
            Assert.Equal((false, "EADDRINUSE", 0), (result.CanBind!.Value, result.Error!, result.DependsOn.Count));
            Assert.Equal("nginx (812)", result.Holder);
            Assert.StartsWith("0.0.0.0:80/tcp is held by nginx (pid 812)", result.Reason, StringComparison.Ordinal);
            Assert.Contains("The bind fails whatever these facts of that host, not known here, are: whether the user who binds has CAP_NET_BIND_SERVICE", result.Reason, StringComparison.Ordinal);
            Assert.Contains("the other way: bind() fails with EACCES", result.Reason, StringComparison.Ordinal);
            // The uid 0 of the holder is only a possibility the engine weighed, never the binder it names.
            Assert.DoesNotContain("which uid 0 does not have", result.Reason, StringComparison.Ordinal);
            Assert.Contains("which the user who binds does not have", result.Reason, StringComparison.Ordinal);

            // Where the privilege could let the bind through (no holder), the answer still depends on it.
            Assert.Null(Bind(Nothing, "0.0.0.0", 81, table).CanBind);
        }

        [Fact]
        public void Windows_has_no_privileged_ports_so_nothing_unknown_decides()
        {
            PortBindResult result = Bind(SocketHost.Unknown(TargetOS.Windows), "0.0.0.0", 80);
            Assert.Equal((true, 0), (result.CanBind!.Value, result.DependsOn.Count));
        }

        [Fact]
        public void The_user_who_binds_decides_a_SO_REUSEPORT_share_and_is_never_taken_as_this_process()
        {
            string[] table = { "tcp LISTEN 0.0.0.0:9100 reuseaddr reuseport uid=1000" };
            PortBindResult unknown = Bind(Nothing, "0.0.0.0", 9100, table, reusePort: true, listen: true);
            Assert.Null(unknown.CanBind);
            Assert.Equal("EADDRINUSE", unknown.Error);
            Assert.Equal(new[] { "the user who binds" }, unknown.DependsOn);
            Assert.True(Bind(Nothing.With(userId: 1000), "0.0.0.0", 9100, table, reusePort: true, listen: true).CanBind);
            Assert.False(Bind(Nothing.With(userId: 33), "0.0.0.0", 9100, table, reusePort: true, listen: true).CanBind);
        }

        [Fact]
        public void An_interface_of_another_hosts_table_is_taken_to_exist()
        {
            // The issue: -Interface eth1 in a what-if for another machine answered ENODEV because this host has no eth1.
            PortBindResult result = Bind(Nothing, "0.0.0.0", 8080, device: "eth1");
            Assert.Equal((true, 0), (result.CanBind!.Value, result.DependsOn.Count));

            PortBindResult listed = Bind(new SocketHost { OS = TargetOS.Linux, Interfaces = new[] { "lo", "eth0" } }, "0.0.0.0", 8080, device: "eth1");
            Assert.Equal((false, "ENODEV"), (listed.CanBind!.Value, listed.Error!));
            Assert.Contains("there is no interface named 'eth1' (the host's interfaces: eth0, lo)", listed.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void The_default_IPV6_V6ONLY_of_an_unknown_host_decides_a_dual_stack_overlap()
        {
            string[] table = { "tcp LISTEN 0.0.0.0:8080" };
            PortBindResult result = Bind(Nothing, "::", 8080, table);
            Assert.Null(result.CanBind);
            Assert.Equal(new[] { "net.ipv6.bindv6only of that host" }, result.DependsOn);
            Assert.False(Bind(new SocketHost { OS = TargetOS.Linux, BindV6Only = false }, "::", 8080, table).CanBind);
            Assert.True(Bind(new SocketHost { OS = TargetOS.Linux, BindV6Only = true }, "::", 8080, table).CanBind);
            Assert.True(Bind(Nothing, "::", 8080, table, v6Only: true).CanBind);
        }

        [Fact]
        public void Port_0_of_a_host_whose_range_is_unknown_says_which_range_it_counted()
        {
            PortBindResult result = Bind(Nothing, "0.0.0.0", 0);
            Assert.True(result.CanBind);
            Assert.Contains("counted in Linux's default range 32768-60999 with none reserved, as that host's own is not known", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_delivery_to_device_bound_sockets_turns_on_the_arriving_interface_when_the_addresses_are_unknown()
        {
            var table = new[] { "udp UNCONN 0.0.0.0:9300 reuseaddr dev=eth1", "udp UNCONN 0.0.0.0:9300 reuseaddr" }.Select(SocketTuple.Parse).ToList();
            var request = new DemuxRequest { Protocol = TransportProtocol.Udp, Source = IPEndPoint.Parse("198.51.100.9:5000"), Destination = IPEndPoint.Parse("10.0.0.5:9300") };

            DemuxResult unknown = RuleEngine.DecideDelivery(SocketIndex.Build(table, HostFacts.From(Nothing)), request);
            Assert.Null(unknown.Socket);
            Assert.Equal(2, unknown.Sockets.Count);
            Assert.Equal(new[] { "the interface the packet arrives on (which interface of that host holds 10.0.0.5)" }, unknown.DependsOn);
            Assert.Contains("If it arrives on eth1: ", unknown.Reason, StringComparison.Ordinal);
            Assert.Contains("If it arrives on none of eth1: ", unknown.Reason, StringComparison.Ordinal);

            var known = new SocketHost { OS = TargetOS.Linux, Addresses = new[] { HostAddress.Parse("10.0.0.5/24 dev eth1") } };
            DemuxResult resolved = RuleEngine.DecideDelivery(SocketIndex.Build(table, HostFacts.From(known)), request);
            Assert.Equal(("eth1", 0), (resolved.Socket!.BoundInterface!, resolved.DependsOn.Count));

            // 10.0.0.255 may be a subnet broadcast address there, which every socket on the port receives.
            var broadcast = new DemuxRequest { Protocol = TransportProtocol.Udp, Source = request.Source, Destination = IPEndPoint.Parse("10.0.0.255:9300"), Interface = "eth1" };
            DemuxResult maybe = RuleEngine.DecideDelivery(SocketIndex.Build(table, HostFacts.From(Nothing)), broadcast);
            Assert.Equal(new[] { "whether 10.0.0.255 is a subnet broadcast address of that host" }, maybe.DependsOn);
            Assert.Equal(2, maybe.Sockets.Count);

            var arriving = new DemuxRequest { Protocol = TransportProtocol.Udp, Source = request.Source, Destination = request.Destination, Interface = "eth0" };
            DemuxResult given = RuleEngine.DecideDelivery(SocketIndex.Build(table, HostFacts.From(Nothing)), arriving);
            Assert.Equal(((string?)null, 0), (given.Socket!.BoundInterface, given.DependsOn.Count));
        }

        [Fact]
        public void A_host_whose_facts_are_all_known_answers_without_weighing()
        {
            var host = new SocketHost
            {
                OS = TargetOS.Linux,
                Addresses = new[] { HostAddress.Parse("10.0.0.5/24 dev eth0") },
                Interfaces = new[] { "lo", "eth0" },
                EphemeralPortRange = new PortRange(32768, 60999),
                UnprivilegedPortStart = 1024,
                ReservedPorts = Array.Empty<PortRange>(),
                NonLocalBind = false,
                NonLocalBindV6 = false,
                BindV6Only = false,
                TcpTwReuse = 2,
                TcpTwReuseDelay = 1000,
                AutobindReuse = false,
                TcpTimestamps = 1,
                UserId = 1000,
                Privileged = false,
            };
            Assert.Equal(KnownHostFacts.All, HostFacts.From(host).Known);
            foreach ((string address, int port) in new[] { ("192.0.2.2", 8500), ("0.0.0.0", 80), ("::", 8080), ("0.0.0.0", 0) })
            {
                Assert.Empty(Bind(host, address, port, new[] { "tcp LISTEN 0.0.0.0:8080 uid=33" }).DependsOn);
            }
        }
    }
}
