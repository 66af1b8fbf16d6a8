using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Model
{
    public class HostAddressTests
    {
        [Theory]
        [InlineData("10.0.0.5/24 brd 10.0.0.255 dev eth0", "10.0.0.5", 24, "eth0", "10.0.0.255")]
        [InlineData("10.0.0.5", "10.0.0.5", null, null, null)]
        [InlineData("fe80::1/64 dev eth0", "fe80::1", 64, "eth0", null)]
        [InlineData("::1/128 dev lo", "::1", 128, "lo", null)]
        [InlineData("192.168.56.1/24 dev vEthernet (WSL)", "192.168.56.1", 24, "vEthernet (WSL)", null)]
        public void Reads_and_writes_the_text_ip_addr_shows(string text, string address, int? prefix, string? device, string? broadcast)
        {
            HostAddress parsed = HostAddress.Parse(text);
            Assert.Equal((address, prefix, device, broadcast), (parsed.Address, parsed.PrefixLength, parsed.Interface, parsed.Broadcast));
            Assert.Equal(text, parsed.ToString());
            Assert.Equal(parsed, HostAddress.Parse(parsed.ToString()));
        }

        [Fact]
        public void A_scope_id_is_dropped_the_interface_names_the_link()
        {
            var scoped = new HostAddress(IPAddress.Parse("fe80::1%7"), 64, "eth0");
            Assert.Equal("fe80::1/64 dev eth0", scoped.ToString());
        }

        [Theory]
        [InlineData("")]
        [InlineData("not-an-address")]
        [InlineData("10.0.0.5/33")]
        [InlineData("10.0.0.5/x")]
        [InlineData("10.0.0.5 brd")]
        [InlineData("10.0.0.5 brd fe80::1")]
        [InlineData("fe80::1 brd 10.0.0.255")]
        [InlineData("10.0.0.5 via 10.0.0.1")]
        public void Bad_text_is_refused_with_a_message_that_names_it(string text)
        {
            Assert.False(HostAddress.TryParse(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => HostAddress.Parse(text));
            Assert.Contains("host address", error.Message, StringComparison.Ordinal);
        }
    }

    public class SocketHostConverterTests
    {
        private static IEnumerable<KeyValuePair<string, object?>>? Bag(object value) =>
            value is IDictionary dictionary ? dictionary.Keys.Cast<object>().Select(k => new KeyValuePair<string, object?>((string)k, dictionary[k])) : null;

        private static SocketHost Convert(object value)
        {
            Assert.True(SocketHostConverter.TryConvert(value, Bag, out SocketHost? host, out SocketHostError problem, out string? error), error);
            Assert.Equal(SocketHostError.None, problem);
            return host!;
        }

        private static (SocketHostError Problem, string Error) Refuse(object? value)
        {
            Assert.False(SocketHostConverter.TryConvert(value, Bag, out _, out SocketHostError problem, out string? error));
            return (problem, error!);
        }

        [Fact]
        public void Reads_a_deserialized_object_whose_nested_values_arrived_as_text()
        {
            // Remoting and Export-Clixml at depth 1: lists of text, enums by name.
            var bag = new Hashtable
            {
                ["SchemaVersion"] = 1,
                ["ComputerName"] = "web02",
                ["OS"] = "Linux",
                ["NetworkNamespace"] = "red:4026532301",
                ["Addresses"] = new ArrayList { "10.0.0.5/24 brd 10.0.0.255 dev eth0", "127.0.0.1/8 dev lo" },
                ["Interfaces"] = new ArrayList { "lo", "eth0", "eth1" },
                ["EphemeralPortRange"] = "40000-40099",
                ["UnprivilegedPortStart"] = 500,
                ["ReservedPorts"] = new ArrayList { "40010-40011" },
                ["NonLocalBind"] = false,
                ["NonLocalBindV6"] = true,
                ["BindV6Only"] = null,
                ["TcpTwReuse"] = 2,
                ["TcpTwReuseDelay"] = 1000,
                ["AutobindReuse"] = false,
                ["TcpTimeWaitSeconds"] = 60,
                ["UserId"] = 1000L,
                ["Privileged"] = false,
            };
            SocketHost host = Convert(bag);
            Assert.Equal(("web02", TargetOS.Linux, "red:4026532301", "40000-40099", 500), (host.ComputerName, host.OS!.Value, host.NetworkNamespace!.ToString(), host.EphemeralPortRange!.Value.ToString(), host.UnprivilegedPortStart!.Value));
            Assert.Equal(new[] { "10.0.0.5/24 brd 10.0.0.255 dev eth0", "127.0.0.1/8 dev lo" }, host.Addresses!.Select(a => a.ToString()));
            Assert.Equal(new[] { "lo", "eth0", "eth1" }, host.Interfaces);
            Assert.Equal(new[] { new PortRange(40010, 40011) }, host.ReservedPorts);
            Assert.Null(host.BindV6Only); // null stays unknown
            Assert.Equal((false, true, 2, 1000, 60, 1000L, false), (host.NonLocalBind!.Value, host.NonLocalBindV6!.Value, host.TcpTwReuse!.Value, host.TcpTwReuseDelay!.Value, host.TcpTimeWaitSeconds!.Value, host.UserId!.Value, host.Privileged!.Value));
        }

        [Fact]
        public void Reads_ConvertTo_Json_output_with_objects_and_enums_as_numbers()
        {
            const string json = @"{
  ""SchemaVersion"": 1, ""ComputerName"": ""web02"", ""OS"": 1,
  ""NetworkNamespace"": { ""Inode"": 4026531833, ""Name"": null, ""ProcessId"": null },
  ""Addresses"": [ { ""Address"": ""fe80::1"", ""PrefixLength"": 64, ""Interface"": ""Ethernet 2"", ""Broadcast"": null },
                   { ""Address"": ""10.0.0.5"", ""PrefixLength"": 24, ""Interface"": ""Ethernet 2"", ""Broadcast"": ""10.0.0.255"" } ],
  ""Interfaces"": [ ""Ethernet 2"" ],
  ""EphemeralPortRange"": { ""Start"": 49152, ""End"": 65535, ""Count"": 16384 },
  ""UnprivilegedPortStart"": 0, ""ReservedPorts"": [ { ""Start"": 50000, ""End"": 50059, ""Count"": 60 } ],
  ""UserId"": null, ""Privileged"": null }";
            SocketHost host = Convert(json);
            Assert.Equal(TargetOS.Windows, host.OS);
            Assert.Equal(4026531833ul, host.NetworkNamespace!.Inode);
            Assert.Equal(new[] { "fe80::1/64 dev Ethernet 2", "10.0.0.5/24 brd 10.0.0.255 dev Ethernet 2" }, host.Addresses!.Select(a => a.ToString()));
            Assert.Equal(new PortRange(49152, 65535), host.EphemeralPortRange);
            Assert.Equal(new[] { new PortRange(50000, 50059) }, host.ReservedPorts);
            Assert.Null(host.UserId);
            Assert.Null(host.NonLocalBind); // absent is unknown
        }

        [Fact]
        public void A_SocketHost_is_itself()
        {
            SocketHost host = SocketHost.Unknown(TargetOS.MacOS);
            Assert.Same(host, Convert(host));
        }

        [Theory]
        [InlineData(0, "older")]
        [InlineData(2, "newer")]
        public void One_of_another_schema_version_is_refused_naming_both_versions(int version, string which)
        {
            (SocketHostError problem, string error) = Refuse(new Hashtable { ["SchemaVersion"] = version, ["OS"] = "Linux", ["Addresses"] = null });
            Assert.Equal(SocketHostError.OtherSchemaVersion, problem);
            Assert.Contains("schema version " + version, error, StringComparison.Ordinal);
            Assert.Contains("reads version 1", error, StringComparison.Ordinal);
            Assert.Contains(which + " PortTools", error, StringComparison.Ordinal);
        }

        [Fact]
        public void One_without_a_schema_version_is_refused_as_of_another_PortTools()
        {
            (SocketHostError problem, string error) = Refuse(new Hashtable { ["ComputerName"] = "web02", ["OS"] = "Linux", ["Addresses"] = new ArrayList(), ["UserId"] = 0 });
            Assert.Equal(SocketHostError.OtherSchemaVersion, problem);
            Assert.Contains("no SchemaVersion", error, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("not json")]
        [InlineData("tcp LISTEN 0.0.0.0:80")]
        [InlineData(42)]
        [InlineData(null)]
        public void What_is_not_a_SocketHost_is_refused(object? value)
        {
            Assert.Equal(SocketHostError.NotASocketHost, Refuse(value).Problem);
            Assert.Equal(SocketHostError.NotASocketHost, Refuse(new Hashtable { ["Protocol"] = "Tcp", ["Local"] = "0.0.0.0:80" }).Problem);
        }

        [Theory]
        [InlineData("OS", "Solaris", "OS is 'Solaris'")]
        [InlineData("Addresses", "not-an-address", "Addresses entry 1")]
        [InlineData("EphemeralPortRange", "70000-80000", "EphemeralPortRange")]
        [InlineData("UnprivilegedPortStart", "-1", "UnprivilegedPortStart")]
        [InlineData("NonLocalBind", "maybe", "NonLocalBind")]
        [InlineData("NetworkNamespace", "red", "NetworkNamespace")]
        public void A_fact_that_is_not_valid_is_refused_naming_it(string name, string value, string named)
        {
            (SocketHostError problem, string error) = Refuse(new Hashtable { ["SchemaVersion"] = 1, [name] = value });
            Assert.Equal(SocketHostError.InvalidFact, problem);
            Assert.Contains(named, error, StringComparison.Ordinal);
        }
    }

    public class SocketHostFactsTests
    {
        [Fact]
        public void Unknown_facts_become_the_OSs_defaults_marked_unknown()
        {
            HostFacts facts = HostFacts.From(SocketHost.Unknown(TargetOS.Linux));
            Assert.Equal(KnownHostFacts.None, facts.Known);
            Assert.False(facts.Knows(KnownHostFacts.Interfaces));
            Assert.True(facts.HasInterface("eth1")); // an interface named in a question is taken to exist
            Assert.False(facts.IsLocal(IPAddress.Parse("192.0.2.2")));
            Assert.True(facts.IsLocal(IPAddress.Parse("127.0.0.9"))); // every Linux host has 127.0.0.0/8
            Assert.Equal(new PortRange(32768, 60999), facts.EphemeralPortRange);
        }

        [Fact]
        public void Known_facts_are_the_SocketHosts()
        {
            var host = new SocketHost
            {
                OS = TargetOS.Linux,
                Addresses = new[] { HostAddress.Parse("10.0.0.5/24 brd 10.0.0.255 dev eth0"), HostAddress.Parse("fe80::1/64 dev eth0") },
                Interfaces = new[] { "lo", "eth0", "eth1" },
                EphemeralPortRange = new PortRange(40000, 40099),
                UnprivilegedPortStart = 500,
                UserId = 1000,
                Privileged = false,
            };
            HostFacts facts = HostFacts.From(host);
            Assert.True(facts.Knows(KnownHostFacts.Addresses | KnownHostFacts.Interfaces | KnownHostFacts.EphemeralPortRange | KnownHostFacts.UnprivilegedPortStart | KnownHostFacts.UserId | KnownHostFacts.Privileged));
            Assert.False(facts.Knows(KnownHostFacts.NonLocalBind));
            Assert.True(facts.IsLocal(IPAddress.Parse("10.0.0.5")));
            Assert.True(facts.IsLocal(IPAddress.Parse("fe80::1%3")));
            Assert.False(facts.IsLocal(IPAddress.Parse("10.0.0.6")));
            Assert.True(facts.IsBroadcast(IPAddress.Parse("10.0.0.255")));
            Assert.Equal("eth0", facts.InterfaceOf(IPAddress.Parse("10.0.0.5")));
            Assert.True(facts.HasInterface("eth1")); // listed without addresses
            Assert.False(facts.HasInterface("eth9"));
            Assert.Equal((40000, 500, 1000L, false), (facts.EphemeralPortRange.Start, facts.UnprivilegedPortStart, facts.UserId, facts.Privileged));
        }

        [Fact]
        public void A_SocketHost_without_an_OS_cannot_be_simulated()
        {
            ArgumentException error = Assert.Throws<ArgumentException>(() => HostFacts.From(new SocketHost { ComputerName = "web02" }));
            Assert.Contains("web02 does not say its OS", error.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(1000L, null, false)]
        [InlineData(0L, null, true)]
        [InlineData(1000L, true, true)]
        [InlineData(0L, false, false)]
        public void A_user_id_settles_privilege_unless_privilege_is_given(long uid, bool? privileged, bool expected)
        {
            Assert.Equal(expected, SocketHost.Unknown(TargetOS.Linux).With(userId: uid, privileged: privileged).Privileged);
        }

        [Fact]
        public void The_hosts_own_user_keeps_the_hosts_answer()
        {
            // A root without CAP_NET_BIND_SERVICE (a container that dropped it) stays unprivileged.
            var host = new SocketHost { OS = TargetOS.Linux, UserId = 0, Privileged = false };
            Assert.False(host.With(userId: 0).Privileged);
        }

        [Fact]
        public void Another_OS_than_the_hosts_is_an_error_naming_both()
        {
            var host = new SocketHost { ComputerName = "web02", OS = TargetOS.Linux };
            ArgumentException error = Assert.Throws<ArgumentException>(() => host.With(os: TargetOS.Windows));
            Assert.Contains("web02 describes a Linux host, but Windows's rules were asked for", error.Message, StringComparison.Ordinal);
            Assert.Equal(TargetOS.Windows, SocketHost.Unknown().With(os: TargetOS.Windows).OS);
        }

        [Fact]
        public void Port_settings_from_a_SocketHost_carry_its_range_and_say_what_it_left_unknown()
        {
            var host = new SocketHost { ComputerName = "web02", OS = TargetOS.Linux, EphemeralPortRange = new PortRange(40000, 40099), ReservedPorts = new[] { new PortRange(40010, 40011) }, TcpTimeWaitSeconds = 60 };
            HostPortSettings settings = HostPortSettings.From(host);
            Assert.All(settings.EphemeralRanges, r => Assert.Equal((40000, 40099, 98), (r.Start, r.End, r.UsableCount)));
            Assert.Empty(settings.Notes);
            HostPortSettings unknown = HostPortSettings.From(SocketHost.Unknown(TargetOS.Linux));
            Assert.Equal(new PortRange(32768, 60999), unknown.EphemeralRanges[0].Ports);
            Assert.Contains(unknown.Notes, note => note.Contains("ephemeral port range is not in", StringComparison.Ordinal));
        }
    }

    public class RouteNetlinkDecodeTests
    {
        // struct nlmsghdr + struct ifaddrmsg + attributes, as the kernel sends RTM_NEWADDR.
        private static byte[] AddressMessage(byte family, byte prefix, int index, uint flags, params (ushort Type, byte[] Payload)[] attributes)
        {
            var body = new List<byte>();
            foreach ((ushort type, byte[] payload) in attributes)
            {
                int length = 4 + payload.Length;
                body.AddRange(BitConverter.GetBytes((ushort)length));
                body.AddRange(BitConverter.GetBytes(type));
                body.AddRange(payload);
                while (body.Count % 4 != 0)
                {
                    body.Add(0);
                }
            }

            var message = new List<byte>();
            message.AddRange(BitConverter.GetBytes(16 + 8 + body.Count));
            message.AddRange(BitConverter.GetBytes((ushort)20)); // RTM_NEWADDR
            message.AddRange(new byte[10]);
            message.AddRange(new[] { family, prefix, (byte)flags, (byte)0 });
            message.AddRange(BitConverter.GetBytes(index));
            message.AddRange(body);
            return message.ToArray();
        }

        [Fact]
        public void Decodes_an_address_with_its_prefix_broadcast_and_device()
        {
            var addresses = new List<HostAddress>();
            var names = new Dictionary<int, string> { [2] = "eth0" };
            byte[] local = IPAddress.Parse("10.0.0.5").GetAddressBytes();
            RouteNetlink.DecodeAddress(AddressMessage(2, 24, 2, 0, (1, local), (2, local), (4, IPAddress.Parse("10.0.0.255").GetAddressBytes())), names, addresses);
            Assert.Equal("10.0.0.5/24 brd 10.0.0.255 dev eth0", Assert.Single(addresses).ToString());
        }

        [Fact]
        public void On_a_point_to_point_link_the_local_address_is_IFA_LOCAL_not_the_peer()
        {
            var addresses = new List<HostAddress>();
            RouteNetlink.DecodeAddress(AddressMessage(2, 32, 5, 0, (1, IPAddress.Parse("10.8.0.1").GetAddressBytes()), (2, IPAddress.Parse("10.8.0.2").GetAddressBytes())), new Dictionary<int, string> { [5] = "tun0" }, addresses);
            Assert.Equal("10.8.0.2/32 dev tun0", Assert.Single(addresses).ToString());
        }

        [Fact]
        public void Tentative_and_failed_IPv6_addresses_are_left_out_as_bind_refuses_them()
        {
            var addresses = new List<HostAddress>();
            byte[] v6 = IPAddress.Parse("2001:db8::1").GetAddressBytes();
            RouteNetlink.DecodeAddress(AddressMessage(10, 64, 2, 0x40, (1, v6)), new Dictionary<int, string>(), addresses);
            RouteNetlink.DecodeAddress(AddressMessage(10, 64, 2, 0, (1, v6), (8, BitConverter.GetBytes(0x48u))), new Dictionary<int, string>(), addresses);
            Assert.Empty(addresses);
            RouteNetlink.DecodeAddress(AddressMessage(10, 64, 2, 0, (1, v6), (8, BitConverter.GetBytes(0x80u))), new Dictionary<int, string>(), addresses);
            Assert.Equal("2001:db8::1/64", Assert.Single(addresses).ToString()); // permanent; the device is unknown here
        }
    }
}
