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
        /// <summary>What the TCP listeners prove; before the bind buckets' caches, chains and groups are formed (it may set SO_REUSEPORT).</summary>
        /// <param name="tcpListeners">The table's TCP listeners, in table order.</param>
        public static void ApplyToListeners(IReadOnlyList<IndexedSocket> tcpListeners)
        {
            Dictionary<int, List<IndexedSocket>>? tcp = null;
            foreach (IndexedSocket entry in tcpListeners)
            {
                Add(ref tcp, entry);
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
        }

        /// <summary>
        /// What the UDP sockets of one port prove (only SO_REUSEADDR and the sharing of a port, never
        /// SO_REUSEPORT, so chains and groups do not depend on it).
        /// </summary>
        /// <param name="sockets">All UDP sockets of the port, in any order (table order is read from their positions).</param>
        public static void ApplyToUdpPort(IReadOnlyList<IndexedSocket> sockets)
        {
            if (sockets.Count > 1)
            {
                UdpPort(sockets);
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

        private static void UdpPort(IReadOnlyList<IndexedSocket> sockets)
        {
            // Alike is all-or-nothing, so comparing with any one of them answers as comparing with the first;
            // the first in table order is the one the reason names.
            IndexedSocket any = sockets[0];
            IndexedSocket first = any;
            for (int i = 0; i < sockets.Count; i++)
            {
                // Connected sockets may have been bound to another address than they show (connect() fills a wildcard in).
                IndexedSocket socket = sockets[i];
                if (socket.State == SocketState.Connected || socket.HasPeer || socket.Inet6 != any.Inet6 || !socket.Local.Equals(any.Local)
                    || socket.V6Only != any.V6Only || !string.Equals(socket.Device, any.Device, System.StringComparison.Ordinal))
                {
                    return;
                }

                if (socket.Position < first.Position)
                {
                    first = socket;
                }
            }

            string because = sockets.Count.ToString(CultureInfo.InvariantCulture) + " UDP sockets share " + Endpoint(first)
                + ", which bind() allows only when each sets SO_REUSEADDR or SO_REUSEPORT";
            if (sockets.Count == 2 && sockets[0].UidKnown && sockets[1].UidKnown && sockets[0].Uid != sockets[1].Uid)
            {
                string byAddress = "two UDP sockets of different uids share " + Endpoint(first) + ", which bind() allows only with SO_REUSEADDR on both";
                for (int i = 0; i < sockets.Count; i++)
                {
                    if (!sockets[i].ReuseAddressKnown)
                    {
                        sockets[i].InferReuseAddress(byAddress);
                    }
                }

                return;
            }

            for (int i = 0; i < sockets.Count; i++)
            {
                if (!sockets[i].FlagsKnown)
                {
                    sockets[i].InferSharing(because);
                }
            }
        }

        private static string Endpoint(IndexedSocket socket) => socket.Socket.Local.ToString();
    }
}
