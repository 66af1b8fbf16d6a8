using System;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>An incoming TCP segment or UDP datagram, as the receiving host sees it.</summary>
    public sealed class DemuxRequest
    {
        private readonly IPEndPoint _source = new IPEndPoint(IPAddress.Any, 0);
        private readonly IPEndPoint _destination = new IPEndPoint(IPAddress.Any, 0);

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; } = TransportProtocol.Tcp;

        /// <summary>The sender's address and port.</summary>
        public IPEndPoint Source
        {
            get => _source;
            init => _source = value ?? throw new ArgumentNullException(nameof(Source));
        }

        /// <summary>The destination address and port (on this host).</summary>
        public IPEndPoint Destination
        {
            get => _destination;
            init => _destination = value ?? throw new ArgumentNullException(nameof(Destination));
        }

        /// <summary>The interface the packet arrives on; null when unknown (sockets bound to a device then do not match).</summary>
        public string? Interface { get; init; }

        /// <summary>TCP: a SYN (the default) or another segment.</summary>
        public TcpSegmentKind Segment { get; init; } = TcpSegmentKind.Syn;

        /// <summary>Checks the families agree; returns an error text or null.</summary>
        internal string? Validate()
        {
            AddressFamily source = _source.Address.IsIPv4MappedToIPv6 ? AddressFamily.InterNetwork : _source.AddressFamily;
            AddressFamily destination = _destination.Address.IsIPv4MappedToIPv6 ? AddressFamily.InterNetwork : _destination.AddressFamily;
            if (source != destination)
            {
                return "The source " + IPAddressText.FormatEndpoint(_source.Address, _source.Port) + " and the destination " + IPAddressText.FormatEndpoint(_destination.Address, _destination.Port) +
                    " are of different address families: a packet is IPv4 or IPv6 end to end.";
            }

            if (_destination.Port == 0)
            {
                return "The destination port is 0: no packet is addressed to port 0.";
            }

            return null;
        }
    }
}
