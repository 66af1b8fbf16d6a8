using System.Collections.Generic;
using System.Globalization;
using PortTools.Rules.Linux;

namespace PortTools
{
    /// <summary>
    /// What a Linux socket table proves about SO_REUSEADDR and SO_REUSEPORT it does not show: sockets
    /// that coexist on one port must have passed the kernel's bind and listen checks against each
    /// other. Run once when a table is indexed, for sockets whose options are unknown.
    /// <list type="bullet">
    /// <item>Two overlapping TCP listeners: listen() checks the second against the first, which is
    /// listening, so SO_REUSEADDR cannot have admitted it (inet_bind_conflict): both set SO_REUSEPORT,
    /// and they have one effective uid.</item>
    /// <item>Unconnected UDP sockets alone on a port with one address, device and family: each one bound
    /// after the first met an earlier one in udp_lib_lport_inuse and shared it through SO_REUSEADDR or
    /// SO_REUSEPORT, and the first shared with the second: each has one of them. With exactly two of
    /// different uids, SO_REUSEPORT cannot have done it: both set SO_REUSEADDR.</item>
    /// </list>
    /// UDP sockets among others on the port prove nothing of a pair: a bind that meets a SO_REUSEPORT
    /// match stops looking, so a later wildcard may coexist with an earlier socket that set nothing.
    /// </summary>
    internal static class SocketOptionInference
    {
        /// <param name="tcpListeners">The table's TCP listeners, in table order.</param>
        /// <param name="udpSockets">The table's UDP sockets, in table order.</param>
        public static void Apply(IReadOnlyList<IndexedSocket> tcpListeners, IReadOnlyList<IndexedSocket> udpSockets)
        {
            Dictionary<int, List<IndexedSocket>>? tcp = null;
            Dictionary<int, List<IndexedSocket>>? udp = null;
            foreach (IndexedSocket entry in tcpListeners)
            {
                Add(ref tcp, entry);
            }

            foreach (IndexedSocket entry in udpSockets)
            {
                Add(ref udp, entry);
            }

            if (tcp is not null)
            {
                foreach (List<IndexedSocket> listeners in tcp.Values)
                {
                    if (listeners.Count > 1)
                    {
                        Listeners(listeners);
                    }
                }
            }

            if (udp is not null)
            {
                foreach (List<IndexedSocket> sockets in udp.Values)
                {
                    if (sockets.Count > 1)
                    {
                        UdpPort(sockets);
                    }
                }
            }
        }

        private static void Add(ref Dictionary<int, List<IndexedSocket>>? byPort, IndexedSocket entry)
        {
            byPort ??= new Dictionary<int, List<IndexedSocket>>();
            if (!byPort.TryGetValue(entry.Port, out List<IndexedSocket>? list))
            {
                list = new List<IndexedSocket>(2);
                byPort.Add(entry.Port, list);
            }

            list.Add(entry);
        }

        private static void Listeners(List<IndexedSocket> listeners)
        {
            for (int i = 0; i < listeners.Count; i++)
            {
                IndexedSocket a = listeners[i];
                for (int k = i + 1; k < listeners.Count; k++)
                {
                    IndexedSocket b = listeners[k];
                    if ((a.ReusePortKnown && b.ReusePortKnown) || !LinuxBindRules.DevicesMayConflict(a, b) || !LinuxBindRules.Overlap(a, b))
                    {
                        continue;
                    }

                    // Of other uids the pair cannot be (the kernel refuses it); prove nothing from a table that says otherwise.
                    if (a.UidKnown && b.UidKnown && a.Uid != b.Uid)
                    {
                        continue;
                    }

                    string because = "two TCP listeners share " + Endpoint(a) + (a.Local.Equals(b.Local) ? string.Empty : " and " + Endpoint(b))
                        + ", which listen() allows only with SO_REUSEPORT on both and one uid";
                    if (!a.ReusePortKnown)
                    {
                        a.InferReusePort(because);
                    }

                    if (!b.ReusePortKnown)
                    {
                        b.InferReusePort(because);
                    }
                }
            }
        }

        private static void UdpPort(List<IndexedSocket> sockets)
        {
            IndexedSocket first = sockets[0];
            foreach (IndexedSocket socket in sockets)
            {
                // Connected sockets may have been bound to another address than they show (connect() fills a wildcard in).
                if (socket.State == SocketState.Connected || socket.HasPeer || socket.Inet6 != first.Inet6 || !socket.Local.Equals(first.Local)
                    || socket.V6Only != first.V6Only || !string.Equals(socket.Device, first.Device, System.StringComparison.Ordinal))
                {
                    return;
                }
            }

            string because = sockets.Count.ToString(CultureInfo.InvariantCulture) + " UDP sockets share " + Endpoint(first)
                + ", which bind() allows only when each sets SO_REUSEADDR or SO_REUSEPORT";
            if (sockets.Count == 2 && sockets[0].UidKnown && sockets[1].UidKnown && sockets[0].Uid != sockets[1].Uid)
            {
                string byAddress = "two UDP sockets of different uids share " + Endpoint(first) + ", which bind() allows only with SO_REUSEADDR on both";
                foreach (IndexedSocket socket in sockets)
                {
                    if (!socket.ReuseAddressKnown)
                    {
                        socket.InferReuseAddress(byAddress);
                    }
                }

                return;
            }

            foreach (IndexedSocket socket in sockets)
            {
                if (!socket.FlagsKnown)
                {
                    socket.InferSharing(because);
                }
            }
        }

        private static string Endpoint(IndexedSocket socket) => socket.Socket.Local.ToString();
    }
}
