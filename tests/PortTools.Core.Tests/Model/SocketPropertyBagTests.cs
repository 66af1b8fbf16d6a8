using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Model
{
    /// <summary>
    /// A SocketPropertyBag converts exactly as SocketTupleConverter.TryConvertProperties converts the same
    /// properties in a dictionary: the same sockets (every property, unknowns left null), the same errors.
    /// </summary>
    public class SocketPropertyBagTests
    {
        private static IEnumerable<KeyValuePair<string, object?>>? Nested(object value) =>
            value as IEnumerable<KeyValuePair<string, object?>> ?? (value is SocketOwner owner ? new Dictionary<string, object?> { ["ProcessId"] = owner.ProcessId, ["ProcessName"] = owner.ProcessName } : null);

        /// <summary>The properties of a Deserialized.PortTools.SocketTuple at depth 1, as a session without the module sees them.</summary>
        private static List<KeyValuePair<string, object?>> Deserialized(string text, string? computer = null)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            var properties = new List<KeyValuePair<string, object?>>
            {
                new("Id", new List<object?> { 1 }),
                new("LocalAddress", socket.LocalAddress.ToString()),
                new("RemoteAddress", socket.RemoteAddress.ToString()),
                new("AddressFamily", socket.AddressFamily.ToString()),
                new("Protocol", socket.Protocol.ToString()),
                new("LocalPort", socket.LocalPort),
                new("RemotePort", socket.RemotePort),
                new("State", socket.State.ToString()),
                new("Processes", socket.Processes.Select(p => (object?)p.ToString()).ToList()),
                new("ProcessId", socket.ProcessId),
                new("ProcessName", socket.ProcessName),
                new("UserId", socket.UserId),
                new("Inode", socket.Inode),
                new("ReceiveQueue", socket.ReceiveQueue),
                new("SendQueue", socket.SendQueue),
                new("Timer", socket.Timer?.ToString()),
                new("TimerExpiresIn", socket.TimerExpiresIn?.ToString()),
                new("Retransmits", socket.Retransmits),
                new("BoundInterface", socket.BoundInterface),
                new("IPv6Only", socket.IPv6Only),
                new("ReuseAddress", socket.ReuseAddress),
                new("ReusePort", socket.ReusePort),
                new("ReusePortLoadBalance", socket.ReusePortLoadBalance),
                new("ExclusiveAddressUse", socket.ExclusiveAddressUse),
                new("Source", "Live"),
                new("ComputerName", socket.ComputerName),
                new("NetworkNamespace", socket.NetworkNamespace?.ToString()),
                new("Container", socket.Container?.ToString()),
                new("Local", socket.Local),
                new("Remote", socket.Remote),
                new("Exposure", "Loopback"),
                new("ExposureInterface", null),
            };
            if (computer is not null)
            {
                properties.Insert(0, new("PSComputerName", computer));
            }

            return properties;
        }

        public static IEnumerable<object[]> Bags()
        {
            yield return new object[] { "deserialized listener with every option", Deserialized("tcp LISTEN [::]:443 reuseaddr noreuseport reuseport_lb exclusiveaddruse v6only dev=eth0 uid=1000 pid=812,813 process=nginx", "web01") };
            yield return new object[] { "deserialized connection, options unknown", Deserialized("tcp ESTAB 10.0.0.5:50000 203.0.113.10:443 uid=1000 pid=4242 process=curl") };
            yield return new object[] { "deserialized UDP without owner", Deserialized("udp UNCONN 0.0.0.0:53") };
            yield return new object[] { "deserialized TIME-WAIT with a timer", Deserialized("tcp TIME-WAIT 10.0.0.5:50001 203.0.113.10:443 netns=red:4026532301 timer=timewait,52.3s,0") };
            yield return new object[] { "benchmark's bag", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("State", "Listen"), new("LocalAddress", "10.0.0.1"), new("LocalPort", 80), new("RemoteAddress", "0.0.0.0"), new("RemotePort", 0), new("ProcessId", 900), new("ProcessName", "nginx") } };
            yield return new object[] { "Import-Csv row (all text, other case)", new List<KeyValuePair<string, object?>> { new("protocol", "Udp"), new("LOCAL", "[::1]:53"), new("state", "Unconnected"), new("processes", "dnsmasq (pid 7)"), new("ipv6only", "True"), new("computername", "db01") } };
            yield return new object[] { "typed values", new List<KeyValuePair<string, object?>> { new("Protocol", TransportProtocol.Tcp), new("State", SocketState.Listen), new("LocalAddress", IPAddress.Loopback), new("LocalPort", (ushort)8080), new("Processes", new List<object?> { new SocketOwner(5, "a"), new SocketOwner(6, null) }), new("ReusePort", false) } };
            yield return new object[] { "NetTCPIP row", new List<KeyValuePair<string, object?>> { new("LocalAddress", "10.0.0.1"), new("LocalPort", 443), new("RemoteAddress", "0.0.0.0"), new("RemotePort", 0), new("State", 2), new("OwningProcess", 4) } };
            yield return new object[] { "namespace and container", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "0.0.0.0:80"), new("State", "Listen"), new("NetworkNamespace", "red:4026532301"), new("Container", "docker:3f2a"), new("Source", "") } };
            yield return new object[] { "whole numbers of other types (enums at depth 2)", new List<KeyValuePair<string, object?>> { new("Protocol", 6L), new("State", 6L), new("LocalAddress", "10.0.0.5"), new("LocalPort", (ushort)50001), new("RemoteAddress", "203.0.113.10"), new("RemotePort", 443L), new("UserId", (uint)1000), new("Inode", 123456789UL), new("ReceiveQueue", (byte)0), new("SendQueue", 7L), new("Timer", 3), new("TimerExpiresIn", TimeSpan.FromMilliseconds(52300)), new("Retransmits", (short)1), new("ReuseAddress", true), new("IPv6Only", "false") } };
            yield return new object[] { "UDP as 17, enum-typed values", new List<KeyValuePair<string, object?>> { new("Protocol", 17), new("State", SocketState.Unconnected), new("LocalAddress", "0.0.0.0"), new("LocalPort", "53"), new("ProcessId", "7"), new("ProcessName", ""), new("Inode", 42) } };
            yield return new object[] { "protocol enum, addresses as objects", new List<KeyValuePair<string, object?>> { new("Protocol", TransportProtocol.Udp), new("LocalAddress", IPAddress.Parse("fe80::1%2")), new("LocalPort", 546), new("RemoteAddress", IPAddress.IPv6Any), new("RemotePort", 0) } };
            yield return new object[] { "ss words and digits as state", new List<KeyValuePair<string, object?>> { new("Protocol", "tcp"), new("Local", "10.0.0.1:80"), new("State", "TIME-WAIT"), new("Remote", "10.0.0.2:5000") } };
            yield return new object[] { "state as digits, name in capitals", new List<KeyValuePair<string, object?>> { new("Protocol", "TCP"), new("Local", "[::]:80"), new("State", "1"), new("Source", 5), new("PSComputerName", 7), new("ComputerName", "db02") } };
            yield return new object[] { "state name in another case", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "::"), new("LocalPort", 80), new("State", "LISTEN"), new("Remote", "*:*"), new("PSComputerName", ""), new("ComputerName", "db03"), new("BoundInterface", "") } };
            yield return new object[] { "owners as a list of texts", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "0.0.0.0:22"), new("State", "Listen"), new("Processes", new List<object?> { "sshd (pid 1)", "sshd (pid 2)" }), new("ProcessId", 1), new("ProcessName", "sshd") } };
            yield return new object[] { "an empty list of owners, then ProcessId", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "0.0.0.0:22"), new("Processes", new List<object?>()), new("ProcessId", 1L), new("ProcessName", "sshd") } };
            yield return new object[] { "a timer off keeps no expiry", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "0.0.0.0:22"), new("Timer", "off"), new("TimerExpiresIn", "00:00:01"), new("Retransmits", 3) } };
            yield return new object[] { "bad negative port", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "10.0.0.3"), new("LocalPort", -1) } };
            yield return new object[] { "bad missing port", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "10.0.0.3"), new("LocalPort", null), new("Local", "10.0.0.3:80") } };
            yield return new object[] { "bad negative queue", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("ReceiveQueue", -5L) } };
            yield return new object[] { "bad queue beyond 18 digits", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("SendQueue", 1_000_000_000_000_000_000L) } };
            yield return new object[] { "bad user id beyond uint", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("UserId", 5_000_000_000L) } };
            yield return new object[] { "bad state number", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("State", 99) } };
            yield return new object[] { "bad protocol number", new List<KeyValuePair<string, object?>> { new("Protocol", 7), new("Local", "10.0.0.3:80") } };
            yield return new object[] { "bad boolean", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("IPv6Only", 1) } };
            yield return new object[] { "bad timer number", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("Timer", 9) } };
            yield return new object[] { "bad negative duration", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("TimerExpiresIn", TimeSpan.FromSeconds(-1)) } };
            yield return new object[] { "bad owner in a list", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("Processes", new List<object?> { "sshd (pid 1)", "sshd" }) } };
            yield return new object[] { "bad remote family", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "10.0.0.3"), new("LocalPort", 80), new("RemoteAddress", IPAddress.IPv6Loopback), new("RemotePort", 5) } };
            yield return new object[] { "bad container", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("Container", "::") } };
            yield return new object[] { "bad address", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "10.0.0.300"), new("LocalPort", 80) } };
            yield return new object[] { "bad port", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("LocalAddress", "10.0.0.3"), new("LocalPort", 70000) } };
            yield return new object[] { "bad protocol", new List<KeyValuePair<string, object?>> { new("Protocol", "Sctp"), new("Local", "10.0.0.3:80") } };
            yield return new object[] { "bad state", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("State", "Listening!") } };
            yield return new object[] { "bad option", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("ReuseAddress", "yes") } };
            yield return new object[] { "bad owners", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("Processes", "nginx") } };
            yield return new object[] { "bad namespace", new List<KeyValuePair<string, object?>> { new("Protocol", "Tcp"), new("Local", "10.0.0.3:80"), new("NetworkNamespace", "red") } };
            yield return new object[] { "no socket", new List<KeyValuePair<string, object?>> { new("Name", "x"), new("Length", 5), new("Protocol", "Tcp") } };
        }

        [Theory]
        [MemberData(nameof(Bags))]
        public void Converts_as_the_dictionary_path_does(string name, List<KeyValuePair<string, object?>> properties)
        {
            var dictionary = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            var bag = new SocketPropertyBag(Nested);
            bag.Add("Unrelated", "left by an earlier object"); // Clear forgets it
            bag.Clear();
            foreach (KeyValuePair<string, object?> property in properties)
            {
                dictionary[property.Key] = property.Value;
                Assert.True(bag.Add(property.Key, property.Value));
            }

            bool expected = SocketTupleConverter.TryConvertProperties(dictionary, Nested, out SocketTuple? wanted, out string? wantedError);
            bool actual = bag.TryConvert(out SocketTuple? socket, out string? error);

            bool converts = !name.StartsWith("bad ", StringComparison.Ordinal) && name != "no socket";
            Assert.True(expected == converts, name + ": " + wantedError);
            Assert.True(expected == actual, name + ": " + (wantedError ?? error));
            Assert.Equal(wantedError, error);
            Assert.Equal(Describe(wanted), Describe(socket));
        }

        [Fact]
        public void A_deserialized_socket_converts_to_an_equal_socket_keeping_unknowns_unknown()
        {
            const string Text = "tcp ESTAB 10.0.0.5:50000 203.0.113.10:443 uid=1000 pid=4242 process=curl";
            var bag = new SocketPropertyBag(Nested);
            foreach (KeyValuePair<string, object?> property in Deserialized(Text, "web01"))
            {
                bag.Add(property.Key, property.Value);
            }

            Assert.True(bag.TryConvert(out SocketTuple? socket, out string? error), error);
            Assert.Equal(SocketTuple.Parse(Text), socket);
            Assert.Equal("web01", socket.ComputerName);
            Assert.Null(socket.ReuseAddress);
            Assert.Null(socket.ReusePort);
            Assert.Null(socket.IPv6Only);
            Assert.Null(socket.ExclusiveAddressUse);
            Assert.Null(socket.BoundInterface);
            Assert.Null(socket.NetworkNamespace);
        }

        /// <summary>The bags PowerShell gives most (deserialized without the module, the benchmark's) convert without the text round trip.</summary>
        [Theory]
        [InlineData("deserialized listener with every option")]
        [InlineData("deserialized connection, options unknown")]
        [InlineData("deserialized UDP without owner")]
        [InlineData("deserialized TIME-WAIT with a timer")]
        [InlineData("benchmark's bag")]
        [InlineData("whole numbers of other types (enums at depth 2)")]
        [InlineData("UDP as 17, enum-typed values")]
        [InlineData("protocol enum, addresses as objects")]
        [InlineData("owners as a list of texts")]
        public void Usual_bags_take_the_typed_mapping(string name)
        {
            var properties = (List<KeyValuePair<string, object?>>)Bags().Single(row => (string)row[0] == name)[1];
            var bag = new SocketPropertyBag(Nested);
            foreach (KeyValuePair<string, object?> property in properties)
            {
                bag.Add(property.Key, property.Value);
            }

            Assert.True(bag.TryMapTyped(out SocketTuple? socket), name);
            Assert.NotNull(socket);
        }

        [Fact]
        public void The_first_property_of_a_name_wins_whatever_its_case()
        {
            var bag = new SocketPropertyBag(Nested);
            Assert.True(bag.Add("LocalPort", 80));
            Assert.False(bag.Add("localport", 81));
            Assert.True(bag.Add("Extra", 1));
            Assert.False(bag.Add("EXTRA", 2));
            Assert.True(bag.Contains("LOCALPORT"));
            Assert.True(bag.Contains("extra"));
            Assert.False(bag.Contains("Protocol"));
            Assert.Equal(2, bag.Count);
            bag.Add("Protocol", "Tcp");
            bag.Add("LocalAddress", "127.0.0.1");
            Assert.True(bag.TryConvert(out SocketTuple? socket, out _));
            Assert.Equal(80, socket.LocalPort);
        }

        [Fact]
        public void Repeated_texts_parse_to_the_same_values_as_the_first()
        {
            var bag = new SocketPropertyBag(Nested);
            var sockets = new List<SocketTuple>();
            for (int i = 0; i < 3; i++)
            {
                bag.Clear();
                bag.Add("Protocol", "Tcp");
                bag.Add("LocalAddress", i == 2 ? "10.0.0.300" : "10.0.0.3");
                bag.Add("LocalPort", 80 + i);
                bag.Add("Processes", "nginx (pid 9)");
                bool converted = bag.TryConvert(out SocketTuple? socket, out string? error);
                Assert.True(converted == (i < 2), error);
                if (socket is not null)
                {
                    sockets.Add(socket);
                }
                else
                {
                    Assert.Equal("LocalAddress: expected an IPv4 or IPv6 address, found '10.0.0.300'", error);
                }
            }

            Assert.Equal(IPAddress.Parse("10.0.0.3"), sockets[1].LocalAddress);
            Assert.Equal(new SocketOwner(9, "nginx"), sockets[1].Processes[0]);
            Assert.Equal(Describe(sockets[0].Copy(localPort: 81)), Describe(sockets[1]));
        }

        private static string Describe(SocketTuple? socket) => socket is null ? "(none)" : string.Join(
            "; ",
            typeof(SocketTuple).GetProperties().Where(p => p.GetIndexParameters().Length == 0)
                .Select(p => p.Name + "=" + Format(p.GetValue(socket))));

        private static string Format(object? value) => value switch
        {
            null => "<null>",
            string text => "'" + text + "'",
            System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Format)) + "]",
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "<null>",
        };
    }
}
