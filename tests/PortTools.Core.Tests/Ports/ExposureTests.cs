using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Linux;
using PortTools.Tests.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Ports
{
    public class ExposureTests
    {
        public static IEnumerable<object[]> AddressRules() => new[]
        {
            new object[] { "IPv4 wildcard", "0.0.0.0", Exposure.AllInterfaces },
            new object[] { "IPv6 wildcard", "::", Exposure.AllInterfaces },
            new object[] { "v4-mapped wildcard", "::ffff:0.0.0.0", Exposure.AllInterfaces },
            new object[] { "loopback", "127.0.0.1", Exposure.Loopback },
            new object[] { "all of 127/8 is loopback", "127.255.3.4", Exposure.Loopback },
            new object[] { "IPv6 loopback", "::1", Exposure.Loopback },
            new object[] { "v4-mapped loopback", "::ffff:127.0.0.53", Exposure.Loopback },
            new object[] { "IPv4 link-local", "169.254.10.20", Exposure.LinkLocal },
            new object[] { "IPv6 link-local", "fe80::1", Exposure.LinkLocal },
            new object[] { "IPv6 link-local top of fe80::/10", "febf:ffff::1", Exposure.LinkLocal },
            new object[] { "just past fe80::/10", "fec0::1", Exposure.Public },
            new object[] { "RFC 1918 10/8", "10.1.2.3", Exposure.Private },
            new object[] { "RFC 1918 172.16/12 low", "172.16.0.1", Exposure.Private },
            new object[] { "RFC 1918 172.16/12 high", "172.31.255.254", Exposure.Private },
            new object[] { "just past 172.16/12", "172.32.0.1", Exposure.Public },
            new object[] { "just below 172.16/12", "172.15.255.255", Exposure.Public },
            new object[] { "RFC 1918 192.168/16", "192.168.1.10", Exposure.Private },
            new object[] { "CGNAT 100.64/10 low", "100.64.0.1", Exposure.Private },
            new object[] { "CGNAT 100.64/10 high", "100.127.255.254", Exposure.Private },
            new object[] { "just past CGNAT", "100.128.0.1", Exposure.Public },
            new object[] { "ULA fd00::/8", "fd12:3456::1", Exposure.Private },
            new object[] { "ULA fc00::/8", "fc00::1", Exposure.Private },
            new object[] { "v4-mapped private", "::ffff:192.168.0.1", Exposure.Private },
            new object[] { "public IPv4", "203.0.113.7", Exposure.Public },
            new object[] { "public IPv6", "2001:db8::10", Exposure.Public },
            new object[] { "v4-mapped public", "::ffff:198.51.100.1", Exposure.Public },
            new object[] { "multicast is not narrowed", "239.1.1.1", Exposure.Public },
        };

        [Theory]
        [MemberData(nameof(AddressRules))]
        public void Classifies_addresses(string rule, string address, Exposure expected)
        {
            IPAddress parsed = IPAddress.Parse(address);
            Assert.True(expected == ExposureClassifier.Classify(parsed), rule);
            Assert.Equal(expected, ExposureClassifier.Classify(parsed.GetAddressBytes().AsSpan()));
        }

        [Fact]
        public void Sorting_by_exposure_puts_the_most_exposed_first()
        {
            var order = Enum.GetValues<Exposure>().OrderBy(e => e).ToArray();
            Assert.Equal(new[] { Exposure.AllInterfaces, Exposure.OneInterface, Exposure.Public, Exposure.Private, Exposure.LinkLocal, Exposure.Loopback }, order);
        }

        public static IEnumerable<object[]> SocketsThatHaveAnExposure() => new[]
        {
            new object[] { "tcp LISTEN 0.0.0.0:22", Exposure.AllInterfaces },
            new object[] { "tcp LISTEN [::]:22", Exposure.AllInterfaces },
            new object[] { "tcp LISTEN 127.0.0.1:5432", Exposure.Loopback },
            new object[] { "udp UNCONN 192.168.1.2:53", Exposure.Private },
            new object[] { "udp UNCONN [fe80::1%2]:546", Exposure.LinkLocal },
            new object[] { "tcp LISTEN 203.0.113.5:443", Exposure.Public },
        };

        [Theory]
        [MemberData(nameof(SocketsThatHaveAnExposure))]
        public void Listening_TCP_and_unconnected_UDP_sockets_have_an_exposure(string text, Exposure expected)
        {
            Assert.Equal(expected, SocketTuple.Parse(text).Exposure);
        }

        public static IEnumerable<object[]> SocketsTiedToADevice() => new[]
        {
            new object[] { "a wildcard tied to lo is reachable only from this host", "tcp LISTEN 0.0.0.0:9400 dev=lo", Exposure.Loopback, "lo" },
            new object[] { "so is an IPv6 wildcard", "tcp LISTEN [::]:9400 dev=lo", Exposure.Loopback, "lo" },
            new object[] { "a public address tied to lo is loopback too", "udp UNCONN 203.0.113.5:53 dev=lo", Exposure.Loopback, "lo" },
            new object[] { "lo0 is the BSDs' loopback device", "udp UNCONN [fe80::1%1]:546 dev=lo0", Exposure.Loopback, "lo0" },
            new object[] { "a wildcard tied to another device reaches only through it", "udp UNCONN 0.0.0.0:67 dev=eth1", Exposure.OneInterface, "eth1" },
            new object[] { "an IPv6 wildcard too", "tcp LISTEN [::]:22 dev=wg0", Exposure.OneInterface, "wg0" },
            new object[] { "a specific address keeps its class, through the device", "tcp LISTEN 10.0.0.5:80 dev=eth0", Exposure.Private, "eth0" },
            new object[] { "a public one too", "tcp LISTEN 203.0.113.5:443 dev=eth0", Exposure.Public, "eth0" },
        };

        [Theory]
        [MemberData(nameof(SocketsTiedToADevice))]
        public void A_socket_tied_to_a_device_is_reachable_only_through_it(string rule, string text, Exposure expected, string device)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            Assert.True(expected == socket.Exposure, rule + ": " + socket.Exposure);
            Assert.Equal(device, socket.ExposureInterface);
        }

        [Theory]
        [InlineData("tcp LISTEN 0.0.0.0:22")]
        [InlineData("tcp ESTAB 10.0.0.5:22 10.0.0.1:5000 dev=eth0")]
        [InlineData("udp ESTAB 10.0.0.1:40000 10.0.0.2:53 dev=eth0")]
        public void Only_a_socket_with_an_exposure_and_a_device_has_an_exposure_interface(string text)
        {
            Assert.Null(SocketTuple.Parse(text).ExposureInterface);
        }

        [Fact]
        public void The_query_filter_judges_a_device_bound_socket_by_its_device()
        {
            var loopback = new SocketQuery { Exposures = new[] { Exposure.Loopback } };
            var wide = new SocketQuery { Exposures = new[] { Exposure.AllInterfaces } };
            var one = new SocketQuery { Exposures = new[] { Exposure.OneInterface } };
            SocketTuple onLo = SocketTuple.Parse("tcp LISTEN 0.0.0.0:9400 dev=lo");
            SocketTuple onEth = SocketTuple.Parse("tcp LISTEN 0.0.0.0:9401 dev=eth1");
            Assert.True(loopback.Matches(onLo));
            Assert.False(wide.Matches(onLo));
            Assert.False(wide.Matches(onEth));
            Assert.True(one.Matches(onEth));
            Assert.False(one.Matches(onLo));
        }

        [Fact]
        public void The_netlink_decoder_leaves_a_device_bound_socket_to_the_name_check()
        {
            var table = new RawSocketTable();
            var query = new SocketQuery { Exposures = new[] { Exposure.Loopback } };
            byte[] message = DiagMessage(2, 10, "0.0.0.0", 9400, "0.0.0.0", 0);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(40), 1); // idiag_if: tied to device 1
            InetDiagReader.Decode(message, TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(DiagMessage(2, 10, "0.0.0.0", 9401, "0.0.0.0", 0), TransportProtocol.Tcp, query, table);
            Assert.Equal(1, table.Count);
            Assert.Equal(9400, (int)table[0].LocalPort);
            Assert.True(query.WantsExposure(IPAddress.Any.GetAddressBytes(), "lo"));
            Assert.False(query.WantsExposure(IPAddress.Any.GetAddressBytes(), "veth0"));
        }

        [LinuxRootFact]
        public void A_live_wildcard_listener_tied_to_lo_is_Loopback_and_one_tied_to_another_device_says_which()
        {
            // The case, 0.0.0.0:9400 bound to lo, in a namespace of the test's own (no wildcard bind on the host).
            using var space = new TestNetworkNamespace();
            using var sockets = new SocketSet();
            space.Run(() =>
            {
                foreach ((int port, string device) in new[] { (9400, "lo"), (9401, "veth0") })
                {
                    Socket socket = sockets.Add(Loopback.Tcp());
                    socket.SetRawSocketOption(1 /* SOL_SOCKET */, 25 /* SO_BINDTODEVICE */, Encoding.ASCII.GetBytes(device + "\0"));
                    socket.Bind(new IPEndPoint(IPAddress.Any, port));
                    socket.Listen(1);
                }

                return 0;
            });

            IReadOnlyList<SocketTuple> found = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, LocalPorts = new[] { new PortRange(9400, 9401) } }).Sockets;
            SocketTuple onLo = Assert.Single(found, s => s.LocalPort == 9400);
            SocketTuple onVeth = Assert.Single(found, s => s.LocalPort == 9401);
            Assert.Equal((Exposure.Loopback, "lo"), (onLo.Exposure!.Value, onLo.ExposureInterface));
            Assert.Equal((Exposure.OneInterface, "veth0"), (onVeth.Exposure!.Value, onVeth.ExposureInterface));

            Assert.Equal(new[] { 9400 }, LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, Exposures = new[] { Exposure.Loopback } }).Sockets.Select(s => s.LocalPort));
            Assert.Empty(LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, Exposures = new[] { Exposure.AllInterfaces } }).Sockets);
            Assert.Equal(new[] { 9401 }, LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, Exposures = new[] { Exposure.OneInterface } }).Sockets.Select(s => s.LocalPort));
        }

        [Theory]
        [InlineData("tcp ESTAB 0.0.0.0:22 10.0.0.1:5000")]
        [InlineData("tcp ESTAB 203.0.113.5:443 198.51.100.1:40000")]
        [InlineData("tcp TIME-WAIT 127.0.0.1:80 127.0.0.1:40000")]
        [InlineData("tcp BOUND 0.0.0.0:8080")]
        [InlineData("tcp SYN-SENT 10.0.0.1:40000 10.0.0.2:80")]
        [InlineData("udp ESTAB 10.0.0.1:40000 10.0.0.2:53")]
        public void Other_sockets_have_none(string text)
        {
            Assert.Null(SocketTuple.Parse(text).Exposure);
        }

        [Fact]
        public void The_query_filter_matches_built_sockets()
        {
            var query = new SocketQuery { Exposures = new[] { Exposure.AllInterfaces, Exposure.Public } };
            Assert.True(query.Matches(SocketTuple.Parse("tcp LISTEN 0.0.0.0:22")));
            Assert.True(query.Matches(SocketTuple.Parse("udp UNCONN 203.0.113.5:53")));
            Assert.False(query.Matches(SocketTuple.Parse("tcp LISTEN 127.0.0.1:22")));
            Assert.False(query.Matches(SocketTuple.Parse("tcp ESTAB 203.0.113.5:443 198.51.100.1:40000")));
            Assert.True(new SocketQuery { Exposures = Array.Empty<Exposure>() }.Matches(SocketTuple.Parse("tcp ESTAB 203.0.113.5:443 198.51.100.1:40000")));
        }

        [Fact]
        public void An_exposure_filter_asks_netlink_only_for_listening_and_unconnected_states()
        {
            var query = new SocketQuery { Exposures = new[] { Exposure.Public } };
            Assert.Equal(1u << 10, InetDiagReader.StateMask(TransportProtocol.Tcp, query));
            Assert.Equal(1u << 7, InetDiagReader.StateMask(TransportProtocol.Udp, query));
        }

        private static byte[] DiagMessage(byte family, byte state, string local, int localPort, string remote, int remotePort)
        {
            var message = new byte[72];
            message[0] = family;
            message[1] = state;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)localPort);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)remotePort);
            IPAddress.Parse(local).GetAddressBytes().CopyTo(message, 8);
            IPAddress.Parse(remote).GetAddressBytes().CopyTo(message, 24);
            return message;
        }

        [Fact]
        public void The_netlink_decoder_applies_the_filter_before_keeping_a_record()
        {
            var table = new RawSocketTable();
            var query = new SocketQuery { Exposures = new[] { Exposure.AllInterfaces, Exposure.Private } };
            InetDiagReader.Decode(DiagMessage(2, 10, "0.0.0.0", 22, "0.0.0.0", 0), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(DiagMessage(10, 10, "::", 80, "::", 0), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(DiagMessage(2, 10, "10.0.0.5", 5432, "0.0.0.0", 0), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(DiagMessage(2, 10, "127.0.0.1", 631, "0.0.0.0", 0), TransportProtocol.Tcp, query, table);
            InetDiagReader.Decode(DiagMessage(2, 7, "127.0.0.53", 53, "0.0.0.0", 0), TransportProtocol.Udp, query, table);
            InetDiagReader.Decode(DiagMessage(2, 1, "10.0.0.5", 22, "10.0.0.9", 40000), TransportProtocol.Tcp, query, table);
            Assert.Equal(3, table.Count);
            Assert.Equal(new[] { 22, 80, 5432 }, Enumerable.Range(0, table.Count).Select(i => (int)table[i].LocalPort));
        }

        [Fact]
        public void The_proc_net_decoder_applies_the_filter_before_keeping_a_record()
        {
            var table = new RawSocketTable();
            var query = new SocketQuery { Exposures = new[] { Exposure.Loopback } };
            string[] lines =
            {
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11 1 0000000000000000 100 0 0 10 0",
                "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0000000000000000 100 0 0 10 0",
                "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 13 1 0000000000000000 100 0 0 10 0",
            };
            foreach (string line in lines)
            {
                Assert.True(ProcNetReader.DecodeLine(Encoding.ASCII.GetBytes(line), TransportProtocol.Tcp, false, true, query, table));
            }

            Assert.Equal(1, table.Count);
            Assert.Equal(11ul, table[0].Inode);
        }

        [LinuxFact]
        public void A_live_loopback_listener_is_found_as_Loopback()
        {
            IPAddress address = Loopback.NextAddress();
            using Socket listener = Loopback.Tcp();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);
            int port = Loopback.PortOf(listener);
            var mine = new[] { new PortRange(port) };

            SocketTuple found = Assert.Single(LiveSocketTable.Read(new SocketQuery { LocalPorts = mine, Exposures = new[] { Exposure.Loopback } }).Sockets, s => s.LocalAddress.Equals(address));
            Assert.Equal(Exposure.Loopback, found.Exposure);
            Assert.DoesNotContain(LiveSocketTable.Read(new SocketQuery { LocalPorts = mine, Exposures = new[] { Exposure.AllInterfaces, Exposure.Public } }).Sockets, s => s.LocalAddress.Equals(address));
        }
    }
}
