using System;
using System.Globalization;
using System.Net;

namespace PortTools
{
    /// <summary>Whether binding a port needs privilege this process lacks, and a sentence saying why.</summary>
    public sealed class PrivilegeCheck
    {
        internal PrivilegeCheck(bool requiresPrivilege, string reason)
        {
            RequiresPrivilege = requiresPrivilege;
            Reason = reason;
        }

        /// <summary>True when the bind would fail for lack of privilege (or may, when the process's privilege is unknown).</summary>
        public bool RequiresPrivilege { get; }

        /// <summary>The rule that decided, with the host's numbers.</summary>
        public string Reason { get; }

        /// <inheritdoc/>
        public override string ToString() => Reason;
    }

    /// <summary>
    /// The privileged-port rule of each OS, a pure function of the port, the address and the host facts:
    /// <list type="bullet">
    /// <item><description>Linux: ports below net.ipv4.ip_unprivileged_port_start (default 1024) need CAP_NET_BIND_SERVICE, for any address (EACCES otherwise; kernel-rules 1D).</description></item>
    /// <item><description>FreeBSD: ports in net.inet.ip.portrange.reservedlow-reservedhigh (default 0-1023) need PRIV_NETINET_RESERVEDPORT, for any address, the wildcard included (kernel-rules 3A step 4).</description></item>
    /// <item><description>macOS: ports below 1024 need privilege only when the address is specific; wildcard binds are exempt (kernel-rules 4A step 6).</description></item>
    /// <item><description>Windows: no privileged ports (kernel-rules 2E, where it is marked UNVERIFIED); excluded ports are refused instead.</description></item>
    /// </list>
    /// Port 0 never needs privilege: it asks the OS for an ephemeral port.
    /// </summary>
    public static class PortPrivilege
    {
        /// <summary>Decides whether binding a port needs privilege on the host.</summary>
        /// <param name="port">The port, 0 to 65535.</param>
        /// <param name="bindAddress">The address to bind; null when not yet chosen (macOS then answers for a specific address and says so).</param>
        /// <param name="host">The host facts.</param>
        /// <returns>The decision and its reason.</returns>
        /// <exception cref="ArgumentOutOfRangeException">The port is not 0 to 65535; the message names it.</exception>
        public static PrivilegeCheck Check(int port, IPAddress? bindAddress, HostPortSettings host)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            PortCatalog.CheckPort(port);
            string p = port.ToString(CultureInfo.InvariantCulture);
            if (port == 0)
            {
                return new PrivilegeCheck(false, "Port 0 is never privileged: the OS picks an ephemeral port.");
            }

            if (host.OS == TargetOS.Windows)
            {
                return new PrivilegeCheck(false, "Windows has no privileged ports: any process may bind " + p + ", unless the port is excluded (then bind fails with WSAEACCES).");
            }

            PortRange? privileged = host.PrivilegedPorts;
            if (privileged is not PortRange range || !range.Contains(port))
            {
                return new PrivilegeCheck(false, "Port " + p + " is not privileged on this host (" + host.PrivilegedPortsSource + "): any process may bind it.");
            }

            if (host.OS == TargetOS.MacOS && bindAddress is not null && IPAddressText.IsWildcard(bindAddress))
            {
                return new PrivilegeCheck(false, "Port " + p + " is below 1024, but macOS exempts wildcard binds: any process may bind " + IPAddressText.FormatEndpoint(bindAddress, port) + ".");
            }

            string rule = host.OS switch
            {
                TargetOS.Linux => "Port " + p + " is privileged on this host (" + host.PrivilegedPortsSource + "), so binding it needs CAP_NET_BIND_SERVICE",
                TargetOS.FreeBSD => "Port " + p + " is a reserved port (" + host.PrivilegedPortsSource + "), so binding it needs root (PRIV_NETINET_RESERVEDPORT) for any address, the wildcard included",
                _ => "Port " + p + " is below 1024, so on macOS binding it to a specific address needs root",
            };
            string privilege = host.OS == TargetOS.Linux ? "CAP_NET_BIND_SERVICE" : "root";
            string state = host.HasBindPrivilege switch
            {
                true => host.OS == TargetOS.Linux ? "this process has CAP_NET_BIND_SERVICE" : "this process runs as root",
                false => (host.OS == TargetOS.Linux ? "this process lacks CAP_NET_BIND_SERVICE" : "this process does not run as root") + ", so bind fails with EACCES",
                _ => "whether this process has " + privilege + " is unknown",
            };
            string wildcard = host.OS == TargetOS.MacOS ? " Binding 0.0.0.0 or :: needs no privilege." : string.Empty;
            return new PrivilegeCheck(host.HasBindPrivilege != true, rule + "; " + state + "." + wildcard);
        }
    }
}
