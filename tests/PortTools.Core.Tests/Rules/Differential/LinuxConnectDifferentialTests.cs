using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading;
using PortTools.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>
    /// connect()'s source port against the live kernel (issue 11): ranges of 1 to 16 ports, bind(0)
    /// holders, reserved ports, TIME-WAIT under tcp_tw_reuse 0, 1 and 2 over loopback and over a
    /// veth pair, IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE, ip_autobind_reuse, UDP's automatic
    /// bind, IPv4 and IPv6. Each test makes its own namespaces (unique names) and deletes them.
    /// </summary>
    public class LinuxConnectDifferentialTests
    {
        private static readonly IPAddress Loopback6 = IPAddress.IPv6Loopback;
        private readonly ITestOutputHelper _output;

        public LinuxConnectDifferentialTests(ITestOutputHelper output)
        {
            _output = output;
        }

        private static ConnectRequest Tcp(IPAddress address, int port, Action<ConnectRequestBuilder>? more = null) => Build(TransportProtocol.Tcp, address, port, more);

        private static ConnectRequest Udp(IPAddress address, int port, Action<ConnectRequestBuilder>? more = null) => Build(TransportProtocol.Udp, address, port, more);

        private static ConnectRequest Build(TransportProtocol protocol, IPAddress address, int port, Action<ConnectRequestBuilder>? more)
        {
            var builder = new ConnectRequestBuilder { Protocol = protocol, Destination = new IPEndPoint(address, port) };
            more?.Invoke(builder);
            return builder.Build();
        }

        [LinuxRootFact]
        public void Ranges_of_1_to_16_ports_with_bind_holders_reserved_ports_and_other_destinations()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                int destinationPort = 5000;
                foreach (bool inet6 in new[] { false, true })
                {
                    IPAddress loopback = inet6 ? Loopback6 : IPAddress.Loopback;
                    for (int size = 1; size <= 16; size++)
                    {
                        foreach (bool crowded in new[] { false, true })
                        {
                            string category = "range of " + (size < 10 ? "0" : string.Empty) + size.ToString(CultureInfo.InvariantCulture) + " port" + (size == 1 ? string.Empty : "s");
                            string description = (inet6 ? "IPv6" : "IPv4") + (crowded ? ", with a bind(0) holder, a reserved port and a connection elsewhere" : ", empty");
                            var sockets = new List<int>();
                            lab.Client.Sysctl("ipv4/ip_local_port_range", "40000 " + (40000 + size - 1).ToString(CultureInfo.InvariantCulture));
                            int listener = lab.Listen(lab.Client, loopback, ++destinationPort);
                            int other = lab.Listen(lab.Client, loopback, ++destinationPort);
                            if (crowded && size >= 3)
                            {
                                lab.Client.Sysctl("ipv4/ip_local_reserved_ports", (40000 + (size / 2)).ToString(CultureInfo.InvariantCulture));
                            }

                            if (crowded && size >= 2)
                            {
                                int holder = lab.Client.Open(tcp: true, inet6);
                                if (lab.Client.Bind(holder, loopback, 0) == 0)
                                {
                                    sockets.Add(holder);
                                }

                                int elsewhere = lab.Step(category, description + ": the connection elsewhere", Tcp(loopback, destinationPort), other);
                                if (elsewhere >= 0)
                                {
                                    sockets.Add(elsewhere);
                                }
                            }

                            sockets.AddRange(lab.Exhaust(category, description, Tcp(loopback, destinationPort - 1), size + 2, listener));
                            foreach (int fd in sockets)
                            {
                                lab.Client.Abort(fd);
                            }

                            lab.Client.Abort(listener);
                            lab.Client.Abort(other);
                            lab.Client.Sysctl("ipv4/ip_local_reserved_ports", string.Empty);
                        }
                    }
                }
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void TIME_WAIT_with_tcp_tw_reuse_0_1_and_2_over_loopback_and_a_veth_pair()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                NamespaceSockets server = lab.AddPeer();
                int destinationPort = 6000;
                var cases = new List<(int Mode, bool Veth, bool Inet6, int Timestamps)>();
                foreach (int mode in new[] { 0, 1, 2 })
                {
                    cases.Add((mode, false, false, 1));
                    cases.Add((mode, true, false, 1));
                }

                cases.Add((2, false, true, 1));
                cases.Add((1, true, true, 1));
                cases.Add((1, false, false, 0));
                foreach ((int mode, bool veth, bool inet6, int timestamps) in cases)
                {
                    string category = "TIME-WAIT, tcp_tw_reuse=" + mode.ToString(CultureInfo.InvariantCulture) + (veth ? " over veth" : " over loopback");
                    string description = (inet6 ? "IPv6" : "IPv4") + (timestamps == 0 ? ", tcp_timestamps=0" : string.Empty);
                    lab.Client.Sysctl("ipv4/tcp_tw_reuse", mode.ToString(CultureInfo.InvariantCulture));
                    lab.Client.Sysctl("ipv4/tcp_timestamps", timestamps.ToString(CultureInfo.InvariantCulture));
                    lab.Client.Sysctl("ipv4/ip_local_port_range", "40100 40100");
                    NamespaceSockets where = veth ? server : lab.Client;
                    IPAddress address = veth ? IPAddress.Parse(inet6 ? "2001:db8::2" : "192.0.2.2") : inet6 ? Loopback6 : IPAddress.Loopback;
                    int port = ++destinationPort;
                    int listener = lab.Listen(where, address, port);

                    // The client closes first, so the TIME-WAIT entry is on its side.
                    int client = lab.Step(category, description + ": the connection that will wait", Tcp(address, port), listener, where);
                    Thread.Sleep(20);
                    List<int> accepted = lab.TakeAccepted(listener);
                    accepted.AddRange(where.AcceptAll(listener));
                    Assert.NotEmpty(accepted);
                    lab.Client.Close(client);
                    Thread.Sleep(50);
                    foreach (int fd in accepted)
                    {
                        where.Close(fd);
                    }

                    Thread.Sleep(50);

                    // tcp_tw_reuse_delay is 1000 ms: under load the step may outlast it, and then it proves nothing.
                    int young = lab.Step(category, description + ": over an entry younger than tcp_tw_reuse_delay", Tcp(address, port), listener, where, validFor: TimeSpan.FromMilliseconds(700));
                    if (young >= 0)
                    {
                        lab.Client.Abort(young);
                    }

                    Thread.Sleep(1200);
                    int old = lab.Step(category, description + ": over an entry older than tcp_tw_reuse_delay", Tcp(address, port), listener, where);
                    if (old >= 0)
                    {
                        lab.Client.Abort(old);
                    }

                    where.Abort(listener);
                }

                // A bound port over TIME-WAIT: the entry is taken over when it recorded timestamps, whatever tcp_tw_reuse says.
                foreach (int timestamps in new[] { 1, 0 })
                {
                    lab.Client.Sysctl("ipv4/tcp_tw_reuse", "0");
                    lab.Client.Sysctl("ipv4/tcp_timestamps", timestamps.ToString(CultureInfo.InvariantCulture));
                    int port = ++destinationPort;
                    int listener = lab.Listen(lab.Client, IPAddress.Loopback, port);
                    ConnectRequest bound = Tcp(IPAddress.Loopback, port, r => { r.Address = IPAddress.Loopback; r.Port = 40150; r.ReuseAddress = true; });
                    lab.KnowFlags(TransportProtocol.Tcp, 40150, reuseAddress: true, reusePort: false);
                    int client = lab.Step("TIME-WAIT, bound port", "tcp_timestamps=" + timestamps + ": the connection that will wait", bound, listener);
                    Thread.Sleep(20);
                    List<int> accepted = lab.TakeAccepted(listener);
                    accepted.AddRange(lab.Client.AcceptAll(listener));
                    Assert.NotEmpty(accepted);
                    lab.Client.Close(client);
                    Thread.Sleep(50);
                    accepted.ForEach(lab.Client.Close);
                    Thread.Sleep(50);
                    int again = lab.Step("TIME-WAIT, bound port", "tcp_timestamps=" + timestamps + ": the same 4-tuple again", bound, listener);
                    if (again >= 0)
                    {
                        lab.Client.Abort(again);
                    }

                    lab.Client.Abort(listener);
                    lab.ForgetFlags();
                }
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void IP_BIND_ADDRESS_NO_PORT_and_bind_0_before_connect()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                foreach (bool inet6 in new[] { false, true })
                {
                    IPAddress loopback = inet6 ? Loopback6 : IPAddress.Loopback;
                    int basePort = inet6 ? 7100 : 7000;
                    lab.Client.Sysctl("ipv4/ip_local_port_range", "40200 40203");
                    int elsewhere = lab.Listen(lab.Client, loopback, basePort);
                    int listener = lab.Listen(lab.Client, loopback, basePort + 1);
                    string family = inet6 ? "IPv6" : "IPv4";

                    // Connections elsewhere take every port, each made by connect(): connect() can share them.
                    List<int> held = lab.Exhaust("IP_BIND_ADDRESS_NO_PORT", family + ": connections elsewhere", Tcp(loopback, basePort), 6, elsewhere);
                    lab.Step("IP_BIND_ADDRESS_NO_PORT", family + ": bind(address, 0) first takes no port they use", Tcp(loopback, basePort + 1, r => r.Address = loopback), listener);
                    List<int> shared = lab.Exhaust("IP_BIND_ADDRESS_NO_PORT", family + ": with IP_BIND_ADDRESS_NO_PORT connect() shares them", Tcp(loopback, basePort + 1, r => { r.Address = loopback; r.BindAddressNoPort = true; }), 6, listener);
                    held.Concat(shared).ToList().ForEach(lab.Client.Abort);

                    // bind(0) holders: ports bind() took are not connect()'s, with or without the option.
                    int a = lab.Client.Open(tcp: true, inet6);
                    int b = lab.Client.Open(tcp: true, inet6);
                    lab.Client.Bind(a, loopback, 0);
                    lab.Client.Bind(b, loopback, 0);
                    List<int> rest = lab.Exhaust("bind(0) holders", family + ": two ports held by bind(0)", Tcp(loopback, basePort + 1, r => { r.Address = loopback; r.BindAddressNoPort = true; }), 6, listener);
                    rest.AddRange(lab.Exhaust("bind(0) holders", family + ": and by connect() without a bind()", Tcp(loopback, basePort), 6, elsewhere));
                    rest.Concat(new[] { a, b }).ToList().ForEach(lab.Client.Abort);
                    lab.Client.Abort(elsewhere);
                    lab.Client.Abort(listener);
                }
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void IP_LOCAL_PORT_RANGE_narrows_connect_and_bind_0()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                lab.Client.Sysctl("ipv4/ip_local_port_range", "40300 40315");
                int listener = lab.Listen(lab.Client, IPAddress.Loopback, 7200);
                foreach (string own in new[] { "40304-40307", "40314-50000", "30000-40301", "40309-40309" })
                {
                    PortRange range = PortRange.Parse(own);
                    List<int> taken = lab.Exhaust("IP_LOCAL_PORT_RANGE", "connect() in " + own, Tcp(IPAddress.Loopback, 7200, r => r.LocalPortRange = range), 8, listener);
                    taken.AddRange(lab.Exhaust("IP_LOCAL_PORT_RANGE", "bind(0) in " + own, Tcp(IPAddress.Loopback, 7200, r => { r.LocalPortRange = range; r.Address = IPAddress.Loopback; }), 8, listener));
                    taken.ForEach(lab.Client.Abort);
                }

                lab.Client.Abort(listener);
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void UDP_connect_binds_automatically_and_runs_out_with_EAGAIN()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                foreach (bool inet6 in new[] { false, true })
                {
                    IPAddress loopback = inet6 ? Loopback6 : IPAddress.Loopback;
                    string family = inet6 ? "IPv6" : "IPv4";
                    lab.Client.Sysctl("ipv4/ip_local_port_range", "40400 40404");
                    int unconnected = lab.Client.Open(tcp: false, inet6);
                    lab.Client.Bind(unconnected, inet6 ? IPAddress.IPv6Any : IPAddress.Any, 40402);
                    var sockets = new List<int> { unconnected };
                    sockets.AddRange(lab.Exhaust("UDP autobind", family + ": one port held by an unconnected socket", Udp(loopback, 53), 8));
                    sockets.AddRange(lab.Exhaust("UDP autobind", family + ": another destination", Udp(loopback, 54), 4));
                    sockets.ForEach(lab.Client.Abort);

                    // bind(address, 0) and IP_BIND_ADDRESS_NO_PORT: the port is picked for the address, before or at connect().
                    int other = lab.Client.Open(tcp: false, inet6);
                    lab.Client.Bind(other, inet6 ? IPAddress.Parse("::1") : IPAddress.Parse("127.0.0.2"), 40400);
                    var more = new List<int> { other };
                    IPAddress own = inet6 ? Loopback6 : IPAddress.Loopback;
                    more.AddRange(lab.Exhaust("UDP bind(0) and IP_BIND_ADDRESS_NO_PORT", family + ": bind(" + own + ", 0)", Udp(loopback, 53, r => r.Address = own), 8));
                    more.AddRange(lab.Exhaust("UDP bind(0) and IP_BIND_ADDRESS_NO_PORT", family + ": IP_BIND_ADDRESS_NO_PORT", Udp(loopback, 53, r => { r.Address = IPAddress.Parse(inet6 ? "::" : "127.0.0.3"); r.BindAddressNoPort = true; }), 8));
                    more.ForEach(lab.Client.Abort);
                }

                // SO_REUSEADDR on every socket: ports are shared, so they set no limit.
                lab.Client.Sysctl("ipv4/ip_local_port_range", "40410 40410");
                lab.KnowFlags(TransportProtocol.Udp, 40410, reuseAddress: true, reusePort: false);
                List<int> shared = lab.Exhaust("UDP autobind", "IPv4: SO_REUSEADDR on every socket", Udp(IPAddress.Loopback, 53, r => r.ReuseAddress = true), 4);
                shared.ForEach(lab.Client.Abort);
                lab.ForgetFlags();
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void Ip_autobind_reuse_shares_a_bind_0_port_with_SO_REUSEADDR_connections()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                lab.Client.Sysctl("ipv4/ip_local_port_range", "40500 40501");
                int elsewhere = lab.Listen(lab.Client, IPAddress.Loopback, 7300);
                int listener = lab.Listen(lab.Client, IPAddress.Loopback, 7301);
                foreach (int port in new[] { 40500, 40501 })
                {
                    lab.KnowFlags(TransportProtocol.Tcp, port, reuseAddress: true, reusePort: false);
                }

                ConnectRequest reuse = Tcp(IPAddress.Loopback, 7301, r => { r.Address = IPAddress.Loopback; r.ReuseAddress = true; });
                List<int> held = lab.Exhaust("ip_autobind_reuse", "SO_REUSEADDR connections elsewhere", Tcp(IPAddress.Loopback, 7300, r => { r.Address = IPAddress.Loopback; r.ReuseAddress = true; }), 4, elsewhere);
                foreach (string value in new[] { "0", "1" })
                {
                    lab.Client.Sysctl("ipv4/ip_autobind_reuse", value);
                    List<int> more = lab.Exhaust("ip_autobind_reuse", "ip_autobind_reuse=" + value + ": bind(127.0.0.1, 0) with SO_REUSEADDR, then connect()", reuse, 4, listener);
                    more.ForEach(lab.Client.Abort);
                }

                held.ForEach(lab.Client.Abort);
                lab.Client.Abort(elsewhere);
                lab.Client.Abort(listener);
                lab.Client.Sysctl("ipv4/ip_autobind_reuse", "0");
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void Test_PortBind_port_0_in_small_ranges_with_holders_and_ip_autobind_reuse()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                int listenerPort = 7400;
                foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
                {
                    foreach (bool reuseAddress in new[] { false, true })
                    {
                        foreach (string autobind in protocol == TransportProtocol.Tcp && reuseAddress ? new[] { "0", "1" } : new[] { "0" })
                        {
                            for (int size = 1; size <= 6; size++)
                            {
                                string category = "Test-PortBind port 0, " + (protocol == TransportProtocol.Tcp ? "tcp" : "udp");
                                string description = size + " port(s)" + (reuseAddress ? ", SO_REUSEADDR" : string.Empty) + ", ip_autobind_reuse=" + autobind;
                                lab.Client.Sysctl("ipv4/ip_local_port_range", "40600 " + (40600 + size - 1).ToString(CultureInfo.InvariantCulture));
                                lab.Client.Sysctl("ipv4/ip_autobind_reuse", autobind);
                                for (int port = 40600; port < 40600 + size; port++)
                                {
                                    lab.KnowFlags(protocol, port, reuseAddress, reusePort: false);
                                }

                                var sockets = new List<int>();
                                int listener = -1;
                                if (protocol == TransportProtocol.Tcp)
                                {
                                    // A connection elsewhere with the same options: bind(0) shares it only in ip_autobind_reuse's round.
                                    listener = lab.Listen(lab.Client, IPAddress.Loopback, ++listenerPort);
                                    int elsewhere = lab.Step(category, description + ": a connection elsewhere", Tcp(IPAddress.Loopback, listenerPort, r => { r.Address = IPAddress.Loopback; r.ReuseAddress = reuseAddress; }), listener);
                                    if (elsewhere >= 0)
                                    {
                                        sockets.Add(elsewhere);
                                    }
                                }

                                for (int i = 0; i < size + 2; i++)
                                {
                                    int fd = lab.StepBind0(category, description + " (bind " + (i + 1).ToString(CultureInfo.InvariantCulture) + ")", protocol, IPAddress.Loopback, reuseAddress);
                                    if (fd < 0)
                                    {
                                        break;
                                    }

                                    sockets.Add(fd);
                                }

                                sockets.ForEach(lab.Client.Abort);
                                if (listener >= 0)
                                {
                                    lab.Client.Abort(listener);
                                }

                                lab.ForgetFlags();
                            }
                        }
                    }
                }

                lab.Client.Sysctl("ipv4/ip_autobind_reuse", "0");
            }

            AssertAgreement(report);
        }

        [LinuxRootFact]
        public void Measure_EphemeralPortUsage_agrees_with_the_further_connects_the_kernel_allows()
        {
            var report = new ConnectReport();
            using (var lab = new ConnectLab(report))
            {
                NamespaceSockets server = lab.AddPeer();
                lab.Client.Sysctl("ipv4/ip_local_port_range", "40000 40099");
                IPAddress database = IPAddress.Parse("192.0.2.2");
                int listener = lab.Listen(server, database, 5432);
                var open = new List<int>();
                for (int i = 0; i < 90; i++)
                {
                    int fd = lab.Client.Open(tcp: true, inet6: false);
                    Assert.Equal(0, lab.Client.Connect(fd, database, 5432));
                    open.Add(fd);
                    server.AcceptAll(listener);
                }

                SocketTableReadResult table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = lab.Client.Name, IncludeProcesses = false });
                SocketHost host = SocketHost.Read(lab.Client.Name);
                EphemeralPortUsage row = EphemeralPortUsageAnalyzer.Analyze(table.Sockets, host, timeWaitAge: LiveConnectProbe.Open(lab.Client.Name).TimeWaitAges).Single(r => r.Destination == "192.0.2.2:5432");
                Assert.Equal(90, row.InUse);
                Assert.Equal(100, row.Capacity);

                int further = 0;
                while (further < 20)
                {
                    int fd = lab.Client.Open(tcp: true, inet6: false);
                    int errno = lab.Client.Connect(fd, database, 5432);
                    server.AcceptAll(listener);
                    if (errno != 0)
                    {
                        Assert.Equal(NamespaceSockets.EADDRNOTAVAIL, errno);
                        break;
                    }

                    open.Add(fd);
                    further++;
                }

                report.Compare("Measure-EphemeralPortUsage", "100-port range, 90 connections to 192.0.2.2:5432: Available against further connect() calls", further.ToString(CultureInfo.InvariantCulture), row.Available.ToString(CultureInfo.InvariantCulture), row.Available == further, row.Rule);
                Assert.Equal(10, further);
                open.ForEach(lab.Client.Abort);
            }

            AssertAgreement(report);
        }

        private void AssertAgreement(ConnectReport report)
        {
            _output.WriteLine(report.Render());
            Assert.True(report.Checks > 0, "no comparison was made");
            Assert.True(report.Disagreements.Count == 0, report.Disagreements.Count + " disagreement(s) with the kernel:\n" + string.Join("\n", report.Disagreements.Take(20)));
        }

        /// <summary>A mutable stand-in for the init-only request, for the scenarios' lambdas.</summary>
        private sealed class ConnectRequestBuilder
        {
            public TransportProtocol Protocol { get; set; }

            public IPEndPoint Destination { get; set; } = new IPEndPoint(IPAddress.Loopback, 1);

            public IPAddress? Address { get; set; }

            public int Port { get; set; }

            public bool ReuseAddress { get; set; }

            public bool BindAddressNoPort { get; set; }

            public PortRange? LocalPortRange { get; set; }

            public ConnectRequest Build() => new ConnectRequest
            {
                Protocol = Protocol,
                Destination = Destination,
                Address = Address,
                Port = Port,
                ReuseAddress = ReuseAddress,
                BindAddressNoPort = BindAddressNoPort,
                LocalPortRange = LocalPortRange,
            };
        }
    }
}
