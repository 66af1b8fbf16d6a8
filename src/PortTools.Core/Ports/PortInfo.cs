using System;
using System.Collections.Generic;
using System.Globalization;

namespace PortTools
{
    /// <summary>What PortTools knows of one port and protocol on a host: its service, class, privilege and place in the ephemeral range.</summary>
    public sealed class PortInfo
    {
        internal PortInfo(
            int port,
            TransportProtocol protocol,
            ServiceAssignment? service,
            PortClass portClass,
            PrivilegeCheck privilege,
            bool inEphemeralRange,
            bool isReserved,
            string? note,
            TargetOS os)
        {
            Port = port;
            Protocol = protocol;
            ServiceNames = TextList<string>.From(service?.Names);
            Description = service?.Description;
            ServiceSources = TextList<string>.From(service?.Sources);
            Class = portClass;
            Privileged = privilege.Privileged;
            CallerMayBind = privilege.CallerMayBind;
            RequiresPrivilege = privilege.RequiresPrivilege;
            PrivilegeReason = privilege.Reason;
            InEphemeralRange = inEphemeralRange;
            IsReserved = isReserved;
            Note = note;
            OS = os;
        }

        /// <summary>The port.</summary>
        public int Port { get; }

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; }

        /// <summary>The usual service name, or null when none is known.</summary>
        public string? ServiceName => ServiceNames.Count > 0 ? ServiceNames[0] : null;

        /// <summary>Every known name: IANA's first, then the host's services file's; empty when none.</summary>
        public IReadOnlyList<string> ServiceNames { get; }

        /// <summary>A short description of the service, or null.</summary>
        public string? Description { get; }

        /// <summary>Where the names came from: "IANA" (the embedded table) and/or the services file's path.</summary>
        public IReadOnlyList<string> ServiceSources { get; }

        /// <summary>WellKnown (0-1023), Registered (1024-49151) or Dynamic (49152-65535).</summary>
        public PortClass Class { get; }

        /// <summary>
        /// Whether the port is privileged on the host, whoever asks (Linux: below ip_unprivileged_port_start;
        /// FreeBSD: in the reserved range; macOS: below 1024, for specific addresses). See <see cref="PrivilegeReason"/>.
        /// </summary>
        public bool Privileged { get; }

        /// <summary>
        /// Whether the caller (this process, or the user Get-PortInfo -UserId names) may bind it as far as
        /// privilege goes: true for a port that is not privileged; null when the caller's privilege is unknown.
        /// Other sockets may still hold the port: Test-PortBind answers that.
        /// </summary>
        public bool? CallerMayBind { get; }

        /// <summary>Whether binding the port needs privilege the caller lacks or may lack: Privileged and CallerMayBind not true.</summary>
        public bool RequiresPrivilege { get; }

        /// <summary>The privileged-port rule of the OS, with the host's numbers.</summary>
        public string PrivilegeReason { get; }

        /// <summary>Whether the port lies in the host's ephemeral range for the protocol (either family).</summary>
        public bool InEphemeralRange { get; }

        /// <summary>Whether the port is reserved (Linux ip_local_reserved_ports) or excluded (Windows excluded port ranges).</summary>
        public bool IsReserved { get; }

        /// <summary>Anything else worth saying: what port 0 means, a common unregistered use, what a reservation does, a clash with the ephemeral range.</summary>
        public string? Note { get; }

        /// <summary>The OS whose rules were applied.</summary>
        public TargetOS OS { get; }

        /// <summary>"443/tcp https".</summary>
        public override string ToString() =>
            Port.ToString(CultureInfo.InvariantCulture) + "/" + (Protocol == TransportProtocol.Tcp ? "tcp" : "udp") + (ServiceName is null ? string.Empty : " " + ServiceName);
    }
}
