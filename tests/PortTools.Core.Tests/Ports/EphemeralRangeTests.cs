using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Ports
{
    public class EphemeralRangeTests
    {
        private static string ProcSys(string name) => File.ReadAllText("/proc/sys/net/ipv4/" + name);

        [Fact]
        public void Reads_default_Linux_settings_from_a_fixture_tree()
        {
            HostPortSettings host = LinuxPortSettings.Read(PortFixtures.Root("linux-defaults"));
            Assert.Equal(TargetOS.Linux, host.OS);
            Assert.Empty(host.Notes);
            Assert.Equal(4, host.EphemeralRanges.Count);
            foreach (EphemeralPortRange range in host.EphemeralRanges)
            {
                Assert.Equal(32768, range.Start);
                Assert.Equal(60999, range.End);
                Assert.Equal(28232, range.UsableCount);
                Assert.Empty(range.Reserved);
                Assert.EndsWith("ip_local_port_range", range.Source, StringComparison.Ordinal);
                Assert.Equal(range.Protocol == TransportProtocol.Tcp ? 60 : 0, range.TimeWaitSeconds);
            }

            Assert.Equal(new PortRange(1, 1023), host.PrivilegedPorts);
            Assert.Equal("net.ipv4.ip_unprivileged_port_start = 1024", host.PrivilegedPortsSource);
            Assert.False(host.HasBindPrivilege);
        }

        [Fact]
        public void Reads_tuned_Linux_settings_from_a_fixture_tree()
        {
            HostPortSettings host = LinuxPortSettings.Read(PortFixtures.Root("linux-tuned"));
            Assert.Empty(host.Notes);
            EphemeralPortRange range = host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetworkV6);
            Assert.Equal((1024, 65000), (range.Start, range.End));
            Assert.Equal(63977, range.Count);

            // 8080, 9000-9010 and 40000-40020 (two overlapping entries counted once): 1 + 11 + 21.
            Assert.Equal(new[] { "8080", "9000-9010", "40000-40009", "40005-40020" }, range.Reserved.Select(r => r.ToString()));
            Assert.Equal(33, range.ReservedCount);
            Assert.Equal(63944, range.UsableCount);
            Assert.Equal(new PortRange(1, 79), host.PrivilegedPorts);
            Assert.True(host.HasBindPrivilege); // CapEff 0x400 is CAP_NET_BIND_SERVICE alone
        }

        [Fact]
        public void Unreadable_Linux_values_fall_back_to_defaults_and_say_why()
        {
            HostPortSettings host = LinuxPortSettings.Read(PortFixtures.Root("linux-broken"));
            EphemeralPortRange range = host.GetEphemeralRange(TransportProtocol.Udp, AddressFamily.InterNetwork);
            Assert.Equal((32768, 60999), (range.Start, range.End));
            Assert.StartsWith("default 32768-60999", range.Source, StringComparison.Ordinal);
            Assert.Equal(new PortRange(1, 1023), host.PrivilegedPorts);
            Assert.Null(host.HasBindPrivilege);
            Assert.Equal(4, host.Notes.Count);
            Assert.Contains(host.Notes, n => n.Contains("'garbage' is not an ephemeral port range", StringComparison.Ordinal));
            Assert.Contains(host.Notes, n => n.Contains("'80-'", StringComparison.Ordinal));
            Assert.Contains(host.Notes, n => n.Contains("'x' is not a number", StringComparison.Ordinal));
            Assert.Contains(host.Notes, n => n.Contains("it has no CapEff line", StringComparison.Ordinal));
        }

        [Fact]
        public void A_missing_tree_falls_back_to_every_default()
        {
            HostPortSettings host = LinuxPortSettings.Read(PortFixtures.Root("no-such-root"));
            Assert.Equal(4, host.Notes.Count);
            Assert.All(host.Notes, n => Assert.Contains("no such file", n, StringComparison.Ordinal));
            Assert.All(host.EphemeralRanges, r => Assert.Equal(28232, r.UsableCount));
        }

        [LinuxFact]
        public void Reads_this_host_as_its_proc_files_say()
        {
            HostPortSettings host = LinuxPortSettings.Read("/");
            string[] bounds = ProcSys("ip_local_port_range").Split(new[] { ' ', '\t', '\n' }, StringSplitOptions.RemoveEmptyEntries);
            EphemeralPortRange range = host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal(int.Parse(bounds[0]), range.Start);
            Assert.Equal(int.Parse(bounds[1]), range.End);
            Assert.Equal(LinuxPortSettings.ParseReservedPorts(ProcSys("ip_local_reserved_ports")).Select(p => p.ToString()), range.Reserved.Select(r => r.Ports.ToString()));
            int unprivilegedStart = int.Parse(ProcSys("ip_unprivileged_port_start").Trim());
            Assert.Equal(unprivilegedStart > 1 ? new PortRange(1, unprivilegedStart - 1) : null, host.PrivilegedPorts);
            if (Privilege.IsRoot)
            {
                Assert.True(host.HasBindPrivilege);
            }

            Assert.Empty(host.Notes);
            Assert.Equal(host.EphemeralRanges.Select(r => r.ToString()), HostPortSettings.ReadCurrent().EphemeralRanges.Select(r => r.ToString()));
        }

        [Theory]
        [InlineData("32768\t60999\n", 32768, 60999)]
        [InlineData("1024 65535", 1024, 65535)]
        [InlineData("5000 5000", 5000, 5000)]
        public void Parses_ip_local_port_range(string text, int start, int end)
        {
            Assert.Equal(new PortRange(start, end), LinuxPortSettings.ParsePortRange(text));
            Assert.True(LinuxPortSettings.TryParsePortRange(text, out _));
        }

        [Theory]
        [InlineData("60999 32768")]
        [InlineData("32768")]
        [InlineData("0 100")]
        [InlineData("1 70000")]
        [InlineData("low high")]
        [InlineData("")]
        public void Bad_port_ranges_name_the_text(string text)
        {
            Assert.False(LinuxPortSettings.TryParsePortRange(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => LinuxPortSettings.ParsePortRange(text));
            Assert.Contains("'" + text.Trim() + "'", error.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("\n", new string[0])]
        [InlineData("8080\n", new[] { "8080" })]
        [InlineData("8080,9000-9010", new[] { "8080", "9000-9010" })]
        public void Parses_ip_local_reserved_ports(string text, string[] expected)
        {
            Assert.Equal(expected, LinuxPortSettings.ParseReservedPorts(text).Select(p => p.ToString()));
            Assert.True(LinuxPortSettings.TryParseReservedPorts(text, out _));
        }

        [Theory]
        [InlineData("8080,", "''")]
        [InlineData("9010-9000", "'9010-9000' is reversed")]
        [InlineData("70000", "'70000'")]
        [InlineData("http", "'http'")]
        public void Bad_reserved_port_lists_name_the_bad_item(string text, string expected)
        {
            Assert.False(LinuxPortSettings.TryParseReservedPorts(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => LinuxPortSettings.ParseReservedPorts(text));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.Contains("'" + text + "' is not a reserved-ports list", error.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("CapEff:\t0000000000000400\n", true)]
        [InlineData("CapEff:\t000001fffeffffff\n", true)]
        [InlineData("CapEff:\t00000000000003ff\n", false)]
        [InlineData("Name:\tx\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n", false)]
        public void Reads_CAP_NET_BIND_SERVICE_from_CapEff(string status, bool expected)
        {
            Assert.True(LinuxPortSettings.TryParseCapEff(status, out bool has, out _));
            Assert.Equal(expected, has);
        }

        private const string DynamicPortText = "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\nStart Port      : 49152\r\nNumber of Ports : 16384\r\n\r\n";

        private const string ExcludedText = "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n      5357        5357\r\n     49671       49770\r\n     50000       50059     *\r\n     61117       61216\r\n\r\n* - Administered port exclusions.\r\n\r\n";

        [Fact]
        public void Parses_netsh_dynamic_port_output()
        {
            Assert.Equal(new PortRange(49152, 65535), WindowsPortSettings.ParseDynamicPortRange(DynamicPortText));
            Assert.Equal(new PortRange(10000, 64999), WindowsPortSettings.ParseDynamicPortRange("Protokoll tcp Dynamischer Portbereich\n---\nStartport       : 10000\nAnzahl der Ports : 55000\n"));
        }

        [Theory]
        [InlineData("Start Port : 60000\nNumber of Ports : 10000")]
        [InlineData("Start Port : 49152")]
        [InlineData("The requested operation requires elevation.")]
        [InlineData("")]
        public void Bad_netsh_dynamic_port_output_is_quoted_in_the_error(string text)
        {
            Assert.False(WindowsPortSettings.TryParseDynamicPortRange(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => WindowsPortSettings.ParseDynamicPortRange(text));
            Assert.Contains("'" + text.Replace('\n', ' ') + "' is not the output of 'netsh int ipv4 show dynamicport tcp'", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Parses_netsh_excluded_port_ranges_with_their_administered_mark()
        {
            IReadOnlyList<ReservedPortRange> ranges = WindowsPortSettings.ParseExcludedPortRanges(ExcludedText);
            Assert.Equal(new[] { "5357 (run-time)", "49671-49770 (run-time)", "50000-50059", "61117-61216 (run-time)" }, ranges.Select(r => r.ToString()));
            Assert.Empty(WindowsPortSettings.ParseExcludedPortRanges("\nProtocol udp Port Exclusion Ranges\n\nStart Port    End Port\n----------    --------\n\n* - Administered port exclusions.\n"));
        }

        [Theory]
        [InlineData("     50059       50000")]
        [InlineData("     70000       70001     *")]
        public void Bad_excluded_port_rows_are_quoted_in_the_error(string row)
        {
            Assert.False(WindowsPortSettings.TryParseExcludedPortRanges(row, out _));
            FormatException error = Assert.Throws<FormatException>(() => WindowsPortSettings.ParseExcludedPortRanges(row));
            Assert.Contains("'" + row.Trim() + "'", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Builds_Windows_settings_from_netsh_output()
        {
            EphemeralPortRange tcp4 = WindowsPortSettings.ParseRange(TransportProtocol.Tcp, AddressFamily.InterNetwork, DynamicPortText, ExcludedText);
            Assert.Equal(16384, tcp4.Count);

            // 49671-49770, 50000-50059 and 61117-61216 lie inside; 5357 does not.
            Assert.Equal(100 + 60 + 100, tcp4.ReservedCount);
            Assert.Equal(16124, tcp4.UsableCount);
            Assert.Equal(120, tcp4.TimeWaitSeconds);
            Assert.Contains("UNVERIFIED", tcp4.TimeWaitSource, StringComparison.Ordinal);
            Assert.Equal(30, WindowsPortSettings.ParseRange(TransportProtocol.Tcp, AddressFamily.InterNetwork, DynamicPortText, null, 30).TimeWaitSeconds);
            Assert.Equal(0, WindowsPortSettings.ParseRange(TransportProtocol.Udp, AddressFamily.InterNetwork, DynamicPortText, null, 30).TimeWaitSeconds);

            HostPortSettings host = WindowsPortSettings.FromRanges(new[] { tcp4 });
            Assert.Null(host.PrivilegedPorts);
            Assert.Same(tcp4, host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork));
            Assert.Equal(3, host.Notes.Count); // TCP IPv6, UDP IPv4 and UDP IPv6 were defaulted
            Assert.Equal(49152, host.GetEphemeralRange(TransportProtocol.Udp, AddressFamily.InterNetworkV6).Start);
        }

        [Fact]
        public void Reads_macOS_sysctl_output()
        {
            const string text = "net.inet.ip.portrange.lowfirst: 1023\nnet.inet.ip.portrange.lowlast: 600\nnet.inet.ip.portrange.first: 49152\nnet.inet.ip.portrange.last: 65535\nnet.inet.ip.portrange.hifirst: 49152\nnet.inet.ip.portrange.hilast: 65535\nnet.inet.tcp.msl: 15000\n";
            HostPortSettings host = SysctlPortSettings.Parse(TargetOS.MacOS, text);
            EphemeralPortRange range = host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal((49152, 65535, 16384), (range.Start, range.End, range.UsableCount));
            Assert.Equal(30, range.TimeWaitSeconds);
            Assert.Equal("2 x net.inet.tcp.msl = 2 x 15000 ms", range.TimeWaitSource);
            Assert.Equal(new PortRange(1, 1023), host.PrivilegedPorts);
            Assert.Contains(host.Notes, n => n.Contains("IP_PORTRANGE_HIGH", StringComparison.Ordinal));
        }

        [Fact]
        public void Reads_FreeBSD_sysctl_output()
        {
            const string text = "net.inet.ip.portrange.first = 10000\nnet.inet.ip.portrange.last = 65535\nnet.inet.ip.portrange.reservedhigh = 1023\nnet.inet.ip.portrange.reservedlow = 0\nnet.inet.tcp.msl = 30000\n";
            HostPortSettings host = SysctlPortSettings.Parse(TargetOS.FreeBSD, text, isRoot: false);
            EphemeralPortRange range = host.GetEphemeralRange(TransportProtocol.Udp, AddressFamily.InterNetworkV6);
            Assert.Equal((10000, 65535, 55536), (range.Start, range.End, range.UsableCount));
            Assert.Equal(60, host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork).TimeWaitSeconds);
            Assert.Equal(new PortRange(0, 1023), host.PrivilegedPorts);
            Assert.False(host.HasBindPrivilege);
            Assert.Empty(host.Notes);
        }

        [Fact]
        public void A_bad_sysctl_value_is_quoted_in_the_error()
        {
            FormatException error = Assert.Throws<FormatException>(() => SysctlPortSettings.Parse(TargetOS.MacOS, "net.inet.ip.portrange.first: lots\n"));
            Assert.Contains("'net.inet.ip.portrange.first: lots'", error.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => SysctlPortSettings.Parse(TargetOS.Linux, string.Empty));
        }

        public static IEnumerable<object[]> TimeWaitByOS() => new[]
        {
            new object[] { TargetOS.Linux, 60, "TCP_TIMEWAIT_LEN" },
            new object[] { TargetOS.MacOS, 30, "2 x 15000 ms" },
            new object[] { TargetOS.FreeBSD, 60, "2 x 30000 ms" },
            new object[] { TargetOS.Windows, 120, "TcpTimedWaitDelay" },
        };

        [Theory]
        [MemberData(nameof(TimeWaitByOS))]
        public void Each_OS_has_its_own_TIME_WAIT(TargetOS os, int seconds, string source)
        {
            HostPortSettings host = HostPortSettings.Defaults(os);
            EphemeralPortRange tcp = host.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal(seconds, tcp.TimeWaitSeconds);
            Assert.Contains(source, tcp.TimeWaitSource, StringComparison.Ordinal);
            Assert.Equal(0, host.GetEphemeralRange(TransportProtocol.Udp, AddressFamily.InterNetwork).TimeWaitSeconds);
            Assert.Single(host.Notes);
        }

        [Theory]
        [InlineData(TargetOS.Linux, 32768, 60999, 28232)]
        [InlineData(TargetOS.Windows, 49152, 65535, 16384)]
        [InlineData(TargetOS.MacOS, 49152, 65535, 16384)]
        [InlineData(TargetOS.FreeBSD, 10000, 65535, 55536)]
        public void Each_OS_has_its_documented_default_range(TargetOS os, int start, int end, int usable)
        {
            Assert.All(HostPortSettings.Defaults(os).EphemeralRanges, r => Assert.Equal((start, end, usable), (r.Start, r.End, r.UsableCount)));
        }

        [Fact]
        public void A_range_rejects_bad_bounds_naming_them()
        {
            Assert.Contains("60000", Assert.Throws<ArgumentOutOfRangeException>(() => new EphemeralPortRange(TargetOS.Linux, TransportProtocol.Tcp, AddressFamily.InterNetwork, 60000, 50000, null, 60, "test", "test")).Message, StringComparison.Ordinal);
            Assert.Contains("cannot start at 0", Assert.Throws<ArgumentOutOfRangeException>(() => new EphemeralPortRange(TargetOS.Linux, TransportProtocol.Tcp, AddressFamily.InterNetwork, 0, 50000, null, 60, "test", "test")).Message, StringComparison.Ordinal);
        }
    }
}
