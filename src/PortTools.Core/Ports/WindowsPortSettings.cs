using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Parses what Windows says about its ports. A Windows-only caller runs the commands and passes
    /// their text; nothing here runs them, so the parsing is tested anywhere:
    /// <list type="bullet">
    /// <item><description><c>netsh int ipv4|ipv6 show dynamicport tcp|udp</c>: the start port and the number of ports.</description></item>
    /// <item><description><c>netsh int ipv4|ipv6 show excludedportrange protocol=tcp|udp</c>: excluded ranges, '*' marking those an administrator added.</description></item>
    /// <item><description>TcpTimedWaitDelay from HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters, when set.</description></item>
    /// </list>
    /// The parsers look for numbers rather than English labels, so localized netsh output reads too.
    /// </summary>
    public static class WindowsPortSettings
    {
        /// <summary>Parses <c>netsh int ipv4 show dynamicport tcp</c> output ("Start Port : 49152", "Number of Ports : 16384").</summary>
        /// <param name="text">The command's output.</param>
        /// <returns>The range, start to start + number - 1.</returns>
        /// <exception cref="FormatException">The text does not hold a start port and a count that fit; the message quotes it.</exception>
        public static PortRange ParseDynamicPortRange(string text) =>
            TryParseDynamicPortRange(text, out PortRange range, out string? error) ? range : throw new FormatException(error);

        /// <summary>Parses <c>netsh int ipv4 show dynamicport tcp</c> output.</summary>
        /// <param name="text">The command's output.</param>
        /// <param name="range">The range, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParseDynamicPortRange(string? text, out PortRange range) => TryParseDynamicPortRange(text, out range, out _);

        /// <summary>Parses <c>netsh int ipv4 show excludedportrange protocol=tcp</c> output: one "start end [*]" row per range.</summary>
        /// <param name="text">The command's output; a table with no rows means no exclusions.</param>
        /// <returns>The excluded ranges, in the order listed.</returns>
        /// <exception cref="FormatException">A row has a reversed or out-of-range pair; the message quotes it.</exception>
        public static IReadOnlyList<ReservedPortRange> ParseExcludedPortRanges(string text) =>
            TryParseExcludedPortRanges(text, out IReadOnlyList<ReservedPortRange>? ranges, out string? error) ? ranges : throw new FormatException(error);

        /// <summary>Parses <c>netsh int ipv4 show excludedportrange protocol=tcp</c> output.</summary>
        /// <param name="text">The command's output.</param>
        /// <param name="ranges">The ranges, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParseExcludedPortRanges(string? text, [NotNullWhen(true)] out IReadOnlyList<ReservedPortRange>? ranges) =>
            TryParseExcludedPortRanges(text, out ranges, out _);

        /// <summary>Builds one protocol and family's range from the two commands' output.</summary>
        /// <param name="protocol">TCP or UDP.</param>
        /// <param name="addressFamily">InterNetwork (netsh int ipv4) or InterNetworkV6 (netsh int ipv6).</param>
        /// <param name="dynamicPortText">The output of show dynamicport.</param>
        /// <param name="excludedPortRangeText">The output of show excludedportrange, or null when not read.</param>
        /// <param name="tcpTimedWaitDelaySeconds">TcpTimedWaitDelay when the registry value is set; null for the default.</param>
        /// <returns>The range.</returns>
        /// <exception cref="FormatException">A text is not that command's output; the message quotes it.</exception>
        public static EphemeralPortRange ParseRange(TransportProtocol protocol, AddressFamily addressFamily, string dynamicPortText, string? excludedPortRangeText, int? tcpTimedWaitDelaySeconds = null)
        {
            PortRange dynamic = ParseDynamicPortRange(dynamicPortText);
            IReadOnlyList<ReservedPortRange> excluded = excludedPortRangeText is null ? Array.Empty<ReservedPortRange>() : ParseExcludedPortRanges(excludedPortRangeText);
            string family = addressFamily == AddressFamily.InterNetwork ? "ipv4" : "ipv6";
            string name = protocol == TransportProtocol.Tcp ? "tcp" : "udp";
            string source = "netsh int " + family + " show dynamicport " + name + (excludedPortRangeText is null ? string.Empty : "; netsh int " + family + " show excludedportrange protocol=" + name);
            (int seconds, string timeWaitSource) = protocol == TransportProtocol.Udp
                ? (0, TimeWait.UdpSource)
                : tcpTimedWaitDelaySeconds is int delay ? (CheckDelay(delay), TimeWait.WindowsSource(delay)) : (TimeWait.WindowsDefaultSeconds, TimeWait.WindowsDefaultSource);
            return new EphemeralPortRange(TargetOS.Windows, protocol, addressFamily, dynamic.Start, dynamic.End, excluded, seconds, source, timeWaitSource);
        }

        /// <summary>The settings of a Windows host from its ranges; protocols and families not given get the defaults, with a note.</summary>
        /// <param name="ranges">Ranges built by <see cref="ParseRange"/>.</param>
        /// <returns>The settings: Windows has no privileged ports, so no privilege facts are needed.</returns>
        public static HostPortSettings FromRanges(IEnumerable<EphemeralPortRange> ranges) =>
            new HostPortSettings(TargetOS.Windows, ranges, null, "Windows has no privileged ports", null);

        internal static bool TryParseDynamicPortRange(string? text, out PortRange range, [NotNullWhen(false)] out string? error)
        {
            range = default;
            var numbers = new List<long>(2);
            using (var reader = new StringReader(text ?? string.Empty))
            {
                string? line;
                while (numbers.Count < 2 && (line = reader.ReadLine()) is not null)
                {
                    int colon = line.LastIndexOf(':');
                    if (colon >= 0 && long.TryParse(line.Substring(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long number))
                    {
                        numbers.Add(number);
                    }
                }
            }

            if (numbers.Count < 2 || numbers[0] < 1 || numbers[1] < 1 || numbers[0] + numbers[1] - 1 > PortRange.MaxPort)
            {
                error = "'" + Shorten(text) + "' is not the output of 'netsh int ipv4 show dynamicport tcp': expected 'Start Port : n' and 'Number of Ports : n' with the range inside 1-65535";
                return false;
            }

            range = new PortRange((int)numbers[0], (int)(numbers[0] + numbers[1] - 1));
            error = null;
            return true;
        }

        internal static bool TryParseExcludedPortRanges(string? text, [NotNullWhen(true)] out IReadOnlyList<ReservedPortRange>? ranges, [NotNullWhen(false)] out string? error)
        {
            var list = new List<ReservedPortRange>();
            using (var reader = new StringReader(text ?? string.Empty))
            {
                string? line;
                while ((line = reader.ReadLine()) is not null)
                {
                    string[] fields = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    bool administered = fields.Length == 3 && fields[2] == "*";
                    if ((fields.Length != 2 && !administered) || !IsDigits(fields[0]) || !IsDigits(fields[1]))
                    {
                        continue; // titles, column headers, dashes and the footnote
                    }

                    if (!PortRange.TryParsePort(fields[0], out int start) || !PortRange.TryParsePort(fields[1], out int end) || start > end)
                    {
                        ranges = null;
                        error = "'" + line.Trim() + "' is not an excluded port range: expected a start and end port from 0 to 65535, in order";
                        return false;
                    }

                    list.Add(new ReservedPortRange(new PortRange(start, end), administered));
                }
            }

            ranges = list;
            error = null;
            return true;
        }

        private static int CheckDelay(int seconds) => seconds >= 0
            ? seconds
            : throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "TcpTimedWaitDelay cannot be negative: it is a number of seconds, documented as 30 to 300.");

        private static bool IsDigits(string text)
        {
            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            return text.Length > 0;
        }

        private static string Shorten(string? text)
        {
            string value = (text ?? string.Empty).Trim().Replace("\r", string.Empty).Replace('\n', ' ');
            return value.Length > 80 ? value.Substring(0, 80) + "..." : value;
        }
    }
}
