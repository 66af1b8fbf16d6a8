using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace PortTools.MacOS
{
    /// <summary>
    /// This macOS or FreeBSD host's port settings from <c>sysctl net.inet.ip.portrange
    /// net.inet.tcp.msl</c>, which prints one "name: value" line per variable under those nodes
    /// (XNU declares net.inet.ip.portrange.lowfirst, lowlast, first, last, hifirst and hilast in
    /// bsd/netinet/in_pcb.c and net.inet.tcp.msl, in milliseconds, in bsd/netinet/tcp_timer.c;
    /// FreeBSD adds reservedlow and reservedhigh). <see cref="SysctlPortSettings"/> parses the text.
    /// What cannot be read gets the documented default with one note naming it and why; when
    /// everything is read there are no notes. Running sysctl is thin; <see cref="Compose"/> is tested
    /// on its text.
    /// </summary>
    internal static class SysctlHostPortSettings
    {
        internal const string Arguments = "net.inet.ip.portrange net.inet.tcp.msl";

        public static HostPortSettings Read(TargetOS os)
        {
            // /usr/sbin/sysctl on macOS, /sbin/sysctl on FreeBSD; the PATH only when neither is there.
            string sysctl = File.Exists("/usr/sbin/sysctl") ? "/usr/sbin/sysctl" : File.Exists("/sbin/sysctl") ? "/sbin/sysctl" : "sysctl";
            return Compose(os, HostCommand.Run(sysctl, Arguments, HostCommand.Timeout), BsdLibC.geteuid() == 0);
        }

        /// <summary>Builds the settings from what sysctl printed.</summary>
        /// <param name="os">MacOS or FreeBSD.</param>
        /// <param name="sysctl">The output of <c>sysctl net.inet.ip.portrange net.inet.tcp.msl</c>.</param>
        /// <param name="isRoot">Whether this process runs as root, which may bind the privileged ports.</param>
        internal static HostPortSettings Compose(TargetOS os, CommandOutput sysctl, bool isRoot)
        {
            string name = OsBindText.Name(os);
            var notes = new List<string>();
            HostPortSettings settings;
            string? problem = sysctl.Failure;
            if (problem is null)
            {
                try
                {
                    settings = SysctlPortSettings.Parse(os, sysctl.Output, isRoot);
                }
                catch (FormatException exception)
                {
                    problem = exception.Message;
                    settings = SysctlPortSettings.FromValues(os, null, null, null, isRoot: isRoot);
                }
            }
            else
            {
                settings = SysctlPortSettings.FromValues(os, null, null, null, isRoot: isRoot);
            }

            HashSet<string> printed = problem is null ? Printed(sysctl.Output) : new HashSet<string>(StringComparer.Ordinal);
            if (problem is null && printed.Count == 0)
            {
                problem = sysctl.Succeeded ? "it printed none of the values" : sysctl.Problem();
            }

            (int first, int last) = HostPortSettings.DefaultRangeBounds(os);
            int msl = os == TargetOS.MacOS ? TimeWait.MacOSDefaultMslMilliseconds : TimeWait.FreeBSDDefaultMslMilliseconds;
            if (problem is not null)
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "The {0} port settings could not be read (sysctl: {1}); the documented defaults are shown: ephemeral ports {2}-{3} and TIME_WAIT {4} s{5}.", name, problem, first, last, TimeWait.FromMsl(msl), os == TargetOS.FreeBSD ? ", with ports 0-1023 reserved" : string.Empty));
                return Rebuild(settings, notes);
            }

            string? error = CommandOutput.FirstLine(sysctl.ErrorOutput);
            string Missing(string what) => "it printed no " + what + (error is null ? string.Empty : "; " + error);
            if (!printed.Contains("first") || !printed.Contains("last"))
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "The {0} ephemeral port range could not be read (sysctl: {1}); the documented default {2}-{3} is shown.", name, Missing("net.inet.ip.portrange.first and last"), first, last));
            }

            if (!printed.Contains("msl"))
            {
                notes.Add(string.Format(CultureInfo.InvariantCulture, "The {0} TCP maximum segment lifetime could not be read (sysctl: {1}); the documented default {2} ms is used, so TIME_WAIT lasts {3} s.", name, Missing("net.inet.tcp.msl"), msl, TimeWait.FromMsl(msl)));
            }

            if (os == TargetOS.FreeBSD && (!printed.Contains("reservedlow") || !printed.Contains("reservedhigh")))
            {
                notes.Add("The FreeBSD reserved ports could not be read (sysctl: " + Missing("net.inet.ip.portrange.reservedlow and reservedhigh") + "); the documented default 0-1023 is used.");
            }

            return Rebuild(settings, notes);
        }

        /// <summary>The settings with only the notes of what could not be read: the parser's own notes speak of values "not given", and its IP_PORTRANGE_HIGH remark is no failure.</summary>
        private static HostPortSettings Rebuild(HostPortSettings settings, List<string> notes) =>
            new HostPortSettings(settings.OS, settings.EphemeralRanges, settings.PrivilegedPorts, settings.PrivilegedPortsSource, settings.HasBindPrivilege, notes);

        /// <summary>Which of first, last, msl, reservedlow and reservedhigh the output has a line for.</summary>
        private static HashSet<string> Printed(string output)
        {
            var printed = new HashSet<string>(StringComparer.Ordinal);
            foreach (string raw in output.Split('\n'))
            {
                int separator = raw.IndexOfAny(new[] { ':', '=' });
                if (separator <= 0)
                {
                    continue;
                }

                switch (raw.Substring(0, separator).Trim())
                {
                    case "net.inet.ip.portrange.first":
                        printed.Add("first");
                        break;
                    case "net.inet.ip.portrange.last":
                        printed.Add("last");
                        break;
                    case "net.inet.ip.portrange.reservedlow":
                        printed.Add("reservedlow");
                        break;
                    case "net.inet.ip.portrange.reservedhigh":
                        printed.Add("reservedhigh");
                        break;
                    case "net.inet.tcp.msl":
                        printed.Add("msl");
                        break;
                }
            }

            return printed;
        }
    }
}
