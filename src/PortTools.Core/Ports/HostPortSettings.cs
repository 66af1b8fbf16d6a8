using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace PortTools
{
    /// <summary>
    /// The port facts of one host, read once (or given by the user) and then passed to the pure
    /// computations: its ephemeral ranges per protocol and family, which ports need privilege to
    /// bind, and whether this process has that privilege. Build it with <see cref="LinuxPortSettings"/>,
    /// <see cref="WindowsPortSettings"/>, <see cref="SysctlPortSettings"/>, <see cref="Defaults"/> or
    /// <see cref="ReadCurrent"/>.
    /// </summary>
    public sealed class HostPortSettings
    {
        private static readonly (TransportProtocol Protocol, AddressFamily Family)[] s_slots =
        {
            (TransportProtocol.Tcp, AddressFamily.InterNetwork),
            (TransportProtocol.Tcp, AddressFamily.InterNetworkV6),
            (TransportProtocol.Udp, AddressFamily.InterNetwork),
            (TransportProtocol.Udp, AddressFamily.InterNetworkV6),
        };

        /// <summary>Creates the settings. Ranges missing for a protocol and family get the OS default, with a note saying so.</summary>
        /// <param name="os">The OS whose rules apply.</param>
        /// <param name="ephemeralRanges">Up to one range per protocol and address family.</param>
        /// <param name="privilegedPorts">Ports whose bind needs privilege (on macOS only for specific addresses); null when none do.</param>
        /// <param name="privilegedPortsSource">Where that came from, such as "net.ipv4.ip_unprivileged_port_start = 1024".</param>
        /// <param name="hasBindPrivilege">Whether this process may bind privileged ports (Linux: CAP_NET_BIND_SERVICE; BSDs: root); null when unknown.</param>
        /// <param name="notes">What was defaulted and why.</param>
        /// <exception cref="ArgumentException">Two ranges for one protocol and family, or one for another OS.</exception>
        public HostPortSettings(TargetOS os, IEnumerable<EphemeralPortRange> ephemeralRanges, PortRange? privilegedPorts, string privilegedPortsSource, bool? hasBindPrivilege, IEnumerable<string>? notes = null)
        {
            var given = (ephemeralRanges ?? throw new ArgumentNullException(nameof(ephemeralRanges))).ToList();
            var allNotes = new List<string>(notes ?? Array.Empty<string>());
            var ranges = new List<EphemeralPortRange>(4);
            foreach ((TransportProtocol protocol, AddressFamily family) in s_slots)
            {
                var matching = given.Where(r => r.Protocol == protocol && r.AddressFamily == family).ToList();
                if (matching.Count > 1)
                {
                    throw new ArgumentException("Two ephemeral ranges were given for " + Describe(protocol, family) + ".", nameof(ephemeralRanges));
                }

                if (matching.Count == 1 && matching[0].OS != os)
                {
                    throw new ArgumentException("The " + Describe(protocol, family) + " range is for " + matching[0].OS + ", not " + os + ".", nameof(ephemeralRanges));
                }

                if (matching.Count == 1)
                {
                    ranges.Add(matching[0]);
                }
                else
                {
                    ranges.Add(DefaultRange(os, protocol, family, "not given"));
                    allNotes.Add("No " + Describe(protocol, family) + " ephemeral range was given; the " + os + " default is used.");
                }
            }

            OS = os;
            EphemeralRanges = ranges;
            PrivilegedPorts = privilegedPorts;
            PrivilegedPortsSource = privilegedPortsSource ?? string.Empty;
            HasBindPrivilege = hasBindPrivilege;
            Notes = allNotes;
        }

        /// <summary>The OS whose rules apply.</summary>
        public TargetOS OS { get; }

        /// <summary>One range per protocol and family: TCP IPv4, TCP IPv6, UDP IPv4, UDP IPv6.</summary>
        public IReadOnlyList<EphemeralPortRange> EphemeralRanges { get; }

        /// <summary>
        /// Ports whose bind needs privilege: Linux 1 to ip_unprivileged_port_start - 1; FreeBSD
        /// reservedlow to reservedhigh; macOS 1-1023, for specific addresses only; null on Windows,
        /// which has none. Port 0 never needs privilege: it asks for an ephemeral port.
        /// </summary>
        public PortRange? PrivilegedPorts { get; }

        /// <summary>Where <see cref="PrivilegedPorts"/> came from.</summary>
        public string PrivilegedPortsSource { get; }

        /// <summary>Whether this process may bind privileged ports (Linux: CAP_NET_BIND_SERVICE in CapEff; BSDs: root); null when unknown.</summary>
        public bool? HasBindPrivilege { get; }

        /// <summary>What could not be read and was defaulted, and why; empty when everything was read.</summary>
        public IReadOnlyList<string> Notes { get; }

        /// <summary>The documented defaults of an OS, for what-if questions or when the host cannot be read.</summary>
        /// <param name="os">The OS.</param>
        /// <returns>The settings, with a note saying they are defaults.</returns>
        public static HostPortSettings Defaults(TargetOS os) => DefaultsBecause(os, "documented " + os + " defaults, not read from a host");

        /// <summary>
        /// Reads this host: on Linux from /proc (see <see cref="LinuxPortSettings.Read"/>); on Windows
        /// from <c>netsh int ipv4|ipv6 show dynamicport tcp|udp</c>, <c>netsh int ipv4|ipv6 show
        /// excludedportrange protocol=tcp|udp</c> (see <see cref="WindowsPortSettings"/>) and
        /// TcpTimedWaitDelay in the registry; on macOS and FreeBSD from <c>sysctl
        /// net.inet.ip.portrange net.inet.tcp.msl</c> (see <see cref="SysctlPortSettings"/>). What
        /// cannot be read gets the documented default, and <see cref="Notes"/> says which value and
        /// why; when everything is read there are no notes.
        /// </summary>
        /// <returns>The settings.</returns>
        public static HostPortSettings ReadCurrent()
        {
            TargetOS os = TargetOSInfo.Current;
            return os switch
            {
                TargetOS.Linux => LinuxPortSettings.Read("/"),
                TargetOS.Windows => Windows.WindowsHostPortSettings.Read(),
                _ => MacOS.SysctlHostPortSettings.Read(os),
            };
        }

        /// <summary>
        /// Reads the settings of a Linux network namespace (its sysctls, read on a thread inside
        /// it), or this host's when <paramref name="networkNamespace"/> is null (<see cref="ReadCurrent"/>).
        /// </summary>
        /// <param name="networkNamespace">A name, a namespace file path or a process id; null for this host.</param>
        /// <returns>The settings.</returns>
        /// <exception cref="NetworkNamespaceException">The namespace does not exist or cannot be entered.</exception>
        /// <exception cref="PlatformNotSupportedException">A namespace was asked for off Linux.</exception>
        public static HostPortSettings Read(string? networkNamespace)
        {
            if (networkNamespace is null)
            {
                return ReadCurrent();
            }

            if (TargetOSInfo.Current != TargetOS.Linux)
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; -NetworkNamespace cannot be used on " + System.Runtime.InteropServices.RuntimeInformation.OSDescription + ".");
            }

            return Read(Linux.NetworkNamespace.Resolve(networkNamespace));
        }

        internal static HostPortSettings Read(Linux.NetworkNamespace space) =>
            space.Run(() => LinuxPortSettings.FromValues(LinuxPortSettings.ReadValues("/", space.Path == Linux.NetworkNamespace.OwnNamespaceFile ? string.Empty : " (network namespace " + space.Specification + ")")));

        /// <summary>
        /// The settings each socket of a table is measured against: those of the host, or of the
        /// network namespace, this process read it from (each read once, from inside the namespace),
        /// and <paramref name="unknownHost"/> for the sockets it did not read (text, files,
        /// remoting), whose host it cannot know.
        /// </summary>
        /// <param name="sockets">The sockets.</param>
        /// <param name="unknownHost">The settings for the others, asked for at most once, with how many sockets they are.</param>
        /// <param name="notes">Receives what could not be read; may be null.</param>
        /// <returns>The settings of each socket (one object per host or namespace).</returns>
        public static Func<SocketTuple, HostPortSettings> ReadForSockets(IEnumerable<SocketTuple> sockets, Func<int, HostPortSettings> unknownHost, ICollection<string>? notes = null)
        {
            if (sockets is null)
            {
                throw new ArgumentNullException(nameof(sockets));
            }

            if (unknownHost is null)
            {
                throw new ArgumentNullException(nameof(unknownHost));
            }

            var byNamespace = new Dictionary<ulong, HostPortSettings>();
            HostPortSettings? here = null;
            HostPortSettings? unknown = null;
            int unread = 0;
            HostPortSettings Unknown() => unknown ??= unknownHost(unread);
            foreach (SocketTuple socket in sockets)
            {
                unread += socket is not null && !socket.ReadHere ? 1 : 0;
            }

            foreach (SocketTuple socket in sockets)
            {
                NetworkNamespaceInfo? space = socket?.NetworkNamespace;
                if (socket is null || !socket.ReadHere || space?.LiveEntryPath is null || byNamespace.ContainsKey(space.Inode))
                {
                    continue;
                }

                try
                {
                    byNamespace[space.Inode] = Read(Linux.NetworkNamespace.Reopen(space));
                }
                catch (NetworkNamespaceException exception)
                {
                    notes?.Add(exception.Message + " Its sockets are measured as those of an unknown host.");
                    byNamespace[space.Inode] = Unknown();
                }
            }

            foreach (HostPortSettings settings in byNamespace.Values)
            {
                foreach (string note in settings.Notes)
                {
                    notes?.Add(note);
                }
            }

            return socket =>
            {
                if (!socket.ReadHere)
                {
                    return Unknown();
                }

                if (socket.NetworkNamespace?.LiveEntryPath is not null && byNamespace.TryGetValue(socket.NetworkNamespace.Inode, out HostPortSettings? settings))
                {
                    return settings;
                }

                return here ??= ReadCurrent(); // read here off Linux, where sockets carry no namespace
            };
        }

        /// <summary>
        /// The port settings a SocketHost describes: its ephemeral range and reserved ports for
        /// every protocol and family (Linux shares one range; on Windows the TCP IPv4 one stands for
        /// all), its privileged ports and TIME_WAIT. What it leaves unknown gets the OS's default,
        /// with a note that says so.
        /// </summary>
        /// <param name="host">The facts; its OS must be known.</param>
        /// <returns>The settings.</returns>
        /// <exception cref="ArgumentException">The SocketHost does not say its OS.</exception>
        public static HostPortSettings From(SocketHost host)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            TargetOS os = host.OS ?? throw new ArgumentException("The SocketHost" + (host.ComputerName is null ? string.Empty : " of " + host.ComputerName) + " does not say its OS; give -TargetOS.", nameof(host));
            string of = "the SocketHost of " + (host.ComputerName ?? "an unnamed host") + (host.NetworkNamespace is null ? string.Empty : " (network namespace " + host.NetworkNamespace + ")");
            var notes = new List<string>();
            (int defaultStart, int defaultEnd) = DefaultRangeBounds(os);
            PortRange range = host.EphemeralPortRange ?? new PortRange(defaultStart, defaultEnd);
            string source = host.EphemeralPortRange is null ? string.Format(CultureInfo.InvariantCulture, "default for {0}: {1}-{2} ({3} does not say)", os, defaultStart, defaultEnd, of) : of;
            if (host.EphemeralPortRange is null)
            {
                notes.Add("The ephemeral port range is not in " + of + "; the " + os + " default " + range + " is used.");
            }

            if (host.ReservedPorts is null)
            {
                notes.Add("The reserved ports are not in " + of + "; none are taken to be reserved.");
            }

            (int defaultTimeWait, string defaultTimeWaitSource) = TimeWait.Default(os);
            int timeWait = host.TcpTimeWaitSeconds ?? defaultTimeWait;
            string timeWaitSource = host.TcpTimeWaitSeconds is null ? defaultTimeWaitSource : "TIME_WAIT of " + timeWait.ToString(CultureInfo.InvariantCulture) + " s, from " + of;
            ReservedPortRange[] reserved = (host.ReservedPorts ?? Array.Empty<PortRange>()).Select(p => new ReservedPortRange(p, administered: true)).ToArray();
            var ranges = new List<EphemeralPortRange>(4);
            foreach ((TransportProtocol protocol, AddressFamily family) in s_slots)
            {
                bool tcp = protocol == TransportProtocol.Tcp;
                ranges.Add(new EphemeralPortRange(os, protocol, family, range.Start, range.End, reserved, tcp ? timeWait : 0, source, tcp ? timeWaitSource : TimeWait.UdpSource));
            }

            (PortRange? defaultPrivileged, string defaultPrivilegedSource) = DefaultPrivilegedPorts(os);
            PortRange? privileged = host.UnprivilegedPortStart is int start ? (start > 1 && os != TargetOS.Windows ? new PortRange(os == TargetOS.FreeBSD ? 0 : 1, Math.Min(start, 65536) - 1) : null) : defaultPrivileged;
            string privilegedSource = host.UnprivilegedPortStart is int given ? "unprivileged ports start at " + given.ToString(CultureInfo.InvariantCulture) + " (" + of + ")" : defaultPrivilegedSource + " (" + of + " does not say)";
            return new HostPortSettings(os, ranges, privileged, privilegedSource, host.Privileged, notes);
        }

        /// <summary>The range for a protocol and family. A v4-mapped IPv6 socket uses the IPv6 range.</summary>
        /// <param name="protocol">TCP or UDP.</param>
        /// <param name="addressFamily">InterNetwork or InterNetworkV6.</param>
        /// <returns>The range.</returns>
        public EphemeralPortRange GetEphemeralRange(TransportProtocol protocol, AddressFamily addressFamily)
        {
            foreach (EphemeralPortRange range in EphemeralRanges)
            {
                if (range.Protocol == protocol && range.AddressFamily == addressFamily)
                {
                    return range;
                }
            }

            throw new ArgumentOutOfRangeException(nameof(addressFamily), addressFamily, "The address family is InterNetwork or InterNetworkV6.");
        }

        internal static string Describe(TransportProtocol protocol, AddressFamily family) =>
            (protocol == TransportProtocol.Tcp ? "TCP" : "UDP") + " " + (family == AddressFamily.InterNetwork ? "IPv4" : "IPv6");

        /// <summary>The documented default range of an OS (kernel-rules 1C, 2C, 3C, 4C).</summary>
        internal static (int Start, int End) DefaultRangeBounds(TargetOS os) => os switch
        {
            TargetOS.Linux => (32768, 60999),
            TargetOS.FreeBSD => (10000, 65535),
            _ => (49152, 65535),
        };

        internal static EphemeralPortRange DefaultRange(TargetOS os, TransportProtocol protocol, AddressFamily family, string why)
        {
            (int start, int end) = DefaultRangeBounds(os);
            (int seconds, string timeWaitSource) = protocol == TransportProtocol.Udp ? (0, TimeWait.UdpSource) : TimeWait.Default(os);
            string source = string.Format(CultureInfo.InvariantCulture, "default for {0}: {1}-{2} ({3})", os, start, end, why);
            return new EphemeralPortRange(os, protocol, family, start, end, null, seconds, source, timeWaitSource);
        }

        internal static (PortRange? Ports, string Source) DefaultPrivilegedPorts(TargetOS os) => os switch
        {
            TargetOS.Linux => (new PortRange(1, 1023), "default net.ipv4.ip_unprivileged_port_start = 1024"),
            TargetOS.FreeBSD => (new PortRange(0, 1023), "default net.inet.ip.portrange.reservedlow-reservedhigh = 0-1023"),
            TargetOS.MacOS => (new PortRange(1, 1023), "macOS reserves ports below 1024 for specific-address binds"),
            _ => (null, "Windows has no privileged ports"),
        };

        private static HostPortSettings DefaultsBecause(TargetOS os, string why)
        {
            (PortRange? privileged, string privilegedSource) = DefaultPrivilegedPorts(os);
            EphemeralPortRange[] ranges = s_slots.Select(slot => DefaultRange(os, slot.Protocol, slot.Family, why)).ToArray();
            return new HostPortSettings(os, ranges, privileged, privilegedSource, null, new[] { "Using " + why + "." });
        }
    }
    /// <summary>What a command printed, or why it could not run: the thin end of reading a host's settings.</summary>
    internal readonly struct CommandOutput
    {
        private CommandOutput(int exitCode, string output, string errorOutput, string? failure)
        {
            ExitCode = exitCode;
            Output = output;
            ErrorOutput = errorOutput;
            Failure = failure;
        }

        /// <summary>The exit code, when the command ran.</summary>
        public int ExitCode { get; }

        /// <summary>Standard output.</summary>
        public string Output { get; }

        /// <summary>Standard error.</summary>
        public string ErrorOutput { get; }

        /// <summary>Why the command did not run to its end, as "it could not be run: ..." or "it did not finish within 10 s"; null when it did.</summary>
        public string? Failure { get; }

        /// <summary>Whether it ran and exited with 0.</summary>
        public bool Succeeded => Failure is null && ExitCode == 0;

        public static CommandOutput Exited(int exitCode, string output, string errorOutput = "") => new CommandOutput(exitCode, output ?? string.Empty, errorOutput ?? string.Empty, null);

        public static CommandOutput Failed(string why) => new CommandOutput(-1, string.Empty, string.Empty, why);

        /// <summary>In a few words, why the output cannot be used: the failure, or the exit code and the first line the command printed.</summary>
        public string Problem()
        {
            if (Failure is not null)
            {
                return Failure;
            }

            string? line = FirstLine(ErrorOutput) ?? FirstLine(Output);
            return "exit code " + ExitCode.ToString(CultureInfo.InvariantCulture) + (line is null ? string.Empty : ": " + line);
        }

        /// <summary>The first line of <paramref name="text"/> that is not blank, trimmed and cut to 120 characters; null when there is none.</summary>
        public static string? FirstLine(string text)
        {
            foreach (string line in text.Split('\n'))
            {
                string trimmed = line.Trim();
                if (trimmed.Length > 0)
                {
                    return trimmed.Length > 120 ? trimmed.Substring(0, 120) + "..." : trimmed;
                }
            }

            return null;
        }
    }

    /// <summary>Runs a host command and collects what it prints, with a time limit; no logic beyond that.</summary>
    internal static class HostCommand
    {
        /// <summary>netsh and sysctl answer in well under a second; a host that takes this long has a problem worth a note.</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

        /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> (no shell), waiting at most <paramref name="timeout"/>.</summary>
        public static CommandOutput Run(string fileName, string arguments, TimeSpan timeout)
        {
            var start = new ProcessStartInfo(fileName, arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = false,
                CreateNoWindow = true,
            };

            try
            {
                using Process? process = Process.Start(start);
                if (process is null)
                {
                    return CommandOutput.Failed("it could not be started");
                }

                // Read both pipes while waiting, so a full pipe cannot stall the command.
                Task<string> output = process.StandardOutput.ReadToEndAsync();
                Task<string> error = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit((int)timeout.TotalMilliseconds))
                {
                    try
                    {
                        process.Kill();
                    }
                    catch (Exception exception) when (exception is InvalidOperationException or Win32Exception)
                    {
                        // It exited meanwhile.
                    }

                    return CommandOutput.Failed(string.Format(CultureInfo.InvariantCulture, "it did not finish within {0} s", timeout.TotalSeconds));
                }

                process.WaitForExit();
                return CommandOutput.Exited(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
            }
            catch (Exception exception) when (exception is Win32Exception or InvalidOperationException or IOException)
            {
                return CommandOutput.Failed("it could not be run: " + exception.Message.TrimEnd('.', ' '));
            }
        }
    }
}
