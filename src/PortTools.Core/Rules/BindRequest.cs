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

        /// <summary>SO_REUSEPORT.</summary>
        public bool ReusePort { get; init; }

        /// <summary>IPV6_V6ONLY; null leaves the host's default (Linux net.ipv6.bindv6only).</summary>
        public bool? IPv6Only { get; init; }

        /// <summary>SO_BINDTODEVICE, or null.</summary>
        public string? Interface { get; init; }

        /// <summary>Whether listen() follows the bind (TCP), which checks conflicts again.</summary>
        public bool Listen { get; init; }

        /// <summary>The user the socket belongs to; null means the host facts' user.</summary>
        public long? UserId { get; init; }

        /// <summary>Whether the binding process may bind privileged ports; null means the host facts' answer.</summary>
        public bool? Privileged { get; init; }

        /// <summary>IP_FREEBIND: a non-local address may be bound.</summary>
        public bool FreeBind { get; init; }

        /// <summary>AF_INET or AF_INET6, from the address.</summary>
        public AddressFamily AddressFamily => _address.AddressFamily;
    }
}
