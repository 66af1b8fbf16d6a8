using System;
using System.Net;

namespace PortTools.Text
{
    /// <summary>The host part of an endpoint as the tools print it.</summary>
    internal enum HostKind
    {
        /// <summary>Not an address: a name, or malformed.</summary>
        Invalid,

        /// <summary>"*": the wildcard (the caller knows which family from the layout).</summary>
        Star,

        /// <summary>An IPv4 or IPv6 address.</summary>
        Address,
    }

    /// <summary>
    /// Strict numeric address parsing on spans, into the parse run's shared IPAddress objects. Like
    /// IPAddressText, IPv4 needs four decimal octets (no inet_aton shorthand); IPv6 is RFC 4291 text.
    /// </summary>
    internal static class AddressText
    {
        public static bool TryParseIPv4(ReadOnlySpan<char> text, Span<byte> bytes)
        {
            int octet = 0;
            int digits = 0;
            int index = 0;
            foreach (char c in text)
            {
                if (c >= '0' && c <= '9')
                {
                    octet = (octet * 10) + (c - '0');
                    if (++digits > 3 || octet > 255)
                    {
                        return false;
                    }
                }
                else if (c == '.' && digits > 0 && index < 3)
                {
                    bytes[index++] = (byte)octet;
                    octet = 0;
                    digits = 0;
                }
                else
                {
                    return false;
                }
            }

            if (digits == 0 || index != 3)
            {
                return false;
            }

            bytes[3] = (byte)octet;
            return true;
        }

        public static bool TryParseIPv6(ReadOnlySpan<char> text, Span<byte> bytes)
        {
            Span<ushort> groups = stackalloc ushort[8];
            int count = 0;
            int gap = -1;
            int i = 0;
            if (text.Length < 2)
            {
                return false;
            }

            if (text[0] == ':')
            {
                if (text[1] != ':')
                {
                    return false;
                }

                gap = 0;
                i = 2;
            }

            while (i < text.Length)
            {
                int start = i;
                int value = 0;
                while (i < text.Length && i - start < 4 && Hex(text[i]) >= 0)
                {
                    value = (value << 4) | Hex(text[i]);
                    i++;
                }

                if (i < text.Length && text[i] == '.')
                {
                    // An embedded IPv4 tail, as in ::ffff:192.0.2.1, fills the last two groups.
                    Span<byte> v4 = stackalloc byte[4];
                    if (count > 6 || !TryParseIPv4(text.Slice(start), v4))
                    {
                        return false;
                    }

                    groups[count++] = (ushort)((v4[0] << 8) | v4[1]);
                    groups[count++] = (ushort)((v4[2] << 8) | v4[3]);
                    i = text.Length;
                    break;
                }

                if (i == start || (i < text.Length && Hex(text[i]) >= 0) || count == 8)
                {
                    return false;
                }

                groups[count++] = (ushort)value;
                if (i == text.Length)
                {
                    break;
                }

                if (text[i] != ':')
                {
                    return false;
                }

                i++;
                if (i < text.Length && text[i] == ':')
                {
                    if (gap >= 0)
                    {
                        return false;
                    }

                    gap = count;
                    i++;
                }
                else if (i == text.Length)
                {
                    return false;
                }
            }

            if ((gap < 0 && count != 8) || (gap >= 0 && count > 7))
            {
                return false;
            }

            bytes.Slice(0, 16).Clear();
            int tail = gap < 0 ? 0 : count - gap;
            for (int g = 0; g < count; g++)
            {
                int slot = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
                bytes[slot * 2] = (byte)(groups[g] >> 8);
                bytes[(slot * 2) + 1] = (byte)groups[g];
            }

            return true;
        }

        /// <summary>
        /// Parses a host as the tools print it: "192.0.2.1", "::1", "[::1]", "[fe80::1%4]", "fe80::1%en0",
        /// "0.0.0.0%lo" or "[fe80::1]%eth0" (ss's interface suffix) and "*". The zone (after '%', inside or
        /// after the brackets) is returned apart; a numeric zone on a link-local address becomes its scope id.
        /// </summary>
        public static HostKind TryParseHost(ReadOnlySpan<char> host, ParseContext context, out IPAddress? address, out ReadOnlySpan<char> zone)
        {
            address = null;
            zone = default;
            int percent = host.LastIndexOf('%');
            int closing = host.LastIndexOf(']');
            if (percent > closing)
            {
                zone = host.Slice(percent + 1);
                host = host.Slice(0, percent);
                if (zone.IsEmpty)
                {
                    return HostKind.Invalid;
                }
            }

            if (host.Length == 1 && host[0] == '*')
            {
                return HostKind.Star;
            }

            if (host.Length >= 2 && host[0] == '[' && host[host.Length - 1] == ']')
            {
                host = host.Slice(1, host.Length - 2);
                int inner = host.IndexOf('%');
                if (inner >= 0)
                {
                    if (!zone.IsEmpty)
                    {
                        return HostKind.Invalid;
                    }

                    zone = host.Slice(inner + 1);
                    host = host.Slice(0, inner);
                }

                return TryParseIPv6Host(host, zone, context, out address) ? HostKind.Address : HostKind.Invalid;
            }

            if (host.IndexOf(':') >= 0)
            {
                return TryParseIPv6Host(host, zone, context, out address) ? HostKind.Address : HostKind.Invalid;
            }

            Span<byte> v4 = stackalloc byte[4];
            if (!TryParseIPv4(host, v4))
            {
                return HostKind.Invalid;
            }

            address = context.Address(v4);
            return HostKind.Address;
        }

        public static bool IsNumericZone(ReadOnlySpan<char> zone) => Digits.IsAll(zone);

        public static bool IsWildcard(IPAddress address) => IPAddressText.IsWildcard(address);

        private static bool TryParseIPv6Host(ReadOnlySpan<char> host, ReadOnlySpan<char> zone, ParseContext context, out IPAddress? address)
        {
            address = null;
            Span<byte> v6 = stackalloc byte[16];
            if (!TryParseIPv6(host, v6))
            {
                return false;
            }

            uint scope = 0;
            if (!zone.IsEmpty && Digits.TryParse(zone, out long number) && number <= uint.MaxValue)
            {
                scope = (uint)number;
            }

            address = context.Address(v6, scope);
            return true;
        }

        private static int Hex(char c) => c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
    }
}
