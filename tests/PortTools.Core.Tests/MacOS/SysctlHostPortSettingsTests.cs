using System;
using System.Net.Sockets;
using PortTools.MacOS;
using Xunit;

namespace PortTools.Tests.MacOS
{
    /// <summary>
    /// Reading a macOS or FreeBSD host's port settings from <c>sysctl net.inet.ip.portrange
    /// net.inet.tcp.msl</c>, tested on its text: sysctl(8) prints "name: value" per line. The names
    /// under net.inet.ip.portrange are those XNU declares in bsd/netinet/in_pcb.c (lowfirst, lowlast,
    /// first, last, hifirst, hilast, ipport_allow_udp_port_exhaustion; apple-oss-distributions/xnu
    /// tag xnu-11417.101.15), with net.inet.tcp.msl in milliseconds (bsd/netinet/tcp_timer.c, default
    /// 15000); FreeBSD adds reservedlow and reservedhigh (sys/netinet/in_pcb.c) and defaults MSL to 30000.
    /// An unknown name makes sysctl print "sysctl: unknown oid '...'" on standard error.
    /// </summary>
    public class SysctlHostPortSettingsTests
    {
        private const string MacOSText =
            "net.inet.ip.portrange.lowfirst: 1023\nnet.inet.ip.portrange.lowlast: 600\nnet.inet.ip.portrange.first: 49152\nnet.inet.ip.portrange.last: 65535\n"
            + "net.inet.ip.portrange.hifirst: 49152\nnet.inet.ip.portrange.hilast: 65535\nnet.inet.ip.portrange.ipport_allow_udp_port_exhaustion: 0\nnet.inet.tcp.msl: 15000\n";

        private const string FreeBsdText =
            "net.inet.ip.portrange.randomtime: 1\nnet.inet.ip.portrange.randomcps: 9999\nnet.inet.ip.portrange.randomized: 1\nnet.inet.ip.portrange.reservedlow: 0\n"
            + "net.inet.ip.portrange.reservedhigh: 1023\nnet.inet.ip.portrange.hilast: 65535\nnet.inet.ip.portrange.hifirst: 49152\nnet.inet.ip.portrange.last: 65535\n"
            + "net.inet.ip.portrange.first: 10000\nnet.inet.ip.portrange.lowlast: 600\nnet.inet.ip.portrange.lowfirst: 1023\nnet.inet.tcp.msl: 30000\n";

        private static EphemeralPortRange Tcp4(HostPortSettings settings) => settings.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);

        [Fact]
        public void A_macOS_host_read_in_full_has_no_notes()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(0, MacOSText), isRoot: false);
            Assert.Empty(settings.Notes);
            Assert.All(settings.EphemeralRanges, r => Assert.Equal((49152, 65535), (r.Start, r.End)));
            Assert.Equal(30, Tcp4(settings).TimeWaitSeconds);
            Assert.Equal(new PortRange(1, 1023), settings.PrivilegedPorts);
            Assert.False(settings.HasBindPrivilege);
        }

        [Fact]
        public void Tuned_values_are_used_and_root_may_bind_privileged_ports()
        {
            string text = MacOSText.Replace("first: 49152", "first: 32768").Replace("msl: 15000", "msl: 5000");
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(0, text), isRoot: true);
            Assert.Empty(settings.Notes);
            Assert.Equal((32768, 65535, 10), (Tcp4(settings).Start, Tcp4(settings).End, Tcp4(settings).TimeWaitSeconds));
            Assert.True(settings.HasBindPrivilege);
        }

        [Fact]
        public void A_FreeBSD_host_read_in_full_has_no_notes()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.FreeBSD, CommandOutput.Exited(0, FreeBsdText), isRoot: false);
            Assert.Empty(settings.Notes);
            Assert.Equal((10000, 65535, 60), (Tcp4(settings).Start, Tcp4(settings).End, Tcp4(settings).TimeWaitSeconds));
            Assert.Equal(new PortRange(0, 1023), settings.PrivilegedPorts);
        }

        [Fact]
        public void Without_sysctl_the_documented_defaults_are_shown_with_one_note()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Failed("it could not be run: No such file or directory"), isRoot: false);
            Assert.Equal(
                "The macOS port settings could not be read (sysctl: it could not be run: No such file or directory); the documented defaults are shown: ephemeral ports 49152-65535 and TIME_WAIT 30 s.",
                Assert.Single(settings.Notes));
            Assert.Equal((49152, 65535, 30), (Tcp4(settings).Start, Tcp4(settings).End, Tcp4(settings).TimeWaitSeconds));
            Assert.Equal(new PortRange(1, 1023), settings.PrivilegedPorts);
        }

        [Fact]
        public void A_FreeBSD_host_without_sysctl_names_its_reserved_ports_too()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.FreeBSD, CommandOutput.Failed("it did not finish within 10 s"), isRoot: false);
            Assert.Equal(
                "The FreeBSD port settings could not be read (sysctl: it did not finish within 10 s); the documented defaults are shown: ephemeral ports 10000-65535 and TIME_WAIT 60 s, with ports 0-1023 reserved.",
                Assert.Single(settings.Notes));
        }

        [Fact]
        public void A_missing_value_is_named_with_what_sysctl_said()
        {
            string text = MacOSText.Replace("net.inet.tcp.msl: 15000\n", string.Empty);
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(1, text, "sysctl: unknown oid 'net.inet.tcp.msl'\n"), isRoot: false);
            Assert.Equal(
                "The macOS TCP maximum segment lifetime could not be read (sysctl: it printed no net.inet.tcp.msl; sysctl: unknown oid 'net.inet.tcp.msl'); the documented default 15000 ms is used, so TIME_WAIT lasts 30 s.",
                Assert.Single(settings.Notes));
            Assert.Equal(49152, Tcp4(settings).Start);
        }

        [Fact]
        public void A_missing_range_is_named()
        {
            string text = "net.inet.tcp.msl: 15000\n";
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(0, text), isRoot: false);
            Assert.Equal(
                "The macOS ephemeral port range could not be read (sysctl: it printed no net.inet.ip.portrange.first and last); the documented default 49152-65535 is shown.",
                Assert.Single(settings.Notes));
        }

        [Fact]
        public void A_FreeBSD_host_without_reserved_ports_in_the_output_says_so()
        {
            string text = FreeBsdText.Replace("net.inet.ip.portrange.reservedlow: 0\n", string.Empty);
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.FreeBSD, CommandOutput.Exited(0, text), isRoot: false);
            Assert.Equal(
                "The FreeBSD reserved ports could not be read (sysctl: it printed no net.inet.ip.portrange.reservedlow and reservedhigh); the documented default 0-1023 is used.",
                Assert.Single(settings.Notes));
        }

        [Fact]
        public void A_value_that_is_not_a_number_is_quoted()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(0, MacOSText.Replace("last: 65535", "last: lots")), isRoot: false);
            string note = Assert.Single(settings.Notes);
            Assert.StartsWith("The macOS port settings could not be read (sysctl: 'net.inet.ip.portrange.last: lots' is not a sysctl value PortTools can use", note, StringComparison.Ordinal);
            Assert.Equal(49152, Tcp4(settings).Start);
        }

        [Fact]
        public void A_sysctl_that_printed_nothing_is_named_by_its_exit_code()
        {
            HostPortSettings settings = SysctlHostPortSettings.Compose(TargetOS.MacOS, CommandOutput.Exited(1, string.Empty, "sysctl: unknown oid 'net.inet.ip.portrange'\n"), isRoot: false);
            Assert.Equal(
                "The macOS port settings could not be read (sysctl: exit code 1: sysctl: unknown oid 'net.inet.ip.portrange'); the documented defaults are shown: ephemeral ports 49152-65535 and TIME_WAIT 30 s.",
                Assert.Single(settings.Notes));
        }

        [MacFact]
        public void This_macOS_host_is_read_without_notes()
        {
            HostPortSettings settings = HostPortSettings.ReadCurrent();
            Assert.True(settings.Notes.Count == 0, string.Join(Environment.NewLine, settings.Notes));
            Assert.StartsWith("net.inet.ip.portrange.first-last = ", Tcp4(settings).Source, StringComparison.Ordinal);
        }
    }
}
