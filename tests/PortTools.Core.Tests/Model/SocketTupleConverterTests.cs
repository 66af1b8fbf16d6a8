using System;
using System.Collections.Generic;
using System.Net;
using Xunit;

namespace PortTools.Tests.Model
{
    /// <summary>What cmdlets hand the converter: sockets, their text, and property bags (deserialized objects, CSV rows, JSON).</summary>
    public class SocketTupleConverterTests
    {
        private static IEnumerable<KeyValuePair<string, object?>>? Bag(object value) =>
            value as IEnumerable<KeyValuePair<string, object?>> ?? (value is SocketOwner owner ? new Dictionary<string, object?> { ["ProcessId"] = owner.ProcessId, ["ProcessName"] = owner.ProcessName } : null);

        [Fact]
        public void A_socket_passes_through_and_its_text_parses()
        {
            SocketTuple socket = SocketTuple.Parse("tcp LISTEN 0.0.0.0:80");
            Assert.True(SocketTupleConverter.TryConvert(socket, Bag, out SocketTuple? same, out _));
            Assert.Same(socket, same);
            Assert.True(SocketTupleConverter.TryConvert("udp UNCONN 0.0.0.0:53", Bag, out SocketTuple? parsed, out _));
            Assert.Equal(53, parsed.LocalPort);
        }

        [Fact]
        public void A_property_bag_with_every_option_converts_to_an_equal_socket()
        {
            SocketTuple original = SocketTuple.Parse("tcp LISTEN [::]:443 reuseaddr noreuseport reuseport_lb exclusiveaddruse v6only dev=eth0 uid=1000 pid=812,813 process=nginx");
            var bag = new Dictionary<string, object?>
            {
                ["Protocol"] = original.Protocol,
                ["State"] = original.State,
                ["Local"] = original.Local,
                ["Remote"] = original.Remote,
                ["LocalAddress"] = original.LocalAddress,
                ["LocalPort"] = original.LocalPort,
                ["Processes"] = new List<object> { original.Processes[0], original.Processes[1] },
                ["UserId"] = original.UserId,
                ["BoundInterface"] = original.BoundInterface,
                ["IPv6Only"] = original.IPv6Only,
                ["ReuseAddress"] = original.ReuseAddress,
                ["ReusePort"] = original.ReusePort,
                ["ReusePortLoadBalance"] = original.ReusePortLoadBalance,
                ["ExclusiveAddressUse"] = original.ExclusiveAddressUse,
                ["PSComputerName"] = "web01",
                ["Source"] = "Live",
            };

            Assert.True(SocketTupleConverter.TryConvert(bag, Bag, out SocketTuple? converted, out string? error), error);
            Assert.Equal(original, converted);
            Assert.Equal("web01", converted.ComputerName);
            Assert.Equal("Live", converted.Source);
        }

        [Fact]
        public void Owners_as_strings_convert_too_as_a_shallow_serialization_leaves_them()
        {
            var bag = new Dictionary<string, object?> { ["Protocol"] = "Tcp", ["Local"] = "0.0.0.0:80", ["State"] = "Listen", ["Processes"] = "nginx (pid 812), nginx (pid 813)" };
            Assert.True(SocketTupleConverter.TryConvert(bag, Bag, out SocketTuple? converted, out string? error), error);
            Assert.Equal(2, converted.Processes.Count);
        }

        [Theory]
        [InlineData(null, "empty")]
        [InlineData("tcp LISTN 0.0.0.0:80", "'LISTN'")]
        public void Values_that_are_no_socket_are_refused_with_a_reason(string? value, string expected)
        {
            Assert.False(SocketTupleConverter.TryConvert(value, Bag, out _, out string? error));
            Assert.Contains(expected, error, StringComparison.Ordinal);
        }

        [Fact]
        public void A_bag_without_socket_properties_is_refused_naming_what_it_has()
        {
            var bag = new Dictionary<string, object?> { ["Name"] = "x", ["Length"] = 5 };
            Assert.False(SocketTupleConverter.TryConvert(bag, Bag, out _, out string? error));
            Assert.Contains("Name, Length", error, StringComparison.Ordinal);
            Assert.Contains("expected Protocol and Local", error, StringComparison.Ordinal);
        }
    }
}
