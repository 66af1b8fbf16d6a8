using System;
using System.Net;

namespace PortTools
{
    /// <summary>
    /// Classifies the local address of a listening socket into an <see cref="Exposure"/>. Rules, in order:
    /// <list type="bullet">
    /// <item><description>AllInterfaces: 0.0.0.0 and :: (and ::ffff:0.0.0.0).</description></item>
    /// <item><description>Loopback: 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.</description></item>
    /// <item><description>LinkLocal: 169.254.0.0/16 and fe80::/10.</description></item>
    /// <item><description>Private: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (CGNAT, RFC 6598) and fc00::/7 (ULA, RFC 4193).</description></item>
    /// <item><description>Public: everything else, multicast and documentation ranges included, since nothing narrows who can send to them.</description></item>
    /// </list>
    /// A v4-mapped IPv6 address (::ffff:a.b.c.d) is classified as its IPv4 address. A socket tied to
    /// a device (SO_BINDTODEVICE, its BoundInterface) takes traffic only from that device: tied to
    /// the loopback device (lo; lo0 on the BSDs) it is Loopback whatever its address; tied to another,
    /// a wildcard bind is OneInterface and a specific one keeps its address's class, and the device
    /// is its <see cref="SocketTuple.ExposureInterface"/>.
    /// </summary>
    public static class ExposureClassifier
    {
        /// <summary>Classifies an address.</summary>
        /// <param name="address">The local address of a socket.</param>
        /// <returns>Its exposure.</returns>
        public static Exposure Classify(IPAddress address)
        {
            if (address is null)
            {
                throw new ArgumentNullException(nameof(address));
            }

            return Classify(address.GetAddressBytes());
        }

        /// <summary>The exposure of a socket: null unless it listens (TCP) or is unconnected (UDP).</summary>
        /// <param name="socket">The socket.</param>
        /// <returns>Its exposure, or null.</returns>
        public static Exposure? ForSocket(SocketTuple socket)
        {
            if (socket is null)
            {
                throw new ArgumentNullException(nameof(socket));
            }

            return CanHaveExposure(socket.Protocol, socket.State) ? Classify(socket.LocalAddress.GetAddressBytes(), socket.BoundInterface) : null;
        }

        /// <summary>Whether a device name is the loopback device: lo on Linux, lo0 on macOS and FreeBSD.</summary>
        /// <param name="device">The device name.</param>
        /// <returns>True for lo and lo0.</returns>
        public static bool IsLoopbackDevice(string? device) => device is "lo" or "lo0";

        /// <summary>The exposure of an address whose socket is tied to <paramref name="device"/> (null: to none).</summary>
        internal static Exposure Classify(ReadOnlySpan<byte> address, string? device)
        {
            if (device is null)
            {
                return Classify(address);
            }

            if (IsLoopbackDevice(device))
            {
                return Exposure.Loopback; // lo delivers only what this host sends itself
            }

            Exposure byAddress = Classify(address);
            return byAddress == Exposure.AllInterfaces ? Exposure.OneInterface : byAddress;
        }

        /// <summary>Only sockets that wait for traffic from anyone have an exposure: TCP listeners and unconnected UDP sockets.</summary>
        internal static bool CanHaveExposure(TransportProtocol protocol, SocketState state) =>
            protocol == TransportProtocol.Tcp ? state == SocketState.Listen : state == SocketState.Unconnected;

        /// <summary>Classifies raw address bytes (4 or 16), so reader filters need no IPAddress.</summary>
        internal static Exposure Classify(ReadOnlySpan<byte> address)
        {
            if (address.Length == 16 && AddressPrefix.IsV4Mapped(address))
            {
                address = address.Slice(12);
            }

            return address.Length == 4 ? ClassifyV4(address) : ClassifyV6(address);
        }

        private static Exposure ClassifyV4(ReadOnlySpan<byte> a)
        {
            if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
            {
                return Exposure.AllInterfaces;
            }

            if (a[0] == 127)
            {
                return Exposure.Loopback;
            }

            if (a[0] == 169 && a[1] == 254)
            {
                return Exposure.LinkLocal;
            }

            bool rfc1918 = a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168);
            bool sharedAddressSpace = a[0] == 100 && (a[1] & 0xC0) == 64;
            return rfc1918 || sharedAddressSpace ? Exposure.Private : Exposure.Public;
        }

        private static Exposure ClassifyV6(ReadOnlySpan<byte> a)
        {
            bool zeroPrefix = true;
            for (int i = 0; i < 15; i++)
            {
                zeroPrefix &= a[i] == 0;
            }

            if (zeroPrefix && a[15] == 0)
            {
                return Exposure.AllInterfaces;
            }

            if (zeroPrefix && a[15] == 1)
            {
                return Exposure.Loopback;
            }

            if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
            {
                return Exposure.LinkLocal;
            }

            return (a[0] & 0xFE) == 0xFC ? Exposure.Private : Exposure.Public;
        }
    }
}
