using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortTools
{
    /// <summary>
    /// One address configured on a host, as ip addr shows it: the address, its prefix length, the
    /// interface that holds it and its subnet broadcast address, each where known. The text form
    /// is ip's, <c>10.0.0.5/24 brd 10.0.0.255 dev eth0</c> (the interface last, as its name may hold
    /// spaces on Windows), which <see cref="Parse"/> reads back.
    /// </summary>
    /// <remarks>
    /// The addresses are held as text, without an IPv6 scope (the interface names the link): a
    /// SocketHost travels through ConvertTo-Json, which writes an IPAddress as an object that has
    /// lost an IPv6 address's text, and through remoting, which writes nested objects as their text.
    /// </remarks>
    public sealed class HostAddress : IEquatable<HostAddress>
    {
        /// <summary>Describes an address.</summary>
        /// <param name="address">The address (its IPv6 scope id is dropped: <paramref name="interfaceName"/> names the link).</param>
        /// <param name="prefixLength">The prefix length, or null when unknown.</param>
        /// <param name="interfaceName">The interface that holds it, or null when unknown.</param>
        /// <param name="broadcast">The subnet broadcast address (IPv4), or null.</param>
        /// <exception cref="ArgumentException">The prefix length does not fit the family, or the broadcast address is of another family or for IPv6.</exception>
        public HostAddress(IPAddress address, int? prefixLength = null, string? interfaceName = null, IPAddress? broadcast = null)
        {
            if (address is null)
            {
                throw new ArgumentNullException(nameof(address));
            }

            IPAddress plain = address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
            int bits = plain.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (prefixLength is int length && (length < 0 || length > bits))
            {
                throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, string.Format(CultureInfo.InvariantCulture, "A prefix length of {0} does not fit {1}: it is 0 to {2}.", length, plain, bits));
            }

            if (broadcast is not null && (broadcast.AddressFamily != AddressFamily.InterNetwork || plain.AddressFamily != AddressFamily.InterNetwork))
            {
                throw new ArgumentException("Only an IPv4 address has a broadcast address (" + plain + " brd " + broadcast + ").", nameof(broadcast));
            }

            if (interfaceName is not null && (interfaceName.Trim().Length == 0 || interfaceName.Trim().Length != interfaceName.Length))
            {
                throw new ArgumentException("'" + interfaceName + "' is not an interface name: it is empty or begins or ends with white space.", nameof(interfaceName));
            }

            IP = plain;
            BroadcastIP = broadcast;
            Address = plain.ToString();
            PrefixLength = prefixLength;
            Interface = interfaceName;
            Broadcast = broadcast?.ToString();
        }

        /// <summary>The address, such as 10.0.0.5 or fe80::1 (no scope: see <see cref="Interface"/>).</summary>
        public string Address { get; }

        /// <summary>The prefix length (24 for a /24), or null when unknown.</summary>
        public int? PrefixLength { get; }

        /// <summary>The interface that holds the address, or null when unknown.</summary>
        public string? Interface { get; }

        /// <summary>The subnet broadcast address (IPv4), or null.</summary>
        public string? Broadcast { get; }

        internal IPAddress IP { get; }

        internal IPAddress? BroadcastIP { get; }

        /// <summary>Reads the text form: <c>10.0.0.5/24 brd 10.0.0.255 dev eth0</c>; all but the address may be left out.</summary>
        /// <param name="text">The text.</param>
        /// <returns>The address.</returns>
        /// <exception cref="FormatException">The text is not in that form; the message names the bad part.</exception>
        public static HostAddress Parse(string text) =>
            TryParse(text, out HostAddress? address, out string? error) ? address : throw new FormatException(error);

        /// <summary>Reads the text form.</summary>
        /// <param name="text">The text.</param>
        /// <param name="address">The address, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out HostAddress? address) => TryParse(text, out address, out _);

        internal static bool TryParse(string? text, [NotNullWhen(true)] out HostAddress? address, [NotNullWhen(false)] out string? error)
        {
            address = null;
            string[] words = (text ?? string.Empty).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                error = "An empty text is not a host address: expected one such as '10.0.0.5/24 brd 10.0.0.255 dev eth0'.";
                return false;
            }

            string first = words[0];
            int slash = first.IndexOf('/');
            string addressText = slash < 0 ? first : first.Substring(0, slash);
            int? prefix = null;
            if (!IPAddress.TryParse(addressText, out IPAddress? ip) || ip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                error = "'" + text + "' is not a host address: '" + addressText + "' is not an IP address (expected such as '10.0.0.5/24 dev eth0').";
                return false;
            }

            if (slash >= 0)
            {
                if (!int.TryParse(first.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int bits) || bits > (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
                {
                    error = "'" + text + "' is not a host address: '" + first.Substring(slash + 1) + "' is not a prefix length of " + addressText + ".";
                    return false;
                }

                prefix = bits;
            }

            IPAddress? broadcast = null;
            string? device = null;
            for (int i = 1; i < words.Length; i++)
            {
                string word = words[i];
                if (i + 1 >= words.Length || (word != "brd" && word != "dev"))
                {
                    error = "'" + text + "' is not a host address: '" + word + "' is not understood (expected 'brd <address>' or 'dev <interface>' after the address).";
                    return false;
                }

                if (word == "dev")
                {
                    // The interface comes last and may hold spaces, as Windows names do ("Loopback Pseudo-Interface 1").
                    device = string.Join(" ", words, i + 1, words.Length - i - 1);
                    break;
                }

                string value = words[++i];
                if (!IPAddress.TryParse(value, out broadcast) || broadcast.AddressFamily != AddressFamily.InterNetwork || ip.AddressFamily != AddressFamily.InterNetwork)
                {
                    error = "'" + text + "' is not a host address: '" + value + "' is not an IPv4 broadcast address of " + addressText + ".";
                    return false;
                }
            }

            address = new HostAddress(ip, prefix, device, broadcast);
            error = null;
            return true;
        }

        /// <summary>"10.0.0.5/24 brd 10.0.0.255 dev eth0", as ip addr writes it.</summary>
        public override string ToString()
        {
            var text = new StringBuilder(Address);
            if (PrefixLength is int prefix)
            {
                text.Append('/').Append(prefix.ToString(CultureInfo.InvariantCulture));
            }

            if (Broadcast is not null)
            {
                text.Append(" brd ").Append(Broadcast);
            }

            if (Interface is not null)
            {
                text.Append(" dev ").Append(Interface);
            }

            return text.ToString();
        }

        /// <inheritdoc/>
        public bool Equals(HostAddress? other) => other is not null && other.ToString() == ToString();

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as HostAddress);

        /// <inheritdoc/>
        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
    }
}
