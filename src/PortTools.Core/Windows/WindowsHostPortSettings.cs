using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace PortTools.Windows
{
    /// <summary>
    /// This Windows host's port settings: the dynamic (ephemeral) port range and the excluded port
    /// ranges per protocol and IP version from netsh (KB 929851 and kernel-rules.md 2C for the
    /// commands; <see cref="WindowsPortSettings"/> parses their output), and TcpTimedWaitDelay from
    /// the registry when it is set. What cannot be read gets the documented default with one note
    /// naming it and why; the running of the commands is thin, and <see cref="Compose"/> is tested
    /// on their text.
    /// </summary>
    internal static class WindowsHostPortSettings
    {
        private static readonly (TransportProtocol Protocol, AddressFamily Family)[] s_slots =
        {
            (TransportProtocol.Tcp, AddressFamily.InterNetwork),
            (TransportProtocol.Tcp, AddressFamily.InterNetworkV6),
            (TransportProtocol.Udp, AddressFamily.InterNetwork),
            (TransportProtocol.Udp, AddressFamily.InterNetworkV6),
        };

        /// <summary>netsh arguments for the dynamic port range of a protocol and IP version, such as "int ipv4 show dynamicport tcp".</summary>
        internal static string DynamicPortArguments(TransportProtocol protocol, AddressFamily family) =>
            "int " + Version(family) + " show dynamicport " + Name(protocol);

        /// <summary>netsh arguments for the excluded port ranges, such as "int ipv4 show excludedportrange protocol=tcp".</summary>
        internal static string ExcludedPortArguments(TransportProtocol protocol, AddressFamily family) =>
            "int " + Version(family) + " show excludedportrange protocol=" + Name(protocol);

        /// <summary>Every netsh command <see cref="Compose"/> needs, eight in all.</summary>
        internal static IReadOnlyList<string> Commands() =>
            s_slots.Select(s => DynamicPortArguments(s.Protocol, s.Family)).Concat(s_slots.Select(s => ExcludedPortArguments(s.Protocol, s.Family))).ToArray();

        /// <summary>Reads this host: the eight netsh commands at once (each takes a few tens of milliseconds), then the registry.</summary>
        public static HostPortSettings Read()
        {
            // %SystemRoot%\System32\netsh.exe, not whatever netsh the PATH finds first.
            string netsh = Path.Combine(Environment.SystemDirectory, "netsh.exe");
            IReadOnlyList<string> commands = Commands();
            Task<CommandOutput>[] runs = commands.Select(arguments => Task.Run(() => HostCommand.Run(netsh, arguments, HostCommand.Timeout))).ToArray();
            Task.WaitAll(runs);
            var outputs = new Dictionary<string, CommandOutput>(StringComparer.Ordinal);
            for (int i = 0; i < commands.Count; i++)
            {
                outputs[commands[i]] = runs[i].Result;
            }

            return Compose(outputs, TcpipRegistry.ReadTcpTimedWaitDelay());
        }

        /// <summary>
        /// Builds the settings from the netsh output (keyed by the arguments of <see cref="Commands"/>;
        /// a missing key counts as a command that could not run) and the TcpTimedWaitDelay read.
        /// </summary>
        internal static HostPortSettings Compose(IReadOnlyDictionary<string, CommandOutput> netsh, RegistryDword timedWaitDelay)
        {
            var notes = new List<string>();
            int? delay = TimedWaitDelay(timedWaitDelay, notes);
            var ranges = new List<EphemeralPortRange>(4);
            var dynamicFailures = new List<(string Slot, string Problem)>();
            var excludedFailures = new List<(string Slot, string Problem)>();
            (int defaultStart, int defaultEnd) = HostPortSettings.DefaultRangeBounds(TargetOS.Windows);
            foreach ((TransportProtocol protocol, AddressFamily family) in s_slots)
            {
                string slot = HostPortSettings.Describe(protocol, family);
                string dynamicCommand = DynamicPortArguments(protocol, family);
                string excludedCommand = ExcludedPortArguments(protocol, family);
                string? dynamicText = Usable(netsh, dynamicCommand, out string? dynamicProblem);
                if (dynamicText is not null && !WindowsPortSettings.TryParseDynamicPortRange(dynamicText, out _, out _))
                {
                    dynamicProblem = "its output holds no start port and number of ports: '" + Shorten(dynamicText) + "'";
                    dynamicText = null;
                }

                string? excludedText = Usable(netsh, excludedCommand, out string? excludedProblem);
                IReadOnlyList<ReservedPortRange>? excluded = null;
                if (excludedText is not null && !WindowsPortSettings.TryParseExcludedPortRanges(excludedText, out excluded, out string? excludedError))
                {
                    excludedProblem = excludedError;
                    excludedText = null;
                }

                if (dynamicProblem is not null)
                {
                    dynamicFailures.Add((slot, dynamicProblem));
                }

                if (excludedProblem is not null)
                {
                    excludedFailures.Add((slot, excludedProblem));
                }

                if (dynamicText is not null)
                {
                    ranges.Add(WindowsPortSettings.ParseRange(protocol, family, dynamicText, excludedText, delay));
                    continue;
                }

                (int seconds, string timeWaitSource) = protocol == TransportProtocol.Udp ? (0, TimeWait.UdpSource)
                    : delay is int value ? (value, TimeWait.WindowsSource(value)) : (TimeWait.WindowsDefaultSeconds, TimeWait.WindowsDefaultSource);
                string source = string.Format(CultureInfo.InvariantCulture, "default for Windows: {0}-{1} ('netsh {2}' could not be read)", defaultStart, defaultEnd, dynamicCommand)
                    + (excludedText is null ? string.Empty : "; netsh " + excludedCommand);
                ranges.Add(new EphemeralPortRange(TargetOS.Windows, protocol, family, defaultStart, defaultEnd, excluded, seconds, source, timeWaitSource));
            }

            string defaultRange = string.Format(CultureInfo.InvariantCulture, "{0}-{1}", defaultStart, defaultEnd);
            AddNotes(notes, dynamicFailures, "dynamic port range", "the documented default " + defaultRange + " is shown");
            AddNotes(notes, excludedFailures, "excluded port ranges", "no excluded ports are assumed");
            return new HostPortSettings(TargetOS.Windows, ranges, null, "Windows has no privileged ports", null, notes);
        }

        /// <summary>The command's output when it ran and exited with 0, else null with the problem in a few words.</summary>
        private static string? Usable(IReadOnlyDictionary<string, CommandOutput> netsh, string command, out string? problem)
        {
            if (!netsh.TryGetValue(command, out CommandOutput output))
            {
                problem = "it was not run";
                return null;
            }

            if (!output.Succeeded)
            {
                problem = output.Problem();
                return null;
            }

            problem = null;
            return output.Output;
        }

        /// <summary>
        /// One note per distinct problem: "The Windows dynamic port range could not be read (netsh: ...);
        /// the documented default 49152-65535 is shown." naming the protocols and IP versions only when
        /// the problem did not hit all four.
        /// </summary>
        private static void AddNotes(List<string> notes, List<(string Slot, string Problem)> failures, string what, string consequence)
        {
            foreach (IGrouping<string, (string Slot, string Problem)> problem in failures.GroupBy(f => f.Problem, StringComparer.Ordinal))
            {
                string[] slots = problem.Select(f => f.Slot).ToArray();
                string which = slots.Length == s_slots.Length ? string.Empty : " for " + Join(slots);
                notes.Add("The Windows " + what + which + " could not be read (netsh: " + problem.Key + "); " + consequence + ".");
            }
        }

        /// <summary>TcpTimedWaitDelay in seconds when set; null for the default, with a note when the read failed.</summary>
        private static int? TimedWaitDelay(RegistryDword read, List<string> notes)
        {
            const string where = @"HKLM\" + TcpipRegistry.ParametersKey;
            string fallback = "the default " + TimeWait.WindowsDefaultSeconds.ToString(CultureInfo.InvariantCulture) + " s is used for TIME_WAIT.";
            if (read.Status == TcpipRegistry.ErrorFileNotFound)
            {
                return null; // not set: Windows uses its default, which is no failure
            }

            if (read.Status != 0)
            {
                notes.Add("TcpTimedWaitDelay could not be read from " + where + " (Windows error " + read.Status.ToString(CultureInfo.InvariantCulture) + ": " + new Win32Exception(read.Status).Message + "); " + fallback);
                return null;
            }

            if (read.Value > int.MaxValue)
            {
                notes.Add("TcpTimedWaitDelay in " + where + " is " + read.Value.ToString(CultureInfo.InvariantCulture) + ", which is no number of seconds Windows documents (30-300); " + fallback);
                return null;
            }

            return (int)read.Value;
        }

        private static string Join(string[] items) => items.Length switch
        {
            1 => items[0],
            2 => items[0] + " and " + items[1],
            _ => string.Join(", ", items, 0, items.Length - 1) + " and " + items[items.Length - 1],
        };

        private static string Version(AddressFamily family) => family == AddressFamily.InterNetwork ? "ipv4" : "ipv6";

        private static string Name(TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? "tcp" : "udp";

        private static string Shorten(string text)
        {
            string value = text.Trim().Replace("\r", string.Empty).Replace('\n', ' ');
            return value.Length > 80 ? value.Substring(0, 80) + "..." : value;
        }
    }
}
