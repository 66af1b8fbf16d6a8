using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// The protocol control block lookups FreeBSD and XNU share (kernel-rules.md 3A step 5, 4A):
    /// in_pcblookup_local and in6_pcblookup_local, in best-fit (wildcard) and exact mode, over the
    /// sockets of one port. The port's list is head-inserted (in_pcbinshash), so it is walked newest
    /// first and, among equal costs, the newest socket is the one returned.
    /// </summary>
    internal static class BsdPcb
    {
        /// <summary>SO_REUSEADDR, SO_REUSEPORT and SO_REUSEPORT_LB as the so_options bits the checks mask with.</summary>
        public const int ReuseAddress = 1;
        public const int ReusePort = 2;
        public const int ReusePortLoadBalance = 4;

        /// <summary>FreeBSD's INP_LOOKUP_MAPPED_PCB_COST: a dual-stack [::] PCB costs 3 more in an IPv4 best-fit lookup.</summary>
        public const int FreeBsdMappedCost = 3;

        /// <summary>INP_IPV4 in inp_vflag: AF_INET, AF_INET6 bound to a v4-mapped address, and [::] without IPV6_V6ONLY.</summary>
        public static bool IPv4Capable(IndexedSocket socket) => socket.Class == AddressClass.V4 || (socket.Class == AddressClass.Any6 && !socket.V6Only);

        /// <summary>INP_IPV6 in inp_vflag: AF_INET6 not bound to a v4-mapped address.</summary>
        public static bool IPv6Capable(IndexedSocket socket) => socket.Inet6 && socket.Class != AddressClass.V4;

        /// <summary>An AF_INET6 [::] socket without IPV6_V6ONLY.</summary>
        public static bool DualStack(IndexedSocket socket) => socket.Class == AddressClass.Any6 && !socket.V6Only;

        /// <summary>inp_laddr, the IPv4 view of the local address (0 for [::]).</summary>
        public static uint Inet4(IndexedSocket socket) => socket.Class == AddressClass.V4 ? socket.Local.V4 : 0;

        /// <summary>A foreign address is set: connections, TIME-WAIT entries, connected UDP sockets.</summary>
        public static bool Connected(IndexedSocket socket) => socket.HasPeer;

        /// <summary>The socket's reuse options as so_options bits.</summary>
        public static int Options(IndexedSocket socket) =>
            (socket.ReuseAddress ? ReuseAddress : 0) | (socket.ReusePort ? ReusePort : 0) | (socket.ReusePortLoadBalance ? ReusePortLoadBalance : 0);

        /// <summary>Whether the table gives the socket's reuse options (live tables may not).</summary>
        public static bool OptionsKnown(IndexedSocket socket, bool freeBsd) =>
            socket.Socket.ReuseAddress.HasValue && socket.Socket.ReusePort.HasValue && (!freeBsd || socket.Socket.ReusePortLoadBalance.HasValue);

        /// <summary>
        /// in_pcblookup_local with INPLOOKUP_WILDCARD (best fit) for an IPv4 address: among the
        /// IPv4-capable sockets on the port, the lowest cost below <paramref name="matchWild"/>, where
        /// cost = [connected] + [exactly one side is the wildcard] + <paramref name="mappedCost"/> for
        /// a dual-stack [::] socket; two different specific addresses are skipped.
        /// </summary>
        public static IndexedSocket? BestFitV4(List<IndexedSocket>? bucket, uint address, int mappedCost, int matchWild)
        {
            if (bucket is null)
            {
                return null;
            }

            IndexedSocket? match = null;
            for (int i = bucket.Count - 1; i >= 0; i--)
            {
                IndexedSocket socket = bucket[i];
                if (!IPv4Capable(socket))
                {
                    continue;
                }

                int cost = socket.Class == AddressClass.Any6 ? mappedCost : 0;
                cost += Connected(socket) ? 1 : 0;
                uint local = Inet4(socket);
                if (local != 0)
                {
                    if (address == 0)
                    {
                        cost++;
                    }
                    else if (local != address)
                    {
                        continue;
                    }
                }
                else if (address != 0)
                {
                    cost++;
                }

                if (cost < matchWild)
                {
                    match = socket;
                    matchWild = cost;
                    if (cost == 0)
                    {
                        break;
                    }
                }
            }

            return match;
        }

        /// <summary>in_pcblookup_local without INPLOOKUP_WILDCARD: an unconnected IPv4-capable socket on exactly this address.</summary>
        public static IndexedSocket? ExactV4(List<IndexedSocket>? bucket, uint address)
        {
            if (bucket is null)
            {
                return null;
            }

            for (int i = bucket.Count - 1; i >= 0; i--)
            {
                IndexedSocket socket = bucket[i];
                if (IPv4Capable(socket) && !Connected(socket) && Inet4(socket) == address)
                {
                    return socket;
                }
            }

            return null;
        }

        /// <summary>in6_pcblookup_local, best fit (matchwild 3): the IPv6 sockets on the port, cost = [connected] + [one side is ::].</summary>
        public static IndexedSocket? BestFitV6(List<IndexedSocket>? bucket, Ip16 address)
        {
            if (bucket is null)
            {
                return null;
            }

            IndexedSocket? match = null;
            int matchWild = 3;
            for (int i = bucket.Count - 1; i >= 0; i--)
            {
                IndexedSocket socket = bucket[i];
                if (!IPv6Capable(socket))
                {
                    continue;
                }

                int cost = Connected(socket) ? 1 : 0;
                if (socket.Class != AddressClass.Any6)
                {
                    if (address.IsZero)
                    {
                        cost++;
                    }
                    else if (!socket.Local.Equals(address))
                    {
                        continue;
                    }
                }
                else if (!address.IsZero)
                {
                    cost++;
                }

                if (cost < matchWild)
                {
                    match = socket;
                    matchWild = cost;
                    if (cost == 0)
                    {
                        break;
                    }
                }
            }

            return match;
        }

        /// <summary>in6_pcblookup_local without INPLOOKUP_WILDCARD: an unconnected IPv6 socket on exactly this address.</summary>
        public static IndexedSocket? ExactV6(List<IndexedSocket>? bucket, Ip16 address)
        {
            if (bucket is null)
            {
                return null;
            }

            for (int i = bucket.Count - 1; i >= 0; i--)
            {
                IndexedSocket socket = bucket[i];
                if (IPv6Capable(socket) && !Connected(socket) && socket.Local.Equals(address))
                {
                    return socket;
                }
            }

            return null;
        }
    }
}
