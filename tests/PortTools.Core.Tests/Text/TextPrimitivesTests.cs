using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using PortTools.Text;
using Xunit;

namespace PortTools.Tests.Text
{
    /// <summary>The span parsers under every format: addresses, JSON values, and the fixtures' notes.</summary>
    public class TextPrimitivesTests
    {
        [Theory]
        [InlineData("::")]
        [InlineData("::1")]
        [InlineData("1::")]
        [InlineData("fe80::1")]
        [InlineData("2001:db8::8:800:200c:417a")]
        [InlineData("2001:db8:0:0:1:0:0:1")]
        [InlineData("1:2:3:4:5:6:7:8")]
        [InlineData("::ffff:192.0.2.1")]
        [InlineData("64:ff9b::192.0.2.33")]
        [InlineData("1:2:3:4:5:6:1.2.3.4")]
        [InlineData("FE80::ABCD")]
        public void IPv6_text_parses_as_IPAddress_parses_it(string text)
        {
            Span<byte> bytes = stackalloc byte[16];
            Assert.True(AddressText.TryParseIPv6(text, bytes), text);
            Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), bytes.ToArray());
        }

        [Theory]
        [InlineData(":")]
        [InlineData(":::")]
        [InlineData("1:")]
        [InlineData(":1")]
        [InlineData("1::2::3")]
        [InlineData("12345::")]
        [InlineData("1:2:3:4:5:6:7:8:9")]
        [InlineData("1:2:3:4:5:6:7::8")]
        [InlineData("::g")]
        [InlineData("::1.2.3")]
        [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
        public void Malformed_IPv6_text_is_refused(string text)
        {
            Span<byte> bytes = stackalloc byte[16];
            Assert.False(AddressText.TryParseIPv6(text, bytes), text);
        }

        [Theory]
        [InlineData("0.0.0.0", true)]
        [InlineData("255.255.255.255", true)]
        [InlineData("192.0.2.1", true)]
        [InlineData("10.1", false)]
        [InlineData("256.0.0.1", false)]
        [InlineData("1.2.3.4.5", false)]
        [InlineData("1..2.3", false)]
        [InlineData("0001.2.3.4", false)]
        [InlineData("1.2.3.", false)]
        public void IPv4_needs_four_decimal_octets(string text, bool valid)
        {
            Span<byte> bytes = stackalloc byte[4];
            Assert.Equal(valid, AddressText.TryParseIPv4(text, bytes));
            if (valid)
            {
                Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), bytes.ToArray());
            }
        }

        [Theory]
        [InlineData("{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"x\\\"y\\u0041\\n\"}}")]
        [InlineData("  [ ]  ")]
        [InlineData("-12.5e+3")]
        [InlineData("18446744073709551615")]
        public void JSON_text_parses(string text)
        {
            Assert.True(JsonValue.TryParse(text, out JsonValue? value, out string? error, out _), error);
            Assert.NotNull(value);
        }

        [Fact]
        public void JSON_values_keep_numbers_as_text_and_match_names_ignoring_case()
        {
            Assert.True(JsonValue.TryParse("{\"Inode\": 18446744073709551615, \"Name\": \"x\\u0041\"}", out JsonValue? value, out _, out _));
            Assert.Equal("18446744073709551615", value!["inode"]!.Text);
            Assert.Equal("xA", value["NAME"]!.Text);
        }

        [Theory]
        [InlineData("{\"a\" 1}", "expected ':'")]
        [InlineData("{\"a\": 1,}", "expected a property name")]
        [InlineData("[1 2]", "expected ',' or ']'")]
        [InlineData("\"abc", "not closed")]
        [InlineData("01", "bad number")]
        [InlineData("tru", "expected a JSON value")]
        [InlineData("{} x", "expected the end")]
        public void Bad_JSON_says_what_was_expected(string text, string expectedInMessage)
        {
            Assert.False(JsonValue.TryParse(text, out _, out string? error, out _));
            Assert.Contains(expectedInMessage, error, StringComparison.Ordinal);
        }

        [Fact]
        public void Every_fixture_has_a_note_of_where_its_layout_comes_from()
        {
            string notes = Fixtures.Read("README.md");
            List<string> names = Fixtures.Names().ToList();
            Assert.NotEmpty(names);
            Assert.All(names.Where(n => !n.StartsWith("porttools-ps7", StringComparison.Ordinal)), name => Assert.Contains("`" + name + "`", notes, StringComparison.Ordinal));
            Assert.Contains("`porttools-ps7.csv` and the other `porttools-ps7*` files", notes, StringComparison.Ordinal);
        }
    }
}
