using System;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>Reasons say the cause, then the remedy; several conflicts of a kind are summarized, and Conflicts keeps every socket.</summary>
    public class BindReasonTests
    {
        private static PortBindResult Bind(string[] table, BindRequest request, TargetOS os = TargetOS.Linux) =>
            RuleEngine.DecideBind(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), new HostFacts(os)), request);

        private static BindRequest Loopback(int port, bool reuseAddress = false, bool reusePort = false) =>
            new BindRequest { Address = IPAddress.Loopback, Port = port, ReuseAddress = reuseAddress, ReusePort = reusePort };

        [Fact]
        public void One_listener_is_named_with_the_cause_and_then_the_remedy()
        {
            PortBindResult result = Bind(new[] { "tcp LISTEN 127.0.0.1:8000 noreuseaddr noreuseport uid=0 pid=7865 process=python3" }, Loopback(8000));
            Assert.Equal("127.0.0.1:8000/tcp is held by python3 (pid 7865), listening, and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT. "
                + "Stop it, choose another port, or set SO_REUSEPORT on both sockets as the same user.", result.Reason);
            Assert.Equal("python3 (7865)", result.Holder);
            Assert.Equal("linux.tcp.in-use", result.Rule);
        }

        [Fact]
        public void A_listener_without_SO_REUSEPORT_says_so()
        {
            PortBindResult result = Bind(new[] { "tcp LISTEN 127.0.0.1:8000 noreuseaddr noreuseport uid=0 pid=7865 process=python3" }, Loopback(8000, reusePort: true));
            Assert.StartsWith("127.0.0.1:8000/tcp is held by python3 (pid 7865), listening without SO_REUSEPORT, which shares a port only when both sockets set it. Set SO_REUSEPORT on its socket too", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Listeners_whose_owner_is_not_visible_are_counted_by_uid()
        {
            string[] table =
            {
                "tcp LISTEN 127.0.0.1:9100 noreuseaddr reuseport uid=0",
                "tcp LISTEN 127.0.0.1:9100 noreuseaddr reuseport uid=0",
            };
            PortBindResult result = RuleEngine.DecideBind(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), new HostFacts(TargetOS.Linux)), new BindRequest { Address = IPAddress.Loopback, Port = 9100, ReusePort = true, Listen = true, UserId = 65534 });
            Assert.StartsWith("2 listening sockets hold 127.0.0.1:9100/tcp (2 sockets of uid 0) as uid 0, and SO_REUSEPORT shares a port only between sockets of the same user (uid 65534 here, uid 0 there).", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Several_TIME_WAIT_sockets_are_one_sentence_with_the_last_expiry()
        {
            string[] table =
            {
                "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41001 timer=timewait,12.2s,0",
                "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41002 timer=timewait,51.1s,0",
                "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41003 timer=timewait,30s,0",
            };
            PortBindResult result = Bind(table, Loopback(8000));
            Assert.Equal("3 TIME-WAIT sockets hold 127.0.0.1:8000/tcp; the last expires 52 s after the table was read. "
                + "Wait, or set SO_REUSEADDR, which shares the port with TIME-WAIT sockets whose closed socket had it too.", result.Reason);
            Assert.Equal(3, result.Conflicts.Count);
            Assert.Equal("TIME-WAIT +2", result.Holder);
            Assert.True(result.Reason.Length < 200, result.Reason);
        }

        [Fact]
        public void TIME_WAIT_sockets_without_timers_are_summarized_without_an_expiry()
        {
            string[] table = Enumerable.Range(41001, 3).Select(p => "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:" + p).ToArray();
            PortBindResult result = Bind(table, Loopback(8000));
            Assert.StartsWith("3 TIME-WAIT sockets hold 127.0.0.1:8000/tcp. Wait,", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void Several_listeners_are_counted_and_their_owners_named_up_to_two()
        {
            string[] table =
            {
                "tcp LISTEN 127.0.0.1:8000 noreuseaddr reuseport uid=0 pid=7865 process=python3",
                "tcp LISTEN 127.0.0.1:8000 noreuseaddr reuseport uid=0 pid=7866 process=python3",
                "tcp LISTEN 127.0.0.1:8000 noreuseaddr reuseport uid=0 pid=7867 process=python3",
            };
            PortBindResult result = Bind(table, Loopback(8000));
            Assert.Equal("3 listening sockets hold 127.0.0.1:8000/tcp (python3 (pid 7865), python3 (pid 7866) and 1 more), and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT. "
                + "Stop them, choose another port, or set SO_REUSEPORT on both sockets as the same user.", result.Reason);
            Assert.Equal("python3 (7865) +2", result.Holder);
            Assert.Equal(3, result.Conflicts.Count);
        }

        [Fact]
        public void Mixed_conflicts_name_the_live_holder_first_and_its_remedy()
        {
            string[] table =
            {
                "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41001 timer=timewait,40s,0",
                "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41002 timer=timewait,50s,0",
                "tcp LISTEN 127.0.0.1:8000 noreuseaddr noreuseport uid=1000 pid=812 process=nginx",
            };
            PortBindResult result = Bind(table, Loopback(8000));
            Assert.Equal("127.0.0.1:8000/tcp is held by nginx (pid 812), listening, and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT. "
                + "2 TIME-WAIT sockets hold 127.0.0.1:8000/tcp; the last expires 50 s after the table was read. "
                + "Stop it, choose another port, or set SO_REUSEPORT on both sockets as the same user.", result.Reason);
            Assert.Equal("nginx (812) +2", result.Holder);
            Assert.Equal(3, result.Conflicts.Count);
        }

        [Fact]
        public void Another_users_holder_says_whose_and_the_remedy_names_the_user()
        {
            PortBindResult result = Bind(new[] { "udp UNCONN 127.0.0.1:5353 noreuseaddr reuseport uid=1000" }, new BindRequest { Protocol = TransportProtocol.Udp, Address = IPAddress.Loopback, Port = 5353, ReusePort = true, UserId = 0 });
            Assert.Contains("as uid 1000, and SO_REUSEPORT shares a port only between sockets of the same user (uid 0 here, uid 1000 there). Bind as uid 1000, stop it, or choose another port.", result.Reason, StringComparison.Ordinal);
            Assert.Equal("uid 1000", result.Holder);
        }

        [Fact]
        public void Windows_and_BSD_keep_their_rule_sets_words_then_a_remedy()
        {
            foreach (TargetOS os in new[] { TargetOS.Windows, TargetOS.FreeBSD, TargetOS.MacOS })
            {
                string[] table = { "tcp LISTEN 127.0.0.1:8000 noreuseaddr noreuseport noexclusiveaddruse uid=0 pid=10 process=a", "tcp LISTEN 127.0.0.1:8000 noreuseaddr noreuseport noexclusiveaddruse uid=0 pid=11 process=b" };
                PortBindResult result = Bind(table, Loopback(8000), os);
                Assert.False(result.CanBind);
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.Reason, @"^127\.0\.0\.1:8000/tcp is held by [ab] \(pid 1[01]\), listening.*\. Stop (it|them) or choose another port\."), os + ": " + result.Reason);
                Assert.Matches(@"^[ab] \(1[01]\)( \+1)?$", result.Holder);
            }
        }

        [Fact]
        public void A_failure_no_socket_causes_ends_with_the_remedy_for_its_rule()
        {
            PortBindResult result = Bind(Array.Empty<string>(), new BindRequest { Port = 80, UserId = 1000, Privileged = false });
            Assert.Equal("linux.eacces.privileged-port", result.Rule);
            Assert.EndsWith("which uid 1000 does not have. Give the program CAP_NET_BIND_SERVICE, lower net.ipv4.ip_unprivileged_port_start, or choose a port at or above it.", result.Reason, StringComparison.Ordinal);
            Assert.Null(result.Holder);
        }

        [Fact]
        public void Nothing_conflicting_has_no_holder()
        {
            PortBindResult result = Bind(Array.Empty<string>(), Loopback(8000));
            Assert.True(result.CanBind);
            Assert.Null(result.Holder);
            Assert.Equal("127.0.0.1:8000/tcp can be bound.", result.Reason);
        }
    }
}
