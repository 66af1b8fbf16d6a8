using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortTools
{
    /// <summary>This host's facts as the rule engines take them, with notes on what could not be read.</summary>
    public sealed class HostFactsReading
    {
        internal HostFactsReading(HostFacts facts, IReadOnlyList<string> notes)
        {
            Facts = facts;
            Notes = notes;
        }

        /// <summary>The facts.</summary>
        public HostFacts Facts { get; }

        /// <summary>What was defaulted and why; say it once to the user.</summary>
        public IReadOnlyList<string> Notes { get; }
    }

    /// <summary>Reads this host's facts: interfaces and addresses, port settings, user and privilege.</summary>
    public static class LiveHost
    {
        /// <summary>Reads the facts of the host this process runs on.</summary>
        /// <returns>The facts and notes.</returns>
        public static HostFactsReading ReadFacts()
        {
            TargetOS os = TargetOSInfo.Current;
            var notes = new List<string>();
            var interfaces = new List<KeyValuePair<string, IEnumerable<IPAddress>>>();
            var broadcasts = new List<IPAddress>();
            try
            {
                foreach (NetworkInterface adapter in NetworkInterface.GetAllNetworkInterfaces())
                {
                    var addresses = new List<IPAddress>();
                    foreach (UnicastIPAddressInformation unicast in adapter.GetIPProperties().UnicastAddresses)
                    {
                        addresses.Add(unicast.Address);
                        IPAddress? broadcast = Broadcast(unicast);
                        if (broadcast is not null)
                        {
                            broadcasts.Add(broadcast);
                        }
                    }

                    interfaces.Add(new KeyValuePair<string, IEnumerable<IPAddress>>(adapter.Name, addresses));
                }
            }
            catch (NetworkInformationException exception)
            {
                notes.Add("The host's interfaces could not be listed (" + exception.Message + "); only loopback addresses are taken as local.");
                interfaces.Clear();
                interfaces.Add(new KeyValuePair<string, IEnumerable<IPAddress>>(os == TargetOS.Windows ? "Loopback Pseudo-Interface 1" : "lo", new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }));
            }

            HostPortSettings ports = HostPortSettings.ReadCurrent();
            notes.AddRange(ports.Notes);
            EphemeralPortRange tcp4 = ports.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            bool unix = !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            long uid = unix ? Linux.LibC.geteuid() : 0;
            var facts = new HostFacts(os, broadcastAddresses: broadcasts, interfaceAddresses: interfaces)
            {
                EphemeralPortRange = new PortRange(tcp4.Start, tcp4.End),
                ReservedPorts = tcp4.Reserved.Select(r => r.Ports).ToArray(),
                UnprivilegedPortStart = ports.PrivilegedPorts is PortRange privileged ? privileged.End + 1 : 0,
                Privileged = ports.HasBindPrivilege ?? (uid == 0),
                UserId = uid,
                BindV6Only = os == TargetOS.Linux ? ReadFlag("/proc/sys/net/ipv6/bindv6only", notes) : os != TargetOS.MacOS,
                NonLocalBind = os == TargetOS.Linux && ReadFlag("/proc/sys/net/ipv4/ip_nonlocal_bind", notes),
                NonLocalBindV6 = os == TargetOS.Linux && ReadFlag("/proc/sys/net/ipv6/ip_nonlocal_bind", notes),
                TcpTwReuse = os == TargetOS.Linux ? ReadNumber("/proc/sys/net/ipv4/tcp_tw_reuse", 2, notes) : 0,
                TcpTwReuseDelay = os == TargetOS.Linux ? ReadNumber("/proc/sys/net/ipv4/tcp_tw_reuse_delay", 1000, notes, missingIsDefault: true) : 0,
                AutobindReuse = os == TargetOS.Linux && ReadNumber("/proc/sys/net/ipv4/ip_autobind_reuse", 0, notes) == 1,
                TcpTimestamps = os == TargetOS.Linux ? ReadNumber("/proc/sys/net/ipv4/tcp_timestamps", 1, notes) : 1,
            };
            return new HostFactsReading(facts, notes);
        }

        /// <summary>The IPv4 subnet broadcast of an interface address (none for /31 and /32).</summary>
        private static IPAddress? Broadcast(UnicastIPAddressInformation unicast)
        {
            if (unicast.Address.AddressFamily != AddressFamily.InterNetwork || unicast.IPv4Mask is null)
            {
                return null;
            }

            byte[] address = unicast.Address.GetAddressBytes();
            byte[] mask = unicast.IPv4Mask.GetAddressBytes();
            if (mask.Length != 4 || mask.All(b => b == 0xFF) || (mask[3] == 0xFE && mask[0] == 0xFF && mask[1] == 0xFF && mask[2] == 0xFF))
            {
                return null;
            }

            for (int i = 0; i < 4; i++)
            {
                address[i] |= (byte)~mask[i];
            }

            return new IPAddress(address);
        }

        private static int ReadNumber(string path, int fallback, List<string> notes, bool missingIsDefault = false)
        {
            try
            {
                return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;
            }
            catch (FileNotFoundException) when (missingIsDefault)
            {
                return fallback; // an older kernel without the setting behaves as its default
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                notes.Add(path + " could not be read (" + exception.Message + "); taken as " + fallback.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
                return fallback;
            }
        }

        private static bool ReadFlag(string path, List<string> notes)
        {
            try
            {
                return File.ReadAllText(path).Trim() == "1";
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                notes.Add(path + " could not be read (" + exception.Message + "); taken as 0.");
                return false;
            }
        }
    }
}
