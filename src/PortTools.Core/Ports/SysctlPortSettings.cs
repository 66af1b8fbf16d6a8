using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Builds macOS and FreeBSD port settings from sysctl values: the caller runs
    /// <c>sysctl net.inet.ip.portrange net.inet.tcp.msl</c> and passes the text, or passes the values.
    /// Keys used: net.inet.ip.portrange.first and .last (the range connect() and bind(0) use),
    /// .hifirst and .hilast (for sockets that ask for IP_PORTRANGE_HIGH; noted only),
    /// .reservedlow and .reservedhigh (FreeBSD's privileged ports), and net.inet.tcp.msl (TIME_WAIT is
    /// 2 x MSL). Both families share the range.
    /// </summary>
    public static class SysctlPortSettings
    {
        /// <summary>Parses sysctl output, "name: value" or "name = value" per line; other keys are ignored.</summary>
        /// <param name="os">MacOS or FreeBSD.</param>
        /// <param name="sysctlText">The output.</param>
        /// <param name="isRoot">Whether the process that will bind runs as root (privileged ports); null when unknown.</param>
        /// <returns>The settings; values missing from the text get the OS default, with a note.</returns>
        /// <exception cref="FormatException">A known key has a value that is not a number; the message quotes the line.</exception>
        /// <exception cref="ArgumentException">The OS is not macOS or FreeBSD.</exception>
        public static HostPortSettings Parse(TargetOS os, string sysctlText, bool? isRoot = null)
        {
            CheckOS(os);
            var values = new Dictionary<string, int>(StringComparer.Ordinal);
            using (var reader = new StringReader(sysctlText ?? string.Empty))
            {
                string? line;
                while ((line = reader.ReadLine()) is not null)
                {
                    int separator = line.IndexOfAny(new[] { ':', '=' });
                    if (separator <= 0)
                    {
                        continue;
                    }

                    string key = line.Substring(0, separator).Trim();
                    if (!IsKnown(key))
                    {
                        continue;
                    }

                    string valueText = line.Substring(separator + 1).Trim();
                    if (!int.TryParse(valueText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                    {
                        throw new FormatException("'" + line.Trim() + "' is not a sysctl value PortTools can use: " + key + " should be a number.");
                    }

                    values[key] = value;
                }
            }

            return FromValues(
                os,
                Get(values, "net.inet.ip.portrange.first"),
                Get(values, "net.inet.ip.portrange.last"),
                Get(values, "net.inet.tcp.msl"),
                Get(values, "net.inet.ip.portrange.reservedlow"),
                Get(values, "net.inet.ip.portrange.reservedhigh"),
                isRoot,
                Get(values, "net.inet.ip.portrange.hifirst"),
                Get(values, "net.inet.ip.portrange.hilast"));
        }

        /// <summary>Builds the settings from values; null values get the OS default, with a note.</summary>
        /// <param name="os">MacOS or FreeBSD.</param>
        /// <param name="first">net.inet.ip.portrange.first.</param>
        /// <param name="last">net.inet.ip.portrange.last.</param>
        /// <param name="mslMilliseconds">net.inet.tcp.msl, in milliseconds.</param>
        /// <param name="reservedLow">net.inet.ip.portrange.reservedlow (FreeBSD).</param>
        /// <param name="reservedHigh">net.inet.ip.portrange.reservedhigh (FreeBSD).</param>
        /// <param name="isRoot">Whether the binding process runs as root; null when unknown.</param>
        /// <param name="highFirst">net.inet.ip.portrange.hifirst, noted for IP_PORTRANGE_HIGH sockets.</param>
        /// <param name="highLast">net.inet.ip.portrange.hilast.</param>
        /// <returns>The settings.</returns>
        /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it.</exception>
        public static HostPortSettings FromValues(TargetOS os, int? first, int? last, int? mslMilliseconds, int? reservedLow = null, int? reservedHigh = null, bool? isRoot = null, int? highFirst = null, int? highLast = null)
        {
            CheckOS(os);
            var notes = new List<string>();
            (int defaultFirst, int defaultLast) = HostPortSettings.DefaultRangeBounds(os);
            int start = first ?? defaultFirst;
            int end = last ?? defaultLast;
            string source = first is null || last is null
                ? string.Format(CultureInfo.InvariantCulture, "net.inet.ip.portrange.first-last = {0}-{1} ({2} the {3} default)", start, end, first is null && last is null ? "both" : "partly", os)
                : string.Format(CultureInfo.InvariantCulture, "net.inet.ip.portrange.first-last = {0}-{1}", start, end);
            if (first is null || last is null)
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "net.inet.ip.portrange.first/last were not both given; using {0}'s default where missing ({1}-{2}).", os, defaultFirst, defaultLast));
            }

            if (start > end)
            {
                // The BSDs accept first > last and then allocate downwards; the set of ports is the same.
                (start, end) = (end, start);
                notes.Add("net.inet.ip.portrange.first is above last; the kernel then counts down, over the same ports.");
            }

            if (highFirst is int hiFirst && highLast is int hiLast)
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "Sockets that ask for IP_PORTRANGE_HIGH use net.inet.ip.portrange.hifirst-hilast = {0}-{1} instead.", hiFirst, hiLast));
            }

            int defaultMsl = os == TargetOS.MacOS ? TimeWait.MacOSDefaultMslMilliseconds : TimeWait.FreeBSDDefaultMslMilliseconds;
            int msl = mslMilliseconds ?? defaultMsl;
            if (msl < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(mslMilliseconds), msl, "net.inet.tcp.msl cannot be negative: it is in milliseconds.");
            }

            if (mslMilliseconds is null)
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "net.inet.tcp.msl was not given; using {0}'s default {1} ms, so TIME_WAIT lasts {2} s.", os, defaultMsl, TimeWait.FromMsl(defaultMsl)));
            }

            var ranges = new List<EphemeralPortRange>(4);
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                (int seconds, string timeWaitSource) = protocol == TransportProtocol.Tcp ? (TimeWait.FromMsl(msl), TimeWait.MslSource(os, msl, mslMilliseconds is null)) : (0, TimeWait.UdpSource);
                foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                {
                    ranges.Add(new EphemeralPortRange(os, protocol, family, start, end, null, seconds, source, timeWaitSource));
                }
            }

            PortRange? privileged;
            string privilegedSource;
            if (os == TargetOS.FreeBSD)
            {
                int low = reservedLow ?? 0;
                int high = reservedHigh ?? 1023;
                privileged = high >= low && high >= 1 ? new PortRange(Math.Max(low, 0), Math.Min(high, PortRange.MaxPort)) : null;
                privilegedSource = string.Format(CultureInfo.InvariantCulture, "net.inet.ip.portrange.reservedlow-reservedhigh = {0}-{1}{2}", low, high, reservedLow is null || reservedHigh is null ? " (default where not given)" : string.Empty);
            }
            else
            {
                (privileged, privilegedSource) = HostPortSettings.DefaultPrivilegedPorts(os);
            }

            return new HostPortSettings(os, ranges, privileged, privilegedSource, isRoot, notes);
        }

        private static bool IsKnown(string key) => key switch
        {
            "net.inet.ip.portrange.first" or "net.inet.ip.portrange.last" or "net.inet.ip.portrange.hifirst" or "net.inet.ip.portrange.hilast"
                or "net.inet.ip.portrange.reservedlow" or "net.inet.ip.portrange.reservedhigh" or "net.inet.tcp.msl" => true,
            _ => false,
        };

        private static int? Get(Dictionary<string, int> values, string key) => values.TryGetValue(key, out int value) ? value : null;

        private static void CheckOS(TargetOS os)
        {
            if (os != TargetOS.MacOS && os != TargetOS.FreeBSD)
            {
                throw new ArgumentException("sysctl port settings are for macOS and FreeBSD, not " + os + ".", nameof(os));
            }
        }
    }
}
