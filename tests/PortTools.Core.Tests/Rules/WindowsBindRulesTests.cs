using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using PortTools.Tests.Rules.CrossOs;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Rules
{
    public class WindowsBindRulesTests
    {
        private static PortBindResult Decide(BindRequest request, params string[] table) => Decide(Facts(TargetOS.Windows), request, table);

        private static PortBindResult Decide(HostFacts facts, BindRequest request, params string[] table) =>
            RuleEngine.DecideBind(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), facts), request);

        // kernel-rules.md 2A, as written there: rows are the second bind, columns the first.
        private static readonly string[] s_options = { "none", "reuseaddr", "exclusiveaddruse" };
        private static readonly string[][] s_matrix =
        {
            new[] { "INUSE", "ok", "INUSE", "ok", "INUSE", "ok" },
            new[] { "CHECK", "INUSE", "CHECK", "DENIED", "DENIED", "INUSE" },
            new[] { "DENIED", "ok", "ok", "ok", "DENIED", "ok" },
            new[] { "CHECK", "DENIED", "ok", "ok", "DENIED", "DENIED" },
            new[] { "INUSE", "INUSE", "INUSE", "INUSE", "INUSE", "INUSE" },
            new[] { "CHECK", "INUSE", "CHECK", "INUSE", "DENIED", "INUSE" },
        };

        public static IEnumerable<object[]> MatrixCells()
        {
            for (int row = 0; row < 6; row++)
            {
                for (int column = 0; column < 6; column++)
                {
                    string second = s_options[row / 2] + (row % 2 == 0 ? " W" : " S");
                    string first = s_options[column / 2] + (column % 2 == 0 ? " W" : " S");
                    yield return new object[] { "2nd " + second + " after 1st " + first + ": " + s_matrix[row][column], row, column, s_matrix[row][column] };
                }
            }
        }

        [Theory]
        [MemberData(nameof(MatrixCells))]
        public void Sharing_matrix_cell(string cell, int row, int column, string expected)
        {
            string firstOption = s_options[column / 2];
            string firstAddress = column % 2 == 0 ? "0.0.0.0" : "192.0.2.1";
            string holder = firstOption == "none" ? S("tcp LISTEN " + firstAddress + ":P") : S("tcp LISTEN " + firstAddress + ":P", firstOption);
            string secondOption = s_options[row / 2];
            BindRequest Request(long user) => new BindRequest
            {
                Address = IPAddress.Parse(row % 2 == 0 ? "0.0.0.0" : "192.0.2.1"),
                Port = Port,
                ReuseAddress = secondOption == "reuseaddr",
                ExclusiveAddressUse = secondOption == "exclusiveaddruse",
                UserId = user,
            };

            PortBindResult same = Decide(Request(User), holder);
            PortBindResult other = Decide(Request(OtherUser), holder);
            (string? sameError, string? otherError) = expected switch
            {
                "INUSE" => ("WSAEADDRINUSE", "WSAEADDRINUSE"),
                "DENIED" => ("WSAEACCES", "WSAEACCES"),
                "CHECK" => (null, "WSAEACCES"),
                _ => ((string?)null, (string?)null),
            };
            Assert.True(sameError == same.Error, cell + " (same user): " + same.Reason);
            Assert.True(otherError == other.Error, cell + " (another user): " + other.Reason);
            if (same.Error is not null)
            {
                Assert.Equal(expected == "INUSE" ? 10048 : 10013, same.ErrorCode);
                Assert.StartsWith(expected == "INUSE" ? "windows.inuse." : "windows.denied.", same.Rule, StringComparison.Ordinal);
                Assert.Contains("Windows' sharing matrix gives " + expected, same.Reason, StringComparison.Ordinal);
                Assert.Single(same.Conflicts);
            }

            if (expected == "CHECK")
            {
                Assert.StartsWith("windows.check.", other.Rule, StringComparison.Ordinal);
                Assert.Contains("access check", other.Reason, StringComparison.Ordinal);
            }
        }

        public static IEnumerable<object[]> StackRules() => new[]
        {
            new object[] { "two different specific addresses never conflict", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("127.0.0.1"), null!, "windows.ok" },
            new object[] { "IPv4 and IPv6 are separate stacks", new[] { S("tcp LISTEN 0.0.0.0:P") }, Bind("2001:db8::1"), null!, "windows.ok" },
            new object[] { "a V6ONLY [::] does not hold IPv4", new[] { S("tcp LISTEN [::]:P", "v6only") }, Bind("192.0.2.1"), null!, "windows.ok" },
            new object[] { "IPv6 wildcard after IPv6 wildcard", new[] { S("tcp LISTEN [::]:P") }, Bind("::"), "WSAEADDRINUSE", "windows.inuse.same-wildcard" },
            new object[] { "IPv6 specific under another user's IPv6 wildcard: CHECK fails", new[] { S("tcp LISTEN [::]:P", "uid=1001") }, Bind("2001:db8::1"), "WSAEACCES", "windows.check.wildcard-then-specific" },
            new object[] { "same IPv6 specific address", new[] { S("tcp LISTEN [2001:db8::1]:P") }, Bind("2001:db8::1"), "WSAEADDRINUSE", "windows.inuse.same-specific" },
            new object[] { "a dual-stack [::] is a wildcard over an IPv4 specific binding", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::", v6Only: false), null!, "windows.ok.shared" },
            new object[] { "an IPv4 specific under another user's dual-stack [::]: CHECK fails", new[] { S("tcp LISTEN [::]:P", "nov6only", "uid=1001") }, Bind("192.0.2.1"), "WSAEACCES", "windows.check.wildcard-then-specific" },
            new object[] { "a v4-mapped address of a dual-stack socket is on the IPv4 stack", new[] { S("tcp LISTEN 192.0.2.1:P") }, Bind("::ffff:192.0.2.1", v6Only: false), "WSAEADDRINUSE", "windows.inuse.same-specific" },
            new object[] { "UDP follows the same matrix", new[] { S("udp UNCONN 0.0.0.0:P") }, Bind("0.0.0.0", TransportProtocol.Udp, reuseAddress: true), "WSAEACCES", "windows.denied.same-wildcard" },
            new object[] { "TCP and UDP ports are apart", new[] { S("udp UNCONN 0.0.0.0:P") }, Bind("0.0.0.0"), null!, "windows.ok" },
            new object[] { "a connection holds its local address (UNVERIFIED)", new[] { S("tcp ESTAB 192.0.2.1:P 198.51.100.7:40000") }, Bind("192.0.2.1"), "WSAEADDRINUSE", "windows.inuse.same-specific" },
        };

        [Theory]
        [MemberData(nameof(StackRules))]
        public void Stacks_and_addresses(string rule, string[] table, BindRequest request, string? error, string ruleId)
        {
            PortBindResult result = Decide(request, table);
            Assert.True(error == result.Error, rule + ": " + result.Reason);
            Assert.True(ruleId == result.Rule, rule + ": rule " + result.Rule);
        }

        public static IEnumerable<object[]> PrecheckRules() => new[]
        {
            new object[] { "SO_REUSEPORT does not exist", new BindRequest { Port = Port, ReusePort = true }, "WSAENOPROTOOPT", 10042, "windows.enoprotoopt.reuseport", "no SO_REUSEPORT" },
            new object[] { "SO_REUSEPORT_LB does not exist", new BindRequest { Port = Port, ReusePortLoadBalance = true }, "WSAENOPROTOOPT", 10042, "windows.enoprotoopt.reuseport-lb", "no SO_REUSEPORT_LB" },
            new object[] { "SO_BINDTODEVICE does not exist", new BindRequest { Port = Port, Interface = "eth0" }, "WSAENOPROTOOPT", 10042, "windows.enoprotoopt.bindtodevice", "no SO_BINDTODEVICE" },
            new object[] { "IP_FREEBIND does not exist", new BindRequest { Port = Port, FreeBind = true }, "WSAENOPROTOOPT", 10042, "windows.enoprotoopt.freebind", "neither IP_FREEBIND" },
            new object[] { "SO_REUSEADDR with SO_EXCLUSIVEADDRUSE", new BindRequest { Port = Port, ReuseAddress = true, ExclusiveAddressUse = true }, "WSAEINVAL", 10022, "windows.einval.reuseaddr-and-exclusiveaddruse", "UNVERIFIED" },
            new object[] { "an address that is not local", new BindRequest { Address = IPAddress.Parse("203.0.113.9"), Port = Port }, "WSAEADDRNOTAVAIL", 10049, "windows.eaddrnotavail.not-local", "203.0.113.9 is not an address of the host" },
            new object[] { "an IPv6 address that is not local", new BindRequest { Address = IPAddress.Parse("2001:db8::99"), Port = Port }, "WSAEADDRNOTAVAIL", 10049, "windows.eaddrnotavail.not-local", "not an address" },
            new object[] { "a v4-mapped address on a default (V6ONLY) socket", new BindRequest { Address = IPAddress.Parse("::ffff:192.0.2.1"), Port = Port }, "WSAEADDRNOTAVAIL", 10049, "windows.eaddrnotavail.mapped-v6only", "UNVERIFIED" },
            new object[] { "the broadcast address without SO_BROADCAST", new BindRequest { Address = IPAddress.Parse("192.0.2.255"), Protocol = TransportProtocol.Udp, Port = Port }, "WSAEACCES", 10013, "windows.eacces.broadcast", "SO_BROADCAST" },
            new object[] { "an excluded port", new BindRequest { Port = 50010 }, "WSAEACCES", 10013, "windows.eacces.excluded-port", "excluded port range" },
        };

        [Theory]
        [MemberData(nameof(PrecheckRules))]
        public void Checks_before_the_matrix(string rule, BindRequest request, string error, int code, string ruleId, string reason)
        {
            HostFacts facts = new HostFacts(TargetOS.Windows, new[] { IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1") }, broadcastAddresses: new[] { IPAddress.Parse("192.0.2.255") })
            {
                ReservedPorts = new[] { new PortRange(50000, 50099) },
            };
            PortBindResult result = Decide(facts, request);
            Assert.True(error == result.Error, rule + ": " + result.Reason);
            Assert.Equal(code, result.ErrorCode);
            Assert.Equal(ruleId, result.Rule);
            Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
            Assert.Empty(result.Conflicts);
        }

        [Fact]
        public void The_broadcast_address_binds_with_SO_BROADCAST()
        {
            PortBindResult result = Decide(new BindRequest { Protocol = TransportProtocol.Udp, Address = IPAddress.Parse("192.0.2.255"), Port = Port, Broadcast = true });
            Assert.True(result.CanBind, result.Reason);
            Assert.Equal("broadcast", result.Options);
        }

        [Fact]
        public void The_oldest_conflicting_holder_names_the_error_and_disagreement_is_said()
        {
            PortBindResult result = Decide(Bind("192.0.2.1"), S("tcp LISTEN 0.0.0.0:P", "uid=1001"), S("tcp LISTEN 192.0.2.1:P", "reuseaddr", "uid=1001"), S("tcp LISTEN 192.0.2.1:P"));
            Assert.Equal("WSAEACCES", result.Error);
            Assert.Equal("windows.check.wildcard-then-specific", result.Rule);
            Assert.Equal(3, result.Conflicts.Count);
            Assert.Contains("different errors; the oldest holder's is reported (UNVERIFIED", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Options_and_users_a_table_does_not_show_are_weighed_never_taken_as_off_or_as_this_user()
        {
            // A plain wildcard bind after a wildcard holder: INUSE whatever the holder set, so certain.
            PortBindResult inUse = Decide(Bind("0.0.0.0"), "tcp LISTEN 0.0.0.0:8080");
            Assert.Equal((false, "WSAEADDRINUSE", 0), (inUse.CanBind!.Value, inUse.Error!, inUse.DependsOn.Count));
            Assert.Contains("whatever SO_REUSEADDR or SO_EXCLUSIVEADDRUSE that one set (the socket table does not show them)", inUse.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("taken as off", inUse.Reason, StringComparison.Ordinal);

            // SO_REUSEADDR against a wildcard holder: shared only if the holder set SO_REUSEADDR too (row 3).
            PortBindResult reuse = Decide(Bind("0.0.0.0", reuseAddress: true), "tcp LISTEN 0.0.0.0:8080 uid=1000");
            Assert.Null(reuse.CanBind);
            Assert.Equal("WSAEACCES", reuse.Error);
            Assert.Equal(new[] { "SO_REUSEADDR and SO_EXCLUSIVEADDRUSE of tcp LISTEN 0.0.0.0:8080, the socket table does not show them" }, reuse.DependsOn);
            Assert.Contains("this bind shares the port only if the holder set SO_REUSEADDR (the socket table does not show them); otherwise it fails with WSAEACCES", reuse.Reason, StringComparison.Ordinal);
            Assert.Contains("Try the bind on that host", reuse.Reason, StringComparison.Ordinal);
            Assert.True(Decide(Bind("0.0.0.0", reuseAddress: true), "tcp LISTEN 0.0.0.0:8080 uid=1000 reuseaddr noexclusiveaddruse").CanBind);
            Assert.False(Decide(Bind("0.0.0.0", reuseAddress: true), "tcp LISTEN 0.0.0.0:8080 uid=1000 noreuseaddr exclusiveaddruse").CanBind);

            // A specific bind under a wildcard holder is CHECK: the holder's user, not shown, decides.
            PortBindResult check = Decide(Bind("192.0.2.1"), "tcp LISTEN 0.0.0.0:8080 noreuseaddr noexclusiveaddruse");
            Assert.Null(check.CanBind);
            Assert.Contains("belongs to the same user", check.Reason, StringComparison.Ordinal);
            Assert.Single(check.DependsOn);
            Assert.StartsWith("the user of tcp LISTEN 0.0.0.0:8080", check.DependsOn[0], StringComparison.Ordinal);
        }

        [Fact]
        public void Reuseport_tokens_in_a_Windows_table_are_ignored_and_said_so()
        {
            PortBindResult result = Decide(Bind("0.0.0.0"), S("tcp LISTEN 0.0.0.0:P", "reuseport"));
            Assert.Equal("WSAEADDRINUSE", result.Error);
            Assert.Contains("mean nothing on Windows", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Ports_below_1024_need_no_privilege_whatever_UnprivilegedPortStart_says()
        {
            HostFacts facts = new HostFacts(TargetOS.Windows) { UnprivilegedPortStart = 1024 };
            PortBindResult result = Decide(facts, new BindRequest { Address = IPAddress.Any, Port = 443 });
            Assert.True(result.CanBind, result.Reason);
            Assert.Contains("(UNVERIFIED: kernel-rules.md 2E", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Port_0_counts_the_dynamic_range_less_excluded_and_held_ports()
        {
            HostFacts facts = new HostFacts(TargetOS.Windows) { EphemeralPortRange = new PortRange(50000, 50009), ReservedPorts = new[] { new PortRange(50005, 50009) } };
            PortBindResult result = Decide(facts, new BindRequest { Port = 0 }, "tcp LISTEN 0.0.0.0:50000", "tcp LISTEN 127.0.0.1:50001");
            Assert.True(result.CanBind, result.Reason);
            Assert.Equal("windows.port0", result.Rule);
            // 50000 is held by a plain wildcard; 127.0.0.1:50001 lets a plain wildcard bind over it (2A); 50005-50009 are excluded.
            Assert.Contains("4 of its 10 ports are free", result.Reason, StringComparison.Ordinal);
            Assert.Contains("less the excluded port ranges", result.Reason, StringComparison.Ordinal);
            Assert.Contains("UNVERIFIED", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Port_0_with_every_port_taken_is_WSAENOBUFS()
        {
            HostFacts facts = new HostFacts(TargetOS.Windows) { EphemeralPortRange = new PortRange(50000, 50001) };
            PortBindResult result = Decide(facts, new BindRequest { Port = 0 }, "tcp LISTEN 0.0.0.0:50000", "tcp LISTEN [::]:50001 nov6only");
            Assert.Equal("WSAENOBUFS", result.Error);
            Assert.Equal(10055, result.ErrorCode);
            Assert.Equal("windows.port0.exhausted", result.Rule);
        }

        [Fact]
        public void Listen_on_udp_is_noted_and_time_wait_is_not_counted()
        {
            PortBindResult udp = Decide(new BindRequest { Protocol = TransportProtocol.Udp, Port = Port, Listen = true });
            Assert.Contains("listen() applies to TCP only", udp.Reason, StringComparison.Ordinal);
            PortBindResult overTimeWait = Decide(Bind("192.0.2.1"), S("tcp TIME-WAIT 192.0.2.1:P 198.51.100.7:40000"));
            Assert.True(overTimeWait.CanBind);
            Assert.Empty(overTimeWait.Conflicts);
        }
    }
}
