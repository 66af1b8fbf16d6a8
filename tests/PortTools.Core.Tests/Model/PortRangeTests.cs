using System;
using Xunit;

namespace PortTools.Tests.Model
{
    public class PortRangeTests
    {
        [Theory]
        [InlineData("80", 80, 80)]
        [InlineData("0", 0, 0)]
        [InlineData("65535", 65535, 65535)]
        [InlineData("8000-8100", 8000, 8100)]
        [InlineData(" 8000 - 8100 ", 8000, 8100)]
        [InlineData("22-22", 22, 22)]
        public void Parses_ports_and_ranges(string text, int start, int end)
        {
            PortRange range = PortRange.Parse(text);
            Assert.Equal(start, range.Start);
            Assert.Equal(end, range.End);
            Assert.True(PortRange.TryParse(text, out PortRange again));
            Assert.Equal(range, again);
        }

        [Theory]
        [InlineData("9000-80", "'9000-80' is reversed")]
        [InlineData("70000", "'70000'")]
        [InlineData("-1", "'-1'")]
        [InlineData("80-", "'80-'")]
        [InlineData("http", "'http'")]
        [InlineData("", "''")]
        [InlineData("1-2-3", "'1-2-3'")]
        public void Bad_ranges_name_the_input(string text, string expected)
        {
            Assert.False(PortRange.TryParse(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => PortRange.Parse(text));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void A_number_converts_to_a_one_port_range()
        {
            PortRange range = 443;
            Assert.Equal("443", range.ToString());
            Assert.Equal(1, range.Count);
            Assert.True(range.Contains(443));
            Assert.False(range.Contains(444));
            OverflowException error = Assert.Throws<OverflowException>(() => { PortRange bad = 99999; });
            Assert.Equal("Port 99999 is out of range: a port is 0 to 65535.", error.Message);
        }

        [Fact]
        public void Constructor_checks_bounds_and_order()
        {
            // PowerShell converts a typed number through the constructor and shows the message verbatim.
            Assert.Equal("Port 65536 is out of range: a port is 0 to 65535.", Assert.Throws<ArgumentOutOfRangeException>(() => new PortRange(65536)).Message);
            Assert.Equal("Port -1 is out of range: a port is 0 to 65535.", Assert.Throws<ArgumentOutOfRangeException>(() => new PortRange(80, -1)).Message);
            Assert.DoesNotContain("Parameter", Assert.Throws<ArgumentException>(() => new PortRange(10, 9)).Message, StringComparison.Ordinal);
            Assert.Equal("8000-8100", new PortRange(8000, 8100).ToString());
        }
    }
}
