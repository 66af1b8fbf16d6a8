using System;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>
    /// A connect() about to be made: the destination, an optional bind() before it, the socket
    /// options that decide the source port, and how many such calls are asked about.
    /// </summary>
    public sealed class ConnectRequest
    {
        private readonly IPEndPoint _destination = new IPEndPoint(IPAddress.Loopback, 1);
        private readonly int _count = 1;

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; init; } = TransportProtocol.Tcp;

        /// <summary>Where to connect; the port cannot be 0.</summary>
        public IPEndPoint Destination
        {
            get => _destination;
            init => _destination = value ?? throw new ArgumentNullException(nameof(Destination));
        }

        /// <summary>
        /// The address to bind() before connect(), or null for no bind() (connect() then picks the
        /// port, and the route picks the address). An IPv6 address makes an AF_INET6 socket, which
        /// reaches an IPv4 destination through its v4-mapped form.
        /// </summary>
        public IPAddress? Address { get; init; }

        /// <summary>The port to bind() before connect(); 0 lets the kernel pick (at bind(), or at connect() with <see cref="BindAddressNoPort"/>).</summary>
        public int Port { get; init; }

        /// <summary>SO_REUSEADDR on the connecting socket.</summary>
        public bool ReuseAddress { get; init; }

        /// <summary>SO_REUSEPORT on the connecting socket.</summary>
        public bool ReusePort { get; init; }

        /// <summary>
        /// IP_BIND_ADDRESS_NO_PORT (Linux 4.2+): bind() to <see cref="Address"/> with port 0 records
        /// only the address, and connect() picks the port, sharing it with connections to other
        /// destinations. Without it, bind(address, 0) takes a port for every destination.
        /// </summary>
        public bool BindAddressNoPort { get; init; }

        /// <summary>
        /// IP_LOCAL_PORT_RANGE (Linux 6.3+): a per-socket range inside ip_local_port_range; a bound
        /// outside the system range is ignored by the kernel, as is a range that is not given.
        /// </summary>
        public PortRange? LocalPortRange { get; init; }

        /// <summary>How many connect() calls of this kind are asked about, one after another (1 by default).</summary>
        public int Count
        {
            get => _count;
            init => _count = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Count), value, "The count of connect() calls is 1 or more.");
        }

        /// <summary>
        /// The source address the route to the destination gives, when known (a live check asks the
        /// kernel). Null: the bound address when it is specific, else inferred from the table.
        /// </summary>
        public IPAddress? SourceAddress { get; init; }

        /// <summary>The live host has no route to the destination: connect() fails with ENETUNREACH (TCP before a port is chosen, UDP after its automatic bind).</summary>
        public bool NoRoute { get; init; }

        /// <summary>The user the socket belongs to; null means the host facts' user.</summary>
        public long? UserId { get; init; }

        /// <summary>Whether the process may bind privileged ports; null means the host facts' answer.</summary>
        public bool? Privileged { get; init; }

        /// <summary>
        /// How long each TIME-WAIT entry of the table has existed, when known (Linux: 60 s less the
        /// time its timer has left). tcp_tw_reuse takes over only entries older than
        /// tcp_tw_reuse_delay; null, or null for an entry, leaves that unknown.
        /// </summary>
        public Func<SocketTuple, TimeSpan?>? TimeWaitAge { get; init; }

        /// <summary>Whether a bind() comes before connect(): an address or a port was given, or IP_BIND_ADDRESS_NO_PORT.</summary>
        public bool Binds => Address is not null || Port != 0 || BindAddressNoPort;

        /// <summary>The socket's family: the bound address's, else the destination's.</summary>
        public AddressFamily AddressFamily => Address?.AddressFamily ?? _destination.AddressFamily;

        /// <summary>What is wrong with the request, or null: checks that need no socket table.</summary>
        /// <returns>A sentence naming the input and what was expected.</returns>
        public string? Validate()
        {
            if (_destination.Port == 0)
            {
                return "The destination " + IPAddressText.FormatEndpoint(_destination.Address, 0) + " has no port: connect() needs one, as in 10.0.0.5:5432 or [2001:db8::5]:443.";
            }

            if (IPAddressText.IsWildcard(_destination.Address))
            {
                return "The destination " + _destination.Address + " is the wildcard address, not a host to connect to.";
            }

            if (Address is not null && Address.AddressFamily == AddressFamily.InterNetwork && _destination.AddressFamily == AddressFamily.InterNetworkV6 && !IPAddressText.IsV4Mapped(_destination.Address))
            {
                return "An IPv4 socket (bound to " + Address + ") cannot connect to the IPv6 destination " + IPAddressText.FormatEndpoint(_destination.Address, _destination.Port) + ".";
            }

            if (BindAddressNoPort && Port != 0)
            {
                return "IP_BIND_ADDRESS_NO_PORT (-BindAddressNoPort) defers the choice of a port to connect(), but port " + Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + " was given to bind(): give port 0 or leave the option out.";
            }

            if (Port < 0 || Port > 65535)
            {
                return "Port " + Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.";
            }

            return null;
        }

        /// <summary>The destination as the socket sees it: v4-mapped for an AF_INET6 socket and an IPv4 destination.</summary>
        internal IPAddress SocketDestination =>
            AddressFamily == AddressFamily.InterNetworkV6 && _destination.AddressFamily == AddressFamily.InterNetwork ? _destination.Address.MapToIPv6() : _destination.Address;
    }
}
