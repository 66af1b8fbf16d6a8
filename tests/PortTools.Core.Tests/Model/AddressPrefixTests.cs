using System;
using System.Net;
using Xunit;

namespace PortTools.Tests.Model
{
    public class AddressPrefixTests
    {
        [Theory]
        [InlineData("10.0.0.0/8", "10.255.1.2", true)]
        [InlineData("10.0.0.0/8", "11.0.0.1", false)]
        [InlineData("192.168.1.0/24", "192.168.1.77", true)]
        [InlineData("192.168.1.0/25", "192.168.1.200", false)]
        [InlineData("127.0.0.1", "127.0.0.1", true)]
        [InlineData("127.0.0.1", "127.0.0.2", false)]
        [InlineData("0.0.0.0/0", "203.0.113.9", true)]
        [InlineData("127.0.0.0/8", "::ffff:127.0.0.5", true)]
        [InlineData("127.0.0.0/8", "::1", false)]
        [InlineData("fd00::/8", "fd12:3456::1", true)]
        [InlineData("fd00::/8", "fe80::1", false)]
        [InlineData("::1", "::1", true)]
        [InlineData("2001:db8::/32", "10.0.0.1", false)]
        public void Contains_matches_by_prefix(string prefix, string address, bool expected)
        {
            Assert.Equal(expected, AddressPrefix.Parse(prefix).Contains(IPAddress.Parse(address)));
        }

        [Fact]
        public void Host_bits_are_cleared()
        {
            Assert.Equal("10.0.0.0/8", AddressPrefix.Parse("10.1.2.3/8").ToString());
        }

        [Theory]
        [InlineData("10.0.0.0/33", "'33'")]
        [InlineData("fd00::/129", "'129'")]
        [InlineData("10.0.0/8", "'10.0.0/8'")]
        [InlineData("10.0.0.0/x", "'x'")]
        [InlineData("example.com", "'example.com'")]
        [InlineData("", "''")]
        public void Malformed_prefixes_name_the_input(string text, string expected)
        {
            Assert.False(AddressPrefix.TryParse(text, out _));
            FormatException error = Assert.Throws<FormatException>(() => AddressPrefix.Parse(text));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }
}
