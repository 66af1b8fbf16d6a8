using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using PortTools.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>
    /// Socket options read from the kernel through pidfd_getfd, what the table proves when they
    /// cannot be read, and the answers built on both, each against real sockets in the lab's
    /// namespace: the options Get-SocketTuple reports are the ones the owners set, and an answer the
    /// engine gives with confidence is the kernel's (an answer that depends on an unknown option says
    /// so instead of guessing).
    /// </summary>
    public class SocketOptionDifferentialTests : IClassFixture<KernelLabFixture>
    {
        private static readonly (bool ReuseAddress, bool ReusePort)[] s_flags = { (false, false), (true, false), (false, true), (true, true) };

        private readonly KernelLabFixture _fixture;
        private readonly ITestOutputHelper _output;

        public SocketOptionDifferentialTests(KernelLabFixture fixture, ITestOutputHelper output)
        {
            _fixture = fixture;
            _output = output;
        }

        private KernelLab Lab => _fixture.Lab;

        [LinuxRootFact]
        public void Options_read_through_pidfd_are_what_each_owner_set()
        {
            int first = Lab.NextPort(64);
            int port = first;
            var expected = new List<(int Port, TransportProtocol Protocol, bool ReuseAddress, bool ReusePort, string Owner)>();
            foreach (LabProcess owner in Owners())
            {
                string who = owner.Uid is null ? "root" : "uid " + owner.Uid;
                foreach ((bool addr, bool reuse) in s_flags)
                {
                    foreach ((TransportProtocol protocol, bool listen, bool inet6) in new[] { (TransportProtocol.Tcp, true, false), (TransportProtocol.Tcp, false, false), (TransportProtocol.Udp, false, false), (TransportProtocol.Tcp, true, true), (TransportProtocol.Udp, false, true) })
                    {
                        string id = Lab.NextId("opt");
                        owner.Do("open " + id + " " + (protocol == TransportProtocol.Tcp ? "tcp" : "udp") + " " + (inet6 ? "inet6" : "inet") + (addr ? " reuseaddr" : string.Empty) + (reuse ? " reuseport" : string.Empty) + (inet6 ? " v6only=1" : string.Empty));
                        Assert.Equal(0, LabProcess.Errno(owner.Do("bind " + id + " " + (inet6 ? "::1" : "127.0.0.1") + " " + port)));
                        if (listen)
                        {
                            owner.Do("listen " + id);
                        }

                        expected.Add((port, protocol, addr, reuse, who));
                        port++;
                    }
                }
            }

            // A connection and its accepted end are not read: they take their flags from client and listener.
            string server = Lab.NextId("srv");
            string client = Lab.NextId("cli");
            Lab.Root.Do("open " + server + " tcp inet reuseaddr");
            Lab.Root.Do("bind " + server + " 127.0.0.1 " + port);
            Lab.Root.Do("listen " + server);
            Lab.Root.Do("open " + client + " tcp inet reuseaddr");
            Lab.Root.Do("connect " + client + " 127.0.0.1 " + port);

            SocketTableReadResult read = ReadLab(first, port);
            foreach ((int p, TransportProtocol protocol, bool addr, bool reuse, string who) in expected)
            {
                foreach (SocketTuple socket in read.Sockets.Where(s => s.LocalPort == p && s.Protocol == protocol))
                {
                    _output.WriteLine(who + ": " + socket);
                    Assert.Equal(addr, socket.ReuseAddress);
                    Assert.Equal(reuse, socket.ReusePort);
                    if (socket.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                    {
                        Assert.True(socket.IPv6Only);
                    }
                }

                Assert.Single(read.Sockets, s => s.LocalPort == p && s.Protocol == protocol);
            }

            Assert.All(read.Sockets.Where(s => s.State == SocketState.Established), s => Assert.Null(s.ReusePort));
            Assert.Equal(SocketState.Listen, read.Sockets.Single(s => s.LocalPort == port && s.State == SocketState.Listen).State);
            Assert.True(read.Sockets.Single(s => s.LocalPort == port && s.State == SocketState.Listen).ReuseAddress);
            Assert.DoesNotContain(read.Warnings, w => w.Contains("SO_REUSEADDR", StringComparison.Ordinal));

            // -SkipSocketOptions: every option unknown again.
            SocketTableReadResult skipped = ReadLab(first, port, readOptions: false);
            Assert.All(skipped.Sockets, s => Assert.Null(s.ReuseAddress));
            Assert.All(skipped.Sockets, s => Assert.Null(s.ReusePort));
        }

        /// <summary>The example: two SO_REUSEPORT listeners on 127.0.0.1, a third bind with -ReusePort -Listen, and SYNs spread over both.</summary>
        [LinuxRootFact]
        public void Two_SO_REUSEPORT_listeners_form_a_group_and_admit_a_third_as_the_kernel_does()
        {
            int port = Lab.NextPort();
            string a = Lab.NextId("rp");
            string b = Lab.NextId("rp");
            foreach (string id in new[] { a, b })
            {
                Lab.Root.Do("open " + id + " tcp inet reuseport");
                Lab.Root.Do("bind " + id + " 127.0.0.1 " + port);
                Lab.Root.Do("listen " + id);
            }

            foreach (bool readOptions in new[] { true, false })
            {
                // Read live (KernelOrder), with the options read, and without them (the inference alone).
                SocketTableReadResult read = ReadLab(port, port, readOptions);
                Assert.Equal(2, read.Sockets.Count);
                Assert.All(read.Sockets, s => Assert.Equal(readOptions ? true : null, s.ReusePort));
                SocketIndex index = SocketIndex.Build(read.Sockets, Lab.Facts, SocketTableOrder.KernelOrder);

                DemuxResult demux = RuleEngine.DecideDelivery(index, new DemuxRequest { Protocol = TransportProtocol.Tcp, Source = IPEndPoint.Parse("127.0.0.9:40000"), Destination = new IPEndPoint(IPAddress.Loopback, port) });
                _output.WriteLine(demux.Reason);
                Assert.Equal(DemuxOutcome.Delivered, demux.Outcome);
                Assert.Null(demux.Socket);
                Assert.Equal(2, demux.Sockets.Count);
                Assert.Empty(demux.DependsOn);

                PortBindResult third = RuleEngine.DecideBind(index, new BindRequest { Protocol = TransportProtocol.Tcp, Address = IPAddress.Loopback, Port = port, ReusePort = true, Listen = true });
                _output.WriteLine(third.Reason);
                Assert.True(third.CanBind);
            }

            // The kernel: the third listener joins, and SYNs reach both of the first two.
            string c = Lab.NextId("rp");
            Lab.Root.Do("open " + c + " tcp inet reuseport");
            Assert.Equal(0, LabProcess.Errno(Lab.Root.Do("bind " + c + " 127.0.0.1 " + port)));
            Assert.Equal(0, LabProcess.Errno(Lab.Root.Do("listen " + c)));
            Lab.Root.Do("close " + c);
            var accepted = new HashSet<string>();
            for (int i = 0; i < 24 && accepted.Count < 2; i++)
            {
                string client = Lab.NextId("syn");
                Lab.Root.Do("open " + client + " tcp inet");
                Lab.Root.Do("connect " + client + " 127.0.0.1 " + port);
                foreach (string listener in new[] { a, b })
                {
                    if (Lab.Root.Do("accept " + listener).StartsWith("ok", StringComparison.Ordinal))
                    {
                        accepted.Add(listener);
                    }
                }

                Lab.Root.Do("close " + client);
            }

            Assert.Equal(2, accepted.Count);
        }

        /// <summary>From another uid the bind fails for the uid, whatever the holders set: the Reason says so and does not blame SO_REUSEPORT.</summary>
        [OtherUserFact]
        public void From_another_uid_the_reason_blames_the_uid()
        {
            int port = Lab.NextPort();
            foreach (string id in new[] { Lab.NextId("rp"), Lab.NextId("rp") })
            {
                Lab.Root.Do("open " + id + " tcp inet reuseport");
                Lab.Root.Do("bind " + id + " 127.0.0.1 " + port);
                Lab.Root.Do("listen " + id);
            }

            string mine = Lab.NextId("other");
            Lab.Other!.Do("open " + mine + " tcp inet reuseport");
            int errno = LabProcess.Errno(Lab.Other.Do("bind " + mine + " 127.0.0.1 " + port));
            Assert.Equal(98, errno);

            foreach (bool readOptions in new[] { true, false })
            {
                SocketTableReadResult read = ReadLab(port, port, readOptions);
                PortBindResult result = RuleEngine.DecideBind(SocketIndex.Build(read.Sockets, Lab.Facts, SocketTableOrder.KernelOrder), new BindRequest { Protocol = TransportProtocol.Tcp, Address = IPAddress.Loopback, Port = port, ReusePort = true, Listen = true, UserId = KernelLab.NobodyUid });
                _output.WriteLine(result.Reason);
                Assert.False(result.CanBind);
                Assert.Equal("EADDRINUSE", result.Error);
                Assert.Contains("uid 65534 here, uid 0 there", result.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain("did not", result.Reason, StringComparison.Ordinal);
            }
        }

        /// <summary>
        /// Every pair of sockets on one port the kernel lets coexist, read without options, then a third
        /// bind of every option and both users: the engine's answer, where it gives one, is the kernel's;
        /// where it depends on an unknown option it says so, and with the options read it always answers.
        /// </summary>
        [LinuxRootFact]
        public void Answers_on_tables_without_options_are_never_confidently_wrong()
        {
            int certain = 0;
            int depends = 0;
            int checks = 0;
            var owners = Owners().ToList();
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach ((bool addrA, bool portA) in s_flags)
                {
                    foreach ((bool addrB, bool portB) in s_flags)
                    {
                        foreach (LabProcess ownerB in owners)
                        {
                            string proto = protocol == TransportProtocol.Tcp ? "tcp" : "udp";
                            (int port, string a, string b, bool pair) = OpenPair(protocol, addrA, portA, ownerB, addrB, portB, "pa", "pb");

                            foreach (bool readOptions in new[] { false, true })
                            {
                                SocketTableReadResult read = ReadLab(port, port, readOptions);
                                foreach (LabProcess binder in owners)
                                {
                                    long binderUid = binder.Uid ?? Lab.RootUid;
                                    SocketIndex index = SocketIndex.Build(read.Sockets, Lab.Facts, SocketTableOrder.KernelOrder);
                                    foreach ((bool addrC, bool portC) in s_flags)
                                    {
                                        string c = Lab.NextId("pc");
                                        binder.Do("open " + c + " " + proto + " inet" + Flags(addrC, portC));
                                        int kernel = LabProcess.Errno(binder.Do("bind " + c + " 127.0.0.1 " + port));
                                        if (kernel == 0 && protocol == TransportProtocol.Tcp)
                                        {
                                            kernel = LabProcess.Errno(binder.Do("listen " + c));
                                        }

                                        binder.Do("close " + c);
                                        PortBindResult predicted = RuleEngine.DecideBind(index, new BindRequest
                                        {
                                            Protocol = protocol,
                                            Address = IPAddress.Loopback,
                                            Port = port,
                                            ReuseAddress = addrC,
                                            ReusePort = portC,
                                            Listen = protocol == TransportProtocol.Tcp,
                                            UserId = binderUid,
                                        });
                                        string what = proto + " A" + Flags(addrA, portA) + (pair ? " + B" + Flags(addrB, portB) + (ownerB.Uid is null ? " root" : " nobody") : string.Empty)
                                            + (readOptions ? " (read)" : " (unknown)") + ", then C" + Flags(addrC, portC) + (binder.Uid is null ? " root" : " nobody") + ": kernel errno " + kernel + ", engine " + predicted;
                                        checks++;
                                        if (predicted.CanBind is bool canBind)
                                        {
                                            certain++;
                                            Assert.True(canBind == (kernel == 0), what + " — " + predicted.Reason);
                                        }
                                        else
                                        {
                                            depends++;
                                            Assert.False(readOptions, "with the options read the engine must answer: " + what + " — " + predicted.Reason);
                                            Assert.NotEmpty(predicted.DependsOn);
                                            Assert.Contains("can bind if", predicted.Reason, StringComparison.Ordinal);
                                        }
                                    }
                                }
                            }

                            Lab.Root.Do("close " + a);
                            ownerB.Do("close " + b);
                        }
                    }
                }
            }

            _output.WriteLine(checks + " third binds: " + certain + " answered (each the kernel's), " + depends + " depend on an unknown option");
            Assert.True(depends > 0 && certain > depends);
        }

        /// <summary>
        /// Socket A of root bound (and listening, for TCP) on a fresh loopback port, then B of
        /// <paramref name="ownerB"/> on the same port; pair: whether the kernel let B join it.
        /// </summary>
        private (int Port, string A, string B, bool Pair) OpenPair(TransportProtocol protocol, bool addrA, bool portA, LabProcess ownerB, bool addrB, bool portB, string prefixA, string prefixB)
        {
            int port = Lab.NextPort();
            string a = Lab.NextId(prefixA);
            string b = Lab.NextId(prefixB);
            string proto = protocol == TransportProtocol.Tcp ? "tcp" : "udp";
            Lab.Root.Do("open " + a + " " + proto + " inet" + Flags(addrA, portA));
            Lab.Root.Do("bind " + a + " 127.0.0.1 " + port);
            if (protocol == TransportProtocol.Tcp)
            {
                Lab.Root.Do("listen " + a);
            }

            ownerB.Do("open " + b + " " + proto + " inet" + Flags(addrB, portB));
            bool pair = LabProcess.Errno(ownerB.Do("bind " + b + " 127.0.0.1 " + port)) == 0
                && (protocol == TransportProtocol.Udp || LabProcess.Errno(ownerB.Do("listen " + b)) == 0);
            return (port, a, b, pair);
        }

        /// <summary>The inferences alone: sockets the kernel let coexist, read without options, are indexed with what they prove.</summary>
        [LinuxRootFact]
        public void Inferences_from_the_table_match_the_options_the_owners_set()
        {
            var owners = Owners().ToList();
            foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
            {
                foreach ((bool addrA, bool portA) in s_flags)
                {
                    foreach ((bool addrB, bool portB) in s_flags)
                    {
                        foreach (LabProcess ownerB in owners)
                        {
                            string proto = protocol == TransportProtocol.Tcp ? "tcp" : "udp";
                            (int port, string a, string b, bool pair) = OpenPair(protocol, addrA, portA, ownerB, addrB, portB, "ia", "ib");
                            if (pair)
                            {
                                SocketTableReadResult read = ReadLab(port, port, readOptions: false);
                                SocketIndex index = SocketIndex.Build(read.Sockets, Lab.Facts, SocketTableOrder.KernelOrder);
                                Assert.Equal(2, index.Entries.Count);
                                bool otherUid = ownerB.Uid is not null;
                                List<IndexedSocket> byAge = index.Entries.OrderBy(e => e.Socket.Inode).ToList(); // A was created first
                                for (int i = 0; i < 2; i++)
                                {
                                    IndexedSocket entry = byAge[i];
                                    (bool addr, bool reuse) = i == 0 ? (addrA, portA) : (addrB, portB);
                                    string what = proto + " A" + Flags(addrA, portA) + " B" + Flags(addrB, portB) + (otherUid ? " (B nobody)" : string.Empty) + ": " + entry.Socket + " inferred " + (entry.Inference ?? "nothing");
                                    _output.WriteLine(what);
                                    Assert.True(!entry.ReusePortKnown || entry.ReusePort == reuse, what);
                                    Assert.True(!entry.ReuseAddressKnown || entry.ReuseAddress == addr, what);
                                    Assert.True(!entry.SharingProven || addr || reuse, what);
                                }

                                // What must have been inferred: TCP listeners share only with SO_REUSEPORT; UDP of two uids only with SO_REUSEADDR.
                                if (protocol == TransportProtocol.Tcp)
                                {
                                    Assert.All(index.Entries, e => Assert.True(e.ReusePortKnown && e.ReusePort));
                                }
                                else if (otherUid)
                                {
                                    Assert.All(index.Entries, e => Assert.True(e.ReuseAddressKnown && e.ReuseAddress));
                                }
                                else
                                {
                                    Assert.All(index.Entries, e => Assert.True(e.SharingProven));
                                }
                            }

                            Lab.Root.Do("close " + a);
                            ownerB.Do("close " + b);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Issue 11 item 4: a UDP SO_REUSEPORT group with connected members. The kernel (checked on 6.18)
        /// hashes unconnected traffic over the members that are not connected, and gives a connected
        /// member its own peer's datagrams; the engine names the same receivers.
        /// </summary>
        [LinuxRootFact]
        public void UDP_group_with_connected_members_delivers_as_the_kernel_does()
        {
            foreach (int connected in new[] { 0, 1, 2 })
            {
                foreach (string address in new[] { "127.0.0.1", "0.0.0.0" })
                {
                    int port = Lab.NextPort();
                    int peerPort = Lab.NextPort();
                    var members = new List<string>();
                    for (int i = 0; i < 3; i++)
                    {
                        string id = Lab.NextId("g");
                        Lab.Root.Do("open " + id + " udp inet reuseport");
                        Assert.Equal(0, LabProcess.Errno(Lab.Root.Do("bind " + id + " " + address + " " + port)));
                        members.Add(id);
                    }

                    // The first `connected` members connect, each to its own peer port on 127.0.0.2.
                    for (int i = 0; i < connected; i++)
                    {
                        Lab.Root.Do("connect " + members[i] + " 127.0.0.2 " + (peerPort + i));
                    }

                    SocketTableReadResult read = ReadLab(port, port);
                    SocketIndex index = SocketIndex.Build(read.Sockets, Lab.Facts, SocketTableOrder.KernelOrder);
                    var kernelReceivers = new HashSet<int>();
                    for (int k = 0; k < 30; k++)
                    {
                        int member = SendAndReceive(members, "127.0.0.3", 30000 + (k * 7) + connected, port);
                        kernelReceivers.Add(member);
                        DemuxResult demux = RuleEngine.DecideDelivery(index, new DemuxRequest { Protocol = TransportProtocol.Udp, Source = new IPEndPoint(IPAddress.Parse("127.0.0.3"), 30000 + (k * 7) + connected), Destination = new IPEndPoint(IPAddress.Loopback, port) });
                        Assert.Contains(demux.Sockets, s => s.LocalPort == port && IsMember(s, members[member], read, members));
                        Assert.DoesNotContain(demux.Sockets, s => s.HasRemote);
                        Assert.Equal(3 - connected, demux.Sockets.Count);
                    }

                    _output.WriteLine(address + ", " + connected + " connected: unconnected traffic reached members " + string.Join(",", kernelReceivers.OrderBy(i => i)));
                    Assert.All(kernelReceivers, m => Assert.True(m >= connected, "a connected member received unconnected traffic"));
                    if (3 - connected > 1)
                    {
                        Assert.True(kernelReceivers.Count > 1, "the kernel hashed over the unconnected members");
                    }

                    // Each connected member gets its own peer's datagrams.
                    for (int i = 0; i < connected; i++)
                    {
                        Assert.Equal(i, SendAndReceive(members, "127.0.0.2", peerPort + i, port));
                        DemuxResult demux = RuleEngine.DecideDelivery(index, new DemuxRequest { Protocol = TransportProtocol.Udp, Source = new IPEndPoint(IPAddress.Parse("127.0.0.2"), peerPort + i), Destination = new IPEndPoint(IPAddress.Loopback, port) });
                        Assert.NotNull(demux.Socket);
                        Assert.Equal(peerPort + i, demux.Socket!.RemotePort);
                    }

                    foreach (string id in members)
                    {
                        Lab.Root.Do("close " + id);
                    }
                }
            }
        }

        /// <summary>Sends one datagram from a fresh socket bound to (source, sourcePort) and returns the index of the member that got it.</summary>
        private int SendAndReceive(List<string> members, string source, int sourcePort, int port)
        {
            string sender = Lab.NextId("s");
            Lab.Root.Do("open " + sender + " udp inet");
            Lab.Root.Do("bind " + sender + " " + source + " " + sourcePort);
            Lab.Root.Do("sendto " + sender + " 127.0.0.1 " + port + " x");
            Lab.Root.Do("close " + sender);
            for (int attempt = 0; attempt < 50; attempt++)
            {
                for (int i = 0; i < members.Count; i++)
                {
                    if (Lab.Root.Do("recv " + members[i]).StartsWith("got", StringComparison.Ordinal))
                    {
                        return i;
                    }
                }

                Lab.Root.Do("sleep 2");
            }

            throw new InvalidOperationException("No member received the datagram from " + source + ":" + sourcePort);
        }

        /// <summary>Whether a socket of the table is the member with the lab id <paramref name="id"/>: members are told apart by inode order of creation.</summary>
        private static bool IsMember(SocketTuple socket, string id, SocketTableReadResult read, List<string> members)
        {
            List<SocketTuple> ordered = read.Sockets.OrderBy(s => s.Inode).ToList();
            return ordered.IndexOf(socket) == members.IndexOf(id);
        }

        private IEnumerable<LabProcess> Owners()
        {
            yield return Lab.Root;
            if (Lab.Other is LabProcess other)
            {
                yield return other;
            }
        }

        private SocketTableReadResult ReadLab(int firstPort, int lastPort, bool readOptions = true) => LiveSocketTable.Read(new SocketQuery
        {
            NetworkNamespace = Lab.NamespaceName,
            LocalPorts = new[] { new PortRange(firstPort, lastPort) },
            ReadSocketOptions = readOptions,
        });

        private static string Flags(bool reuseAddress, bool reusePort) => (reuseAddress ? " reuseaddr" : string.Empty) + (reusePort ? " reuseport" : string.Empty);
    }
}
