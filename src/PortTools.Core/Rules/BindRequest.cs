using System;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>A socket about to be bound: what bind() and listen() will be asked for.</summary>
    public sealed class BindRequest
    {
        private readonly IPAddress _address = IPAddress.Any;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; } = TransportProtocol.Tcp;

        /// <summary>
        /// The address to bind. An IPv4 address makes an AF_INET socket; an IPv6 address (v4-mapped
        /// included) an AF_INET6 socket. A scope id on a link-local address names its interface.
        /// </summary>
        public IPAddress Address
        {
            get => _address;
            init => _address = value ?? throw new ArgumentNullException(nameof(Address));
        }

        /// <summary>The port; 0 asks the kernel to pick one.</summary>
        public int Port { get; init; }

        /// <summary>SO_REUSEADDR.</summary>
        public bool ReuseAddress { get; init; }

        /// <summary>SO_REUSEPORT (Linux, FreeBSD, macOS; Windows has none and answers WSAENOPROTOOPT).</summary>
        public bool ReusePort { get; init; }

        /// <summary>
        /// SO_REUSEPORT_LB: FreeBSD 12 and later, a load-balancing group (kernel-rules.md 3A). Other
        /// systems have no such option; their rule sets answer OptionNotSupported (ENOPROTOOPT).
        /// </summary>
        public bool ReusePortLoadBalance { get; init; }

        /// <summary>
        /// SO_EXCLUSIVEADDRUSE: Windows only (kernel-rules.md 2A). Other systems have no such option;
        /// their rule sets answer OptionNotSupported (ENOPROTOOPT).
        /// </summary>
        public bool ExclusiveAddressUse { get; init; }

        /// <summary>
        /// SO_BROADCAST. Windows refuses to bind a broadcast address without it (WSAEACCES,
        /// kernel-rules.md 2D); the other rule sets do not look at it.
        /// </summary>
        public bool Broadcast { get; init; }

        /// <summary>
        /// IPV6_V6ONLY; null leaves the OS's default: Linux net.ipv6.bindv6only (HostFacts.BindV6Only,
        /// off by default), on for Windows and FreeBSD, off for macOS (unless HostFacts.BindV6Only).
        /// </summary>
        public bool? IPv6Only { get; init; }

        /// <summary>
        /// The interface the socket is tied to, or null: SO_BINDTODEVICE on Linux, IP_BOUND_IF on
        /// macOS (which bind() ignores). Windows and FreeBSD have no such option (OptionNotSupported).
        /// </summary>
        public string? Interface { get; init; }

        /// <summary>Whether listen() follows the bind (TCP), which checks conflicts again.</summary>
        public bool Listen { get; init; }

        /// <summary>The user the socket belongs to; null means the host facts' user.</summary>
        public long? UserId { get; init; }

        /// <summary>
        /// <see cref="UserId"/> is one possibility the engine weighs for a user nobody gave (UnknownHostFacts),
        /// so an explanation must not name it as the user who binds.
        /// </summary>
        internal bool UserIdAssumed { get; init; }

        /// <summary>Whether the binding process may bind privileged ports; null means the host facts' answer.</summary>
        public bool? Privileged { get; init; }

        /// <summary>
        /// A non-local address may be bound: IP_FREEBIND on Linux, IP_BINDANY on FreeBSD (which only a
        /// privileged process may set). Windows and macOS have no such option (OptionNotSupported).
        /// </summary>
        public bool FreeBind { get; init; }

        /// <summary>AF_INET or AF_INET6, from the address.</summary>
        public AddressFamily AddressFamily => _address.AddressFamily;
    }
}
