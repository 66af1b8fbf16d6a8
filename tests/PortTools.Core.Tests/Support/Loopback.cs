using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace PortTools.Tests.Support
{
    /// <summary>Private loopback addresses per test, so tests never see each other's sockets.</summary>
    public static class Loopback
    {
        private static int s_next = Environment.ProcessId % 200;

        /// <summary>A fresh 127.x.y.z address (Linux treats all of 127.0.0.0/8 as local).</summary>
        public static IPAddress NextAddress()
        {
            int n = Interlocked.Increment(ref s_next);
            return new IPAddress(new byte[] { 127, (byte)(10 + (n / 250 % 200)), (byte)(n % 250 + 1), (byte)(1 + (Environment.ProcessId % 250)) });
        }

        public static Socket Tcp(AddressFamily family = AddressFamily.InterNetwork) => new Socket(family, SocketType.Stream, ProtocolType.Tcp);

        public static Socket Udp(AddressFamily family = AddressFamily.InterNetwork) => new Socket(family, SocketType.Dgram, ProtocolType.Udp);

        public static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
