using System;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace PortTools
{
    /// <summary>Endpoints as text: "192.0.2.1:80" and "[2001:db8::1]:443", strictly (four decimal octets for IPv4).</summary>
    public static class EndpointText
    {
        /// <summary>Parses an endpoint.</summary>
        /// <param name="text">The text.</param>
        /// <param name="endpoint">The endpoint.</param>
        /// <param name="error">What is wrong with the text.</param>
        /// <returns>Whether the text is an endpoint.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endpoint, [NotNullWhen(false)] out string? error)
        {
            endpoint = null;
            if (!IPAddressText.TryParseEndpoint((text ?? string.Empty).Trim(), allowWildcardPort: false, out IPAddress? address, out int port, out _, out error))
            {
                return false;
            }

            endpoint = new IPEndPoint(address, port);
            return true;
        }

        /// <summary>Parses an endpoint.</summary>
        /// <param name="text">The text.</param>
        /// <returns>The endpoint.</returns>
        /// <exception cref="FormatException">The text is not an endpoint; the message says why.</exception>
        public static IPEndPoint Parse(string text) =>
            TryParse(text, out IPEndPoint? endpoint, out string? error) ? endpoint : throw new FormatException("'" + text + "' is not an endpoint: " + error + ".");

        /// <summary>Formats "a.b.c.d:port" or "[v6]:port".</summary>
        /// <param name="address">The address.</param>
        /// <param name="port">The port.</param>
        /// <returns>The text.</returns>
        public static string Format(IPAddress address, int port) => IPAddressText.FormatEndpoint(address, port);
    }
}
