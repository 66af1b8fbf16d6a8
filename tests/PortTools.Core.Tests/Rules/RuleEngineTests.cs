using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules
{
    /// <summary>What the engine does for every OS: dispatch, defaults, error names, and decisions free of text.</summary>
    public class RuleEngineTests
    {
        public static IEnumerable<object[]> Systems() => Enum.GetValues<TargetOS>().Select(os => new object[] { os });

        [Theory]
        [MemberData(nameof(Systems))]
        public void Every_target_OS_has_a_rule_set(TargetOS os)
        {
            SocketIndex index = SocketIndex.Build(new[] { SocketTuple.Parse("tcp LISTEN 0.0.0.0:8080") }, new HostFacts(os));
            PortBindResult bind = RuleEngine.DecideBind(index, new BindRequest { Port = 8080 });
            DemuxResult delivery = RuleEngine.DecideDelivery(index, new DemuxRequest { Source = new IPEndPoint(IPAddress.Loopback, 40000), Destination = new IPEndPoint(IPAddress.Loopback, 8080) });
            Assert.Equal(os, bind.TargetOS);
            Assert.False(bind.CanBind);
            Assert.StartsWith(os.ToString().ToLowerInvariant() + ".", bind.Rule, StringComparison.Ordinal);
            Assert.Equal(DemuxOutcome.Delivered, delivery.Outcome);
            Assert.Equal(os, delivery.TargetOS);
        }

        [Fact]
        public void A_Linux_SO_REUSEPORT_group_is_named_by_the_socket_the_lookup_found()
        {
            // IPv4 UDP sockets join the head of their hash chain, so the lookup meets the newest first.
            SocketTuple[] table =
            {
                SocketTuple.Parse("udp UNCONN 0.0.0.0:53 reuseport uid=53 pid=10 process=old"),
                SocketTuple.Parse("udp UNCONN 0.0.0.0:53 reuseport uid=53 pid=11 process=new"),
            };
            SocketIndex index = SocketIndex.Build(table, new HostFacts(TargetOS.Linux), SocketTableOrder.BindOrder);
            DemuxResult delivery = RuleEngine.DecideDelivery(index, new DemuxRequest
            {
                Protocol = TransportProtocol.Udp,
                Source = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000),
                Destination = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 53),
            });

            Assert.Equal(DemuxOutcome.Delivered, delivery.Outcome);
            Assert.Null(delivery.Socket);
            Assert.Equal(new[] { 10, 11 }, delivery.Sockets.Select(s => s.ProcessId!.Value).OrderBy(p => p));
            Assert.Equal(11, Assert.Single(delivery.Candidates).Socket.ProcessId);
            Assert.StartsWith("udp UNCONN 0.0.0.0:53 of new (pid 11) wins the lookup", delivery.Reason, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(TargetOS.Linux, false, false)]
        [InlineData(TargetOS.Linux, true, true)]
        [InlineData(TargetOS.Windows, false, true)]
        [InlineData(TargetOS.FreeBSD, false, true)]
        [InlineData(TargetOS.MacOS, false, false)]
        [InlineData(TargetOS.MacOS, true, true)]
        public void IPV6_V6ONLY_defaults_per_OS(TargetOS os, bool bindV6Only, bool expected)
        {
            SocketIndex index = SocketIndex.Build(new[] { SocketTuple.Parse("tcp LISTEN [::]:80") }, new HostFacts(os) { BindV6Only = bindV6Only });
            Assert.Equal(expected, index.Entries[0].V6Only);
            Assert.False(index.Entries[0].V6OnlyKnown);
        }

        [Theory]
        [InlineData(TargetOS.Linux, BindErrorKind.OptionNotSupported, "ENOPROTOOPT", 92)]
        [InlineData(TargetOS.Linux, BindErrorKind.NoBufferSpace, "ENOBUFS", 105)]
        [InlineData(TargetOS.FreeBSD, BindErrorKind.OptionNotSupported, "ENOPROTOOPT", 42)]
        [InlineData(TargetOS.MacOS, BindErrorKind.NoBufferSpace, "ENOBUFS", 55)]
        [InlineData(TargetOS.Windows, BindErrorKind.OptionNotSupported, "WSAENOPROTOOPT", 10042)]
        [InlineData(TargetOS.Windows, BindErrorKind.NoBufferSpace, "WSAENOBUFS", 10055)]
        [InlineData(TargetOS.Windows, BindErrorKind.AddressInUse, "WSAEADDRINUSE", 10048)]
        [InlineData(TargetOS.Windows, BindErrorKind.AccessDenied, "WSAEACCES", 10013)]
        [InlineData(TargetOS.Windows, BindErrorKind.AddressNotAvailable, "WSAEADDRNOTAVAIL", 10049)]
        [InlineData(TargetOS.Windows, BindErrorKind.InvalidArgument, "WSAEINVAL", 10022)]
        public void Error_names_and_numbers_per_OS(TargetOS os, BindErrorKind kind, string name, int code) =>
            Assert.Equal((name, code), BindErrors.Describe(os, kind));

        [Theory]
        [InlineData("reuseport_lb", "linux.enoprotoopt.reuseport-lb", "Linux has no SO_REUSEPORT_LB; it is FreeBSD's")]
        [InlineData("exclusiveaddruse", "linux.enoprotoopt.exclusiveaddruse", "Linux has no SO_EXCLUSIVEADDRUSE; it is Windows'")]
        public void Linux_refuses_options_of_other_systems_before_its_own_rules(string option, string rule, string reason)
        {
            var request = new BindRequest { Port = 8080, ReusePortLoadBalance = option == "reuseport_lb", ExclusiveAddressUse = option == "exclusiveaddruse" };
            PortBindResult result = RuleEngine.DecideBind(SocketIndex.Build(Array.Empty<SocketTuple>(), new HostFacts(TargetOS.Linux)), request);
            Assert.Equal("ENOPROTOOPT", result.Error);
            Assert.Equal(rule, result.Rule);
            Assert.StartsWith("setsockopt() fails with ENOPROTOOPT: " + reason, result.Reason, StringComparison.Ordinal);
            Assert.Equal(option, result.Options);
        }

        private static readonly string[] s_table =
        {
            S("tcp LISTEN 0.0.0.0:P", "reuseaddr"), S("tcp LISTEN [::]:P", "nov6only", "uid=1001"), S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000"),
            S("tcp LISTEN 192.0.2.1:P", "reuseport_lb"), S("udp UNCONN 0.0.0.0:P", "reuseport"), S("udp UNCONN 239.1.1.1:P", "reuseaddr"),
        };

        private static readonly BindRequest[] s_requests =
        {
            Bind("0.0.0.0"), Bind("192.0.2.1", reuseAddress: true), Bind("::", v6Only: false), Bind("203.0.113.9"), Bind("0.0.0.0", port: 80),
            Bind("0.0.0.0", TransportProtocol.Udp, reusePort: true), Bind("239.1.1.1", TransportProtocol.Udp, reuseAddress: true), Bind("192.0.2.1", loadBalance: true, user: OtherUser),
        };

        public static IEnumerable<object[]> TextFreeDecisions() =>
            from os in new[] { TargetOS.Windows, TargetOS.FreeBSD, TargetOS.MacOS }
            from i in Enumerable.Range(0, s_requests.Length)
            select new object[] { os, i };

        [Theory]
        [MemberData(nameof(TextFreeDecisions))]
        public void Windows_and_BSD_decisions_carry_codes_not_text(TargetOS os, int request)
        {
            SocketIndex index = SocketIndex.Build(s_table.Select(SocketTuple.Parse).ToList(), Facts(os));
            BindRequest bindRequest = s_requests[request];
            BindDecision decision = RuleEngine.DecideBindCore(index, bindRequest);
            Assert.Null(decision.Detail);
            Assert.Empty(decision.Notes);

            var packet = Packet(bindRequest.Protocol, "198.51.100.7:40000", bindRequest.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "192.0.2.1:P" : "[2001:db8::1]:P");
            DemuxDecision delivery = RuleEngine.DecideDeliveryCore(index, packet);
            Assert.Empty(delivery.Notes);

            // The words come with the result, and are never empty.
            Assert.False(string.IsNullOrEmpty(BindExplanation.ToResult(decision, bindRequest, os, BindCheckMethod.Simulated).Reason));
            Assert.False(string.IsNullOrEmpty(DemuxExplanation.ToResult(delivery, os).Reason));
        }

        [Fact]
        public void Options_text_names_the_new_options()
        {
            var request = new BindRequest { ReuseAddress = true, ReusePortLoadBalance = true, ExclusiveAddressUse = true, Broadcast = true, Listen = true };
            Assert.Equal("reuseaddr reuseport_lb exclusiveaddruse broadcast listen", BindExplanation.Options(request));
        }
    }
}
