using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using PortTools.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>Shares one lab (namespace, lab processes) and one report across the differential tests.</summary>
    public sealed class KernelLabFixture : IDisposable
    {
        private readonly Lazy<KernelLab> _lab = new(() => new KernelLab());

        public KernelLab Lab => _lab.Value;

        public DifferentialReport Report { get; } = new();

        public void Dispose()
        {
            if (!_lab.IsValueCreated)
            {
                return;
            }

            string title = "Linux rule engine against the live kernel (" + Environment.OSVersion.Version + (Lab.IsolatedNamespace ? ", private network namespace" : ", host namespace, loopback only")
                + (Lab.IsolatedNamespace && !Lab.OtherUsers ? ", no other-user scenarios: " + OtherUser.UnavailableReason : string.Empty) + ")";
            try
            {
                File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "differential-report.md"), Report.Render(title));
            }
            catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
            {
                File.WriteAllText(Path.Combine(Path.GetTempPath(), "differential-report.md"), Report.Render(title));
            }

            Console.WriteLine(Report.Render(title));
            _lab.Value.Dispose();
        }
    }

    /// <summary>
    /// The differential suite of issue 3: scenarios built systematically and at random (seeded),
    /// set up with real sockets, answered by the kernel, and predicted by the engine; every
    /// prediction must match. The report (differential-report.md beside the test assembly) counts
    /// scenarios and checks per category.
    /// </summary>
    public class LinuxKernelDifferentialTests : IClassFixture<KernelLabFixture>
    {
        private static readonly AddressKind[] s_kinds =
        {
            new("0.0.0.0", false, "0.0.0.0", null, Wildcard: true),
            new("127.0.0.1", false, "127.0.0.1", null, Wildcard: false),
            new("127.0.0.2", false, "127.0.0.2", null, Wildcard: false),
            new("[::] dual-stack", true, "::", false, Wildcard: true),
            new("[::] v6only", true, "::", true, Wildcard: true),
            new("[::1]", true, "::1", null, Wildcard: false),
            new("[::ffff:127.0.0.1]", true, "::ffff:127.0.0.1", false, Wildcard: false),
            new("[::ffff:0.0.0.0]", true, "::ffff:0.0.0.0", false, Wildcard: true),
        };

        private readonly KernelLabFixture _fixture;
        private readonly ITestOutputHelper _output;

        public LinuxKernelDifferentialTests(KernelLabFixture fixture, ITestOutputHelper output)
        {
            _fixture = fixture;
            _output = output;
        }

        private KernelLab Lab => _fixture.Lab;

        private IEnumerable<AddressKind> Kinds => s_kinds.Where(k => Lab.IsolatedNamespace || !k.Wildcard);

        private Scenario New(string category, string description) => new(Lab, _fixture.Report, category, description);

        [LinuxFact]
        public void Two_binds_on_one_port_for_every_address_pair_and_sharing_option()
        {
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach (AddressKind first in Kinds)
                {
                    foreach (AddressKind second in Kinds)
                    {
                        foreach ((bool addrA, bool addrB, bool portA, bool portB) in FlagCombinations())
                        {
                            foreach (bool firstListens in protocol == TransportProtocol.Tcp ? new[] { false, true } : new[] { false })
                            {
                                string description = $"{Proto(protocol)} {first.Name}{Flags(addrA, portA)}{(firstListens ? " listening" : " bound")} then {second.Name}{Flags(addrB, portB)}";
                                using Scenario scenario = New(PairCategory(first, second), description);
                                int port = Lab.NextPort();
                                LabSocket a = scenario.Open(protocol, first.Inet6, addrA, portA, first.V6Only);
                                if (scenario.Bind(a, first.Address, port) != BindErrorKind.None)
                                {
                                    continue;
                                }

                                if (firstListens)
                                {
                                    scenario.Listen(a);
                                }

                                LabSocket b = scenario.Open(protocol, second.Inet6, addrB, portB, second.V6Only);
                                if (scenario.Bind(b, second.Address, port) == BindErrorKind.None && protocol == TransportProtocol.Tcp)
                                {
                                    scenario.Listen(b);
                                }
                            }
                        }
                    }
                }
            }

            AssertAgreement();
        }

        [OtherUserFact]
        public void SO_REUSEPORT_across_users()
        {
            string[] names = { "0.0.0.0", "127.0.0.1", "[::] dual-stack", "[::1]" };
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach (AddressKind first in s_kinds.Where(k => names.Contains(k.Name)))
                {
                    foreach (AddressKind second in s_kinds.Where(k => names.Contains(k.Name)))
                    {
                        foreach (bool reuseAddress in new[] { false, true })
                        {
                            foreach (bool firstListens in protocol == TransportProtocol.Tcp ? new[] { false, true } : new[] { false })
                            {
                                foreach (bool otherFirst in new[] { false, true })
                                {
                                    using Scenario scenario = New("SO_REUSEPORT, different users", $"{Proto(protocol)} {first.Name} (uid {(otherFirst ? "nobody" : "root")}) then {second.Name} (uid {(otherFirst ? "root" : "nobody")}), reuseport{(reuseAddress ? " reuseaddr" : string.Empty)}{(firstListens ? ", first listening" : string.Empty)}");
                                    int port = Lab.NextPort();
                                    LabSocket a = scenario.Open(protocol, first.Inet6, reuseAddress, reusePort: true, first.V6Only, otherUser: otherFirst);
                                    if (scenario.Bind(a, first.Address, port) != BindErrorKind.None)
                                    {
                                        continue;
                                    }

                                    if (firstListens)
                                    {
                                        scenario.Listen(a);
                                    }

                                    LabSocket b = scenario.Open(protocol, second.Inet6, reuseAddress, reusePort: true, second.V6Only, otherUser: !otherFirst);
                                    if (scenario.Bind(b, second.Address, port) == BindErrorKind.None && protocol == TransportProtocol.Tcp)
                                    {
                                        scenario.Listen(b);
                                    }
                                }
                            }
                        }
                    }
                }
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void Rebinding_over_TIME_WAIT()
        {
            string[] olds = Lab.IsolatedNamespace ? new[] { "127.0.0.1", "0.0.0.0" } : new[] { "127.0.0.1" };
            string[] news = Lab.IsolatedNamespace ? new[] { "127.0.0.1", "0.0.0.0", "127.0.0.2" } : new[] { "127.0.0.1", "127.0.0.2" };
            (bool Addr, bool Port)[] flags = { (false, false), (true, false), (false, true), (true, true) };
            foreach (string old in olds)
            {
                foreach ((bool oldAddr, bool oldPort) in flags)
                {
                    foreach (string fresh in news)
                    {
                        foreach ((bool newAddr, bool newPort) in flags)
                        {
                            foreach (bool otherUser in Lab.OtherUsers && newPort ? new[] { false, true } : new[] { false })
                            {
                                using Scenario scenario = New("TIME-WAIT rebind", $"listener {old}{Flags(oldAddr, oldPort)} closed with a connection in TIME-WAIT; new bind {fresh}{Flags(newAddr, newPort)}{(otherUser ? " as nobody" : string.Empty)}");
                                int port = Lab.NextPort();
                                LabSocket listener = scenario.Open(TransportProtocol.Tcp, false, oldAddr, oldPort);
                                if (scenario.Bind(listener, old, port) != BindErrorKind.None || scenario.Listen(listener) != BindErrorKind.None)
                                {
                                    continue;
                                }

                                scenario.LeaveTimeWait(listener, "127.0.0.1");
                                LabSocket next = scenario.Open(TransportProtocol.Tcp, false, newAddr, newPort, otherUser: otherUser);
                                if (scenario.Bind(next, fresh, port) == BindErrorKind.None)
                                {
                                    scenario.Listen(next);
                                }
                            }
                        }
                    }
                }
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void Listen_checks_conflicts_again()
        {
            foreach (AddressKind kind in Kinds.Where(k => k.Name is "127.0.0.1" or "0.0.0.0" or "[::] dual-stack" or "[::1]"))
            {
                foreach ((bool addrA, bool addrB, bool portA, bool portB) in FlagCombinations().Where(f => f.Item1 || f.Item2))
                {
                    foreach (bool secondFirst in new[] { false, true })
                    {
                        using Scenario scenario = New("listen() re-check", $"{kind.Name}: A{Flags(addrA, portA)} and B{Flags(addrB, portB)} both bound, then {(secondFirst ? "B" : "A")} listens first");
                        int port = Lab.NextPort();
                        LabSocket a = scenario.Open(TransportProtocol.Tcp, kind.Inet6, addrA, portA, kind.V6Only);
                        LabSocket b = scenario.Open(TransportProtocol.Tcp, kind.Inet6, addrB, portB, kind.V6Only);
                        bool aBound = scenario.Bind(a, kind.Address, port) == BindErrorKind.None;
                        bool bBound = scenario.Bind(b, kind.Address, port) == BindErrorKind.None;
                        foreach (LabSocket socket in secondFirst ? new[] { b, a } : new[] { a, b })
                        {
                            if ((socket == a && aBound) || (socket == b && bBound))
                            {
                                scenario.Listen(socket);
                            }
                        }
                    }
                }
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void TCP_delivery_to_listeners()
        {
            string[] destinations = Lab.IsolatedNamespace ? new[] { "127.0.0.1", "127.0.0.2", "::1", "192.0.2.1", "2001:db8::1", "::ffff:127.0.0.1" } : new[] { "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1" };
            foreach (AddressKind first in Kinds)
            {
                foreach (AddressKind second in Kinds)
                {
                    foreach (bool reusePort in new[] { false, true })
                    {
                        string category = reusePort ? "delivery: SO_REUSEPORT groups" : first.Name == second.Name ? "delivery: no listener / refused" : "delivery: specific, wildcard, dual-stack, v4-mapped listeners";
                        using Scenario scenario = New(category, $"tcp listeners {first.Name} and {second.Name}{(reusePort ? " (reuseport)" : string.Empty)}");
                        int port = Lab.NextPort();
                        foreach (AddressKind kind in new[] { first, second })
                        {
                            LabSocket socket = scenario.Open(TransportProtocol.Tcp, kind.Inet6, reuseAddress: false, reusePort, kind.V6Only);
                            if (scenario.Bind(socket, kind.Address, port) == BindErrorKind.None)
                            {
                                scenario.Listen(socket);
                            }
                        }

                        foreach (string destination in destinations)
                        {
                            scenario.ProbeTcp(SourceFor(destination), destination, port);
                        }

                        // A port nobody listens on.
                        scenario.ProbeTcp("127.0.0.1", "127.0.0.1", port + 1);
                    }
                }
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void An_established_connection_does_not_take_new_connections()
        {
            foreach (string address in new[] { "127.0.0.1", "::1" })
            {
                using Scenario scenario = New("delivery: established vs listener", $"a connection to a listener on {address}, then new SYNs");
                int port = Lab.NextPort();
                bool inet6 = address.Contains(':');
                LabSocket listener = scenario.Open(TransportProtocol.Tcp, inet6);
                scenario.Bind(listener, address, port);
                scenario.Listen(listener);
                scenario.ProbeTcp(address, address, port);
                scenario.ProbeTcp(address, address, port);

                // The outgoing side of a connection holds a port without listening on it: SYNs to it are refused.
                LabSocket client = scenario.Open(TransportProtocol.Tcp, inet6);
                scenario.Bind(client, address, 0);
                scenario.ProbeTcp(address, address, client.Tuple!.LocalPort);
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void UDP_delivery_connected_unconnected_and_groups()
        {
            foreach (AddressKind first in Kinds)
            {
                foreach (AddressKind second in Kinds)
                {
                    foreach ((bool reuseAddress, bool reusePort) in new[] { (false, false), (true, false), (false, true) })
                    {
                        string category = reusePort ? "delivery: SO_REUSEPORT groups" : "delivery: connected vs unconnected UDP";
                        using Scenario scenario = New(category, $"udp {first.Name} and {second.Name}{Flags(reuseAddress, reusePort)}");
                        int port = Lab.NextPort();
                        foreach (AddressKind kind in new[] { first, second })
                        {
                            LabSocket socket = scenario.Open(TransportProtocol.Udp, kind.Inet6, reuseAddress, reusePort, kind.V6Only);
                            scenario.Bind(socket, kind.Address, port);
                        }

                        scenario.ProbeUdp("127.0.0.1", "127.0.0.1", port);
                        scenario.ProbeUdp("127.0.0.1", "127.0.0.2", port);
                        scenario.ProbeUdp("::1", "::1", port);
                        scenario.ProbeUdp("127.0.0.1", "127.0.0.1", port + 1);
                    }
                }
            }

            AssertAgreement();
        }

        /// <summary>
        /// A source in the destination's scope: the kernel's RST from 2001:db8::1 back to ::1 never
        /// arrives, which would hide a refusal behind connect()'s retries.
        /// </summary>
        private static string SourceFor(string destination) => destination switch
        {
            "::1" => "::1",
            "::ffff:127.0.0.1" => destination,
            "192.0.2.1" => destination,
            _ when destination.Contains(':') => destination,
            _ => "127.0.0.1",
        };

        [LinuxFact]
        public void V4_mapped_destinations_reach_IPv4_and_dual_stack_sockets()
        {
            foreach (AddressKind kind in Kinds)
            {
                foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
                {
                    using Scenario scenario = New("delivery: v4-mapped destinations", $"{Proto(protocol)} {kind.Name}, probed from an AF_INET6 socket at ::ffff:127.0.0.1");
                    int port = Lab.NextPort();
                    LabSocket socket = scenario.Open(protocol, kind.Inet6, v6Only: kind.V6Only);
                    if (scenario.Bind(socket, kind.Address, port) == BindErrorKind.None && protocol == TransportProtocol.Tcp)
                    {
                        scenario.Listen(socket);
                    }

                    if (protocol == TransportProtocol.Tcp)
                    {
                        scenario.ProbeTcp("::ffff:127.0.0.1", "::ffff:127.0.0.1", port);
                    }
                    else
                    {
                        scenario.ProbeUdp("::ffff:127.0.0.1", "::ffff:127.0.0.1", port);
                    }
                }
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void Connected_UDP_sockets_win_only_for_their_peer()
        {
            foreach (AddressKind kind in Kinds.Where(k => k.Name is "127.0.0.1" or "0.0.0.0" or "[::] dual-stack" or "[::ffff:127.0.0.1]"))
            {
                foreach ((bool reuseAddress, bool reusePort) in new[] { (true, false), (false, true), (true, true) })
                {
                    using Scenario scenario = New("delivery: connected vs unconnected UDP", $"udp {kind.Name}{Flags(reuseAddress, reusePort)}: one unconnected, one connected to 127.0.0.9:4999");
                    int port = Lab.NextPort();
                    LabSocket unconnected = scenario.Open(TransportProtocol.Udp, kind.Inet6, reuseAddress, reusePort, kind.V6Only);
                    LabSocket connected = scenario.Open(TransportProtocol.Udp, kind.Inet6, reuseAddress, reusePort, kind.V6Only);
                    if (scenario.Bind(unconnected, kind.Address, port) != BindErrorKind.None || scenario.Bind(connected, kind.Address, port) != BindErrorKind.None)
                    {
                        continue;
                    }

                    scenario.ConnectUdp(connected, kind.Inet6 ? "::ffff:127.0.0.9" : "127.0.0.9", 4999);
                    string destination = kind.Name.Contains("ffff") || kind.Inet6 ? "127.0.0.1" : "127.0.0.1";
                    scenario.ProbeUdp("127.0.0.9", destination, port, sourcePort: 4999);
                    scenario.ProbeUdp("127.0.0.9", destination, port, sourcePort: 4998);
                    scenario.ProbeUdp("127.0.0.8", destination, port, sourcePort: 4999);
                }
            }

            AssertAgreement();
        }

        [LinuxRootFact]
        public void Sockets_bound_to_a_device()
        {
            (string Dev1, string Dev2)[] pairs = { ("lo", "veth0"), ("veth0", "lo"), ("veth0", "veth1"), ("lo", "-"), ("-", "lo"), ("veth0", "-") };
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach ((string dev1, string dev2) in pairs)
                {
                    foreach (bool reusePort in new[] { false, true })
                    {
                        using Scenario scenario = New("bound device (SO_BINDTODEVICE)", $"{Proto(protocol)} 0.0.0.0 dev={dev1} then 0.0.0.0 dev={dev2}{(reusePort ? " reuseport" : string.Empty)}");
                        int port = Lab.NextPort();
                        foreach (string dev in new[] { dev1, dev2 })
                        {
                            LabSocket socket = scenario.Open(protocol, false, reusePort: reusePort, device: dev == "-" ? null : dev);
                            if (scenario.Bind(socket, "0.0.0.0", port) == BindErrorKind.None && protocol == TransportProtocol.Tcp)
                            {
                                scenario.Listen(socket);
                            }
                        }

                        if (protocol == TransportProtocol.Tcp)
                        {
                            scenario.ProbeTcp("127.0.0.1", "127.0.0.1", port);
                        }
                        else
                        {
                            scenario.ProbeUdp("127.0.0.1", "127.0.0.1", port);
                        }
                    }
                }

                using Scenario missing = New("pre-checks: EACCES, EADDRNOTAVAIL, EINVAL, ENODEV", $"{Proto(protocol)} SO_BINDTODEVICE to a device that does not exist");
                missing.OpenWithMissingDevice(protocol, "0.0.0.0", Lab.NextPort(), "pt-nosuch0");
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void Checks_that_come_before_conflicts()
        {
            var cases = new List<(string Name, TransportProtocol Protocol, bool Inet6, string Address, int Port, bool? V6Only, bool Other)>
            {
                ("address not on this host (IPv4)", TransportProtocol.Tcp, false, "192.0.2.99", 0, null, false),
                ("address not on this host (IPv6)", TransportProtocol.Udp, true, "2001:db8::99", 0, null, false),
                ("address not on this host (v4-mapped)", TransportProtocol.Tcp, true, "::ffff:10.9.9.9", 0, false, false),
                ("v4-mapped on an IPV6_V6ONLY socket", TransportProtocol.Tcp, true, "::ffff:127.0.0.1", 0, true, false),
                ("v4-mapped on an IPV6_V6ONLY socket (udp)", TransportProtocol.Udp, true, "::ffff:127.0.0.1", 0, true, false),
                ("link-local without a scope", TransportProtocol.Tcp, true, "fe80::1", 0, null, false),
                ("link-local without a scope (udp)", TransportProtocol.Udp, true, "fe80::1", 0, null, false),
                ("IPv6 multicast on TCP", TransportProtocol.Tcp, true, "ff02::1", 0, null, false),
                ("IPv6 multicast on UDP", TransportProtocol.Udp, true, "ff02::1", 0, null, false),
                ("IPv4 multicast on UDP", TransportProtocol.Udp, false, "239.1.1.1", 0, null, false),
                ("IPv4 multicast on TCP", TransportProtocol.Tcp, false, "239.1.1.1", 0, null, false),
                ("limited broadcast (udp)", TransportProtocol.Udp, false, "255.255.255.255", 0, null, false),
                ("loopback broadcast (udp)", TransportProtocol.Udp, false, "127.255.255.255", 0, null, false),
                ("privileged port as root", TransportProtocol.Tcp, false, "127.0.0.1", 0, null, false),
                ("privileged port as another user", TransportProtocol.Tcp, false, "127.0.0.1", -1, null, true),
                ("privileged port as another user (udp, IPv6)", TransportProtocol.Udp, true, "::1", -1, null, true),
                ("privileged port and a foreign IPv4 address: the address is checked first", TransportProtocol.Tcp, false, "192.0.2.99", -1, null, true),
                ("privileged port and a foreign IPv6 address: the port is checked first", TransportProtocol.Tcp, true, "2001:db8::99", -1, null, true),
            };
            foreach (var c in cases.Where(c => Lab.OtherUsers || !c.Other))
            {
                using Scenario scenario = New("pre-checks: EACCES, EADDRNOTAVAIL, EINVAL, ENODEV", c.Name);
                LabSocket socket = scenario.Open(c.Protocol, c.Inet6, v6Only: c.V6Only, otherUser: c.Other);
                scenario.Bind(socket, c.Address, c.Port < 0 ? 80 + Lab.NextPort() % 100 : Lab.NextPort());
            }

            AssertAgreement();
        }

        [LinuxRootFact]
        public void UDP_ports_with_more_than_ten_sockets_compare_only_same_address_and_wildcard()
        {
            foreach (int existing in new[] { 9, 10, 11, 14 })
            {
                foreach (string fresh in new[] { "0.0.0.0", "127.0.0.3", "127.1.0.200" })
                {
                    using Scenario scenario = New("UDP port with more than ten sockets", $"{existing} udp sockets on 127.1.0.x, then {fresh}");
                    int port = Lab.NextPort();
                    for (int i = 1; i <= existing; i++)
                    {
                        scenario.Bind(scenario.Open(TransportProtocol.Udp, false), "127.1.0." + i.ToString(System.Globalization.CultureInfo.InvariantCulture), port);
                    }

                    scenario.Bind(scenario.Open(TransportProtocol.Udp, false), fresh, port);
                    scenario.ProbeUdp("127.0.0.1", "127.1.0.1", port);
                }
            }

            AssertAgreement();
        }

        [LinuxRootFact]
        public void Broadcast_goes_to_every_matching_socket()
        {
            string[][] sets =
            {
                new[] { "0.0.0.0" },
                new[] { "0.0.0.0", "127.255.255.255", "127.0.0.1" },
                new[] { "[::] dual-stack", "127.255.255.255" },
                new[] { "[::] v6only", "0.0.0.0" },
                new[] { "127.0.0.1" },
            };
            foreach (string[] set in sets)
            {
                using Scenario scenario = New("delivery: broadcast", "udp " + string.Join(", ", set) + " (reuseaddr), datagram to 127.255.255.255");
                int port = Lab.NextPort();
                foreach (string name in set)
                {
                    AddressKind kind = s_kinds.FirstOrDefault(k => k.Name == name) ?? new AddressKind(name, false, name, null, false);
                    scenario.Bind(scenario.Open(TransportProtocol.Udp, kind.Inet6, reuseAddress: true, v6Only: kind.V6Only), kind.Address, port);
                }

                scenario.ProbeUdp("127.0.0.1", "127.255.255.255", port, broadcast: true);
            }

            AssertAgreement();
        }

        [LinuxFact]
        public void Random_sequences()
        {
            string[] tcpDestinations = Lab.IsolatedNamespace ? new[] { "127.0.0.1", "127.0.0.2", "::1", "192.0.2.1", "2001:db8::1", "::ffff:127.0.0.1" } : new[] { "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1" };
            AddressKind[] kinds = Kinds.ToArray();
            // PORTTOOLS_RANDOM_SEEDS=N explores further than the 300 seeds every run checks.
            int seeds = int.TryParse(Environment.GetEnvironmentVariable("PORTTOOLS_RANDOM_SEEDS"), out int n) ? n : 300;
            for (int seed = 1; seed <= seeds; seed++)
            {
                var random = new Random(seed);
                TransportProtocol protocol = random.Next(2) == 0 ? TransportProtocol.Tcp : TransportProtocol.Udp;
                int count = random.Next(2, 6);
                using Scenario scenario = New("random sequences (seeded)", $"seed {seed}: {Proto(protocol)}, {count} sockets");
                int port = Lab.NextPort();
                var bound = new List<LabSocket>();
                for (int i = 0; i < count; i++)
                {
                    AddressKind kind = kinds[random.Next(kinds.Length)];
                    bool other = Lab.OtherUsers && random.Next(5) == 0;
                    string? device = Lab.IsolatedNamespace && random.Next(8) == 0 ? (random.Next(2) == 0 ? "lo" : "veth0") : null;
                    LabSocket socket = scenario.Open(protocol, kind.Inet6, random.Next(10) < 4, random.Next(10) < 3, kind.V6Only, device, other);
                    if (scenario.Bind(socket, kind.Address, port) == BindErrorKind.None)
                    {
                        bound.Add(socket);
                    }
                }

                foreach (LabSocket socket in bound.Where(_ => protocol == TransportProtocol.Tcp && random.Next(10) < 7))
                {
                    scenario.Listen(socket);
                }

                for (int probe = 0; probe < 3; probe++)
                {
                    string destination = tcpDestinations[random.Next(tcpDestinations.Length)];
                    string source = destination == "::ffff:127.0.0.1" ? destination : SourceFor(destination);
                    if (protocol == TransportProtocol.Tcp)
                    {
                        scenario.ProbeTcp(source, destination, port);
                    }
                    else
                    {
                        scenario.ProbeUdp(source, destination, port);
                    }
                }
            }

            AssertAgreement();
        }

        private static IEnumerable<(bool, bool, bool, bool)> FlagCombinations()
        {
            foreach (bool addrA in new[] { false, true })
            {
                foreach (bool addrB in new[] { false, true })
                {
                    foreach (bool portA in new[] { false, true })
                    {
                        foreach (bool portB in new[] { false, true })
                        {
                            yield return (addrA, addrB, portA, portB);
                        }
                    }
                }
            }
        }

        private static string PairCategory(AddressKind a, AddressKind b)
        {
            string[] names = { a.Name, b.Name };
            if (a.Name == b.Name)
            {
                return "same address: SO_REUSEADDR and SO_REUSEPORT";
            }

            if (names.Any(n => n.StartsWith("[::]", StringComparison.Ordinal)) && names.Any(n => !n.StartsWith("[::", StringComparison.Ordinal) || n.Contains("ffff")))
            {
                return "dual-stack [::] (V6ONLY 0 and 1) vs IPv4";
            }

            if (names.Any(n => n.Contains("ffff")))
            {
                return "v4-mapped binds";
            }

            if (names.Contains("127.0.0.1") && names.Contains("127.0.0.2"))
            {
                return "same port on different 127.x addresses";
            }

            return names.All(n => n.StartsWith("[", StringComparison.Ordinal)) ? "IPv6: specific vs wildcard" : "specific vs wildcard (both orders)";
        }

        private static string Proto(TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? "tcp" : "udp";

        private static string Flags(bool reuseAddress, bool reusePort) => (reuseAddress ? " reuseaddr" : string.Empty) + (reusePort ? " reuseport" : string.Empty);

        private void AssertAgreement()
        {
            _output.WriteLine(_fixture.Report.Render("so far"));
            Assert.True(_fixture.Report.Disagreements.Count == 0, _fixture.Report.Disagreements.Count + " disagreement(s) with the kernel:\n" + string.Join("\n", _fixture.Report.Disagreements.Take(25)));
        }

        private sealed record AddressKind(string Name, bool Inet6, string Address, bool? V6Only, bool Wildcard);
    }
}
