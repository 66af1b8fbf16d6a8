using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Reads Linux's port settings from /proc under a root directory (as ss honours PROC_ROOT), so
    /// tests run it on fixture trees: net.ipv4.ip_local_port_range (which IPv6 shares),
    /// ip_local_reserved_ports, ip_unprivileged_port_start, and CapEff from /proc/self/status. The
    /// sysctls are per network namespace: the live read sees the namespace of this process.
    /// </summary>
    public static class LinuxPortSettings
    {
        /// <summary>CAP_NET_BIND_SERVICE, bit 10 of the capability sets (include/uapi/linux/capability.h).</summary>
        internal const int CapNetBindService = 10;

        private const string Ipv4Sysctls = "proc/sys/net/ipv4/";

        /// <summary>Reads the settings; each value that cannot be read is defaulted with a note naming the file and the reason.</summary>
        /// <param name="root">The filesystem root: "/" for this host, or a fixture tree holding proc/sys/net/ipv4/* and proc/self/status.</param>
        /// <returns>The settings.</returns>
        public static HostPortSettings Read(string root = "/") => FromValues(ReadValues(root));

        /// <summary>The settings from values read by <see cref="ReadValues"/>: what was not read gets Linux's default, with the note that says why.</summary>
        internal static HostPortSettings FromValues(LinuxPortValues values)
        {
            var notes = new List<string>(values.Notes);
            (int start, int end) = DefaultRange();
            string rangeSource = values.RangeSource;
            if (values.Range is PortRange range)
            {
                (start, end) = (range.Start, range.End);
            }
            else
            {
                rangeSource = "default 32768-60999 (" + values.RangeSource + ": " + values.RangeError + ")";
                notes.Add("Could not read the ephemeral range from " + values.RangeSource + " (" + values.RangeError + "); using Linux's default 32768-60999.");
            }

            var reserved = new List<ReservedPortRange>();
            if (values.Reserved is not null)
            {
                foreach (PortRange ports in values.Reserved)
                {
                    reserved.Add(new ReservedPortRange(ports, administered: true));
                }
            }
            else
            {
                notes.Add("Could not read the reserved ports from " + values.ReservedSource + " (" + values.ReservedError + "); assuming none are reserved.");
            }

            int unprivilegedStart = values.UnprivilegedPortStart ?? 1024;
            string privilegedSource = "net.ipv4.ip_unprivileged_port_start = " + (values.UnprivilegedPortStart is null
                ? "1024 (the default; " + values.UnprivilegedPortStartSource + ": " + values.UnprivilegedPortStartError + ")"
                : unprivilegedStart.ToString(CultureInfo.InvariantCulture));
            if (values.UnprivilegedPortStart is null)
            {
                notes.Add("Could not read " + values.UnprivilegedPortStartSource + " (" + values.UnprivilegedPortStartError + "); using the default 1024.");
            }

            if (values.HasBindCapability is null)
            {
                notes.Add("Could not read CapEff from " + values.StatusSource + " (" + values.StatusError + "); whether this process has CAP_NET_BIND_SERVICE is unknown.");
            }

            var ranges = new List<EphemeralPortRange>(4);
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                (int seconds, string timeWaitSource) = protocol == TransportProtocol.Tcp ? (TimeWait.LinuxSeconds, TimeWait.LinuxSource) : (0, TimeWait.UdpSource);
                foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                {
                    // IPv6 has no range of its own: inet6_hash_connect and the v6 bind paths use the ipv4 sysctl.
                    ranges.Add(new EphemeralPortRange(TargetOS.Linux, protocol, family, start, end, reserved, seconds, rangeSource, timeWaitSource));
                }
            }

            // Ports 1 to start-1 need CAP_NET_BIND_SERVICE; start 0 or 1 means none do.
            PortRange? privileged = unprivilegedStart > 1 ? new PortRange(1, Math.Min(unprivilegedStart, 65536) - 1) : null;
            return new HostPortSettings(TargetOS.Linux, ranges, privileged, privilegedSource, values.HasBindCapability, notes);
        }

        /// <summary>
        /// Reads the port sysctls and CapEff as they are: each value is null when it cannot be read,
        /// with the reason beside it. The sysctls are those of the calling thread's network namespace.
        /// </summary>
        /// <param name="root">The filesystem root, "/" for this host.</param>
        /// <param name="where">Said after each file name in sources and notes, such as " (network namespace red)"; empty for none.</param>
        /// <returns>The values.</returns>
        internal static LinuxPortValues ReadValues(string root, string where = "")
        {
            if (root is null)
            {
                throw new ArgumentNullException(nameof(root));
            }

            var values = new LinuxPortValues
            {
                RangeSource = Path.Combine(root, Ipv4Sysctls + "ip_local_port_range") + where,
                ReservedSource = Path.Combine(root, Ipv4Sysctls + "ip_local_reserved_ports") + where,
                UnprivilegedPortStartSource = Path.Combine(root, Ipv4Sysctls + "ip_unprivileged_port_start") + where,
                StatusSource = Path.Combine(root, "proc/self/status"),
            };

            if (TryReadFile(Path.Combine(root, Ipv4Sysctls + "ip_local_port_range"), out string? rangeText, out string? rangeError) && TryParsePortRange(rangeText, out PortRange range, out rangeError))
            {
                values.Range = range;
            }

            values.RangeError = rangeError;
            if (TryReadFile(Path.Combine(root, Ipv4Sysctls + "ip_local_reserved_ports"), out string? reservedText, out string? reservedError) && TryParseReservedPorts(reservedText, out IReadOnlyList<PortRange>? reservedRanges, out reservedError))
            {
                values.Reserved = reservedRanges;
            }

            values.ReservedError = reservedError;
            if (TryReadFile(Path.Combine(root, Ipv4Sysctls + "ip_unprivileged_port_start"), out string? startText, out string? startError) && TryParseNumber(startText, out int unprivilegedStart, out startError))
            {
                values.UnprivilegedPortStart = unprivilegedStart;
            }

            values.UnprivilegedPortStartError = startError;
            if (TryReadFile(values.StatusSource, out string? statusText, out string? statusError) && TryParseCapEff(statusText, out bool hasCapability, out statusError))
            {
                values.HasBindCapability = hasCapability;
            }

            values.StatusError = statusError;
            return values;
        }

        /// <summary>
        /// Reads a numeric sysctl under <paramref name="root"/> (such as "proc/sys/net/ipv4/tcp_tw_reuse").
        /// A file that does not exist means the kernel predates the setting and behaves as
        /// <paramref name="absentMeans"/>; when that is null, or the file cannot be read or parsed,
        /// the value is null and a note says why.
        /// </summary>
        internal static int? ReadSysctl(string root, string relativePath, int? absentMeans, ICollection<string> notes, string where = "")
        {
            string path = Path.Combine(root, relativePath);
            try
            {
                string text = File.ReadAllText(path);
                if (TryParseNumber(text, out int value, out string? error))
                {
                    return value;
                }

                notes.Add("Could not read " + path + where + " (" + error + "); it is taken as unknown.");
                return null;
            }
            catch (Exception e) when ((e is FileNotFoundException || e is DirectoryNotFoundException) && absentMeans is not null)
            {
                return absentMeans; // an older kernel without the setting behaves as this
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                notes.Add("Could not read " + path + where + " (" + (e is FileNotFoundException || e is DirectoryNotFoundException ? "no such file" : e.Message) + "); it is taken as unknown.");
                return null;
            }
        }

        /// <summary>Parses ip_local_port_range: two numbers separated by white space, "32768\t60999".</summary>
        /// <param name="text">The file's text.</param>
        /// <returns>The range.</returns>
        /// <exception cref="FormatException">The text is not two ports in order; the message names it.</exception>
        public static PortRange ParsePortRange(string text) =>
            TryParsePortRange(text, out PortRange range, out string? error) ? range : throw new FormatException(error);

        /// <summary>Parses ip_local_port_range.</summary>
        /// <param name="text">The file's text.</param>
        /// <param name="range">The range, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParsePortRange(string? text, out PortRange range) => TryParsePortRange(text, out range, out _);

        /// <summary>Parses ip_local_reserved_ports: a comma list of ports and ranges, "8080,9000-9010", or an empty line.</summary>
        /// <param name="text">The file's text.</param>
        /// <returns>The ranges, in the order written.</returns>
        /// <exception cref="FormatException">An item is not a port or range; the message names it.</exception>
        public static IReadOnlyList<PortRange> ParseReservedPorts(string text) =>
            TryParseReservedPorts(text, out IReadOnlyList<PortRange>? ranges, out string? error) ? ranges : throw new FormatException(error);

        /// <summary>Parses ip_local_reserved_ports.</summary>
        /// <param name="text">The file's text.</param>
        /// <param name="ranges">The ranges, when valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParseReservedPorts(string? text, [NotNullWhen(true)] out IReadOnlyList<PortRange>? ranges) => TryParseReservedPorts(text, out ranges, out _);

        internal static bool TryParsePortRange(string? text, out PortRange range, [NotNullWhen(false)] out string? error)
        {
            range = default;
            string[] fields = (text ?? string.Empty).Split(new[] { ' ', '\t', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || !PortRange.TryParsePort(fields[0], out int start) || !PortRange.TryParsePort(fields[1], out int end) || start < 1 || start > end)
            {
                error = "'" + Shorten(text) + "' is not an ephemeral port range: expected two ports, low then high, such as '32768 60999'";
                return false;
            }

            range = new PortRange(start, end);
            error = null;
            return true;
        }

        internal static bool TryParseReservedPorts(string? text, [NotNullWhen(true)] out IReadOnlyList<PortRange>? ranges, [NotNullWhen(false)] out string? error)
        {
            var list = new List<PortRange>();
            string trimmed = (text ?? string.Empty).Trim();
            if (trimmed.Length > 0)
            {
                foreach (string item in trimmed.Split(','))
                {
                    if (!PortRange.TryParse(item, out PortRange ports, out string? itemError))
                    {
                        ranges = null;
                        error = "'" + Shorten(text) + "' is not a reserved-ports list: " + itemError;
                        return false;
                    }

                    list.Add(ports);
                }
            }

            ranges = list;
            error = null;
            return true;
        }

        /// <summary>Reads the CapEff line of /proc/self/status: whether bit 10 (CAP_NET_BIND_SERVICE) is set.</summary>
        internal static bool TryParseCapEff(string? status, out bool hasCapability, [NotNullWhen(false)] out string? error)
        {
            hasCapability = false;
            foreach (string line in (status ?? string.Empty).Split('\n'))
            {
                if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    continue;
                }

                string hex = line.Substring("CapEff:".Length).Trim();
                if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mask))
                {
                    error = "the CapEff line '" + line.Trim() + "' does not hold a hexadecimal mask";
                    return false;
                }

                hasCapability = (mask & (1UL << CapNetBindService)) != 0;
                error = null;
                return true;
            }

            error = "it has no CapEff line";
            return false;
        }

        internal static bool TryParseNumber(string? text, out int value, [NotNullWhen(false)] out string? error)
        {
            if (int.TryParse((text ?? string.Empty).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value))
            {
                error = null;
                return true;
            }

            error = "'" + Shorten(text) + "' is not a number";
            return false;
        }

        private static (int Start, int End) DefaultRange() => HostPortSettings.DefaultRangeBounds(TargetOS.Linux);

        private static bool TryReadFile(string path, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? error)
        {
            try
            {
                text = File.ReadAllText(path);
                error = null;
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                text = null;
                error = e is FileNotFoundException || e is DirectoryNotFoundException ? "no such file" : e.Message;
                return false;
            }
        }

        private static string Shorten(string? text)
        {
            string value = (text ?? string.Empty).Trim();
            return value.Length > 60 ? value.Substring(0, 60) + "..." : value;
        }
    }

    /// <summary>Linux's port sysctls and CapEff as read, each null when it could not be, with where it came from and why not.</summary>
    internal sealed class LinuxPortValues
    {
        public PortRange? Range { get; set; }

        public string RangeSource { get; set; } = string.Empty;

        public string? RangeError { get; set; }

        public IReadOnlyList<PortRange>? Reserved { get; set; }

        public string ReservedSource { get; set; } = string.Empty;

        public string? ReservedError { get; set; }

        public int? UnprivilegedPortStart { get; set; }

        public string UnprivilegedPortStartSource { get; set; } = string.Empty;

        public string? UnprivilegedPortStartError { get; set; }

        /// <summary>CAP_NET_BIND_SERVICE in this process's CapEff.</summary>
        public bool? HasBindCapability { get; set; }

        public string StatusSource { get; set; } = string.Empty;

        public string? StatusError { get; set; }

        /// <summary>Notes of reads that are not among these values.</summary>
        public List<string> Notes { get; } = new List<string>();
    }
}
