using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Windows
{
    /// <summary>
    /// A real trial bind on Windows with exactly the requested options: socket, setsockopt, bind,
    /// and listen when asked, then close at once in a finally. It uses System.Net.Sockets.Socket,
    /// which on Windows hands option names to Winsock's setsockopt unchanged: SocketOptionName.ReuseAddress
    /// (4) is SO_REUSEADDR, ExclusiveAddressUse (-5) is SO_EXCLUSIVEADDRUSE, which winsock2.h
    /// defines as ((int)(~SO_REUSEADDR)), Broadcast (32) is SO_BROADCAST and IPv6Only (27) at
    /// SocketOptionLevel.IPv6 (41) is IPV6_V6ONLY (Microsoft Learn: "SocketOptionName Enum",
    /// "SOL_SOCKET socket options", "IPPROTO_IPV6 socket options"). The three-argument Socket
    /// constructor leaves DualMode off, so IPV6_V6ONLY keeps the Windows default (on) unless the
    /// request sets it. The options Windows does not have (SO_REUSEPORT, SO_BINDTODEVICE, ...) are
    /// refused before this runs (<see cref="LiveBindCheck.MissingOption"/>).
    /// </summary>
    /// <remarks>
    /// On Linux and macOS .NET maps ReuseAddress to SO_REUSEADDR and SO_REUSEPORT together, which
    /// is why the macOS trial bind calls libc instead; this class runs only on Windows.
    /// </remarks>
    internal static class WindowsTrialBind
    {
        /// <summary>
        /// The setsockopt calls for a request, in a fixed order. When both SO_REUSEADDR and
        /// SO_EXCLUSIVEADDRUSE are asked for, the second call is the one expected to fail
        /// (kernel-rules.md 2A, UNVERIFIED); the trial shows what Windows really does.
        /// </summary>
        internal static List<(SocketOptionLevel Level, SocketOptionName Name, bool Value, string Step)> Plan(BindRequest request)
        {
            var plan = new List<(SocketOptionLevel, SocketOptionName, bool, string)>(4);
            if (request.ReuseAddress)
            {
                plan.Add((SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true, "setsockopt(SO_REUSEADDR)"));
            }

            if (request.ExclusiveAddressUse)
            {
                plan.Add((SocketOptionLevel.Socket, SocketOptionName.ExclusiveAddressUse, true, "setsockopt(SO_EXCLUSIVEADDRUSE)"));
            }

            if (request.Broadcast)
            {
                plan.Add((SocketOptionLevel.Socket, SocketOptionName.Broadcast, true, "setsockopt(SO_BROADCAST)"));
            }

            if (request.AddressFamily == AddressFamily.InterNetworkV6 && request.IPv6Only is bool v6Only)
            {
                plan.Add((SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, v6Only, "setsockopt(IPV6_V6ONLY)"));
            }

            return plan;
        }

        /// <summary>Binds (and listens) for real; the error is the Winsock error of the failing call.</summary>
        public static ProbeOutcome Probe(BindRequest request)
        {
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            string step = "socket";
            int bound = 0;
            Socket? socket = null;
            try
            {
                socket = new Socket(request.AddressFamily, tcp ? SocketType.Stream : SocketType.Dgram, tcp ? ProtocolType.Tcp : ProtocolType.Udp);
                foreach ((SocketOptionLevel level, SocketOptionName name, bool value, string label) in Plan(request))
                {
                    step = label;
                    socket.SetSocketOption(level, name, value);
                }

                step = "bind";
                socket.Bind(new IPEndPoint(request.Address, request.Port));
                bound = socket.LocalEndPoint is IPEndPoint local ? local.Port : 0;
                if (request.Listen && tcp)
                {
                    step = "listen";
                    socket.Listen(1);
                }

                return new ProbeOutcome(0, request.Listen ? "listen" : "bind", bound);
            }
            catch (SocketException exception)
            {
                // On Windows SocketErrorCode is the Winsock error itself (as ErrorCode is); elsewhere .NET
                // translates errno into the same Winsock numbering, which keeps this path testable off Windows.
                return new ProbeOutcome((int)exception.SocketErrorCode, step, bound);
            }
            finally
            {
                socket?.Dispose();
            }
        }
    }
}
