using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Text;

namespace PortTools.MacOS
{
    /// <summary>
    /// A real trial bind on macOS with exactly the requested options, through libc rather than
    /// System.Net.Sockets.Socket: on Unix .NET turns SocketOptionName.ReuseAddress into SO_REUSEADDR
    /// and SO_REUSEPORT together, which would change the answer. socket, setsockopt, bind, and listen
    /// when asked, then close in a finally; the socket is never left open. The options macOS does not
    /// have (SO_REUSEPORT_LB, SO_EXCLUSIVEADDRUSE, IP_FREEBIND) are refused before this runs
    /// (<see cref="LiveBindCheck.MissingOption"/>).
    /// </summary>
    internal static unsafe class MacTrialBind
    {
        /// <summary>One setsockopt call: level, option, int value, and the step's name for the result.</summary>
        internal readonly struct Option
        {
            public Option(int level, int name, int value, string step)
            {
                Level = level;
                Name = name;
                Value = value;
                Step = step;
            }

            public int Level { get; }

            public int Name { get; }

            public int Value { get; }

            public string Step { get; }
        }

        /// <summary>
        /// The setsockopt calls for a request, in the order they are made. -Interface becomes
        /// IP_BOUND_IF for an AF_INET socket and IPV6_BOUND_IF for an AF_INET6 one (ip_ctloutput in
        /// bsd/netinet/ip_output.c refuses IP_BOUND_IF on a socket without INP_IPV4), with the
        /// interface's index.
        /// </summary>
        internal static List<Option> Plan(BindRequest request, uint interfaceIndex)
        {
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            var plan = new List<Option>(5);
            if (request.ReuseAddress)
            {
                plan.Add(new Option(BsdLibC.SOL_SOCKET, BsdLibC.SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)"));
            }

            if (request.ReusePort)
            {
                plan.Add(new Option(BsdLibC.SOL_SOCKET, BsdLibC.SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)"));
            }

            if (request.Broadcast)
            {
                plan.Add(new Option(BsdLibC.SOL_SOCKET, BsdLibC.SO_BROADCAST, 1, "setsockopt(SO_BROADCAST)"));
            }

            if (inet6 && request.IPv6Only is bool v6Only)
            {
                plan.Add(new Option(BsdLibC.IPPROTO_IPV6, BsdLibC.IPV6_V6ONLY, v6Only ? 1 : 0, "setsockopt(IPV6_V6ONLY)"));
            }

            if (request.Interface is not null)
            {
                plan.Add(inet6
                    ? new Option(BsdLibC.IPPROTO_IPV6, BsdLibC.IPV6_BOUND_IF, unchecked((int)interfaceIndex), "setsockopt(IPV6_BOUND_IF)")
                    : new Option(BsdLibC.IPPROTO_IP, BsdLibC.IP_BOUND_IF, unchecked((int)interfaceIndex), "setsockopt(IP_BOUND_IF)"));
            }

            return plan;
        }

        /// <summary>
        /// The answer when -Interface names no interface. Index 0 would make IP_BOUND_IF unbind
        /// (IFSCOPE_NONE), silently dropping the option, so the call is not made; XNU answers an index
        /// that does not exist with ENXIO (inp_bindif in bsd/netinet/in_pcb.c), and so does this.
        /// </summary>
        internal static ProbeOutcome NoSuchInterface(BindRequest request) => new ProbeOutcome(
            BsdLibC.ENXIO,
            request.AddressFamily == AddressFamily.InterNetworkV6 ? "setsockopt(IPV6_BOUND_IF)" : "setsockopt(IP_BOUND_IF)",
            0,
            "No trial socket was opened: there is no interface named '" + request.Interface + "' (if_nametoindex found none), and macOS answers ENXIO for an interface that does not exist.",
            synthesized: true);

        public static ProbeOutcome Probe(BindRequest request)
        {
            uint interfaceIndex = 0;
            if (request.Interface is not null)
            {
                interfaceIndex = InterfaceIndex(request.Interface);
                if (interfaceIndex == 0)
                {
                    return NoSuchInterface(request);
                }
            }

            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            int fd = BsdLibC.socket(inet6 ? BsdLibC.AF_INET6 : BsdLibC.AF_INET, tcp ? BsdLibC.SOCK_STREAM : BsdLibC.SOCK_DGRAM, tcp ? BsdLibC.IPPROTO_TCP : BsdLibC.IPPROTO_UDP);
            if (fd < 0)
            {
                return new ProbeOutcome(BsdLibC.LastError, "socket", 0);
            }

            try
            {
                foreach (Option option in Plan(request, interfaceIndex))
                {
                    int value = option.Value;
                    if (BsdLibC.setsockopt(fd, option.Level, option.Name, &value, sizeof(int)) != 0)
                    {
                        return new ProbeOutcome(BsdLibC.LastError, option.Step, 0);
                    }
                }

                byte* address = stackalloc byte[BsdSockAddr.MaxLength];
                int length = BsdSockAddr.Write(new Span<byte>(address, BsdSockAddr.MaxLength), request.Address, request.Port);
                if (BsdLibC.bind(fd, address, (uint)length) != 0)
                {
                    return new ProbeOutcome(BsdLibC.LastError, "bind", 0);
                }

                int bound = BoundPort(fd);
                if (request.Listen && tcp && BsdLibC.listen(fd, 1) != 0)
                {
                    return new ProbeOutcome(BsdLibC.LastError, "listen", bound);
                }

                return new ProbeOutcome(0, request.Listen ? "listen" : "bind", bound);
            }
            finally
            {
                BsdLibC.close(fd);
            }
        }

        private static uint InterfaceIndex(string name)
        {
            if (name.Length == 0 || name.IndexOf('\0') >= 0)
            {
                return 0;
            }

            byte[] bytes = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* text = bytes)
            {
                return BsdLibC.if_nametoindex(text);
            }
        }

        private static int BoundPort(int fd)
        {
            byte* buffer = stackalloc byte[BsdSockAddr.MaxLength];
            uint length = BsdSockAddr.MaxLength;
            return BsdLibC.getsockname(fd, buffer, &length) == 0 ? BsdSockAddr.ReadPort(new ReadOnlySpan<byte>(buffer, (int)Math.Min(length, (uint)BsdSockAddr.MaxLength))) : 0;
        }
    }
}
