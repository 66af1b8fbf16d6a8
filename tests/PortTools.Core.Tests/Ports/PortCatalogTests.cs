using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Ports
{
    public class PortCatalogTests
    {
        private static HostPortSettings Linux(bool? capable = false, int unprivilegedStart = 1024, params ReservedPortRange[] reserved)
        {
            var ranges = new List<EphemeralPortRange>();
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                {
                    ranges.Add(new EphemeralPortRange(TargetOS.Linux, protocol, family, 32768, 60999, reserved, protocol == TransportProtocol.Tcp ? 60 : 0, "test", "test"));
                }
            }

            PortRange? privileged = unprivilegedStart > 1 ? new PortRange(1, unprivilegedStart - 1) : null;
            return new HostPortSettings(TargetOS.Linux, ranges, privileged, "net.ipv4.ip_unprivileged_port_start = " + unprivilegedStart, capable);
        }

        private static PortCatalog Catalog(HostPortSettings host) => new PortCatalog(ServiceTable.Embedded, host);

        [Theory]
        [InlineData(0, PortClass.WellKnown)]
        [InlineData(1023, PortClass.WellKnown)]
        [InlineData(1024, PortClass.Registered)]
        [InlineData(49151, PortClass.Registered)]
        [InlineData(49152, PortClass.Dynamic)]
        [InlineData(65535, PortClass.Dynamic)]
        public void Classes_follow_RFC_6335(int port, PortClass expected)
        {
            Assert.Equal(expected, PortCatalog.Classify(port));
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(65536)]
        [InlineData(70000)]
        public void A_port_out_of_range_is_named_in_the_error(int port)
        {
            string expected = "Port " + port + " is out of range: a port is 0 to 65535.";
            Assert.StartsWith(expected, Assert.Throws<ArgumentOutOfRangeException>(() => PortCatalog.Classify(port)).Message, StringComparison.Ordinal);
            Assert.StartsWith(expected, Assert.Throws<ArgumentOutOfRangeException>(() => Catalog(Linux()).Describe(port, TransportProtocol.Tcp)).Message, StringComparison.Ordinal);
        }

        public static IEnumerable<object[]> PrivilegeRules()
        {
            HostPortSettings linux = Linux(capable: false);
            HostPortSettings linuxCapable = Linux(capable: true);
            HostPortSettings linuxUnknown = Linux(capable: null);
            HostPortSettings linuxStart80 = Linux(capable: false, unprivilegedStart: 80);
            HostPortSettings linuxNone = Linux(capable: false, unprivilegedStart: 0);
            HostPortSettings mac = SysctlPortSettings.FromValues(TargetOS.MacOS, 49152, 65535, 15000, isRoot: false);
            HostPortSettings macRoot = SysctlPortSettings.FromValues(TargetOS.MacOS, 49152, 65535, 15000, isRoot: true);
            HostPortSettings bsd = SysctlPortSettings.FromValues(TargetOS.FreeBSD, 10000, 65535, 30000, 0, 1023, isRoot: false);
            HostPortSettings bsdHigh = SysctlPortSettings.FromValues(TargetOS.FreeBSD, 10000, 65535, 30000, 0, 2047, isRoot: false);
            HostPortSettings windows = HostPortSettings.Defaults(TargetOS.Windows);
            return new[]
            {
                new object[] { "Linux: below 1024 needs CAP_NET_BIND_SERVICE", linux, 80, null!, true, "lacks CAP_NET_BIND_SERVICE, so bind fails with EACCES" },
                new object[] { "Linux: 1024 and above are free", linux, 1024, null!, false, "not privileged" },
                new object[] { "Linux: the capability lifts the rule", linuxCapable, 80, null!, false, "this process has CAP_NET_BIND_SERVICE" },
                new object[] { "Linux: unknown capability is reported as needing it", linuxUnknown, 443, null!, true, "is unknown" },
                new object[] { "Linux: the wildcard does not help", linux, 22, "0.0.0.0", true, "CAP_NET_BIND_SERVICE" },
                new object[] { "Linux: a lowered ip_unprivileged_port_start frees port 80", linuxStart80, 80, null!, false, "not privileged" },
                new object[] { "Linux: still privileged below it", linuxStart80, 79, null!, true, "= 80" },
                new object[] { "Linux: start 0 means no privileged ports", linuxNone, 1, null!, false, "not privileged" },
                new object[] { "port 0 is never privileged", linux, 0, null!, false, "the OS picks an ephemeral port" },
                new object[] { "macOS: a specific address needs root", mac, 80, "192.0.2.1", true, "does not run as root" },
                new object[] { "macOS: wildcard binds are exempt", mac, 80, "0.0.0.0", false, "exempts wildcard binds" },
                new object[] { "macOS: the IPv6 wildcard too", mac, 80, "::", false, "exempts wildcard binds" },
                new object[] { "macOS: no address yet answers for a specific one", mac, 80, null!, true, "Binding 0.0.0.0 or :: needs no privilege." },
                new object[] { "macOS: root may", macRoot, 80, "192.0.2.1", false, "runs as root" },
                new object[] { "FreeBSD: the wildcard needs root too", bsd, 80, "0.0.0.0", true, "the wildcard included" },
                new object[] { "FreeBSD: reservedhigh moves the line", bsdHigh, 2000, null!, true, "0-2047" },
                new object[] { "FreeBSD: above reservedhigh is free", bsd, 1024, null!, false, "not privileged" },
                new object[] { "Windows: no privileged ports", windows, 80, "0.0.0.0", false, "Windows has no privileged ports" },
            };
        }

        [Theory]
        [MemberData(nameof(PrivilegeRules))]
        public void Privilege_follows_each_OS_rule(string rule, HostPortSettings host, int port, string? address, bool expected, string reason)
        {
            PrivilegeCheck check = PortPrivilege.Check(port, address is null ? null : IPAddress.Parse(address), host);
            Assert.True(expected == check.RequiresPrivilege, rule + ": " + check.Reason);
            Assert.Contains(reason, check.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Describes_a_well_known_port()
        {
            PortInfo info = Catalog(Linux()).Describe(443, TransportProtocol.Tcp);
            Assert.Equal("443/tcp https", info.ToString());
            Assert.Equal("https", info.ServiceName);
            Assert.Equal("HTTP over TLS", info.Description);
            Assert.Equal(PortClass.WellKnown, info.Class);
            Assert.True(info.RequiresPrivilege);
            Assert.False(info.InEphemeralRange);
            Assert.False(info.IsReserved);
            Assert.Null(info.Note);
            Assert.Equal(TargetOS.Linux, info.OS);
        }

        [Fact]
        public void Port_zero_is_explained_with_the_host_range()
        {
            PortInfo info = Catalog(Linux()).Describe(0, TransportProtocol.Tcp);
            Assert.Null(info.ServiceName);
            Assert.False(info.RequiresPrivilege);
            Assert.Equal("Port 0 asks the OS to pick an ephemeral port: on this host one from 32768-60999 (28,232 usable).", info.Note);
        }

        [Fact]
        public void A_port_in_the_ephemeral_range_warns_of_the_clash_named_or_not()
        {
            PortInfo info = Catalog(Linux()).Describe(44818, TransportProtocol.Tcp);
            Assert.True(info.InEphemeralRange);
            Assert.Equal(PortClass.Registered, info.Class);
            Assert.Contains("outgoing connections may take it", info.Note, StringComparison.Ordinal);

            // "Can my service listen on 50000?" is the question the note answers, named port or not.
            PortInfo unnamed = Catalog(Linux()).Describe(50000, TransportProtocol.Tcp);
            Assert.Empty(unnamed.ServiceNames);
            Assert.Contains("outgoing connections may take it", unnamed.Note, StringComparison.Ordinal);

            PortInfo outside = Catalog(Linux()).Describe(30999, TransportProtocol.Tcp);
            Assert.False(outside.InEphemeralRange);
            Assert.Empty(outside.ServiceNames);
            Assert.Null(outside.Note);
        }

        [Fact]
        public void Linux_reserved_ports_are_marked_and_explained()
        {
            PortCatalog catalog = Catalog(Linux(false, 1024, new ReservedPortRange(new PortRange(40000, 40009), true)));
            PortInfo info = catalog.Describe(40005, TransportProtocol.Udp);
            Assert.True(info.IsReserved);
            Assert.True(info.InEphemeralRange);
            Assert.Equal("It is in net.ipv4.ip_local_reserved_ports (40000-40009): the kernel never picks it as an ephemeral port, but an explicit bind to it works.", info.Note);
            Assert.False(catalog.Describe(40010, TransportProtocol.Udp).IsReserved);
        }

        [Fact]
        public void Windows_excluded_ports_are_marked_and_explained()
        {
            var excluded = new[] { new ReservedPortRange(new PortRange(50000, 50059), true), new ReservedPortRange(new PortRange(61117, 61216), false) };
            var ranges = new[] { new EphemeralPortRange(TargetOS.Windows, TransportProtocol.Tcp, AddressFamily.InterNetwork, 49152, 65535, excluded, 120, "test", "test") };
            PortCatalog catalog = Catalog(WindowsPortSettings.FromRanges(ranges));
            Assert.Contains("administered excluded port range (50000-50059", catalog.Describe(50010, TransportProtocol.Tcp).Note, StringComparison.Ordinal);
            PortInfo runtime = catalog.Describe(61200, TransportProtocol.Tcp);
            Assert.True(runtime.IsReserved);
            Assert.Contains("WSAEACCES", runtime.Note, StringComparison.Ordinal);
            Assert.False(runtime.RequiresPrivilege);
            Assert.False(catalog.Describe(61200, TransportProtocol.Udp).IsReserved); // exclusions are per protocol
        }

        [Fact]
        public void A_common_unregistered_use_is_a_note_not_a_name()
        {
            PortInfo info = Catalog(Linux()).Describe(6443, TransportProtocol.Tcp);
            Assert.Equal("sun-sr-https", info.ServiceName);
            Assert.Equal("The usual Kubernetes API server port.", info.Note);
        }

        [Fact]
        public void Describes_a_range_per_port_and_protocol()
        {
            PortCatalog catalog = Catalog(Linux());
            Assert.Equal(new[] { "52/tcp", "52/udp", "53/tcp domain", "53/udp domain", "54/tcp", "54/udp" }, catalog.Describe(new PortRange(52, 54)).Select(p => p.ToString()));
            Assert.Equal(new[] { "53/udp domain" }, catalog.Describe(new PortRange(53), TransportProtocol.Udp).Select(p => p.ToString()));
            Assert.Equal(131072, catalog.Describe(new PortRange(0, 65535)).Count());
        }

        [Fact]
        public void Finds_ports_by_service_name()
        {
            PortCatalog catalog = Catalog(Linux());
            Assert.Equal(new[] { "443/tcp https", "443/udp https" }, catalog.FindService("HTTPS").Select(p => p.ToString()));
            Assert.Equal(new[] { "53/udp domain" }, catalog.FindService("domain", null, TransportProtocol.Udp).Select(p => p.ToString()));
            var pattern = new Regex("^ldap", RegexOptions.IgnoreCase);
            Assert.Equal(new[] { "389/tcp ldap", "389/udp ldap", "636/tcp ldaps", "636/udp ldaps" }, catalog.FindService("ldap*", pattern.IsMatch).Select(p => p.ToString()));
        }

        [Theory]
        [InlineData("no-such-service", null, "Unknown service 'no-such-service': no service name or alias in the service table (IANA) matches it.")]
        [InlineData("redis", TransportProtocol.Udp, "Unknown service 'redis': no service name or alias for udp in the service table (IANA) matches it.")]
        [InlineData("", null, "Unknown service ''")]
        public void An_unknown_service_is_named_in_the_error(string service, TransportProtocol? protocol, string expected)
        {
            PortCatalog catalog = Catalog(Linux());
            Assert.False(catalog.TryFindService(service, null, protocol, out _));
            UnknownServiceException error = Assert.Throws<UnknownServiceException>(() => catalog.FindService(service, null, protocol));
            Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
            Assert.Equal(service, error.Service);
        }

        [Fact]
        public void A_pattern_that_matches_nothing_is_named_in_the_error()
        {
            UnknownServiceException error = Assert.Throws<UnknownServiceException>(() => Catalog(Linux()).FindService("zz*", n => n.StartsWith("zz", StringComparison.OrdinalIgnoreCase)));
            Assert.StartsWith("Unknown service 'zz*'", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Host_file_names_appear_in_the_description()
        {
            ServiceTable merged = ServiceTable.Embedded.Merge(HostServicesFile.Read(HostServicesFile.DefaultPath(TargetOS.Linux, PortFixtures.Root("linux-tuned"))));
            var catalog = new PortCatalog(merged, LinuxPortSettings.Read(PortFixtures.Root("linux-tuned")));
            PortInfo info = Assert.Single(catalog.FindService("imap2"));
            Assert.Equal(new[] { "imap", "imap2" }, info.ServiceNames);
            Assert.Equal(new[] { "myapp", "myapp-api" }, catalog.Describe(18080, TransportProtocol.Tcp).ServiceNames);
            Assert.False(catalog.Describe(80, TransportProtocol.Tcp).RequiresPrivilege); // ip_unprivileged_port_start is 80 there
            Assert.True(catalog.Describe(8080, TransportProtocol.Tcp).IsReserved);
        }

        [LinuxFact]
        public void This_host_catalog_merges_etc_services()
        {
            PortCatalog catalog = PortCatalog.ForThisHost();
            Assert.Equal(TargetOS.Linux, catalog.Host.OS);
            Assert.Equal(new[] { ServiceTable.EmbeddedSource, "/etc/services" }, catalog.Services.Sources);
            Assert.Equal("ssh", catalog.Describe(22, TransportProtocol.Tcp).ServiceName);
            if (Privilege.IsRoot)
            {
                Assert.False(catalog.Describe(22, TransportProtocol.Tcp).RequiresPrivilege); // root has CAP_NET_BIND_SERVICE
            }
        }
    }
}
