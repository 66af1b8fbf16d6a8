using System.Net;
using Xunit;

namespace PortTools.Tests.Model
{
    public class RowValueTests
    {
        [Theory]
        [InlineData("127.0.0.1", "127.0.0.1")]
        [InlineData(" 10.0.0.5 ", "10.0.0.5")]
        [InlineData("::1", "::1")]
        [InlineData("2001:db8::5", "2001:db8::5")]
        public void Addresses_convert_from_their_text(string text, string expected)
        {
            Assert.True(RowValue.TryAddress(text, out IPAddress? address, out _));
            Assert.Equal(IPAddress.Parse(expected), address);
        }

        [Theory]
        [InlineData("127.0.0.300")]
        [InlineData("10.1")] // inet_aton shorthand for 10.0.0.1: a typo, not an address
        [InlineData("localhost")]
        [InlineData("")]
        public void Text_that_is_no_address_is_refused_with_what_was_expected(string text)
        {
            Assert.False(RowValue.TryAddress(text, out _, out string? expected));
            Assert.Equal(RowValue.AddressExpected, expected);
        }

        [Fact]
        public void Numbers_are_not_addresses()
        {
            Assert.False(RowValue.TryAddress(16777343, out _, out _));
            Assert.True(RowValue.TryAddress(IPAddress.Loopback, out IPAddress? address, out _));
            Assert.Equal(IPAddress.Loopback, address);
        }

        [Theory]
        [InlineData("0", 0)]
        [InlineData("8080", 8080)]
        [InlineData(" 65535 ", 65535)]
        public void Ports_convert_from_decimal_text(string text, int expected)
        {
            Assert.True(RowValue.TryPort(text, out int port, out _));
            Assert.Equal(expected, port);
        }

        [Theory]
        [InlineData("65536")]
        [InlineData("-1")]
        [InlineData("80.5")]
        [InlineData("0x50")]
        [InlineData("http")]
        public void Text_that_is_no_port_is_refused(string text)
        {
            Assert.False(RowValue.TryPort(text, out _, out string? expected));
            Assert.Equal(RowValue.PortExpected, expected);
        }

        [Fact]
        public void Ports_convert_from_whole_numbers_in_range_only()
        {
            Assert.True(RowValue.TryPort(443, out int port, out _));
            Assert.Equal(443, port);
            Assert.True(RowValue.TryPort(443L, out port, out _));
            Assert.True(RowValue.TryPort((ushort)65535, out port, out _));
            Assert.Equal(65535, port);
            Assert.False(RowValue.TryPort(70000, out _, out _));
            Assert.False(RowValue.TryPort(-1L, out _, out _));
            Assert.False(RowValue.TryPort(80.0, out _, out _));
        }

        [Theory]
        [InlineData("tcp", TransportProtocol.Tcp)]
        [InlineData("UDP", TransportProtocol.Udp)]
        [InlineData(" Tcp ", TransportProtocol.Tcp)]
        public void Enum_names_convert_in_any_case(string text, TransportProtocol expected)
        {
            Assert.True(RowValue.TryEnum(text, out TransportProtocol protocol, out _));
            Assert.Equal(expected, protocol);
        }

        [Theory]
        [InlineData("Sctp")]
        [InlineData("Tcp, Udp")]
        [InlineData("6")]
        [InlineData("")]
        public void Other_names_are_refused_with_the_names_expected(string text)
        {
            Assert.False(RowValue.TryEnum(text, out TransportProtocol _, out string? expected));
            Assert.Equal("one of Tcp, Udp", expected);
        }

        [Fact]
        public void Numbers_of_defined_members_convert_and_others_do_not()
        {
            // Older JSON writes enums as numbers.
            Assert.True(RowValue.TryEnum(17, out TransportProtocol protocol, out _));
            Assert.Equal(TransportProtocol.Udp, protocol);
            Assert.False(RowValue.TryEnum(132, out TransportProtocol _, out _));
            Assert.False(RowValue.TryEnum((TransportProtocol)132, out TransportProtocol _, out _));
        }

        [Fact]
        public void Endpoints_convert_from_text_and_say_what_was_wrong()
        {
            Assert.True(RowValue.TryEndpoint("[2001:db8::1]:443", out IPEndPoint? endpoint, out _));
            Assert.Equal(443, endpoint!.Port);
            Assert.False(RowValue.TryEndpoint("10.0.0.5", out _, out string? expected));
            Assert.StartsWith(RowValue.EndpointExpected + " (", expected);
            Assert.False(RowValue.TryEndpoint(8080, out _, out expected));
            Assert.Equal(RowValue.EndpointExpected, expected);
        }

        [Fact]
        public void Port_ranges_convert_from_numbers_text_and_ranges()
        {
            Assert.True(RowValue.TryPortRange("8000-8010", out PortRange range, out _));
            Assert.Equal(new PortRange(8000, 8010), range);
            Assert.True(RowValue.TryPortRange(443, out range, out _));
            Assert.Equal(new PortRange(443), range);
            Assert.False(RowValue.TryPortRange("90-80", out _, out _));
            Assert.False(RowValue.TryPortRange("abc", out _, out _));
        }

        [Theory]
        [InlineData(null, true)]
        [InlineData("", true)]
        [InlineData("  ", true)]
        [InlineData("0", false)]
        public void Empty_cells_count_as_absent(string? value, bool empty)
        {
            Assert.Equal(empty, RowValue.IsEmpty(value));
        }
    }
}
