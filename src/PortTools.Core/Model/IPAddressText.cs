using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Strict parsing and formatting of addresses and endpoints. IPAddress.Parse accepts inet_aton
    /// shorthand ("10.1" is 10.0.0.1), which turns typos into wrong answers; here IPv4 needs four
    /// decimal octets.
    /// </summary>
    internal static class IPAddressText
    {
        public static bool TryParse(string? text, [NotNullWhen(true)] out IPAddress? address)
        {
            address = null;
            if (string.IsNullOrEmpty(text))
            {
                return false;
            }

            if (text!.IndexOf(':') >= 0)
            {
                // IPv6, optionally with a numeric %scope. IPAddress handles the grammar.
                return IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
            }

            return TryParseIPv4(text, out address);
        }

        private static bool TryParseIPv4(string text, [NotNullWhen(true)] out IPAddress? address)
        {
            address = null;
            long value = 0;
            int octets = 0;
            int i = 0;
            while (i <= text.Length)
            {
                int start = i;
                int octet = 0;
                while (i < text.Length && text[i] >= '0' && text[i] <= '9')
                {
                    octet = (octet * 10) + (text[i] - '0');
                    if (octet > 255 || i - start >= 3)
                    {
                        return false;
                    }

                    i++;
                }

                if (i == start)
                {
                    return false;
                }

                value |= (long)octet << (8 * octets);
                octets++;
                if (i == text.Length)
                {
                    break;
                }

                if (text[i] != '.' || octets == 4)
                {
                    return false;
                }

                i++;
            }

            if (octets != 4)
            {
                return false;
            }

            address = new IPAddress(value);
            return true;
        }

        /// <summary>Formats "a.b.c.d:port" or "[v6]:port".</summary>
        public static string FormatEndpoint(IPAddress address, int port) =>
            FormatHost(address) + ":" + port.ToString(CultureInfo.InvariantCulture);

        /// <summary>"a.b.c.d" or "[v6]": the host part of an endpoint.</summary>
        public static string FormatHost(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address.ToString() + "]" : address.ToString();

        /// <summary>
        /// Parses "a.b.c.d:port", "[v6]:port" or "*:port" ("*" is the dual-stack wildcard, [::], as ss prints it).
        /// A port of "*" (only when <paramref name="allowWildcardPort"/>) is 0.
        /// </summary>
        public static bool TryParseEndpoint(string text, bool allowWildcardPort, [NotNullWhen(true)] out IPAddress? address, out int port, out bool dualStackWildcard, [NotNullWhen(false)] out string? error)
        {
            address = null;
            port = 0;
            dualStackWildcard = false;
            int colon = text.LastIndexOf(':');
            if (colon <= 0 || colon == text.Length - 1)
            {
                error = "expected an endpoint such as 192.0.2.1:80, [2001:db8::1]:443 or *:53";
                return false;
            }

            string host = text.Substring(0, colon);
            string portText = text.Substring(colon + 1);
            if (host == "*")
            {
                address = IPAddress.IPv6Any;
                dualStackWildcard = true;
            }
            else if (host.Length >= 2 && host[0] == '[' && host[host.Length - 1] == ']')
            {
                string inner = host.Substring(1, host.Length - 2);
                if (!IPAddress.TryParse(inner, out address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    address = null;
                    error = "'" + inner + "' is not an IPv6 address";
                    return false;
                }
            }
            else if (host.IndexOf(':') >= 0)
            {
                error = "an IPv6 address in an endpoint must be in brackets, as in [" + host + "]:" + portText;
                return false;
            }
            else if (!TryParseIPv4(host, out address))
            {
                error = "'" + host + "' is not an IPv4 address (expected four decimal octets, such as 192.0.2.1)";
                return false;
            }

            if (portText == "*" && allowWildcardPort)
            {
                port = 0;
            }
            else if (!PortRange.TryParsePort(portText, out port))
            {
                address = null;
                error = "'" + portText + "' is not a port (expected 0 to 65535)";
                return false;
            }

            error = null;
            return true;
        }

        /// <summary>True for 0.0.0.0 and ::.</summary>
        public static bool IsWildcard(IPAddress address) =>
            address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

        /// <summary>::ffff:a.b.c.d.</summary>
        public static bool IsV4Mapped(IPAddress address)
        {
            if (address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            byte[] b = address.GetAddressBytes();
            for (int i = 0; i < 10; i++)
            {
                if (b[i] != 0)
                {
                    return false;
                }
            }

            return b[10] == 0xff && b[11] == 0xff;
        }
    }
}
