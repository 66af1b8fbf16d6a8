using System;
using System.Buffers.Binary;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using PortTools.MacOS;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.MacOS
{
    /// <summary>
    /// The macOS trial bind, per XNU at apple-oss-distributions/xnu tag xnu-11417.101.15:
    /// the BSD sockaddr layouts of bsd/netinet/in.h (struct sockaddr_in: sin_len, sin_family as one
    /// byte each, sin_port, sin_addr, sin_zero[8]; 16 bytes) and bsd/netinet6/in6.h (struct
    /// sockaddr_in6: sin6_len, sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id; 28
    /// bytes), AF_INET 2 and AF_INET6 30 (bsd/sys/socket.h); the setsockopt constants SOL_SOCKET
    /// 0xffff, SO_REUSEADDR 0x4, SO_BROADCAST 0x20, SO_REUSEPORT 0x200 (bsd/sys/socket.h),
    /// IPPROTO_IP 0 with IP_BOUND_IF 25 (bsd/netinet/in.h), IPPROTO_IPV6 41 with IPV6_V6ONLY 27 and
    /// IPV6_BOUND_IF 125 (bsd/netinet6/in6.h); and the errno numbers of bsd/sys/errno.h (ENXIO 6,
    /// EACCES 13, EINVAL 22, ENOPROTOOPT 42, EADDRINUSE 48, EADDRNOTAVAIL 49).
    /// </summary>
    public class MacTrialBindTests
    {
        private static BindDecision Predict(BindRequest request, params string[] table) =>
            RuleEngine.DecideBindCore(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), Facts(TargetOS.MacOS)), request);

        private static PortBindResult Combine(BindRequest request, ProbeOutcome trial, params string[] table) =>
            LiveBindCheck.Combine(Predict(request, table), trial, request, TargetOS.MacOS);

        private static byte[] Encode(string address, int port)
        {
            var buffer = new byte[BsdSockAddr.MaxLength + 4];
            buffer.AsSpan().Fill(0xEE);
            int length = BsdSockAddr.Write(buffer, IPAddress.Parse(address), port);
            Assert.True(buffer.Skip(BsdSockAddr.MaxLength).All(b => b == 0xEE), "wrote past struct sockaddr_in6");
            return buffer.Take(length).ToArray();
        }

        [Fact]
        public void Sockaddr_in_starts_with_its_length_and_a_one_byte_family()
        {
            byte[] encoded = Encode("192.0.2.10", 8080);
            Assert.Equal(
                new byte[] { 16, 2, 0x1F, 0x90, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0 },
                encoded);
            Assert.Equal(8080, BsdSockAddr.ReadPort(encoded));
        }

        [Fact]
        public void Sockaddr_in6_has_its_length_family_30_port_flowinfo_address_and_scope()
        {
            byte[] encoded = Encode("fe80::1%5", 443);
            Assert.Equal(28, encoded.Length);
            Assert.Equal((byte)28, encoded[0]);
            Assert.Equal((byte)30, encoded[1]);
            Assert.Equal(443, BinaryPrimitives.ReadUInt16BigEndian(encoded.AsSpan(2)));
            Assert.Equal(0u, BitConverter.ToUInt32(encoded, 4)); // sin6_flowinfo
            Assert.Equal(IPAddress.Parse("fe80::1").GetAddressBytes(), encoded.Skip(8).Take(16).ToArray());
            Assert.Equal(BitConverter.GetBytes(5u), encoded.Skip(24).Take(4).ToArray()); // host order
            Assert.Equal(443, BsdSockAddr.ReadPort(encoded));
        }

        [Fact]
        public void A_v4_mapped_address_is_an_AF_INET6_sockaddr()
        {
            byte[] encoded = Encode("::ffff:127.0.0.1", 0);
            Assert.Equal(new byte[] { 28, 30, 0, 0 }, encoded.Take(4).ToArray());
            Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1 }, encoded.Skip(8).Take(16).ToArray());
            Assert.Equal(new byte[4], encoded.Skip(24).ToArray());
        }

        [Fact]
        public void The_wildcards_encode_as_zeros()
        {
            Assert.Equal(new byte[] { 16, 2, 0, 80 }.Concat(new byte[12]), Encode("0.0.0.0", 80));
            Assert.Equal(new byte[] { 28, 30, 0, 80 }.Concat(new byte[24]), Encode("::", 80));
        }

        [Fact]
        public void FreeBSD_differs_only_in_the_AF_INET6_number()
        {
            var buffer = new byte[BsdSockAddr.MaxLength];
            BsdSockAddr.Write(buffer, IPAddress.IPv6Loopback, 22, inet6Family: 28);
            Assert.Equal(new byte[] { 28, 28, 0, 22 }, buffer.Take(4).ToArray());
        }

        [Fact]
        public void Options_are_set_with_the_XNU_numbers()
        {
            var request = new BindRequest { Address = IPAddress.IPv6Any, ReuseAddress = true, ReusePort = true, Broadcast = true, IPv6Only = true, Interface = "en0" };
            Assert.Equal(
                new[]
                {
                    (0xffff, 0x4, 1, "setsockopt(SO_REUSEADDR)"),
                    (0xffff, 0x200, 1, "setsockopt(SO_REUSEPORT)"),
                    (0xffff, 0x20, 1, "setsockopt(SO_BROADCAST)"),
                    (41, 27, 1, "setsockopt(IPV6_V6ONLY)"),
                    (41, 125, 7, "setsockopt(IPV6_BOUND_IF)"),
                },
                MacTrialBind.Plan(request, 7).Select(o => (o.Level, o.Name, o.Value, o.Step)));
        }

        [Fact]
        public void An_IPv4_socket_is_tied_to_its_interface_with_IP_BOUND_IF_and_never_gets_IPV6_V6ONLY()
        {
            var request = new BindRequest { Address = IPAddress.Loopback, IPv6Only = false, Interface = "lo0" };
            Assert.Equal(new[] { (0, 25, 1, "setsockopt(IP_BOUND_IF)") }, MacTrialBind.Plan(request, 1).Select(o => (o.Level, o.Name, o.Value, o.Step)));
            Assert.Equal(new[] { (41, 27, 0) }, MacTrialBind.Plan(new BindRequest { Address = IPAddress.IPv6Any, IPv6Only = false }, 0).Select(o => (o.Level, o.Name, o.Value)));
            Assert.Empty(MacTrialBind.Plan(new BindRequest { Address = IPAddress.IPv6Any }, 0));
        }

        [Theory]
        [InlineData("reuseport_lb", "SO_REUSEPORT_LB")]
        [InlineData("exclusiveaddruse", "SO_EXCLUSIVEADDRUSE")]
        [InlineData("freebind", "IP_FREEBIND")]
        public void An_option_macOS_lacks_is_refused_as_ENOPROTOOPT_without_a_socket(string option, string name)
        {
            var request = new BindRequest
            {
                Address = IPAddress.Any,
                Port = Port,
                ReusePortLoadBalance = option == "reuseport_lb",
                ExclusiveAddressUse = option == "exclusiveaddruse",
                FreeBind = option == "freebind",
            };
            Assert.Equal(name, LiveBindCheck.MissingOption(TargetOS.MacOS, request));
            PortBindResult result = Combine(request, LiveBindCheck.Refused(TargetOS.MacOS, name));
            Assert.False(result.CanBind);
            Assert.Equal(("ENOPROTOOPT", 42), (result.Error, result.ErrorCode));
            Assert.Null(result.PredictedError);
            Assert.EndsWith("No trial socket was opened: macOS has no " + name + ", so setsockopt() could only fail with ENOPROTOOPT.", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void The_options_macOS_has_are_not_refused()
        {
            Assert.Null(LiveBindCheck.MissingOption(TargetOS.MacOS, new BindRequest { ReuseAddress = true, ReusePort = true, Broadcast = true, IPv6Only = false, Interface = "en0", Address = IPAddress.IPv6Any }));
        }

        [Theory]
        [InlineData(0, BindErrorKind.None)]
        [InlineData(48, BindErrorKind.AddressInUse)]
        [InlineData(13, BindErrorKind.AccessDenied)]
        [InlineData(49, BindErrorKind.AddressNotAvailable)]
        [InlineData(22, BindErrorKind.InvalidArgument)]
        [InlineData(42, BindErrorKind.OptionNotSupported)]
        [InlineData(55, BindErrorKind.NoBufferSpace)]
        [InlineData(6, BindErrorKind.NoSuchDevice)]
        public void BSD_errno_numbers_map_to_the_engine_kinds(int errno, BindErrorKind kind)
        {
            Assert.Equal(kind, BindErrors.FromBsdErrno(errno));
            Assert.Equal(kind, BindErrors.FromNative(TargetOS.MacOS, errno));
        }

        [Theory]
        [InlineData(98)] // Linux EADDRINUSE
        [InlineData(99)] // Linux EADDRNOTAVAIL
        [InlineData(10048)]
        public void Linux_and_Winsock_numbers_are_not_BSD_errors(int errno)
        {
            Assert.Null(BindErrors.FromBsdErrno(errno));
        }

        [Fact]
        public void Agreement_on_EADDRINUSE_names_the_holder()
        {
            string holder = S("tcp LISTEN 192.0.2.1:P");
            PortBindResult result = Combine(Bind("192.0.2.1"), new ProbeOutcome(48, "bind", 0), holder);
            Assert.False(result.CanBind);
            Assert.Equal(("EADDRINUSE", 48), (result.Error, result.ErrorCode));
            Assert.Null(result.PredictedError);
            Assert.Single(result.Conflicts);
            Assert.Equal(TargetOS.MacOS, result.TargetOS);
        }

        [Fact]
        public void A_conflict_the_engine_did_not_see_shows_both_answers()
        {
            PortBindResult result = Combine(Bind("192.0.2.1"), new ProbeOutcome(48, "listen", Port));
            Assert.False(result.CanBind);
            Assert.Equal(("EADDRINUSE", 48), (result.Error, result.ErrorCode));
            Assert.Equal("success", result.PredictedError);
            Assert.StartsWith("The kernel answered EADDRINUSE at listen, but the rule engine predicted success from the socket table", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_bind_the_kernel_allowed_against_a_predicted_conflict_is_not_blamed_on_hidden_options()
        {
            // libproc shows SO_REUSEADDR and SO_REUSEPORT, so the Linux and Windows excuse does not apply.
            string holder = S("tcp LISTEN 192.0.2.1:P");
            PortBindResult result = Combine(Bind("192.0.2.1"), new ProbeOutcome(0, "listen", Port), holder);
            Assert.True(result.CanBind);
            Assert.Equal("EADDRINUSE", result.PredictedError);
            Assert.StartsWith("The kernel answered success, but the rule engine predicted EADDRINUSE", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_Linux_errno_on_macOS_is_not_read_as_a_Linux_error()
        {
            PortBindResult result = Combine(Bind("192.0.2.1"), new ProbeOutcome(98, "bind", 0));
            Assert.Equal(("errno 98", 98), (result.Error, result.ErrorCode));
        }

        [Fact]
        public void An_interface_that_does_not_exist_is_ENXIO_and_the_engine_is_shown_to_disagree()
        {
            // The macOS rule set takes IP_BOUND_IF to be ignored by bind() and does not look the name up.
            BindRequest request = Bind("192.0.2.1", device: "utun99");
            ProbeOutcome trial = MacTrialBind.NoSuchInterface(request);
            Assert.Equal((6, "setsockopt(IP_BOUND_IF)", true), (trial.Code, trial.Step, trial.Synthesized));
            PortBindResult result = Combine(request, trial);
            Assert.False(result.CanBind);
            Assert.Equal(("ENXIO", 6), (result.Error, result.ErrorCode));
            Assert.Equal("success", result.PredictedError);
            Assert.StartsWith("The trial bind answered ENXIO at setsockopt(IP_BOUND_IF), but the rule engine predicted success", result.Reason, StringComparison.Ordinal);
            Assert.EndsWith("there is no interface named 'utun99' (if_nametoindex found none), and macOS answers ENXIO for an interface that does not exist.", result.Reason, StringComparison.Ordinal);
            Assert.Equal("setsockopt(IPV6_BOUND_IF)", MacTrialBind.NoSuchInterface(Bind("::1", device: "utun99")).Step);
        }

        [Fact]
        public void Port_0_reports_the_port_macOS_picked()
        {
            PortBindResult result = Combine(Bind("0.0.0.0", port: 0), new ProbeOutcome(0, "listen", 61001));
            Assert.True(result.CanBind);
            Assert.Contains("The kernel assigned port 61001 to the trial socket.", result.Reason, StringComparison.Ordinal);
        }

        [MacFact]
        public void Live_trial_binds_agree_with_the_engine_on_loopback()
        {
            using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            holder.Listen(1);
            int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
            SocketIndex index = SocketIndex.Build(LiveSocketTable.Read(new SocketQuery()).Sockets, HostFacts.From(SocketHost.Read()), SocketTableOrder.KernelOrder);

            PortBindResult taken = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = port, Listen = true });
            Assert.Equal(("EADDRINUSE", 48), (taken.Error, taken.ErrorCode));
            Assert.Null(taken.PredictedError);

            PortBindResult free = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = 0, Listen = true });
            Assert.True(free.CanBind, free.Reason);
            Assert.Contains("The kernel assigned port", free.Reason, StringComparison.Ordinal);

            PortBindResult noInterface = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = 0, Interface = "porttools-none0" });
            Assert.Equal(("ENXIO", 6), (noInterface.Error, noInterface.ErrorCode));

            PortBindResult loopbackInterface = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = 0, Interface = "lo0" });
            Assert.True(loopbackInterface.CanBind, loopbackInterface.Reason);
        }
    }
}
