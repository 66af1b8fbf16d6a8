using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace PortTools
{
    /// <summary>
    /// What a socket table is measured against in Measure-EphemeralPortUsage: the host's port
    /// settings (ranges, reservations, TIME_WAIT) for capacity and utilization, and for
    /// <see cref="EphemeralPortUsage.Available"/> the host's facts (tcp_tw_reuse, tcp_timestamps,
    /// addresses; unknown ones are named in DependsOn) and, for a table read live here, how long its
    /// TIME-WAIT entries have existed.
    /// </summary>
    public sealed class PortUsageHost
    {
        /// <summary>Creates one.</summary>
        /// <param name="settings">The port settings.</param>
        /// <param name="facts">The host's facts; null when they are not known (all unknown but the settings' OS).</param>
        /// <param name="timeWaitAge">How long each TIME-WAIT entry of the table has existed, when known.</param>
        public PortUsageHost(HostPortSettings settings, SocketHost? facts = null, Func<SocketTuple, TimeSpan?>? timeWaitAge = null)
        {
            Settings = settings ?? throw new ArgumentNullException(nameof(settings));
            Facts = facts;
            TimeWaitAge = timeWaitAge;
        }

        /// <summary>The port settings.</summary>
        public HostPortSettings Settings { get; }

        /// <summary>The host's facts, or null when not known.</summary>
        public SocketHost? Facts { get; }

        /// <summary>How long each TIME-WAIT entry has existed, or null when not known.</summary>
        public Func<SocketTuple, TimeSpan?>? TimeWaitAge { get; }

        /// <summary>
        /// What each socket of a table is measured against: the host or network namespace this
        /// process read it from (its settings, facts and TIME-WAIT timers, each read once, from
        /// inside the namespace), and <paramref name="unknownHost"/>'s settings with unknown facts
        /// for the sockets it did not read (text, files, remoting).
        /// </summary>
        /// <param name="sockets">The sockets.</param>
        /// <param name="unknownHost">The settings for sockets of an unknown host, asked for at most once, with how many sockets they are.</param>
        /// <param name="notes">Receives what could not be read; may be null.</param>
        /// <param name="cancellationToken">Stops the reads.</param>
        /// <returns>One object per host or namespace.</returns>
        public static Func<SocketTuple, PortUsageHost> ReadForSockets(IEnumerable<SocketTuple> sockets, Func<int, HostPortSettings> unknownHost, ICollection<string>? notes = null, CancellationToken cancellationToken = default)
        {
            Func<SocketTuple, HostPortSettings> settingsOf = HostPortSettings.ReadForSockets(sockets, unknownHost, notes);
            var hosts = new Dictionary<HostPortSettings, PortUsageHost>(ReferenceComparer.Instance);
            PortUsageHost HostOf(SocketTuple socket)
            {
                HostPortSettings settings = settingsOf(socket);
                if (!hosts.TryGetValue(settings, out PortUsageHost? host))
                {
                    host = socket.ReadHere ? ReadLive(settings, socket.NetworkNamespace, notes, cancellationToken) : new PortUsageHost(settings);
                    hosts.Add(settings, host);
                }

                return host;
            }

            // Read every host now, so that what could not be read is in the notes when this returns.
            foreach (SocketTuple socket in sockets)
            {
                if (socket is not null)
                {
                    HostOf(socket);
                }
            }

            return HostOf;
        }

        /// <summary>The facts and TIME-WAIT timers of the host or namespace a socket was read from here; unknown when it cannot be entered again.</summary>
        private static PortUsageHost ReadLive(HostPortSettings settings, NetworkNamespaceInfo? space, ICollection<string>? notes, CancellationToken cancellationToken)
        {
            if (space?.LiveEntryPath is null)
            {
                return new PortUsageHost(settings, SocketHost.Read(null, notes, cancellationToken), LiveConnectProbe.Open((string?)null).TimeWaitAges);
            }

            SocketHost? facts = SocketHostReader.Read(space, notes, cancellationToken);
            return facts is null ? new PortUsageHost(settings) : new PortUsageHost(settings, facts, LiveConnectProbe.Open(space)?.TimeWaitAges);
        }

        private sealed class ReferenceComparer : IEqualityComparer<HostPortSettings>
        {
            public static readonly ReferenceComparer Instance = new ReferenceComparer();

            public bool Equals(HostPortSettings? x, HostPortSettings? y) => ReferenceEquals(x, y);

            public int GetHashCode(HostPortSettings obj) => RuntimeHelpers.GetHashCode(obj);
        }
    }
}
