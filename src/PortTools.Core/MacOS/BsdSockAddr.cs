using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortTools.MacOS
{
    /// <summary>
    /// struct sockaddr_in (16 bytes) and sockaddr_in6 (28 bytes) as the BSDs lay them out, which is
    /// not Linux's: a one-byte length comes first and the family is one byte, not two. From XNU
    /// (apple-oss-distributions/xnu, tag xnu-11417.101.15) bsd/netinet/in.h:
    /// <c>struct sockaddr_in { __uint8_t sin_len; sa_family_t sin_family; in_port_t sin_port; struct in_addr sin_addr; char sin_zero[8]; }</c>,
    /// and bsd/netinet6/in6.h:
    /// <c>struct sockaddr_in6 { __uint8_t sin6_len; sa_family_t sin6_family; in_port_t sin6_port; __uint32_t sin6_flowinfo; struct in6_addr sin6_addr; __uint32_t sin6_scope_id; }</c>,
    /// sa_family_t being a __uint8_t (bsd/sys/_types/_sa_family_t.h). The port and the addresses
    /// are in network order; sin6_scope_id is in host order. AF_INET is 2 and AF_INET6 is 30 on macOS
    /// (bsd/sys/socket.h); FreeBSD uses the same layout with AF_INET6 28.
    /// </summary>
    internal static class BsdSockAddr
    {
        public const int Ipv4Length = 16;
        public const int Ipv6Length = 28;
        public const int MaxLength = 28;

        /// <summary>Writes the address into <paramref name="buffer"/> (at least 28 bytes) and returns its length.</summary>
        /// <param name="buffer">Where to write; cleared first.</param>
        /// <param name="address">An IPv4 address (AF_INET) or an IPv6 one, v4-mapped included (AF_INET6), with its scope id.</param>
        /// <param name="port">The port.</param>
        /// <param name="inet6Family">AF_INET6 of the target system: 30 on macOS.</param>
        public static int Write(Span<byte> buffer, IPAddress address, int port, byte inet6Family = BsdLibC.AF_INET6)
        {
            buffer.Slice(0, MaxLength).Clear();
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                buffer[0] = Ipv4Length;
                buffer[1] = BsdLibC.AF_INET;
                BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(2), (ushort)port);
                address.GetAddressBytes().CopyTo(buffer.Slice(4));
                return Ipv4Length;
            }

            buffer[0] = Ipv6Length;
            buffer[1] = inet6Family;
            BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(2), (ushort)port);

            // sin6_flowinfo (offset 4) stays 0.
            address.GetAddressBytes().CopyTo(buffer.Slice(8));
            uint scope = (uint)address.ScopeId;
            MemoryMarshal.Write(buffer.Slice(24), ref scope);
            return Ipv6Length;
        }

        /// <summary>The port of a sockaddr_in or sockaddr_in6 (both keep it at offset 2), as getsockname fills them.</summary>
        public static int ReadPort(ReadOnlySpan<byte> buffer) => buffer.Length < 4 ? 0 : BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
    }
}
