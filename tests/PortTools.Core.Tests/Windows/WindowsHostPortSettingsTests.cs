using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using PortTools.Windows;
using Xunit;

namespace PortTools.Tests.Windows
{
    /// <summary>
    /// Reading a Windows host's port settings, tested on netsh text. Layouts: <c>netsh int ipv4 show
    /// dynamicport tcp</c> as Microsoft KB 929851 shows it (a "Protocol tcp Dynamic Port Range" title,
    /// a dashed rule, then "Start Port : n" and "Number of Ports : n"); <c>netsh int ipv4 show
    /// excludedportrange protocol=tcp</c> as field reports print it (a "Protocol tcp Port Exclusion
    /// Ranges" title, "Start Port    End Port" columns, right-aligned rows, '*' after the ranges an
    /// administrator added, and the footnote "* - Administered port exclusions."); netsh's French
    /// output as printed in an OEM code page read as another, which garbles the letters but not the
    /// digits. TcpTimedWaitDelay is a REG_DWORD under HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters
    /// (documented range 30-300 s); RegGetValueW answers ERROR_FILE_NOT_FOUND (2) when it is not set.
    /// </summary>
    public class WindowsHostPortSettingsTests
    {
        private static string Dynamic(string protocol, int start, int count) =>
            "\r\nProtocol " + protocol + " Dynamic Port Range\r\n---------------------------------\r\nStart Port      : " + start + "\r\nNumber of Ports : " + count + "\r\n\r\n";

        private static string Excluded(string protocol, params string[] rows) =>
            "\r\nProtocol " + protocol + " Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n"
            + string.Concat(rows.Select(r => r + "\r\n"))
            + "\r\n* - Administered port exclusions.\r\n\r\n";

        /// <summary>Every command answering as a default Windows with Hyper-V's exclusions on TCP IPv4 would.</summary>
        private static Dictionary<string, CommandOutput> Healthy()
        {
            var outputs = new Dictionary<string, CommandOutput>(StringComparer.Ordinal);
            foreach (string version in new[] { "ipv4", "ipv6" })
            {
                foreach (string protocol in new[] { "tcp", "udp" })
                {
                    outputs["int " + version + " show dynamicport " + protocol] = CommandOutput.Exited(0, Dynamic(protocol, 49152, 16384));
                    outputs["int " + version + " show excludedportrange protocol=" + protocol] = CommandOutput.Exited(0, Excluded(protocol));
                }
            }

            outputs["int ipv4 show excludedportrange protocol=tcp"] = CommandOutput.Exited(0, Excluded("tcp", "      5357        5357", "     49671       49770", "     50000       50059     *"));
            return outputs;
        }

        private static EphemeralPortRange Range(HostPortSettings settings, TransportProtocol protocol, AddressFamily family) => settings.GetEphemeralRange(protocol, family);

        [Fact]
        public void The_eight_netsh_commands()
        {
            Assert.Equal(
                new[]
                {
                    "int ipv4 show dynamicport tcp", "int ipv6 show dynamicport tcp", "int ipv4 show dynamicport udp", "int ipv6 show dynamicport udp",
                    "int ipv4 show excludedportrange protocol=tcp", "int ipv6 show excludedportrange protocol=tcp", "int ipv4 show excludedportrange protocol=udp", "int ipv6 show excludedportrange protocol=udp",
                },
                WindowsHostPortSettings.Commands());
        }

        [Fact]
        public void A_host_read_in_full_has_no_notes()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs["int ipv6 show dynamicport udp"] = CommandOutput.Exited(0, Dynamic("udp", 10000, 55536));
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);

            Assert.Empty(settings.Notes);
            Assert.Equal(TargetOS.Windows, settings.OS);
            Assert.Null(settings.PrivilegedPorts);
            EphemeralPortRange tcp4 = Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal((49152, 65535), (tcp4.Start, tcp4.End));
            Assert.Equal(new[] { "5357 (run-time)", "49671-49770 (run-time)", "50000-50059" }, tcp4.Reserved.Select(r => r.ToString()));
            Assert.Equal(16384 - 100 - 60, tcp4.UsableCount);
            Assert.Equal("netsh int ipv4 show dynamicport tcp; netsh int ipv4 show excludedportrange protocol=tcp", tcp4.Source);
            Assert.Equal(120, tcp4.TimeWaitSeconds);
            Assert.Equal((10000, 65535), (Range(settings, TransportProtocol.Udp, AddressFamily.InterNetworkV6).Start, Range(settings, TransportProtocol.Udp, AddressFamily.InterNetworkV6).End));
            Assert.Equal(0, Range(settings, TransportProtocol.Udp, AddressFamily.InterNetwork).TimeWaitSeconds);
        }

        [Fact]
        public void TcpTimedWaitDelay_from_the_registry_sets_TIME_WAIT_for_TCP()
        {
            HostPortSettings settings = WindowsHostPortSettings.Compose(Healthy(), new RegistryDword(0, 30));
            Assert.Empty(settings.Notes);
            Assert.Equal(30, Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetworkV6).TimeWaitSeconds);
            Assert.Equal("TcpTimedWaitDelay = 30 s (documented range 30-300)", Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).TimeWaitSource);
            Assert.Equal(0, Range(settings, TransportProtocol.Udp, AddressFamily.InterNetwork).TimeWaitSeconds);
        }

        [Fact]
        public void Localized_netsh_output_reads_by_its_numbers()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs["int ipv4 show dynamicport tcp"] = CommandOutput.Exited(0, "\r\nProtocole tcp Plage de ports dynamique\r\n---------------------------------\r\nPort de d\u201Abut      : 50000\r\nNombre de ports : 15536\r\n");
            outputs["int ipv4 show excludedportrange protocol=tcp"] = CommandOutput.Exited(0, "\r\nProtocole tcp Plages d'exclusion de ports\r\n\r\nPort de d\u201Abut    Port de fin\r\n-------------    -----------\r\n      5357        5357\r\n     50000       50059     *\r\n\r\n* - Exclusions de ports administr\u201As.\r\n");
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);
            Assert.Empty(settings.Notes);
            EphemeralPortRange tcp4 = Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal((50000, 65535, 2), (tcp4.Start, tcp4.End, tcp4.Reserved.Count));
        }

        [Fact]
        public void Without_netsh_every_value_is_the_documented_default_with_one_note_each()
        {
            var outputs = WindowsHostPortSettings.Commands().ToDictionary(c => c, c => CommandOutput.Failed("it could not be run: The system cannot find the file specified"));
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);

            Assert.Equal(
                new[]
                {
                    "The Windows dynamic port range could not be read (netsh: it could not be run: The system cannot find the file specified); the documented default 49152-65535 is shown.",
                    "The Windows excluded port ranges could not be read (netsh: it could not be run: The system cannot find the file specified); no excluded ports are assumed.",
                },
                settings.Notes);
            Assert.All(settings.EphemeralRanges, r => Assert.Equal((49152, 65535, 0), (r.Start, r.End, r.Reserved.Count)));
            Assert.Equal("default for Windows: 49152-65535 ('netsh int ipv4 show dynamicport tcp' could not be read)", Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).Source);
            Assert.Equal(120, Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).TimeWaitSeconds);
        }

        [Fact]
        public void A_failure_of_some_commands_names_their_protocols_and_IP_versions()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            foreach (string protocol in new[] { "tcp", "udp" })
            {
                outputs["int ipv6 show dynamicport " + protocol] = CommandOutput.Exited(1, "The following command was not found: int ipv6 show dynamicport " + protocol + ".\r\n");
            }

            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);
            Assert.Equal(
                new[]
                {
                    "The Windows dynamic port range for TCP IPv6 could not be read (netsh: exit code 1: The following command was not found: int ipv6 show dynamicport tcp.); the documented default 49152-65535 is shown.",
                    "The Windows dynamic port range for UDP IPv6 could not be read (netsh: exit code 1: The following command was not found: int ipv6 show dynamicport udp.); the documented default 49152-65535 is shown.",
                },
                settings.Notes);

            // The exclusions of a family whose range could not be read are still applied.
            Assert.Equal("netsh int ipv4 show dynamicport tcp; netsh int ipv4 show excludedportrange protocol=tcp", Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).Source);
            Assert.StartsWith("default for Windows: 49152-65535", Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetworkV6).Source, StringComparison.Ordinal);
        }

        [Fact]
        public void The_same_problem_on_two_commands_is_one_note()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs["int ipv4 show excludedportrange protocol=udp"] = CommandOutput.Failed("it did not finish within 10 s");
            outputs["int ipv6 show excludedportrange protocol=udp"] = CommandOutput.Failed("it did not finish within 10 s");
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);
            Assert.Equal(
                "The Windows excluded port ranges for UDP IPv4 and UDP IPv6 could not be read (netsh: it did not finish within 10 s); no excluded ports are assumed.",
                Assert.Single(settings.Notes));
            Assert.Equal("netsh int ipv4 show dynamicport udp", Range(settings, TransportProtocol.Udp, AddressFamily.InterNetwork).Source);
        }

        [Fact]
        public void Output_that_is_not_a_dynamic_port_range_is_quoted()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs["int ipv4 show dynamicport tcp"] = CommandOutput.Exited(0, "The RPC server is unavailable.\r\n");
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);
            Assert.Equal(
                "The Windows dynamic port range for TCP IPv4 could not be read (netsh: its output holds no start port and number of ports: 'The RPC server is unavailable.'); the documented default 49152-65535 is shown.",
                Assert.Single(settings.Notes));
            Assert.Equal(3, Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).Reserved.Count);
        }

        [Fact]
        public void A_bad_excluded_row_is_quoted_and_no_exclusions_are_assumed()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs["int ipv4 show excludedportrange protocol=tcp"] = CommandOutput.Exited(0, Excluded("tcp", "     50059       50000"));
            HostPortSettings settings = WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet);
            string note = Assert.Single(settings.Notes);
            Assert.StartsWith("The Windows excluded port ranges for TCP IPv4 could not be read (netsh: '50059       50000' is not an excluded port range", note, StringComparison.Ordinal);
            Assert.EndsWith("; no excluded ports are assumed.", note, StringComparison.Ordinal);
            EphemeralPortRange tcp4 = Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Empty(tcp4.Reserved);
            Assert.Equal("netsh int ipv4 show dynamicport tcp", tcp4.Source);
        }

        [Fact]
        public void A_registry_that_cannot_be_read_gives_the_default_TIME_WAIT_with_a_note()
        {
            HostPortSettings settings = WindowsHostPortSettings.Compose(Healthy(), new RegistryDword(5, 0));
            string note = Assert.Single(settings.Notes);
            Assert.StartsWith(@"TcpTimedWaitDelay could not be read from HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters (Windows error 5: ", note, StringComparison.Ordinal);
            Assert.EndsWith("); the default 120 s is used for TIME_WAIT.", note, StringComparison.Ordinal);
            Assert.Equal(120, Range(settings, TransportProtocol.Tcp, AddressFamily.InterNetwork).TimeWaitSeconds);
        }

        [Fact]
        public void A_TcpTimedWaitDelay_that_is_no_number_of_seconds_is_not_used()
        {
            HostPortSettings settings = WindowsHostPortSettings.Compose(Healthy(), new RegistryDword(0, 0xFFFFFFFF));
            Assert.Equal(
                @"TcpTimedWaitDelay in HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters is 4294967295, which is no number of seconds Windows documents (30-300); the default 120 s is used for TIME_WAIT.",
                Assert.Single(settings.Notes));
        }

        [Fact]
        public void A_command_left_out_counts_as_not_run()
        {
            Dictionary<string, CommandOutput> outputs = Healthy();
            outputs.Remove("int ipv6 show excludedportrange protocol=udp");
            Assert.Equal(
                "The Windows excluded port ranges for UDP IPv6 could not be read (netsh: it was not run); no excluded ports are assumed.",
                Assert.Single(WindowsHostPortSettings.Compose(outputs, RegistryDword.NotSet).Notes));
        }

        [WindowsFact]
        public void This_Windows_host_is_read_without_notes()
        {
            HostPortSettings settings = HostPortSettings.ReadCurrent();
            Assert.True(settings.Notes.Count == 0, string.Join(Environment.NewLine, settings.Notes));
            Assert.All(settings.EphemeralRanges, r => Assert.StartsWith("netsh int ", r.Source, StringComparison.Ordinal));
        }
    }
}
