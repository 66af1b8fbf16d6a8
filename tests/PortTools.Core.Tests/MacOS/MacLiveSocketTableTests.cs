using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace PortTools.Tests.MacOS
{
    /// <summary>A fact that runs only on macOS (the libproc reader); CI runs it on macos-latest.</summary>
    public sealed class MacFactAttribute : FactAttribute
    {
        public MacFactAttribute()
        {
            if (!OperatingSystem.IsMacOS())
            {
                Skip = "Needs macOS: it reads sockets through libproc.";
            }
        }
    }

    /// <summary>Real loopback sockets found by the live macOS reader with the right fields and owner.</summary>
    public class MacLiveSocketTableTests
    {
        // XNU's setsockopt names (bsd/sys/socket.h); .NET has no SocketOptionName for SO_REUSEPORT.
        private const int SolSocket = 0xFFFF;
        private const int SoReuseport = 0x0200;

        private static SocketTuple Single(IPAddress address, int port, TransportProtocol protocol, SocketState state)
        {
            IReadOnlyList<SocketTuple> found = LiveSocketTable.Read(new SocketQuery
            {
                Protocols = new[] { protocol },
                LocalAddresses = new[] { new AddressPrefix(address) },
                LocalPorts = new[] { new PortRange(port) },
            }).Sockets;
            return Assert.Single(found, s => s.State == state);
        }

        private static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

        private static void AssertOwnedByThisProcess(SocketTuple socket)
        {
            Assert.Equal(Environment.ProcessId, socket.ProcessId);
            Assert.False(string.IsNullOrEmpty(socket.ProcessName));
            Assert.NotNull(socket.UserId);
            Assert.NotNull(socket.ReuseAddress);
            Assert.NotNull(socket.ReusePort);
            Assert.Equal("Live", socket.Source);
        }

        [MacFact]
        public void Finds_a_listener_with_SO_REUSEPORT()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.SetRawSocketOption(SolSocket, SoReuseport, BitConverter.GetBytes(1));
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(5);

            SocketTuple found = Single(IPAddress.Loopback, PortOf(listener), TransportProtocol.Tcp, SocketState.Listen);
            Assert.True(found.ReusePort);
            Assert.Equal(5L, found.SendQueue); // a listener's send queue is its backlog limit
            AssertOwnedByThisProcess(found);
        }

        [MacFact]
        public void Finds_both_ends_of_an_established_connection()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(5);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using Socket server = listener.Accept();

            SocketTuple clientSide = Single(IPAddress.Loopback, PortOf(client), TransportProtocol.Tcp, SocketState.Established);
            Assert.Equal(IPAddress.Loopback, clientSide.RemoteAddress);
            Assert.Equal(PortOf(listener), clientSide.RemotePort);
            AssertOwnedByThisProcess(clientSide);
        }

        [MacFact]
        public void Finds_a_TCP_socket_that_is_bound_but_neither_listens_nor_connects()
        {
            using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));

            AssertOwnedByThisProcess(Single(IPAddress.Loopback, PortOf(bound), TransportProtocol.Tcp, SocketState.Bound));
        }

        [MacFact]
        public void Finds_connected_and_unconnected_UDP_sockets()
        {
            using var unconnected = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            unconnected.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            using var connected = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            connected.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            connected.Connect(unconnected.LocalEndPoint!);

            AssertOwnedByThisProcess(Single(IPAddress.Loopback, PortOf(unconnected), TransportProtocol.Udp, SocketState.Unconnected));
            SocketTuple found = Single(IPAddress.Loopback, PortOf(connected), TransportProtocol.Udp, SocketState.Connected);
            Assert.Equal(PortOf(unconnected), found.RemotePort);
        }

        [MacFact]
        public void Reads_IPV6_V6ONLY_both_ways()
        {
            using var dual = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            dual.DualMode = true;
            dual.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            dual.Listen(1);
            using var v6Only = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            v6Only.DualMode = false;
            v6Only.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            v6Only.Listen(1);

            Assert.False(Single(IPAddress.IPv6Any, PortOf(dual), TransportProtocol.Tcp, SocketState.Listen).IPv6Only);
            Assert.True(Single(IPAddress.IPv6Any, PortOf(v6Only), TransportProtocol.Tcp, SocketState.Listen).IPv6Only);
        }
    }
}
