using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Linux
{
    /// <summary>
    /// struct sockaddr_in (16 bytes) and sockaddr_in6 (28 bytes) as Linux lays them out
    /// (include/uapi/linux/in.h, in6.h): the family in host order, the port and address in network order.
    /// </summary>
    internal static class SockAddr
    {
        public const int Ipv4Length = 16;
        public const int Ipv6Length = 28;
        public const int MaxLength = 28;

        /// <summary>Writes the address into <paramref name="buffer"/> and returns its length.</summary>
        public static int Write(Span<byte> buffer, IPAddress address, int port)
        {
            buffer.Slice(0, MaxLength).Clear();
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                WriteNative(buffer, (ushort)LibC.AF_INET);
                BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(2), (ushort)port);
                address.GetAddressBytes().CopyTo(buffer.Slice(4));
                return Ipv4Length;
            }

            WriteNative(buffer, (ushort)LibC.AF_INET6);
            BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(2), (ushort)port);
            address.GetAddressBytes().CopyTo(buffer.Slice(8));
            WriteNative(buffer.Slice(24), (uint)address.ScopeId);
            return Ipv6Length;
        }

        // sa_family and sin6_scope_id are in host byte order.
        private static void WriteNative<T>(Span<byte> buffer, T value)
            where T : struct => System.Runtime.InteropServices.MemoryMarshal.Write(buffer, ref value);

        /// <summary>Reads a sockaddr_in or sockaddr_in6.</summary>
        public static IPEndPoint Read(ReadOnlySpan<byte> buffer)
        {
            ushort family = System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(buffer);
            int port = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
            if (family == LibC.AF_INET)
            {
                return new IPEndPoint(new IPAddress(buffer.Slice(4, 4).ToArray()), port);
            }

            uint scope = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(buffer.Slice(24));
            return new IPEndPoint(new IPAddress(buffer.Slice(8, 16).ToArray(), scope), port);
        }
    }
}
