using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// An address or a CIDR prefix: "10.0.0.0/8", "2001:db8::/32", "127.0.0.1". PowerShell converts
    /// such strings to it. An IPv4 prefix also matches the same addresses written v4-mapped
    /// (::ffff:a.b.c.d), since a dual-stack socket shows IPv4 peers that way.
    /// </summary>
    public sealed class AddressPrefix : IEquatable<AddressPrefix>
    {
        private readonly byte[] _network;

        /// <summary>Creates a prefix; host bits of <paramref name="address"/> are cleared.</summary>
        /// <param name="address">An address inside the prefix.</param>
        /// <param name="prefixLength">0-32 for IPv4, 0-128 for IPv6.</param>
        public AddressPrefix(IPAddress address, int prefixLength)
        {
            if (address is null)
            {
                throw new ArgumentNullException(nameof(address));
            }

            int max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (prefixLength < 0 || prefixLength > max)
            {
                throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, LengthMessage(address.ToString() + "/" + prefixLength.ToString(CultureInfo.InvariantCulture), prefixLength, max));
            }

            _network = address.GetAddressBytes();
            for (int bit = prefixLength; bit < _network.Length * 8; bit++)
            {
                _network[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            }

            PrefixLength = prefixLength;
            Network = new IPAddress(_network);
        }

        /// <summary>Creates a prefix that holds exactly one address.</summary>
        /// <param name="address">The address.</param>
        public AddressPrefix(IPAddress address)
            : this(address, address?.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
        {
        }

        /// <summary>The first address of the prefix.</summary>
        public IPAddress Network { get; }

        /// <summary>The number of leading bits that must match.</summary>
        public int PrefixLength { get; }

        /// <summary>The address family of the prefix.</summary>
        public AddressFamily AddressFamily => Network.AddressFamily;

        /// <summary>An address converts to a one-address prefix.</summary>
        /// <param name="address">The address.</param>
        public static implicit operator AddressPrefix(IPAddress address) => new AddressPrefix(address);

        /// <summary>Parses "a.b.c.d", "a.b.c.d/n", "v6" or "v6/n".</summary>
        /// <param name="text">The text.</param>
        /// <returns>The prefix.</returns>
        /// <exception cref="FormatException">The text is not an address or prefix; the message names it.</exception>
        public static AddressPrefix Parse(string text)
        {
            if (!TryParse(text, out AddressPrefix? prefix, out string? error))
            {
                throw new FormatException(error);
            }

            return prefix;
        }

        /// <summary>Parses "a.b.c.d", "a.b.c.d/n", "v6" or "v6/n".</summary>
        /// <param name="text">The text.</param>
        /// <param name="prefix">The prefix, when the text is valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out AddressPrefix? prefix) => TryParse(text, out prefix, out _);

        internal static bool TryParse(string? text, [NotNullWhen(true)] out AddressPrefix? prefix, [NotNullWhen(false)] out string? error)
        {
            prefix = null;
            string trimmed = (text ?? string.Empty).Trim();
            int slash = trimmed.IndexOf('/');
            string addressText = slash < 0 ? trimmed : trimmed.Substring(0, slash);
            if (!IPAddressText.TryParse(addressText, out IPAddress? address))
            {
                error = "'" + text + "' is not an IP address or CIDR prefix: expected an address such as 192.0.2.1 or 2001:db8::1, or a prefix such as 10.0.0.0/8 or fd00::/8.";
                return false;
            }

            int max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            int length = max;
            if (slash >= 0)
            {
                string lengthText = trimmed.Substring(slash + 1);
                if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max)
                {
                    error = LengthMessage(text ?? string.Empty, lengthText, max);
                    return false;
                }
            }

            prefix = new AddressPrefix(address, length);
            error = null;
            return true;
        }

        private static string LengthMessage(string text, object length, int max) =>
            string.Format(CultureInfo.InvariantCulture, "'{0}' has prefix length '{1}': expected 0 to {2} for an {3} prefix.", text, length, max, max == 32 ? "IPv4" : "IPv6");

        /// <summary>Whether the address lies in the prefix. IPv4 prefixes also match v4-mapped IPv6 addresses.</summary>
        /// <param name="address">The address.</param>
        /// <returns>True when it matches.</returns>
        public bool Contains(IPAddress address)
        {
            if (address is null)
            {
                return false;
            }

            byte[] bytes = address.GetAddressBytes();
            return Contains(bytes);
        }

        /// <summary>Matches raw address bytes (4 or 16), without building an IPAddress.</summary>
        internal bool Contains(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length == 16 && _network.Length == 4)
            {
                if (!IsV4Mapped(bytes))
                {
                    return false;
                }

                bytes = bytes.Slice(12);
            }

            if (bytes.Length != _network.Length)
            {
                return false;
            }

            int full = PrefixLength / 8;
            for (int i = 0; i < full; i++)
            {
                if (bytes[i] != _network[i])
                {
                    return false;
                }
            }

            int rest = PrefixLength % 8;
            if (rest == 0)
            {
                return true;
            }

            byte mask = (byte)(0xFF << (8 - rest));
            return (bytes[full] & mask) == _network[full];
        }

        internal static bool IsV4Mapped(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < 10; i++)
            {
                if (bytes[i] != 0)
                {
                    return false;
                }
            }

            return bytes[10] == 0xFF && bytes[11] == 0xFF;
        }

        /// <inheritdoc/>
        public bool Equals(AddressPrefix? other) => other is not null && other.PrefixLength == PrefixLength && other.Network.Equals(Network);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as AddressPrefix);

        /// <inheritdoc/>
        public override int GetHashCode() => Network.GetHashCode() ^ PrefixLength;

        /// <summary>"10.0.0.0/8", or the bare address for a one-address prefix.</summary>
        public override string ToString() =>
            PrefixLength == _network.Length * 8 ? Network.ToString() : Network.ToString() + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);
    }
}
