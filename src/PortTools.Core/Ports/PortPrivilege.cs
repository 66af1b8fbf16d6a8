using System;
using System.Globalization;
using System.Net;

namespace PortTools
{
    /// <summary>Whether binding a port needs privilege this process lacks, and a sentence saying why.</summary>
    public sealed class PrivilegeCheck
    {
        internal PrivilegeCheck(bool privileged, bool? callerMayBind, string reason)
        {
            Privileged = privileged;
            CallerMayBind = privileged ? callerMayBind : true;
            Reason = reason;
        }

        /// <summary>Whether the port is privileged on the host, whoever asks: binding it needs CAP_NET_BIND_SERVICE (Linux) or root (BSDs).</summary>
        public bool Privileged { get; }

        /// <summary>Whether the caller's privilege allows the bind: true for a port that is not privileged; null when the caller's privilege is unknown.</summary>
        public bool? CallerMayBind { get; }

        /// <summary>True when the bind would fail for lack of privilege (or may, when the caller's privilege is unknown).</summary>
        public bool RequiresPrivilege => CallerMayBind != true;

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
        public static PrivilegeCheck Check(int port, IPAddress? bindAddress, HostPortSettings host) => Check(port, bindAddress, host, null);

        /// <summary>Decides whether binding a port needs privilege on the host, for this process or for another user.</summary>
        /// <param name="port">The port, 0 to 65535.</param>
        /// <param name="bindAddress">The address to bind; null when not yet chosen.</param>
        /// <param name="host">The host facts.</param>
        /// <param name="userId">The user who binds; null for this process (the host's HasBindPrivilege). Root (0) is privileged; any other user is taken as unprivileged, as Test-PortBind -UserId does.</param>
        /// <returns>The decision and its reason.</returns>
        public static PrivilegeCheck Check(int port, IPAddress? bindAddress, HostPortSettings host, long? userId)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            PortCatalog.CheckPort(port);
            string p = port.ToString(CultureInfo.InvariantCulture);
            if (port == 0)
            {
                return new PrivilegeCheck(false, true, "Port 0 is never privileged: the OS picks an ephemeral port.");
            }

            if (host.OS == TargetOS.Windows)
            {
                return new PrivilegeCheck(false, true, "Windows has no privileged ports: any process may bind " + p + ", unless the port is excluded (then bind fails with WSAEACCES).");
            }

            PortRange? privileged = host.PrivilegedPorts;
            if (privileged is not PortRange range || !range.Contains(port))
            {
                return new PrivilegeCheck(false, true, "Port " + p + " is not privileged on this host (" + host.PrivilegedPortsSource + "): any process may bind it.");
            }

            if (host.OS == TargetOS.MacOS && bindAddress is not null && IPAddressText.IsWildcard(bindAddress))
            {
                return new PrivilegeCheck(false, true, "Port " + p + " is below 1024, but macOS exempts wildcard binds: any process may bind " + IPAddressText.FormatEndpoint(bindAddress, port) + ".");
            }

            string rule = host.OS switch
            {
                TargetOS.Linux => "Port " + p + " is privileged on this host (" + host.PrivilegedPortsSource + "), so binding it needs CAP_NET_BIND_SERVICE",
                TargetOS.FreeBSD => "Port " + p + " is a reserved port (" + host.PrivilegedPortsSource + "), so binding it needs root (PRIV_NETINET_RESERVEDPORT) for any address, the wildcard included",
                _ => "Port " + p + " is below 1024, so on macOS binding it to a specific address needs root",
            };
            string privilege = host.OS == TargetOS.Linux ? "CAP_NET_BIND_SERVICE" : "root";
            string who = userId is long uid ? "user " + uid.ToString(CultureInfo.InvariantCulture) : "this process";
            bool? callerPrivilege = userId is long user ? user == 0 : host.HasBindPrivilege;
            string state = callerPrivilege switch
            {
                true when userId is not null => who + " is root",
                true => host.OS == TargetOS.Linux ? who + " has CAP_NET_BIND_SERVICE" : who + " runs as root",
                false when userId is not null => who + " is not root (taken as unprivileged), so bind fails with EACCES unless it is granted " + privilege,
                false => (host.OS == TargetOS.Linux ? who + " lacks CAP_NET_BIND_SERVICE" : who + " does not run as root") + ", so bind fails with EACCES",
                _ => "whether " + who + " has " + privilege + " is unknown",
            };
            string wildcard = host.OS == TargetOS.MacOS ? " Binding 0.0.0.0 or :: needs no privilege." : string.Empty;
            return new PrivilegeCheck(true, callerPrivilege, rule + "; " + state + "." + wildcard);
        }
    }
}
