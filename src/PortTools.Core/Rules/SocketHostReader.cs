using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading;
using PortTools.Linux;

namespace PortTools
{
    /// <summary>
    /// Reads a <see cref="SocketHost"/>: the one place PortTools reads the facts of a host or a
    /// network namespace. On Linux everything that belongs to the namespace (interfaces, addresses,
    /// sysctls) is read on a thread inside it; elsewhere from the host's own sources.
    /// </summary>
    internal static class SocketHostReader
    {
        private const string Ipv4 = "proc/sys/net/ipv4/";
        private const string Ipv6 = "proc/sys/net/ipv6/";

        public static SocketHost Read(string? networkNamespace, CancellationToken cancellationToken)
        {
            TargetOS os = TargetOSInfo.Current;
            if (os == TargetOS.Linux)
            {
                return ReadLinux(networkNamespace is null ? NetworkNamespace.Own() : NetworkNamespace.Resolve(networkNamespace));
            }

            if (networkNamespace is not null)
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; -NetworkNamespace cannot be used on " + System.Runtime.InteropServices.RuntimeInformation.OSDescription + ".");
            }

            cancellationToken.ThrowIfCancellationRequested();
            return ReadOther(os);
        }

        /// <summary>The facts of a namespace this process read a table from; null, with a note, when it is gone or cannot be entered.</summary>
        public static SocketHost? Read(NetworkNamespaceInfo origin, ICollection<string>? notes, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                SocketHost host = ReadLinux(NetworkNamespace.Reopen(origin));
                foreach (string note in host.Notes)
                {
                    notes?.Add(note);
                }

                return host;
            }
            catch (NetworkNamespaceException exception)
            {
                notes?.Add(exception.Message + " The host facts of the socket table are taken as unknown.");
                return null;
            }
        }

        private static SocketHost ReadLinux(NetworkNamespace space)
        {
            var notes = new List<string>();
            bool own = space.Path == NetworkNamespace.OwnNamespaceFile;
            string where = own ? string.Empty : " (network namespace " + space.Specification + ")";
            SocketHost host = space.Run(() => ReadLinuxHere(where, notes));
            NetworkNamespaceInfo identity = space.Identify();
            return new SocketHost
            {
                ComputerName = host.ComputerName,
                OS = TargetOS.Linux,
                NetworkNamespace = identity,
                Addresses = host.Addresses,
                Interfaces = host.Interfaces,
                EphemeralPortRange = host.EphemeralPortRange,
                UnprivilegedPortStart = host.UnprivilegedPortStart,
                ReservedPorts = host.ReservedPorts,
                NonLocalBind = host.NonLocalBind,
                NonLocalBindV6 = host.NonLocalBindV6,
                BindV6Only = host.BindV6Only,
                TcpTwReuse = host.TcpTwReuse,
                TcpTwReuseDelay = host.TcpTwReuseDelay,
                AutobindReuse = host.AutobindReuse,
                TcpTimeWaitSeconds = TimeWait.LinuxSeconds,
                UserId = host.UserId,
                Privileged = host.Privileged,
                Notes = notes,
            };
        }

        /// <summary>Reads everything that belongs to the calling thread's namespace: run it on a thread inside it.</summary>
        private static SocketHost ReadLinuxHere(string where, List<string> notes)
        {
            IReadOnlyList<HostAddress>? addresses = null;
            IReadOnlyList<string>? interfaces = null;
            try
            {
                (SortedDictionary<int, string> links, List<HostAddress> found) = RouteNetlink.Read();
                addresses = found;
                interfaces = links.Values.ToArray();
            }
            catch (System.IO.IOException exception)
            {
                notes.Add(exception.Message.TrimEnd('.') + where + "; the addresses and interfaces are taken as unknown.");
            }

            LinuxPortValues ports = LinuxPortSettings.ReadValues("/", where);
            AddNote(notes, ports.Range is null, "Could not read " + ports.RangeSource + " (" + ports.RangeError + "); the ephemeral port range is taken as unknown.");
            AddNote(notes, ports.Reserved is null, "Could not read " + ports.ReservedSource + " (" + ports.ReservedError + "); the reserved ports are taken as unknown.");
            AddNote(notes, ports.UnprivilegedPortStart is null, "Could not read " + ports.UnprivilegedPortStartSource + " (" + ports.UnprivilegedPortStartError + "); ip_unprivileged_port_start is taken as unknown.");
            AddNote(notes, ports.HasBindCapability is null, "Could not read CapEff from " + ports.StatusSource + " (" + ports.StatusError + "); whether this process has CAP_NET_BIND_SERVICE is unknown.");
            uint uid = LibC.geteuid();
            return new SocketHost
            {
                ComputerName = Environment.MachineName,
                Addresses = addresses,
                Interfaces = interfaces,
                EphemeralPortRange = ports.Range,
                UnprivilegedPortStart = ports.UnprivilegedPortStart,
                ReservedPorts = ports.Reserved,
                NonLocalBind = Flag(LinuxPortSettings.ReadSysctl("/", Ipv4 + "ip_nonlocal_bind", null, notes, where)),
                NonLocalBindV6 = Flag(LinuxPortSettings.ReadSysctl("/", Ipv6 + "ip_nonlocal_bind", null, notes, where)),
                BindV6Only = Flag(LinuxPortSettings.ReadSysctl("/", Ipv6 + "bindv6only", null, notes, where)),
                TcpTwReuse = LinuxPortSettings.ReadSysctl("/", Ipv4 + "tcp_tw_reuse", null, notes, where),
                TcpTwReuseDelay = LinuxPortSettings.ReadSysctl("/", Ipv4 + "tcp_tw_reuse_delay", 1000, notes, where), // before 6.14: a fixed second
                AutobindReuse = Flag(LinuxPortSettings.ReadSysctl("/", Ipv4 + "ip_autobind_reuse", 0, notes, where)), // before 5.7: off
                UserId = uid,
                Privileged = ports.HasBindCapability,
            };
        }

        private static bool? Flag(int? value) => value is int number ? number != 0 : null;

        private static void AddNote(List<string> notes, bool when, string note)
        {
            if (when)
            {
                notes.Add(note);
            }
        }

        /// <summary>Windows and macOS: interfaces through NetworkInterface, ports through HostPortSettings.</summary>
        private static SocketHost ReadOther(TargetOS os)
        {
            var notes = new List<string>();
            List<HostAddress>? addresses = new List<HostAddress>();
            List<string>? interfaces = new List<string>();
            try
            {
                foreach (NetworkInterface adapter in NetworkInterface.GetAllNetworkInterfaces())
                {
                    interfaces.Add(adapter.Name);
                    foreach (UnicastIPAddressInformation unicast in adapter.GetIPProperties().UnicastAddresses)
                    {
                        addresses.Add(new HostAddress(unicast.Address, PrefixLength(unicast), adapter.Name, Broadcast(unicast)));
                    }
                }
            }
            catch (NetworkInformationException exception)
            {
                notes.Add("The host's interfaces could not be listed (" + exception.Message + "); its addresses and interfaces are taken as unknown.");
                addresses = null;
                interfaces = null;
            }

            HostPortSettings ports = HostPortSettings.ReadCurrent();
            notes.AddRange(ports.Notes);
            EphemeralPortRange tcp4 = ports.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            bool unix = os != TargetOS.Windows;
            long? uid = unix ? LibC.geteuid() : null;
            return new SocketHost
            {
                ComputerName = Environment.MachineName,
                OS = os,
                Addresses = addresses,
                Interfaces = interfaces,
                EphemeralPortRange = tcp4.Ports,
                UnprivilegedPortStart = ports.PrivilegedPorts is PortRange privileged ? privileged.End + 1 : 0,
                ReservedPorts = tcp4.Reserved.Select(r => r.Ports).ToArray(),
                BindV6Only = os == TargetOS.Windows ? true : null, // Windows sets IPV6_V6ONLY on every new socket; the BSDs' sysctl is not read
                TcpTimeWaitSeconds = tcp4.TimeWaitSeconds,
                UserId = uid,
                Privileged = os == TargetOS.Windows ? null : ports.HasBindPrivilege ?? (uid == 0),
                Notes = notes,
            };
        }

        private static int? PrefixLength(UnicastIPAddressInformation unicast)
        {
            try
            {
                return unicast.PrefixLength;
            }
            catch (PlatformNotSupportedException)
            {
                return null;
            }
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
    }
}
