using System;
using System.Collections.Generic;

namespace PortTools
{
    /// <summary>
    /// What to read from a live socket table, and which sockets to keep. Every filter is applied in
    /// the reader, on the raw records, before any SocketTuple is built. Filters combine with AND;
    /// the values of one filter combine with OR.
    /// </summary>
    public sealed class SocketQuery
    {
        /// <summary>Protocols to read; null or empty for all.</summary>
        public IReadOnlyCollection<TransportProtocol>? Protocols { get; set; }

        /// <summary>States to keep; null or empty for all.</summary>
        public IReadOnlyCollection<SocketState>? States { get; set; }

        /// <summary>Keep only listening TCP sockets and unconnected UDP sockets (ss -l).</summary>
        public bool ListeningOnly { get; set; }

        /// <summary>
        /// Exposures to keep; null or empty for all. Only listening TCP and unconnected UDP sockets
        /// have an exposure, so setting this keeps only those.
        /// </summary>
        public IReadOnlyCollection<Exposure>? Exposures { get; set; }

        /// <summary>Local addresses or prefixes to keep.</summary>
        public IReadOnlyList<AddressPrefix>? LocalAddresses { get; set; }

        /// <summary>Remote addresses or prefixes to keep.</summary>
        public IReadOnlyList<AddressPrefix>? RemoteAddresses { get; set; }

        /// <summary>Local ports or ranges to keep.</summary>
        public IReadOnlyList<PortRange>? LocalPorts { get; set; }

        /// <summary>Remote ports or ranges to keep.</summary>
        public IReadOnlyList<PortRange>? RemotePorts { get; set; }

        /// <summary>Keep sockets held by one of these processes.</summary>
        public IReadOnlyCollection<int>? ProcessIds { get; set; }

        /// <summary>Keep sockets held by a process whose name matches (the caller supplies the matcher, such as a wildcard pattern).</summary>
        public Func<string, bool>? ProcessNameMatch { get; set; }

        /// <summary>Map sockets to their owning processes. The most expensive step on Linux; off skips it.</summary>
        public bool IncludeProcesses { get; set; } = true;

        /// <summary>
        /// Read SO_REUSEADDR and SO_REUSEPORT of listening, bound and unconnected sockets from their
        /// owners (Linux, through pidfd_getfd). Needs the owners: off when <see cref="IncludeProcesses"/> is.
        /// </summary>
        public bool ReadSocketOptions { get; set; } = true;

        /// <summary>Read another network namespace (Linux): a name from /run/netns, a path to a namespace file, or a process id.</summary>
        public string? NetworkNamespace { get; set; }

        /// <summary>Read every network namespace of the host, each once, and stamp each socket with its namespace and container (Linux; root sees them all).</summary>
        public bool AllNetworkNamespaces { get; set; }

        internal bool NeedsProcesses => IncludeProcesses || ProcessIds is { Count: > 0 } || ProcessNameMatch is not null;

        internal bool NeedsSocketOptions => ReadSocketOptions && IncludeProcesses;

        internal bool HasProcessFilter => ProcessIds is { Count: > 0 } || ProcessNameMatch is not null;

        internal bool Wants(TransportProtocol protocol) => Protocols is not { Count: > 0 } || Contains(Protocols, protocol);

        internal bool WantsState(TransportProtocol protocol, SocketState state)
        {
            if (ListeningOnly && state != SocketState.Listen && !(protocol == TransportProtocol.Udp && state == SocketState.Unconnected))
            {
                return false;
            }

            // Sockets without an exposure can never match an exposure filter; rejecting them here
            // also keeps their states out of the netlink state mask.
            if (Exposures is { Count: > 0 } && !ExposureClassifier.CanHaveExposure(protocol, state))
            {
                return false;
            }

            return States is not { Count: > 0 } || Contains(States, state);
        }

        /// <summary>
        /// The filters on raw endpoints, the exposure among them (it is a function of the local
        /// address). Callers check <see cref="WantsState"/> first, which already dropped the states
        /// that have no exposure.
        /// </summary>
        /// <remarks>
        /// A socket tied to a device (<paramref name="deviceBound"/>) passes the exposure filter here:
        /// its exposure turns on the device's name, which the reader checks with
        /// <see cref="WantsExposure"/> once it knows it.
        /// </remarks>
        internal bool WantsEndpoints(ReadOnlySpan<byte> local, int localPort, ReadOnlySpan<byte> remote, int remotePort, bool deviceBound = false) =>
            PortMatches(LocalPorts, localPort)
            && PortMatches(RemotePorts, remotePort)
            && AddressMatches(LocalAddresses, local)
            && AddressMatches(RemoteAddresses, remote)
            && (deviceBound || ExposureMatches(local, null));

        /// <summary>The exposure filter for a socket tied to a device, once the device's name is known.</summary>
        internal bool WantsExposure(ReadOnlySpan<byte> local, string? device) => ExposureMatches(local, device);

        private bool ExposureMatches(ReadOnlySpan<byte> local, string? device) =>
            Exposures is not { Count: > 0 } || Contains(Exposures, ExposureClassifier.Classify(local, device));

        internal bool WantsOwners(IReadOnlyList<SocketOwner> owners)
        {
            if (ProcessIds is { Count: > 0 })
            {
                bool any = false;
                foreach (SocketOwner owner in owners)
                {
                    any |= Contains(ProcessIds, owner.ProcessId);
                }

                if (!any)
                {
                    return false;
                }
            }

            if (ProcessNameMatch is not null)
            {
                foreach (SocketOwner owner in owners)
                {
                    if (owner.ProcessName is not null && ProcessNameMatch(owner.ProcessName))
                    {
                        return true;
                    }
                }

                return false;
            }

            return true;
        }

        /// <summary>Applies every filter to a socket that is already built (offline tables, other platforms).</summary>
        /// <param name="socket">The socket.</param>
        /// <returns>Whether it passes.</returns>
        public bool Matches(SocketTuple socket)
        {
            if (socket is null || !Wants(socket.Protocol) || !WantsState(socket.Protocol, socket.State))
            {
                return false;
            }

            byte[] local = socket.LocalAddress.GetAddressBytes();
            if (!WantsEndpoints(local, socket.LocalPort, socket.RemoteAddress.GetAddressBytes(), socket.RemotePort, socket.BoundInterface is not null)
                || (socket.BoundInterface is not null && !WantsExposure(local, socket.BoundInterface)))
            {
                return false;
            }

            return !HasProcessFilter || WantsOwners(socket.Processes);
        }

        private static bool PortMatches(IReadOnlyList<PortRange>? ranges, int port)
        {
            if (ranges is not { Count: > 0 })
            {
                return true;
            }

            for (int i = 0; i < ranges.Count; i++)
            {
                if (ranges[i].Contains(port))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool AddressMatches(IReadOnlyList<AddressPrefix>? prefixes, ReadOnlySpan<byte> address)
        {
            if (prefixes is not { Count: > 0 })
            {
                return true;
            }

            for (int i = 0; i < prefixes.Count; i++)
            {
                if (prefixes[i].Contains(address))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool Contains<T>(IReadOnlyCollection<T> values, T value)
        {
            if (values is ICollection<T> collection)
            {
                return collection.Contains(value);
            }

            foreach (T candidate in values)
            {
                if (EqualityComparer<T>.Default.Equals(candidate, value))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
