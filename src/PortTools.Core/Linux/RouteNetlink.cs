using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace PortTools.Linux
{
    /// <summary>
    /// Reads the interfaces and addresses of the calling thread's network namespace through
    /// NETLINK_ROUTE, as ip link and ip addr do: an RTM_GETLINK dump for the devices, then an
    /// RTM_GETADDR dump for their addresses. A netlink socket belongs to the namespace of the thread
    /// that creates it, so on a thread inside a namespace this sees that namespace, where
    /// NetworkInterface (sysfs among its sources) may not. Layouts are from
    /// include/uapi/linux/{netlink,rtnetlink,if_link,if_addr}.h.
    /// </summary>
    internal static unsafe class RouteNetlink
    {
        private const int NetlinkRoute = 0;
        private const int NlmsgHeaderLength = 16;
        private const ushort NlmsgError = 2;
        private const ushort NlmsgDone = 3;
        private const ushort NlmFRequest = 0x1;
        private const ushort NlmFDump = 0x300;
        private const ushort RtmNewLink = 16;
        private const ushort RtmGetLink = 18;
        private const ushort RtmNewAddress = 20;
        private const ushort RtmGetAddress = 22;
        private const int InterfaceInfoLength = 16; // struct ifinfomsg
        private const int AddressMessageLength = 8; // struct ifaddrmsg
        private const ushort IflaInterfaceName = 3;
        private const ushort IfaAddress = 1;
        private const ushort IfaLocal = 2;
        private const ushort IfaBroadcast = 4;
        private const ushort IfaFlags = 8;

        // Addresses bind() refuses: IPv6 duplicate address detection still running, or failed
        // (ipv6_chk_addr bans IFA_F_TENTATIVE; a failed address stays tentative).
        private const uint IfaFTentative = 0x40;
        private const uint IfaFDadFailed = 0x08;

        /// <summary>Decodes one netlink message of a dump.</summary>
        internal delegate void MessageDecoder(ReadOnlySpan<byte> message);

        /// <summary>The devices (by index) and the usable addresses of the calling thread's namespace.</summary>
        /// <exception cref="System.IO.IOException">Netlink failed; the message says where.</exception>
        public static (SortedDictionary<int, string> Interfaces, List<HostAddress> Addresses) Read()
        {
            int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NetlinkRoute);
            if (fd < 0)
            {
                throw new System.IO.IOException("Cannot open a NETLINK_ROUTE socket to list the interfaces: " + LibC.ErrorText(LibC.LastError) + ".");
            }

            try
            {
                var interfaces = new SortedDictionary<int, string>();
                var addresses = new List<HostAddress>();
                byte[] buffer = new byte[64 * 1024];
                Dump(fd, RtmGetLink, InterfaceInfoLength, 1, buffer, message => DecodeLink(message, interfaces));
                Dump(fd, RtmGetAddress, AddressMessageLength, 2, buffer, message => DecodeAddress(message, interfaces, addresses));
                return (interfaces, addresses);
            }
            finally
            {
                LibC.close(fd);
            }
        }

        private static void Dump(int fd, ushort type, int bodyLength, uint sequence, byte[] buffer, MessageDecoder decode)
        {
            int requestLength = NlmsgHeaderLength + bodyLength;
            byte* request = stackalloc byte[requestLength];
            new Span<byte>(request, requestLength).Clear();
            *(uint*)request = (uint)requestLength;
            *(ushort*)(request + 4) = type;
            *(ushort*)(request + 6) = NlmFRequest | NlmFDump;
            *(uint*)(request + 8) = sequence;
            request[NlmsgHeaderLength] = 0; // AF_UNSPEC: every family
            if (LibC.send(fd, request, (nuint)requestLength, 0) < 0)
            {
                throw new System.IO.IOException("Cannot ask netlink for the " + What(type) + ": " + LibC.ErrorText(LibC.LastError) + ".");
            }

            fixed (byte* start = buffer)
            {
                while (true)
                {
                    nint received = LibC.recv(fd, start, (nuint)buffer.Length, 0);
                    if (received < 0)
                    {
                        int errno = LibC.LastError;
                        if (errno == LibC.EINTR)
                        {
                            continue;
                        }

                        throw new System.IO.IOException("Cannot read the " + What(type) + " from netlink: " + LibC.ErrorText(errno) + ".");
                    }

                    if (Messages(new ReadOnlySpan<byte>(start, (int)received), type, decode))
                    {
                        return;
                    }
                }
            }
        }

        /// <summary>Decodes the messages of one datagram; true once NLMSG_DONE ends the dump.</summary>
        internal static bool Messages(ReadOnlySpan<byte> datagram, ushort requested, MessageDecoder decode)
        {
            int offset = 0;
            while (offset + NlmsgHeaderLength <= datagram.Length)
            {
                int length = MemoryMarshal.Read<int>(datagram.Slice(offset));
                ushort type = MemoryMarshal.Read<ushort>(datagram.Slice(offset + 4));
                if (length < NlmsgHeaderLength || offset + length > datagram.Length)
                {
                    throw new System.IO.IOException("Netlink sent a truncated message while listing the " + What(requested) + ".");
                }

                if (type == NlmsgDone)
                {
                    return true;
                }

                if (type == NlmsgError)
                {
                    int errno = length >= NlmsgHeaderLength + 4 ? -MemoryMarshal.Read<int>(datagram.Slice(offset + NlmsgHeaderLength)) : 0;
                    if (errno != 0)
                    {
                        throw new System.IO.IOException("Netlink refused to list the " + What(requested) + ": " + LibC.ErrorText(errno) + ".");
                    }
                }
                else
                {
                    decode(datagram.Slice(offset, length));
                }

                offset += (length + 3) & ~3;
            }

            return false;
        }

        /// <summary>An RTM_NEWLINK message: the device's index and name (IFLA_IFNAME).</summary>
        internal static void DecodeLink(ReadOnlySpan<byte> message, IDictionary<int, string> interfaces)
        {
            if (MemoryMarshal.Read<ushort>(message.Slice(4)) != RtmNewLink || message.Length < NlmsgHeaderLength + InterfaceInfoLength)
            {
                return;
            }

            int index = MemoryMarshal.Read<int>(message.Slice(NlmsgHeaderLength + 4));
            var attributes = new Attributes(message.Slice(NlmsgHeaderLength + InterfaceInfoLength));
            while (attributes.MoveNext())
            {
                if (attributes.Type == IflaInterfaceName)
                {
                    interfaces[index] = CString(attributes.Payload);
                }
            }
        }

        /// <summary>
        /// An RTM_NEWADDR message: the address (IFA_LOCAL, which IFA_ADDRESS only repeats except on a
        /// point-to-point link, where it is the peer), its prefix length, the device it is on and
        /// its broadcast address. Tentative and failed IPv6 addresses are left out: bind() refuses them.
        /// </summary>
        internal static void DecodeAddress(ReadOnlySpan<byte> message, IReadOnlyDictionary<int, string> interfaces, List<HostAddress> addresses)
        {
            if (MemoryMarshal.Read<ushort>(message.Slice(4)) != RtmNewAddress || message.Length < NlmsgHeaderLength + AddressMessageLength)
            {
                return;
            }

            ReadOnlySpan<byte> header = message.Slice(NlmsgHeaderLength);
            int family = header[0];
            int prefixLength = header[1];
            uint flags = header[2];
            int index = MemoryMarshal.Read<int>(header.Slice(4));
            if (family != LibC.AF_INET && family != LibC.AF_INET6)
            {
                return;
            }

            int size = family == LibC.AF_INET ? 4 : 16;
            IPAddress? address = null;
            IPAddress? local = null;
            IPAddress? broadcast = null;
            var attributes = new Attributes(message.Slice(NlmsgHeaderLength + AddressMessageLength));
            while (attributes.MoveNext())
            {
                ushort type = attributes.Type;
                ReadOnlySpan<byte> payload = attributes.Payload;
                if (type == IfaFlags && payload.Length >= 4)
                {
                    flags = MemoryMarshal.Read<uint>(payload);
                }
                else if (payload.Length == size && type is IfaAddress or IfaLocal or IfaBroadcast)
                {
                    var value = new IPAddress(payload.ToArray());
                    if (type == IfaAddress)
                    {
                        address = value;
                    }
                    else if (type == IfaLocal)
                    {
                        local = value;
                    }
                    else
                    {
                        broadcast = value;
                    }
                }
            }

            IPAddress? own = local ?? address;
            if (own is null || (flags & (IfaFTentative | IfaFDadFailed)) != 0)
            {
                return;
            }

            addresses.Add(new HostAddress(own, prefixLength, interfaces.TryGetValue(index, out string? name) ? name : null, broadcast));
        }

        private static string What(ushort type) => type == RtmGetLink ? "interfaces" : "addresses";

        private static string CString(ReadOnlySpan<byte> payload)
        {
            int end = payload.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? payload.ToArray() : payload.Slice(0, end).ToArray());
        }

        /// <summary>The route attributes of a message: struct rtattr { u16 len; u16 type; } then the payload, 4-byte aligned.</summary>
        internal ref struct Attributes
        {
            private readonly ReadOnlySpan<byte> _data;
            private int _offset;

            public Attributes(ReadOnlySpan<byte> data)
            {
                _data = data;
                _offset = 0;
                Type = 0;
                Payload = default;
            }

            /// <summary>The attribute's type, without NLA_F_NESTED and NLA_F_NET_BYTEORDER.</summary>
            public ushort Type { get; private set; }

            public ReadOnlySpan<byte> Payload { get; private set; }

            public bool MoveNext()
            {
                if (_offset + 4 > _data.Length)
                {
                    return false;
                }

                int length = MemoryMarshal.Read<ushort>(_data.Slice(_offset));
                ushort type = MemoryMarshal.Read<ushort>(_data.Slice(_offset + 2));
                if (length < 4 || _offset + length > _data.Length)
                {
                    return false;
                }

                Type = (ushort)(type & 0x3FFF);
                Payload = _data.Slice(_offset + 4, length - 4);
                _offset += (length + 3) & ~3;
                return true;
            }
        }
    }
}
