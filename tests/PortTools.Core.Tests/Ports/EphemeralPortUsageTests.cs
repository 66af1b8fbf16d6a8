using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Ports
{
    /// <summary>Synthetic socket tables against each OS's rule for sharing source ports (kernel-rules row 25).</summary>
    public class EphemeralPortUsageTests
    {
        private static readonly HostPortSettings LinuxDefaults = HostPortSettings.Defaults(TargetOS.Linux);

        private static SocketTuple Socket(TransportProtocol protocol, SocketState state, string local, int localPort, string remote = "0.0.0.0", int remotePort = 0) => new SocketTuple
        {
            Protocol = protocol,
            State = state,
            LocalAddress = IPAddress.Parse(local),
            LocalPort = localPort,
            RemoteAddress = IPAddress.Parse(remote),
            RemotePort = remotePort,
        };

        private static SocketTuple On(SocketTuple socket, string? computer) => new SocketTuple
        {
            Protocol = socket.Protocol,
            State = socket.State,
            LocalAddress = socket.LocalAddress,
            LocalPort = socket.LocalPort,
            RemoteAddress = socket.RemoteAddress,
            RemotePort = socket.RemotePort,
            ComputerName = computer,
        };

        private static IEnumerable<SocketTuple> Outbound(SocketState state, string local, int firstPort, int count, string remote, int remotePort, TransportProtocol protocol = TransportProtocol.Tcp) =>
            Enumerable.Range(firstPort, count).Select(port => Socket(protocol, state, local, port, remote, remotePort));

        [Fact]
        public void Many_TIME_WAIT_to_one_destination_passes_the_warning_line()
        {
            var table = Outbound(SocketState.TimeWait, "10.0.0.1", 32768, 20000, "203.0.113.5", 443)
                .Concat(Outbound(SocketState.Established, "10.0.0.1", 52768, 3000, "203.0.113.5", 443))
                .Concat(Outbound(SocketState.Established, "10.0.0.1", 32768, 100, "198.51.100.7", 5432))
                .ToList();

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults);
            Assert.Equal(2, usage.Count);
            EphemeralPortUsage top = usage[0];
            Assert.Equal("203.0.113.5:443", top.Destination);
            Assert.Equal((23000, 3000, 20000, 0), (top.InUse, top.Established, top.TimeWait, top.Other));
            Assert.Equal(SourcePortPool.PerDestination, top.Pool);
            Assert.Equal(23000, top.PoolInUse);
            Assert.Equal(28232, top.Capacity); // 60999 - 32768 + 1
            Assert.Equal(23000 * 100.0 / 28232, top.UtilizationPercent);
            Assert.Equal(81.47, Math.Round(top.UtilizationPercent, 2));
            Assert.True(top.NearExhaustion);
            Assert.Equal(60, top.TimeWaitSeconds);
            Assert.Equal(28232 / 60.0, top.SustainableRatePerSecond);
            Assert.Equal(470.53, Math.Round(top.SustainableRatePerSecond!.Value, 2));
            Assert.Contains("kernel-rules 1C", top.Rule, StringComparison.Ordinal);
            Assert.Equal("tcp 10.0.0.1 -> 203.0.113.5:443 81.5% (23000/28232)", top.ToString());

            // Linux reuses the same source ports toward another destination: its capacity is untouched.
            EphemeralPortUsage other = usage[1];
            Assert.Equal("198.51.100.7:5432", other.Destination);
            Assert.Equal((100, 100, 28232), (other.InUse, other.PoolInUse, other.Capacity));
            Assert.False(other.NearExhaustion);
        }

        [Fact]
        public void macOS_shares_one_pool_across_destinations()
        {
            HostPortSettings mac = SysctlPortSettings.FromValues(TargetOS.MacOS, 49152, 65535, 15000);
            var table = Outbound(SocketState.TimeWait, "192.168.1.20", 49152, 10000, "203.0.113.5", 443)
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 59152, 4000, "198.51.100.7", 443))
                .ToList();

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, mac);
            Assert.Equal(new[] { "203.0.113.5:443", "198.51.100.7:443" }, usage.Select(u => u.Destination));
            Assert.All(usage, u =>
            {
                Assert.Equal(SourcePortPool.Shared, u.Pool);
                Assert.Equal(14000, u.PoolInUse);
                Assert.Equal(16384, u.Capacity);
                Assert.Equal(14000 * 100.0 / 16384, u.UtilizationPercent);
                Assert.True(u.NearExhaustion);
                Assert.Equal(30, u.TimeWaitSeconds);
                Assert.Equal(16384 / 30.0, u.SustainableRatePerSecond);
                Assert.Contains("all destinations share one pool", u.Rule, StringComparison.Ordinal);
            });
            Assert.Equal((10000, 4000), (usage[0].InUse, usage[1].InUse));

            // The same table under Linux's rule: each destination on its own.
            IReadOnlyList<EphemeralPortUsage> linux = EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults);
            Assert.DoesNotContain(linux, u => u.NearExhaustion);
        }

        [Fact]
        public void A_shared_pool_gives_one_warning_however_many_destinations_draw_on_it()
        {
            HostPortSettings mac = SysctlPortSettings.FromValues(TargetOS.MacOS, 49152, 65535, 15000);
            var table = Outbound(SocketState.TimeWait, "192.168.1.20", 49152, 10000, "203.0.113.5", 443)
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 59152, 4000, "198.51.100.7", 443))
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 63152, 10, "198.51.100.8", 22))
                .ToList();

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, mac);
            Assert.Equal(3, usage.Count(u => u.NearExhaustion));
            Assert.Equal(
                new[] { "TCP IPv4 connections to 3 destinations use 85.5% of the 16,384 source ports that all destinations share on MacOS; the busiest destination is 203.0.113.5:443." },
                EphemeralPortUsageAnalyzer.Warnings(usage));
        }

        [Fact]
        public void A_pool_of_its_own_gives_a_warning_per_destination_and_names_the_computer()
        {
            var table = Outbound(SocketState.TimeWait, "10.0.0.1", 32768, 25000, "203.0.113.5", 443)
                .Concat(Outbound(SocketState.TimeWait, "10.0.0.1", 32768, 24000, "203.0.113.6", 443))
                .Concat(Outbound(SocketState.TimeWait, "10.0.0.1", 32768, 100, "203.0.113.7", 443))
                .Select(s => On(s, "web1"));

            Assert.Equal(
                new[]
                {
                    "TCP connections on web1 from 10.0.0.1 to 203.0.113.5:443 use 88.6% of the 28,232 source ports available for that destination.",
                    "TCP connections on web1 from 10.0.0.1 to 203.0.113.6:443 use 85% of the 28,232 source ports available for that destination.",
                },
                EphemeralPortUsageAnalyzer.Warnings(EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults)));
        }

        [Fact]
        public void Tables_of_several_computers_are_measured_computer_by_computer()
        {
            // Two hosts whose connections use the same source ports: on one machine that would be one
            // pool of 20,005 ports in use, past the threshold; on two it is 10,000-odd each.
            HostPortSettings mac = SysctlPortSettings.FromValues(TargetOS.MacOS, 49152, 65535, 15000);
            var table = Outbound(SocketState.Established, "192.168.1.20", 49152, 10000, "203.0.113.5", 443).Select(s => On(s, "mac1"))
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 49152, 10000, "198.51.100.7", 443).Select(s => On(s, "MAC2")))
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 59152, 5, "198.51.100.7", 443).Select(s => On(s, "mac2")))
                .Concat(Outbound(SocketState.Established, "192.168.1.20", 49152, 3, "198.51.100.9", 443).Select(s => On(s, null)));

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, mac);
            Assert.Equal(new[] { "MAC2", "mac1", null }, usage.Select(u => u.ComputerName));
            Assert.Equal(new[] { 10005, 10000, 3 }, usage.Select(u => u.PoolInUse));
            Assert.Empty(EphemeralPortUsageAnalyzer.Warnings(usage));
        }

        [Fact]
        public void Accepted_children_of_a_listener_are_inbound_and_the_listener_holds_its_port()
        {
            var table = new List<SocketTuple>
            {
                Socket(TransportProtocol.Tcp, SocketState.Listen, "0.0.0.0", 40000),
                Socket(TransportProtocol.Tcp, SocketState.Listen, "::", 40000),
                Socket(TransportProtocol.Tcp, SocketState.Listen, "127.0.0.1", 41000),
                Socket(TransportProtocol.Tcp, SocketState.Bound, "0.0.0.0", 42000),
                Socket(TransportProtocol.Tcp, SocketState.Listen, "0.0.0.0", 22),
            };
            table.AddRange(Outbound(SocketState.Established, "10.0.0.1", 40000, 1, "198.51.100.1", 50001));
            table.AddRange(Outbound(SocketState.TimeWait, "10.0.0.1", 40000, 1, "198.51.100.2", 50002));
            table.Add(Socket(TransportProtocol.Tcp, SocketState.Established, "::ffff:10.0.0.1", 40000, "::ffff:198.51.100.3", 50003));
            table.Add(Socket(TransportProtocol.Tcp, SocketState.Established, "127.0.0.1", 41000, "127.0.0.1", 33000));
            table.Add(Socket(TransportProtocol.Tcp, SocketState.Established, "10.0.0.1", 22, "198.51.100.9", 40500));
            table.AddRange(Outbound(SocketState.SynSent, "10.0.0.1", 33000, 2, "203.0.113.5", 80));

            EphemeralPortUsage only = Assert.Single(EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults));
            Assert.Equal("203.0.113.5:80", only.Destination);
            Assert.Equal((2, 0, 0, 2), (only.InUse, only.Established, only.TimeWait, only.Other));
            Assert.Equal(3, only.HeldByLocalBinds); // 40000, 41000, 42000; 22 lies outside the range
            Assert.Equal(28232 - 3, only.Capacity);
        }

        [Fact]
        public void The_127_0_0_1_client_of_a_local_listener_is_outbound()
        {
            // A client on loopback talking to a local server: the server's side is a child, the client's side is not.
            var table = new[]
            {
                Socket(TransportProtocol.Tcp, SocketState.Listen, "127.0.0.1", 8080),
                Socket(TransportProtocol.Tcp, SocketState.Established, "127.0.0.1", 8080, "127.0.0.1", 45000),
                Socket(TransportProtocol.Tcp, SocketState.Established, "127.0.0.1", 45000, "127.0.0.1", 8080),
            };
            EphemeralPortUsage only = Assert.Single(EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults));
            Assert.Equal("127.0.0.1:8080", only.Destination);
            Assert.Equal(1, only.InUse);
        }

        [Fact]
        public void Ports_outside_the_range_or_reserved_were_bound_explicitly_and_do_not_count()
        {
            HostPortSettings host = LinuxPortSettings.Read(PortFixtures.Root("linux-tuned")); // 1024-65000, 40000-40020 reserved
            var table = new[]
            {
                Socket(TransportProtocol.Tcp, SocketState.Established, "10.0.0.1", 1000, "203.0.113.5", 443),
                Socket(TransportProtocol.Tcp, SocketState.Established, "10.0.0.1", 65001, "203.0.113.5", 443),
                Socket(TransportProtocol.Tcp, SocketState.Established, "10.0.0.1", 40010, "203.0.113.5", 443),
                Socket(TransportProtocol.Tcp, SocketState.Established, "10.0.0.1", 40021, "203.0.113.5", 443),
            };
            EphemeralPortUsage only = Assert.Single(EphemeralPortUsageAnalyzer.Analyze(table, host));
            Assert.Equal(1, only.InUse);
            Assert.Equal(63944, only.Capacity);
        }

        [Fact]
        public void UDP_shares_one_pool_and_has_no_TIME_WAIT_limit()
        {
            var table = Outbound(SocketState.Connected, "10.0.0.1", 32768, 300, "10.0.0.53", 53, TransportProtocol.Udp)
                .Concat(Outbound(SocketState.Connected, "10.0.0.1", 33068, 100, "10.0.0.54", 53, TransportProtocol.Udp))
                .Append(Socket(TransportProtocol.Udp, SocketState.Unconnected, "0.0.0.0", 50000))
                .Append(Socket(TransportProtocol.Udp, SocketState.Unconnected, "0.0.0.0", 53))
                .ToList();

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults);
            Assert.Equal(new[] { "10.0.0.53:53", "10.0.0.54:53" }, usage.Select(u => u.Destination));
            Assert.All(usage, u =>
            {
                Assert.Equal(SourcePortPool.Shared, u.Pool);
                Assert.Equal(400, u.PoolInUse);
                Assert.Equal(1, u.HeldByLocalBinds); // the unconnected socket on 50000
                Assert.Equal(28231, u.Capacity);
                Assert.Equal(0, u.TimeWaitSeconds);
                Assert.Null(u.SustainableRatePerSecond);
                Assert.Contains("udp_lib_get_port", u.Rule, StringComparison.Ordinal);
            });
            Assert.Equal(300, usage[0].Established);
        }

        public static IEnumerable<object[]> RulesByOS() => new[]
        {
            new object[] { TargetOS.Linux, SourcePortPool.PerDestination, 28232, 28232 / 60.0, "kernel-rules 1C" },
            new object[] { TargetOS.FreeBSD, SourcePortPool.PerDestination, 55536, 55536 / 60.0, "in_pcb_lport_dest" },
            new object[] { TargetOS.MacOS, SourcePortPool.Shared, 16384, 16384 / 30.0, "kernel-rules 4C" },
            new object[] { TargetOS.Windows, SourcePortPool.Shared, 16384, 16384 / 120.0, "UNVERIFIED" },
        };

        [Theory]
        [MemberData(nameof(RulesByOS))]
        public void Each_OS_default_gives_its_capacity_and_rate(TargetOS os, SourcePortPool pool, int capacity, double rate, string rule)
        {
            HostPortSettings host = HostPortSettings.Defaults(os);
            int first = host.GetEphemeralRange(TransportProtocol.Tcp, System.Net.Sockets.AddressFamily.InterNetwork).Start;
            EphemeralPortUsage only = Assert.Single(EphemeralPortUsageAnalyzer.Analyze(Outbound(SocketState.Established, "10.0.0.1", first, 10, "203.0.113.5", 443), host));
            Assert.Equal(pool, only.Pool);
            Assert.Equal(pool, EphemeralPortUsageAnalyzer.PoolOf(os, TransportProtocol.Tcp));
            Assert.Equal(capacity, only.Capacity);
            Assert.Equal(rate, only.SustainableRatePerSecond);
            Assert.Contains(rule, only.Rule, StringComparison.Ordinal);
            Assert.Equal(os, only.OS);
        }

        [Fact]
        public void Exactly_at_the_threshold_is_not_past_it()
        {
            var host = new HostPortSettings(
                TargetOS.Linux,
                new[] { new EphemeralPortRange(TargetOS.Linux, TransportProtocol.Tcp, System.Net.Sockets.AddressFamily.InterNetwork, 50000, 50099, null, 60, "test", "test") },
                null,
                "test",
                null);
            Func<int, EphemeralPortUsage> measure = n => Assert.Single(EphemeralPortUsageAnalyzer.Analyze(Outbound(SocketState.Established, "10.0.0.1", 50000, n, "203.0.113.5", 443), host));
            Assert.False(measure(80).NearExhaustion);
            Assert.True(measure(81).NearExhaustion);
            Assert.Equal(100.0, measure(100).UtilizationPercent);
            Assert.True(Assert.Single(EphemeralPortUsageAnalyzer.Analyze(Outbound(SocketState.Established, "10.0.0.1", 50000, 51, "203.0.113.5", 443), host, 50)).NearExhaustion);
            Assert.Throws<ArgumentOutOfRangeException>(() => EphemeralPortUsageAnalyzer.Analyze(Array.Empty<SocketTuple>(), host, -1));
        }

        [Fact]
        public void Groups_by_local_address_family_and_sorts_the_busiest_first()
        {
            var table = Outbound(SocketState.Established, "10.0.0.1", 40000, 5, "203.0.113.5", 443)
                .Concat(Outbound(SocketState.Established, "10.0.0.2", 40000, 7, "203.0.113.5", 443))
                .Concat(Outbound(SocketState.Established, "2001:db8::1", 40000, 6, "2001:db8::5", 443))
                .Concat(Outbound(SocketState.CloseWait, "10.0.0.1", 45000, 7, "203.0.113.6", 443))
                .Append(Socket(TransportProtocol.Tcp, SocketState.SynSent, "0.0.0.0", 46000, "203.0.113.7", 443))
                .ToList();

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(table, LinuxDefaults);
            Assert.Equal(
                new[] { "10.0.0.1 203.0.113.6:443 7", "10.0.0.2 203.0.113.5:443 7", "2001:db8::1 [2001:db8::5]:443 6", "10.0.0.1 203.0.113.5:443 5", "0.0.0.0 203.0.113.7:443 1" },
                usage.Select(u => u.LocalAddress + " " + u.Destination + " " + u.InUse));
            Assert.Equal(7, usage[0].Other);
        }

        [Fact]
        public void An_empty_or_listener_only_table_has_no_rows()
        {
            Assert.Empty(EphemeralPortUsageAnalyzer.Analyze(Array.Empty<SocketTuple>(), LinuxDefaults));
            Assert.Empty(EphemeralPortUsageAnalyzer.Analyze(new[] { SocketTuple.Parse("tcp LISTEN 0.0.0.0:40000"), SocketTuple.Parse("udp UNCONN 0.0.0.0:50000") }, LinuxDefaults));
        }
    }
}
