using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// Host facts of a network namespace: each test makes its own namespace with sysctls, addresses
    /// and interfaces unlike the host's, reads them as PortTools does, and checks every answer against
    /// what the kernel does there (a real bind() or connect() inside the namespace).
    /// </summary>
    public class NamespaceHostFactsTests
    {
        /// <summary>A namespace whose every fact differs from a default host's.</summary>
        private static TestNetworkNamespace Unusual()
        {
            var space = new TestNetworkNamespace();
            try
            {
                space.Sysctl("net/ipv4/ip_local_port_range", "40000 40099");
                space.Sysctl("net/ipv4/ip_local_reserved_ports", "40010-40011");
                space.Sysctl("net/ipv4/ip_unprivileged_port_start", "500");
                space.Sysctl("net/ipv6/ip_nonlocal_bind", "1");
                space.Sysctl("net/ipv6/bindv6only", "1");
                space.Sysctl("net/ipv4/tcp_tw_reuse", "0");
                space.Sysctl("net/ipv4/ip_autobind_reuse", "1");
                TestNetworkNamespace.Ip("-n", space.Name, "addr", "add", "198.51.100.7/24", "brd", "+", "dev", "veth1");
                return space;
            }
            catch
            {
                space.Dispose();
                throw;
            }
        }

        [LinuxRootFact]
        public void Reads_a_namespaces_own_sysctls_addresses_and_interfaces()
        {
            using TestNetworkNamespace space = Unusual();
            SocketHost host = SocketHost.Read(space.Name);

            Assert.Equal(TargetOS.Linux, host.OS);
            Assert.Equal(space.Name, host.NetworkNamespace!.Name);
            Assert.Equal(TestNetworkNamespace.Output("stat", "-L", "-c", "%i", space.Path).Trim(), host.NetworkNamespace.Inode.ToString());

            // Each sysctl as a process inside the namespace sees it.
            Assert.Equal(space.SysctlSeenInside("net/ipv4/ip_local_port_range").Replace('\t', '-'), host.EphemeralPortRange.ToString());
            Assert.Equal(space.SysctlSeenInside("net/ipv4/ip_local_reserved_ports"), string.Join(",", host.ReservedPorts!));
            Assert.Equal(int.Parse(space.SysctlSeenInside("net/ipv4/ip_unprivileged_port_start")), host.UnprivilegedPortStart);
            Assert.Equal(space.SysctlSeenInside("net/ipv4/ip_nonlocal_bind") == "1", host.NonLocalBind);
            Assert.Equal(space.SysctlSeenInside("net/ipv6/ip_nonlocal_bind") == "1", host.NonLocalBindV6);
            Assert.Equal(space.SysctlSeenInside("net/ipv6/bindv6only") == "1", host.BindV6Only);
            Assert.Equal(int.Parse(space.SysctlSeenInside("net/ipv4/tcp_tw_reuse")), host.TcpTwReuse);
            Assert.Equal(space.SysctlSeenInside("net/ipv4/ip_autobind_reuse") == "1", host.AutobindReuse);
            Assert.Equal((40000, 40099, 500, true, true, 0, true), (host.EphemeralPortRange!.Value.Start, host.EphemeralPortRange.Value.End, host.UnprivilegedPortStart, host.NonLocalBindV6, host.BindV6Only, host.TcpTwReuse, host.AutobindReuse));

            // The addresses and interfaces as ip shows them inside the namespace.
            // Link-local IPv6 addresses are left out: they are tentative while duplicate address detection
            // runs, and PortTools leaves tentative addresses out because bind() refuses them.
            string[] fromIp = TestNetworkNamespace.Output("ip", "-n", space.Name, "-o", "addr", "show")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(words => !words[3].StartsWith("fe80:", StringComparison.Ordinal))
                .Select(words => words[3] + (Array.IndexOf(words, "brd") is int b and > 0 ? " brd " + words[b + 1] : string.Empty) + " dev " + words[1])
                .OrderBy(a => a, StringComparer.Ordinal)
                .ToArray();
            Assert.Equal(fromIp, host.Addresses!.Where(a => !a.Address.StartsWith("fe80:", StringComparison.Ordinal)).Select(a => a.ToString()).OrderBy(a => a, StringComparer.Ordinal).ToArray());
            Assert.Contains("198.51.100.7/24 brd 198.51.100.255 dev veth1", host.Addresses!.Select(a => a.ToString()));
            Assert.Equal(new[] { "lo", "veth0", "veth1" }, host.Interfaces!.OrderBy(n => n, StringComparer.Ordinal));

            // And none of it is the host's: the host's own facts are another object.
            SocketHost own = SocketHost.Read();
            Assert.NotEqual(own.NetworkNamespace!.Inode, host.NetworkNamespace.Inode);
            Assert.DoesNotContain(own.Addresses!, a => a.Address == "198.51.100.7");
        }

        [LinuxRootFact]
        public void A_table_read_from_a_namespace_brings_its_facts_and_a_simulation_agrees_with_bind_there()
        {
            // The issue's case: this host may have 192.0.2.2, the namespace has only 192.0.2.1.
            using TestNetworkNamespace space = Unusual();
            using var sockets = new SocketSet();
            space.Run(() =>
            {
                Socket listener = sockets.Add(Loopback.Tcp());
                listener.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8501));
                listener.Listen(1);
                return 0;
            });

            IReadOnlyList<SocketTuple> table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, IncludeProcesses = false }).Sockets;
            SocketHost? host = SocketHost.ReadForTable(table);
            Assert.NotNull(host);
            Assert.Equal(space.Name, host!.NetworkNamespace!.Name);
            SocketIndex index = SocketIndex.Build(table, HostFacts.From(host), SocketTableOrder.KernelOrder);

            var requests = new List<BindRequest>();
            foreach (string address in new[] { "192.0.2.2", "192.0.2.1", "198.51.100.7", "198.51.100.255", "203.0.113.9", "127.0.0.1", "0.0.0.0", "2001:db8::1", "2001:db8::99", "::" })
            {
                foreach (int port in new[] { 8500, 8501, 40050, 450 })
                {
                    requests.Add(new BindRequest { Address = IPAddress.Parse(address), Port = port });
                }
            }

            var disagreements = new List<string>();
            foreach (BindRequest request in requests)
            {
                PortBindResult simulated = RuleEngine.DecideBind(index, request);
                TrialBindOutcome kernel = space.Run(() => LinuxTrialBind.Probe(request));
                string predicted = simulated.CanBind == true ? "ok" : simulated.Error ?? "?";
                string actual = kernel.Errno == 0 ? "ok" : BindErrors.Describe(TargetOS.Linux, BindErrors.FromLinuxErrno(kernel.Errno) ?? BindErrorKind.None)?.Name ?? "errno " + kernel.Errno;
                Assert.Empty(simulated.DependsOn); // every fact it needs is known
                if (predicted != actual)
                {
                    disagreements.Add(request.Address + ":" + request.Port + " simulated " + predicted + ", kernel " + actual + " (" + simulated.Reason + ")");
                }
            }

            Assert.Empty(disagreements);
            PortBindResult issue = RuleEngine.DecideBind(index, new BindRequest { Address = IPAddress.Parse("192.0.2.2"), Port = 8500 });
            Assert.Equal((false, "EADDRNOTAVAIL"), (issue.CanBind!.Value, issue.Error!));
        }

        [LinuxRootFact]
        public void A_trial_bind_and_its_explanation_happen_inside_the_namespace()
        {
            using TestNetworkNamespace space = Unusual();
            SocketHost host = SocketHost.Read(space.Name);
            SocketIndex index = SocketIndex.Build(LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name }).Sockets, HostFacts.From(host), SocketTableOrder.KernelOrder);

            PortBindResult foreign = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Parse("192.0.2.2"), Port = 8500 }, space.Name);
            Assert.Equal((false, "EADDRNOTAVAIL", (string?)null), (foreign.CanBind!.Value, foreign.Error!, foreign.PredictedError));

            PortBindResult mine = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Parse("198.51.100.7"), Port = 8500 }, space.Name);
            Assert.Equal((true, (string?)null), (mine.CanBind!.Value, mine.PredictedError));

            // bind(0) there takes a port of the namespace's range, never a reserved one.
            for (int i = 0; i < 20; i++)
            {
                PortBindResult any = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Parse("192.0.2.1"), Port = 0 }, space.Name);
                Assert.True(any.CanBind);
                Assert.Matches("The kernel assigned port 400[0-9][0-9] to the trial socket", any.Reason);
                Assert.DoesNotMatch("assigned port 4001[01] ", any.Reason);
            }
        }

        [LinuxRootFact]
        public void Ninety_connections_in_a_range_of_a_hundred_are_ninety_percent_and_the_kernel_allows_ten_more()
        {
            // The issue's case: Get-SocketTuple -NetworkNamespace red | Measure-EphemeralPortUsage.
            using var space = new TestNetworkNamespace();
            space.Sysctl("net/ipv4/ip_local_port_range", "40000 40099");
            using var sockets = new SocketSet();
            var server = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8000);
            space.Run(() =>
            {
                Socket listener = sockets.Add(Loopback.Tcp());
                listener.Bind(server);
                listener.Listen(256);
                for (int i = 0; i < 90; i++)
                {
                    sockets.Add(Loopback.Tcp()).Connect(server);
                }

                return 0;
            });

            IReadOnlyList<SocketTuple> table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, IncludeProcesses = false }).Sockets;
            var notes = new List<string>();
            Func<SocketTuple, HostPortSettings> hostOf = HostPortSettings.ReadForSockets(table, _ => throw new InvalidOperationException("every socket was read here"), notes);
            EphemeralPortUsage row = Assert.Single(EphemeralPortUsageAnalyzer.Analyze(table, hostOf));
            Assert.Equal(("192.0.2.1:8000", 90, 100, 90.0), (row.Destination, row.InUse, row.Capacity, Math.Round(row.UtilizationPercent, 1)));
            Assert.True(row.NearExhaustion);

            // The kernel: ten more connect() calls succeed, the eleventh fails with EADDRNOTAVAIL.
            (int made, SocketError last) = space.Run(() =>
            {
                for (int i = 0; i < 11; i++)
                {
                    try
                    {
                        sockets.Add(Loopback.Tcp()).Connect(server);
                    }
                    catch (SocketException exception)
                    {
                        return (i, exception.SocketErrorCode);
                    }
                }

                return (11, SocketError.Success);
            });
            Assert.Equal((10, SocketError.AddressNotAvailable), (made, last));
        }

        [LinuxRootFact]
        public void A_delivery_in_a_namespace_follows_its_addresses_and_agrees_with_the_kernel()
        {
            using TestNetworkNamespace space = Unusual();
            using var sockets = new SocketSet();
            (Socket onVeth1, Socket wildcard) = space.Run(() =>
            {
                // Two UDP sockets on 0.0.0.0:9300 (SO_REUSEADDR on both, set raw: .NET's ReuseAddress
                // sets SO_REUSEPORT too on Linux, which would make a group), one of them tied to veth1.
                Socket device = sockets.Add(Loopback.Udp());
                device.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
                device.SetRawSocketOption(1 /* SOL_SOCKET */, 25 /* SO_BINDTODEVICE */, Encoding.ASCII.GetBytes("veth1\0"));
                device.Bind(new IPEndPoint(IPAddress.Any, 9300));
                Socket any = sockets.Add(Loopback.Udp());
                any.SetRawSocketOption(1, 2, BitConverter.GetBytes(1));
                any.Bind(new IPEndPoint(IPAddress.Any, 9300));
                return (device, any);
            });

            IReadOnlyList<SocketTuple> table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, LocalPorts = new[] { new PortRange(9300) }, IncludeProcesses = false }).Sockets;
            SocketIndex withFacts = SocketIndex.Build(table, HostFacts.From(SocketHost.ReadForTable(table)!), SocketTableOrder.KernelOrder);
            SocketIndex withoutFacts = SocketIndex.Build(table, HostFacts.From(SocketHost.Unknown(TargetOS.Linux)), SocketTableOrder.KernelOrder);

            foreach (string destination in new[] { "198.51.100.7", "192.0.2.1" })
            {
                var request = new DemuxRequest { Protocol = TransportProtocol.Udp, Source = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 45000), Destination = new IPEndPoint(IPAddress.Parse(destination), 9300) };
                DemuxResult known = RuleEngine.DecideDelivery(withFacts, request);
                Assert.Empty(known.DependsOn);
                Assert.NotNull(known.Socket);

                // The kernel: send from inside the namespace and see which socket gets it.
                string receiver = space.Run(() =>
                {
                    using Socket sender = Loopback.Udp();
                    sender.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 45000));
                    sender.SendTo(new byte[] { 1 }, request.Destination);
                    System.Threading.Thread.Sleep(100);
                    return onVeth1.Available > 0 ? "veth1" : wildcard.Available > 0 ? "any" : "none";
                });
                space.Run(() =>
                {
                    byte[] drain = new byte[16];
                    foreach (Socket socket in new[] { onVeth1, wildcard })
                    {
                        while (socket.Available > 0)
                        {
                            socket.Receive(drain);
                        }
                    }

                    return 0;
                });
                Assert.True(receiver == (known.Socket!.BoundInterface ?? "any"), destination + ": the kernel delivered to " + receiver + ", the engine said " + known.Reason);

                // Without the namespace's facts the arriving interface is not known: both may receive it.
                DemuxResult unknown = RuleEngine.DecideDelivery(withoutFacts, request);
                Assert.Null(unknown.Socket);
                Assert.Contains(unknown.DependsOn, fact => fact.StartsWith("the interface the packet arrives on", StringComparison.Ordinal));
                Assert.Equal(2, unknown.Sockets.Count);
            }
        }

        [LinuxRootFact]
        public void Port_settings_and_port_info_of_a_namespace_are_its_own()
        {
            using TestNetworkNamespace space = Unusual();
            HostPortSettings settings = HostPortSettings.Read(space.Name);
            EphemeralPortRange tcp4 = settings.GetEphemeralRange(TransportProtocol.Tcp, AddressFamily.InterNetwork);
            Assert.Equal((40000, 40099, 98), (tcp4.Start, tcp4.End, tcp4.UsableCount));
            Assert.Contains("network namespace " + space.Name, tcp4.Source, StringComparison.Ordinal);
            Assert.Equal(new PortRange(1, 499), settings.PrivilegedPorts);
            Assert.Empty(settings.Notes);

            PortCatalog catalog = PortCatalog.ForHost(settings);
            PortInfo reserved = catalog.Describe(new PortRange(40010), TransportProtocol.Tcp).Single();
            PortInfo inRange = catalog.Describe(new PortRange(40050), TransportProtocol.Tcp).Single();
            PortInfo outside = catalog.Describe(new PortRange(32768), TransportProtocol.Tcp).Single();
            Assert.Equal((true, true, true, false), (reserved.IsReserved, reserved.InEphemeralRange, inRange.InEphemeralRange, outside.InEphemeralRange));
            Assert.Contains("500", catalog.Describe(new PortRange(450), TransportProtocol.Tcp).Single().PrivilegeReason, StringComparison.Ordinal);

            // The kernel: bind(0) in the namespace picks from 40000-40099 and never 40010-40011.
            var picked = space.Run(() => Enumerable.Range(0, 30).Select(_ =>
            {
                using Socket socket = Loopback.Tcp();
                socket.Bind(new IPEndPoint(IPAddress.Any, 0));
                return Loopback.PortOf(socket);
            }).ToArray());
            Assert.All(picked, port => Assert.True(tcp4.Contains(port) && tcp4.FindReservation(port) is null, port + " is outside the range or reserved"));
        }

        [LinuxRootFact]
        public void A_namespace_that_is_gone_leaves_the_tables_facts_unknown_with_a_note()
        {
            IReadOnlyList<SocketTuple> table;
            using (var space = new TestNetworkNamespace())
            {
                using var sockets = new SocketSet();
                space.Run(() =>
                {
                    Socket socket = sockets.Add(Loopback.Udp());
                    socket.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 9400));
                    return 0;
                });
                table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = space.Name, IncludeProcesses = false }).Sockets;
            }

            var notes = new List<string>();
            Assert.Null(SocketHost.ReadForTable(table, notes));
            Assert.Contains(notes, note => note.Contains("no longer exists", StringComparison.Ordinal));
        }

        [LinuxFact]
        public void A_table_that_was_not_read_here_brings_no_facts_however_familiar_its_namespace_looks()
        {
            // Every host's initial namespace has one inode: a table from another host that carries it is not this host's.
            ulong own = LiveSocketTable.Read(new SocketQuery { Protocols = new[] { TransportProtocol.Udp }, IncludeProcesses = false }).Sockets.FirstOrDefault()?.NetworkNamespace?.Inode ?? 4026531833;
            SocketTuple copy = SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 netns=" + own);
            Assert.Null(SocketHost.ReadForTable(new[] { copy }));
            Assert.Null(SocketHost.ReadForTable(new[] { SocketTuple.Parse(copy.ToString()) }));
        }
    }
}
