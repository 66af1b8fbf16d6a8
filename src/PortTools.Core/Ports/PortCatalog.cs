using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// Answers "what is this port" for a host: joins the service table with the host's port settings
    /// into <see cref="PortInfo"/> results, by port or by service name. Pure once built; build it with
    /// <see cref="ForThisHost"/> or from values for another host.
    /// </summary>
    public sealed class PortCatalog
    {
        private static readonly TransportProtocol[] s_protocols = { TransportProtocol.Tcp, TransportProtocol.Udp };

        /// <summary>Creates a catalog from a service table and host facts.</summary>
        /// <param name="services">The service table, such as <see cref="ServiceTable.Embedded"/> merged with a host's file.</param>
        /// <param name="host">The host's port settings.</param>
        /// <param name="notes">What could not be read while building them.</param>
        public PortCatalog(ServiceTable services, HostPortSettings host, IEnumerable<string>? notes = null)
        {
            Services = services ?? throw new ArgumentNullException(nameof(services));
            Host = host ?? throw new ArgumentNullException(nameof(host));
            Notes = host.Notes.Concat(notes ?? Array.Empty<string>()).ToArray();
        }

        /// <summary>The service table.</summary>
        public ServiceTable Services { get; }

        /// <summary>The host facts.</summary>
        public HostPortSettings Host { get; }

        /// <summary>What was defaulted or skipped while reading the host, to tell the user once.</summary>
        public IReadOnlyList<string> Notes { get; }

        /// <summary>
        /// The catalog of this host: the embedded table merged with the host's services file (when it
        /// exists) and the host's port settings (<see cref="HostPortSettings.ReadCurrent"/>).
        /// </summary>
        /// <param name="servicesFile">The services file to merge; null for the OS's usual place.</param>
        /// <returns>The catalog.</returns>
        public static PortCatalog ForThisHost(string? servicesFile = null) => ForHost(HostPortSettings.ReadCurrent(), servicesFile);

        /// <summary>
        /// The catalog of a host whose port settings were read elsewhere (a network namespace's,
        /// <see cref="HostPortSettings.Read(string)"/>): the embedded table merged with this host's
        /// services file, which a namespace shares.
        /// </summary>
        /// <param name="host">The port settings.</param>
        /// <param name="servicesFile">The services file to merge; null for the OS's usual place.</param>
        /// <returns>The catalog.</returns>
        public static PortCatalog ForHost(HostPortSettings host, string? servicesFile = null)
        {
            if (host is null)
            {
                throw new ArgumentNullException(nameof(host));
            }

            string path = servicesFile ?? HostServicesFile.DefaultPath(host.OS);
            var notes = new List<string>();
            ServiceTable services = ServiceTable.Embedded;
            try
            {
                HostServicesFile file = HostServicesFile.Read(path);
                services = services.Merge(file);
                notes.AddRange(file.Warnings);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                notes.Add("The services file " + path + " could not be read (" + (e is FileNotFoundException || e is DirectoryNotFoundException ? "no such file" : e.Message) + "); only the embedded table is used.");
            }

            return new PortCatalog(services, host, notes);
        }

        /// <summary>
        /// The user whose privilege PortInfo.CallerMayBind is judged for; null for this process (the host
        /// settings' HasBindPrivilege). Root (0) is privileged, any other user unprivileged.
        /// </summary>
        public long? UserId { get; set; }

        /// <summary>Describes one port and protocol.</summary>
        /// <param name="port">The port, 0 to 65535.</param>
        /// <param name="protocol">TCP or UDP.</param>
        /// <returns>The description.</returns>
        /// <exception cref="ArgumentOutOfRangeException">The port is not 0 to 65535; the message names it.</exception>
        public PortInfo Describe(int port, TransportProtocol protocol)
        {
            CheckPort(port);
            ServiceAssignment? service = Services.Find(port, protocol);
            PrivilegeCheck privilege = PortPrivilege.Check(port, null, Host, UserId);
            var notes = new List<string>();
            bool inRange = false;
            ReservedPortRange? reservation = null;
            foreach (EphemeralPortRange range in Host.EphemeralRanges)
            {
                if (range.Protocol != protocol)
                {
                    continue;
                }

                inRange |= range.Contains(port);
                reservation ??= range.FindReservation(port);
            }

            if (port == 0)
            {
                EphemeralPortRange range = Host.GetEphemeralRange(protocol, AddressFamily.InterNetwork);
                notes.Add(string.Format(CultureInfo.InvariantCulture, "Port 0 asks the OS to pick an ephemeral port: on this host one from {0}-{1} ({2:N0} usable).", range.Start, range.End, range.UsableCount));
            }

            if (service?.Note is string serviceNote)
            {
                notes.Add(serviceNote.EndsWith(".", StringComparison.Ordinal) ? serviceNote : serviceNote + ".");
            }

            if (reservation is not null)
            {
                notes.Add(ReservationNote(reservation));
            }

            if (inRange && reservation is null && port != 0)
            {
                notes.Add("It lies in this host's ephemeral range: outgoing connections may take it, so a service that listens on it can fail to start while it is taken.");
            }

            return new PortInfo(port, protocol, service, Classify(port), privilege, inRange, reservation is not null, notes.Count == 0 ? null : string.Join(" ", notes), Host.OS);
        }

        /// <summary>Describes every port of a range, in order, for one protocol or both (TCP first).</summary>
        /// <param name="ports">The ports.</param>
        /// <param name="protocol">TCP or UDP; null for both.</param>
        /// <returns>One description per port and protocol, computed as enumerated.</returns>
        public IEnumerable<PortInfo> Describe(PortRange ports, TransportProtocol? protocol = null)
        {
            for (int port = ports.Start; port <= ports.End; port++)
            {
                foreach (TransportProtocol candidate in s_protocols)
                {
                    if (protocol is null || protocol == candidate)
                    {
                        yield return Describe(port, candidate);
                    }
                }
            }
        }

        /// <summary>The ports of the services a name or pattern matches (names and aliases, case-insensitively).</summary>
        /// <param name="service">The name, or the pattern as the user typed it (for the error message).</param>
        /// <param name="matcher">Decides for each name, such as a PowerShell WildcardPattern's IsMatch; null to compare <paramref name="service"/> exactly.</param>
        /// <param name="protocol">TCP or UDP; null for both.</param>
        /// <returns>The descriptions, by port then protocol.</returns>
        /// <exception cref="UnknownServiceException">Nothing matches; the message names the service.</exception>
        public IReadOnlyList<PortInfo> FindService(string service, Func<string, bool>? matcher = null, TransportProtocol? protocol = null) =>
            TryFindService(service, matcher, protocol, out IReadOnlyList<PortInfo>? found) ? found : throw new UnknownServiceException(service ?? string.Empty, UnknownMessage(service ?? string.Empty, protocol));

        /// <summary>The ports of the services a name or pattern matches.</summary>
        /// <param name="service">The name or pattern.</param>
        /// <param name="matcher">Decides for each name; null to compare <paramref name="service"/> exactly.</param>
        /// <param name="protocol">TCP or UDP; null for both.</param>
        /// <param name="found">The descriptions, when any match.</param>
        /// <returns>Whether anything matched.</returns>
        public bool TryFindService(string service, Func<string, bool>? matcher, TransportProtocol? protocol, [NotNullWhen(true)] out IReadOnlyList<PortInfo>? found)
        {
            found = null;
            if (string.IsNullOrWhiteSpace(service) && matcher is null)
            {
                return false;
            }

            IReadOnlyList<ServiceAssignment> assignments = matcher is null ? Services.FindByName(service.Trim()) : Services.FindByName(matcher);
            var results = new List<PortInfo>(assignments.Count);
            foreach (ServiceAssignment assignment in assignments)
            {
                if (protocol is null || assignment.Protocol == protocol)
                {
                    results.Add(Describe(assignment.Port, assignment.Protocol));
                }
            }

            if (results.Count == 0)
            {
                return false;
            }

            found = results;
            return true;
        }

        /// <summary>The class of a port under RFC 6335.</summary>
        /// <param name="port">The port, 0 to 65535.</param>
        /// <returns>WellKnown, Registered or Dynamic.</returns>
        /// <exception cref="ArgumentOutOfRangeException">The port is not 0 to 65535; the message names it.</exception>
        public static PortClass Classify(int port)
        {
            CheckPort(port);
            return port <= 1023 ? PortClass.WellKnown : port <= 49151 ? PortClass.Registered : PortClass.Dynamic;
        }

        internal static void CheckPort(int port)
        {
            if (port < PortRange.MinPort || port > PortRange.MaxPort)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, "Port " + port.ToString(CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.");
            }
        }

        private string UnknownMessage(string service, TransportProtocol? protocol) => string.Format(
            CultureInfo.InvariantCulture,
            "Unknown service '{0}': no service name or alias{1} in the service table ({2}) matches it.",
            service,
            protocol is null ? string.Empty : " for " + (protocol == TransportProtocol.Tcp ? "tcp" : "udp"),
            string.Join(", ", Services.Sources));

        private string ReservationNote(ReservedPortRange reservation)
        {
            string ports = reservation.Ports.ToString();
            if (Host.OS == TargetOS.Windows)
            {
                return reservation.Administered
                    ? "It is in an administered excluded port range (" + ports + ", added with netsh add excludedportrange): Windows never hands it out as an ephemeral port."
                    : "It is in an excluded port range (" + ports + ") that Windows reserved at run time, usually for Hyper-V, WinNAT, WSL or Docker: Windows never hands it out, and binding it fails with WSAEACCES (10013).";
            }

            return "It is in net.ipv4.ip_local_reserved_ports (" + ports + "): the kernel never picks it as an ephemeral port, but an explicit bind to it works.";
        }
    }
}
