using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules
{
    /// <summary>FreeBSD (kernel-rules.md 3A) and macOS (4A) bind rules beyond the cross-OS table.</summary>
    public class BsdBindRulesTests
    {
        private const TransportProtocol Udp = TransportProtocol.Udp;

        private static PortBindResult Decide(TargetOS os, BindRequest request, params string[] table) => Decide(Facts(os), request, table);

        private static PortBindResult Decide(HostFacts facts, BindRequest request, params string[] table) =>
            RuleEngine.DecideBind(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), facts), request);

        /// <summary>Rule, table, request, error (null: ok), rule id, text the Reason must hold (or null).</summary>
        public static IEnumerable<object?[]> FreeBsdRules() => new[]
        {
            new object?[] { "root skips the cross-user check", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport", "uid=1001") }, Privileged(Bind("0.0.0.0", reusePort: true)), null, "freebsd.ok", null },
            new object?[] { "TCP: another user's connection does not trip the cross-user check", new[] { S("tcp ESTAB 192.0.2.1:P 198.51.100.7:40000", "uid=1001") }, Bind("192.0.2.1", reuseAddress: true), null, "freebsd.ok", null },
            new object?[] { "UDP: another user's connected socket does", new[] { S("udp ESTAB 192.0.2.1:P 198.51.100.7:40000", "uid=1001") }, Bind("192.0.2.1", Udp, reuseAddress: true), "EADDRINUSE", "freebsd.cross-user", "another user" },
            new object?[] { "two users share a wildcard port through SO_REUSEPORT_LB", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport_lb", "uid=1001") }, Bind("0.0.0.0", loadBalance: true), null, "freebsd.ok", "only through SO_REUSEPORT_LB ([derived]" },
            new object?[] { "but not when the holder also has SO_REUSEPORT", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport", "reuseport_lb", "uid=1001") }, Bind("0.0.0.0", loadBalance: true), "EADDRINUSE", "freebsd.cross-user", null },
            new object?[] { "nor on a specific address", new[] { S("tcp LISTEN 192.0.2.1:P", "reuseport_lb", "uid=1001") }, Bind("192.0.2.1", loadBalance: true), "EADDRINUSE", "freebsd.cross-user", null },
            new object?[] { "SO_REUSEPORT and SO_REUSEPORT_LB do not share with each other", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseport") }, Bind("0.0.0.0", loadBalance: true), "EADDRINUSE", "freebsd.inuse.exact", "SO_REUSEPORT or SO_REUSEPORT_LB on both" },
            new object?[] { "multicast: SO_REUSEADDR acts as SO_REUSEPORT_LB too", new[] { S("udp UNCONN 239.1.1.1:P", "reuseport_lb") }, Bind("239.1.1.1", Udp, reuseAddress: true), null, "freebsd.ok", null },
            new object?[] { "multicast without any option meets the group's sockets", new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Bind("239.1.1.1", Udp), "EADDRINUSE", "freebsd.inuse.best-fit", null },
            new object?[] { "multicast skips the cross-user check", new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr", "uid=1001") }, Bind("239.1.1.1", Udp, reuseAddress: true), null, "freebsd.ok", null },
            new object?[] { "exact mode looks past TIME-WAIT on the identical address", new[] { S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000") }, Bind("192.0.2.1", reuseAddress: true), null, "freebsd.ok", null },
            new object?[] { "best-fit mode meets a connection", new[] { S("tcp ESTAB 192.0.2.1:P 198.51.100.7:40000") }, Bind("192.0.2.1"), "EADDRINUSE", "freebsd.inuse.best-fit", "connected and TIME-WAIT ones included" },
            new object?[] { "different specific addresses never meet", new[] { S("tcp LISTEN 127.0.0.1:P") }, Bind("192.0.2.1"), null, "freebsd.ok", null },
            new object?[] { "step 8: a dual-stack [::] meets a specific IPv4 binding", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::", v6Only: false), "EADDRINUSE", "freebsd.inuse.dual-stack", "step 8" },
            new object?[] { "step 8: and another user's IPv4 socket", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr", "uid=1001") }, Bind("::", reuseAddress: true, v6Only: false), "EADDRINUSE", "freebsd.cross-user.ipv4", "also takes IPv4" },
            new object?[] { "a dual-stack [::] meets another dual-stack [::] on the IPv6 side", new[] { S("tcp LISTEN [::]:P", "nov6only") }, Bind("::", v6Only: false), "EADDRINUSE", "freebsd.inuse.best-fit", null },
            new object?[] { "two AF_INET6 wildcards are exempt from the IPv4 main check", new[] { S("tcp LISTEN [::]:P", "nov6only") }, Bind("::ffff:0.0.0.0", v6Only: false), null, "freebsd.ok", null },
            new object?[] { "IPv6: the same specific address (UNVERIFIED path)", new[] { S("tcp LISTEN [2001:db8::1]:P") }, Bind("2001:db8::1"), "EADDRINUSE", "freebsd.inuse.best-fit", "(UNVERIFIED: in6_pcbbind" },
            new object?[] { "a v4-mapped address on a V6ONLY socket (the default)", Array.Empty<string>(), Bind("::ffff:192.0.2.1"), "EADDRNOTAVAIL", "freebsd.eaddrnotavail.mapped-v6only", "[derived]" },
            new object?[] { "an address that is not local", Array.Empty<string>(), Bind("203.0.113.9"), "EADDRNOTAVAIL", "freebsd.eaddrnotavail.not-local", "IP_BINDANY is not set" },
            new object?[] { "IP_BINDANY (privileged) binds an address that is not local", Array.Empty<string>(), FreeBind(Privileged(Bind("203.0.113.9"))), null, "freebsd.ok", null },
            new object?[] { "IP_BINDANY without privilege is refused by setsockopt", Array.Empty<string>(), FreeBind(Bind("203.0.113.9")), "EADDRNOTAVAIL", "freebsd.eaddrnotavail.not-local", "EPERM" },
            new object?[] { "port 1023 is reserved for any address", Array.Empty<string>(), Bind("127.0.0.1", port: 1023), "EACCES", "freebsd.eacces.reserved-port", "(0-1023)" },
            new object?[] { "port 1024 is not", Array.Empty<string>(), Bind("127.0.0.1", port: 1024), null, "freebsd.ok", null },
            new object?[] { "root binds a reserved port", Array.Empty<string>(), Privileged(Bind("0.0.0.0", port: 22)), null, "freebsd.ok", null },
            new object?[] { "SO_EXCLUSIVEADDRUSE does not exist", Array.Empty<string>(), Exclusive(Bind("0.0.0.0")), "ENOPROTOOPT", "freebsd.enoprotoopt.exclusiveaddruse", "it is Windows'" },
            new object?[] { "a holder's unknown options do not matter to a bind without reuse options", new[] { "tcp LISTEN 0.0.0.0:8080 uid=1000" }, Bind("0.0.0.0"), "EADDRINUSE", "freebsd.inuse.best-fit", "none of them would let this bind share the port" },
            new object?[] { "a holder's unknown user decides a SO_REUSEPORT share, never taken as this user", new[] { "tcp LISTEN 0.0.0.0:8080 noreuseaddr reuseport noreuseport_lb" }, Bind("0.0.0.0", reusePort: true), "EADDRINUSE", "freebsd.unknown-options", "turns on the user, which the socket table does not show" },
            new object?[] { "a holder's unknown SO_REUSEPORT decides a SO_REUSEPORT share", new[] { "tcp LISTEN 0.0.0.0:8080 uid=1000" }, Bind("0.0.0.0", reusePort: true), "EADDRINUSE", "freebsd.unknown-options", "turns on SO_REUSEADDR, SO_REUSEPORT and SO_REUSEPORT_LB" },
            new object?[] { "a holder's dev= means nothing on FreeBSD", new[] { S("tcp LISTEN 0.0.0.0:P", "dev=eth0") }, Bind("0.0.0.0"), "EADDRINUSE", "freebsd.inuse.best-fit", "FreeBSD has no SO_BINDTODEVICE: dev=" },
        };

        [Theory]
        [MemberData(nameof(FreeBsdRules))]
        public void FreeBsd(string rule, string[] table, BindRequest request, string? error, string ruleId, string? reason) => Check(TargetOS.FreeBSD, rule, table, request, error, ruleId, reason);

        /// <summary>Rule, table, request, error (null: ok), rule id, text the Reason must hold (or null).</summary>
        public static IEnumerable<object?[]> MacOsRules() => new[]
        {
            new object?[] { "XNU's cross-user check counts another user's connection", new[] { S("tcp ESTAB 192.0.2.1:P 198.51.100.7:40000", "uid=1001") }, Bind("192.0.2.1", reuseAddress: true), "EADDRINUSE", "macos.cross-user", "either address is specific" },
            new object?[] { "two users' wildcards without SO_REUSEPORT meet the main check", new[] { S("tcp LISTEN 0.0.0.0:P", "reuseaddr", "uid=1001") }, Bind("0.0.0.0", reuseAddress: true), "EADDRINUSE", "macos.inuse.exact", null },
            new object?[] { "root skips the cross-user check", new[] { S("tcp LISTEN 0.0.0.0:P", "uid=1001") }, Privileged(Bind("192.0.2.1", reuseAddress: true)), null, "macos.ok", null },
            new object?[] { "multicast: SO_REUSEADDR acts as SO_REUSEPORT", new[] { S("udp UNCONN 239.1.1.1:P", "reuseport") }, Bind("239.1.1.1", Udp, reuseAddress: true), null, "macos.ok", null },
            new object?[] { "multicast: SO_REUSEPORT alone does not share with SO_REUSEADDR alone", new[] { S("udp UNCONN 239.1.1.1:P", "reuseaddr") }, Bind("239.1.1.1", Udp, reusePort: true), "EADDRINUSE", "macos.inuse.exact", null },
            new object?[] { "a dual-stack [::] meets another user's specific IPv4 binding", new[] { S("tcp LISTEN 192.0.2.1:P", "uid=1001") }, Bind("::", v6Only: false), "EADDRINUSE", "macos.cross-user.ipv4", "UNVERIFIED" },
            new object?[] { "a dual-stack [::] meets this user's specific IPv4 binding", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::", v6Only: false), "EADDRINUSE", "macos.inuse.dual-stack", "UNVERIFIED" },
            new object?[] { "a [::] without IPV6_V6ONLY given is dual-stack (UNVERIFIED default)", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::"), "EADDRINUSE", "macos.inuse.dual-stack", "the current macOS default is not confirmed" },
            new object?[] { "HostFacts.BindV6Only makes [::] V6ONLY", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::"), null, "macos.ok", null },
            new object?[] { "a specific low port needs privilege", Array.Empty<string>(), Bind("127.0.0.1", port: 631), "EACCES", "macos.eacces.specific-low-port", "PRIV_NETINET_RESERVEDPORT" },
            new object?[] { "root binds it", Array.Empty<string>(), Privileged(Bind("127.0.0.1", port: 631)), null, "macos.ok", null },
            new object?[] { "the IPv6 wildcard low port needs none", Array.Empty<string>(), Bind("::", port: 631), null, "macos.ok", "below 1024, but macOS lets any user" },
            new object?[] { "SO_REUSEPORT_LB does not exist", Array.Empty<string>(), Bind("0.0.0.0", loadBalance: true), "ENOPROTOOPT", "macos.enoprotoopt.reuseport-lb", null },
            new object?[] { "SO_EXCLUSIVEADDRUSE does not exist", Array.Empty<string>(), Exclusive(Bind("0.0.0.0")), "ENOPROTOOPT", "macos.enoprotoopt.exclusiveaddruse", null },
            new object?[] { "neither does a non-local bind option", Array.Empty<string>(), FreeBind(Bind("203.0.113.9")), "ENOPROTOOPT", "macos.enoprotoopt.freebind", null },
            new object?[] { "an address that is not local", Array.Empty<string>(), Bind("203.0.113.9"), "EADDRNOTAVAIL", "macos.eaddrnotavail.not-local", null },
            new object?[] { "a v4-mapped address on a V6ONLY socket", Array.Empty<string>(), Bind("::ffff:192.0.2.1", v6Only: true), "EADDRNOTAVAIL", "macos.eaddrnotavail.mapped-v6only", "[derived]" },
            new object?[] { "a v4-mapped address on a dual-stack socket is an IPv4 bind", new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("::ffff:192.0.2.1"), "EADDRINUSE", "macos.inuse.best-fit", null },
        };

        [Theory]
        [MemberData(nameof(MacOsRules))]
        public void MacOs(string rule, string[] table, BindRequest request, string? error, string ruleId, string? reason)
        {
            HostFacts facts = Facts(TargetOS.MacOS);
            if (rule.StartsWith("HostFacts.BindV6Only", StringComparison.Ordinal))
            {
                facts = new HostFacts(TargetOS.MacOS, new[] { IPAddress.Parse("192.0.2.1") }) { UserId = User, BindV6Only = true };
            }

            PortBindResult result = Decide(facts, request, table);
            Assert.True(error == result.Error, rule + ": " + result.Reason);
            Assert.True(ruleId == result.Rule, rule + ": rule " + result.Rule);
            if (reason is not null)
            {
                Assert.True(result.Reason.Contains(reason, StringComparison.Ordinal), rule + ": " + result.Reason);
            }
        }

        private static void Check(TargetOS os, string rule, string[] table, BindRequest request, string? error, string ruleId, string? reason)
        {
            PortBindResult result = Decide(os, request, table);
            Assert.True(error == result.Error, rule + ": " + result.Reason);
            // What the table does not show makes the answer depend on it; everything else is certain.
            Assert.True((result.DependsOn.Count > 0) == ruleId.EndsWith(".unknown-options", StringComparison.Ordinal), rule + ": DependsOn " + string.Join("; ", result.DependsOn));
            Assert.True(result.DependsOn.Count > 0 ? result.CanBind is null : result.CanBind == (error is null), rule + ": CanBind " + result.CanBind);
            Assert.True(ruleId == result.Rule, rule + ": rule " + result.Rule);
            if (reason is not null)
            {
                Assert.True(result.Reason.Contains(reason, StringComparison.Ordinal), rule + ": " + result.Reason);
            }
        }

        [Fact]
        public void Many_sockets_of_unknown_options_on_a_port_are_weighed_at_their_corners_never_taken_as_off()
        {
            // 40 listeners from text: 160 unknowns, past exhaustive weighing. Options all on for one
            // user would share; all off would not: the answer depends, and nothing overflows.
            string[] table = Enumerable.Range(0, 40).Select(i => "tcp LISTEN 0.0.0.0:8080 pid=" + (100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            PortBindResult result = Decide(TargetOS.FreeBSD, Bind("0.0.0.0", reusePort: true), table);
            Assert.Null(result.CanBind);
            Assert.Equal("EADDRINUSE", result.Error);
            Assert.NotEmpty(result.DependsOn);
            Assert.Equal("freebsd.unknown-options", result.Rule);
        }

        [Theory]
        [InlineData(TargetOS.FreeBSD, 48, 49, 13, 42)]
        [InlineData(TargetOS.MacOS, 48, 49, 13, 42)]
        public void Errors_carry_BSD_errno_numbers(TargetOS os, int inUse, int notAvailable, int access, int noOption)
        {
            Assert.Equal(inUse, Decide(os, Bind("0.0.0.0"), S("tcp LISTEN 0.0.0.0:P")).ErrorCode);
            Assert.Equal(notAvailable, Decide(os, Bind("203.0.113.9")).ErrorCode);
            Assert.Equal(access, Decide(os, Bind("127.0.0.1", port: 80)).ErrorCode);
            Assert.Equal(noOption, Decide(os, Exclusive(Bind("0.0.0.0"))).ErrorCode);
        }

        [Fact]
        public void FreeBsd_port_0_takes_a_port_its_lookup_finds_free_and_runs_out_with_EADDRNOTAVAIL()
        {
            HostFacts facts = new HostFacts(TargetOS.FreeBSD) { EphemeralPortRange = new PortRange(50000, 50002), UserId = User };
            PortBindResult some = Decide(facts, Bind("0.0.0.0", port: 0), "tcp LISTEN 127.0.0.1:50000 uid=1000");
            Assert.True(some.CanBind, some.Reason);
            Assert.Equal("freebsd.port0", some.Rule);
            Assert.Contains("2 of its 3 ports are free", some.Reason, StringComparison.Ordinal);

            // SO_REUSEADDR looks up the identical address only, so 127.0.0.1:50000 does not count against it.
            PortBindResult reuse = Decide(facts, Bind("0.0.0.0", port: 0, reuseAddress: true), "tcp LISTEN 127.0.0.1:50000 uid=1000");
            Assert.Contains("3 of its 3 ports are free", reuse.Reason, StringComparison.Ordinal);

            PortBindResult none = Decide(facts, Bind("0.0.0.0", port: 0), "tcp LISTEN 0.0.0.0:50000", "tcp LISTEN 0.0.0.0:50001", "tcp TIME-WAIT 127.0.0.1:50002 127.0.0.1:80");
            Assert.Equal("EADDRNOTAVAIL", none.Error);
            Assert.Equal("freebsd.port0.exhausted", none.Rule);
        }

        [Fact]
        public void MacOs_port_0_needs_a_port_no_overlapping_socket_holds_whatever_the_options()
        {
            HostFacts facts = new HostFacts(TargetOS.MacOS) { EphemeralPortRange = new PortRange(50000, 50001), UserId = User };
            PortBindResult result = Decide(facts, Bind("0.0.0.0", Udp, port: 0, reuseAddress: true, reusePort: true), S("udp UNCONN 0.0.0.0:50000", "reuseaddr", "reuseport"));
            Assert.True(result.CanBind, result.Reason);
            Assert.Contains("1 of its 2 ports are free", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Listen_checks_nothing_more_on_the_BSDs()
        {
            foreach (TargetOS os in new[] { TargetOS.FreeBSD, TargetOS.MacOS })
            {
                PortBindResult bound = Decide(os, Bind("192.0.2.1", reuseAddress: true, listen: false), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"));
                PortBindResult listened = Decide(os, Bind("192.0.2.1", reuseAddress: true, listen: true), S("tcp LISTEN 0.0.0.0:P", "reuseaddr"));
                Assert.True(bound.CanBind == true && listened.CanBind == true, os + ": " + listened.Reason);
            }
        }

        private static BindRequest Privileged(BindRequest request) => With(request, privileged: true);

        private static BindRequest FreeBind(BindRequest request) => With(request, freeBind: true);

        private static BindRequest Exclusive(BindRequest request) => With(request, exclusive: true);

        private static BindRequest With(BindRequest r, bool? privileged = null, bool freeBind = false, bool exclusive = false) => new BindRequest
        {
            Protocol = r.Protocol,
            Address = r.Address,
            Port = r.Port,
            ReuseAddress = r.ReuseAddress,
            ReusePort = r.ReusePort,
            ReusePortLoadBalance = r.ReusePortLoadBalance,
            ExclusiveAddressUse = exclusive || r.ExclusiveAddressUse,
            IPv6Only = r.IPv6Only,
            Interface = r.Interface,
            Listen = r.Listen,
            UserId = r.UserId,
            Privileged = privileged ?? r.Privileged,
            FreeBind = freeBind || r.FreeBind,
        };
    }
}
