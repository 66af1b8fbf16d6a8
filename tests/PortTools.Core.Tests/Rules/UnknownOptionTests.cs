using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>
    /// Unknown is never "off": tables whose SO_REUSEADDR and SO_REUSEPORT are not shown (a socket table
    /// read without them, or another tool's text) get answers that name the option they turn on, and
    /// the causes that hold whatever the option is come first.
    /// </summary>
    public class UnknownOptionTests
    {
        private static readonly HostFacts s_facts = new(TargetOS.Linux, new[] { IPAddress.Loopback }) { UserId = 1000 };

        private static SocketIndex Index(params string[] sockets) => SocketIndex.Build(sockets.Select(SocketTuple.Parse).ToList(), s_facts);

        private static PortBindResult Bind(SocketIndex index, string protocol, bool reuseAddress, bool reusePort, long uid = 1000, bool listen = true) =>
            RuleEngine.DecideBind(index, new BindRequest
            {
                Protocol = protocol == "tcp" ? TransportProtocol.Tcp : TransportProtocol.Udp,
                Address = IPAddress.Loopback,
                Port = 9100,
                ReuseAddress = reuseAddress,
                ReusePort = reusePort,
                Listen = listen && protocol == "tcp",
                UserId = uid,
            });

        [Fact]
        public void A_listener_of_unknown_options_makes_a_SO_REUSEPORT_bind_depend_on_its_SO_REUSEPORT()
        {
            PortBindResult result = Bind(Index("tcp LISTEN 127.0.0.1:9100 uid=1000 pid=42 process=python3"), "tcp", reuseAddress: false, reusePort: true);
            Assert.Null(result.CanBind);
            Assert.Equal("EADDRINUSE", result.Error);
            string fact = Assert.Single(result.DependsOn);
            Assert.StartsWith("SO_REUSEPORT of tcp LISTEN 127.0.0.1:9100 of python3 (pid 42), the socket table does not show its options", fact, StringComparison.Ordinal);
            Assert.Contains("can bind if the holder set SO_REUSEPORT (the socket table does not show its options)", result.Reason, StringComparison.Ordinal);
            Assert.StartsWith("bind() may fail with EADDRINUSE", result.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("did not", result.Reason, StringComparison.Ordinal);
            Assert.Equal("linux.tcp.unknown-options", result.Rule);
        }

        [Fact]
        public void Another_uid_is_the_certain_cause_and_no_option_is_blamed()
        {
            PortBindResult result = Bind(Index("tcp LISTEN 127.0.0.1:9100 uid=0"), "tcp", reuseAddress: false, reusePort: true, uid: 1000);
            Assert.False(result.CanBind);
            Assert.Empty(result.DependsOn);
            Assert.Contains("SO_REUSEPORT shares a port only between sockets of the same user (uid 1000 here, uid 0 there)", result.Reason, StringComparison.Ordinal);
            Assert.Contains("is not in the socket table, and does not change this", result.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("did not", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void With_another_uid_a_bound_holder_still_depends_on_SO_REUSEADDR_and_the_uid_leads()
        {
            PortBindResult result = Bind(Index("tcp BOUND 127.0.0.1:9100 uid=0"), "tcp", reuseAddress: true, reusePort: true, uid: 1000, listen: false);
            Assert.Null(result.CanBind);
            Assert.StartsWith("SO_REUSEADDR of ", Assert.Single(result.DependsOn), StringComparison.Ordinal);
            Assert.Contains("; SO_REUSEPORT does not share a port between users (uid 1000 here, uid 0 there), so the bind can bind if the holder set SO_REUSEADDR", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_bind_without_options_fails_whatever_the_holder_set()
        {
            PortBindResult result = Bind(Index("tcp LISTEN 127.0.0.1:9100 uid=1000"), "tcp", reuseAddress: false, reusePort: false);
            Assert.False(result.CanBind);
            Assert.Empty(result.DependsOn);
        }

        [Fact]
        public void A_listening_holder_refuses_SO_REUSEADDR_whatever_it_set()
        {
            PortBindResult result = Bind(Index("tcp LISTEN 127.0.0.1:9100 uid=1000"), "tcp", reuseAddress: true, reusePort: false);
            Assert.False(result.CanBind);
            Assert.Equal("linux.tcp.reuseaddr-vs-listener", result.Rule);
        }

        [Fact]
        public void Two_listeners_on_one_port_prove_SO_REUSEPORT_on_both()
        {
            SocketIndex index = Index("tcp LISTEN 127.0.0.1:9100 uid=1000", "tcp LISTEN 127.0.0.1:9100 uid=1000");
            Assert.All(index.Entries, e => Assert.True(e.ReusePortKnown && e.ReusePort));
            Assert.All(index.Entries, e => Assert.False(e.ReuseAddressKnown));
            Assert.True(Bind(index, "tcp", reuseAddress: false, reusePort: true).CanBind);
            Assert.False(Bind(index, "tcp", reuseAddress: false, reusePort: true, uid: 1001).CanBind);

            DemuxResult demux = RuleEngine.DecideDelivery(index, new DemuxRequest { Protocol = TransportProtocol.Tcp, Source = IPEndPoint.Parse("127.0.0.9:40000"), Destination = IPEndPoint.Parse("127.0.0.1:9100") });
            Assert.Null(demux.Socket);
            Assert.Equal(2, demux.Sockets.Count);
            Assert.Contains("SO_REUSEPORT group of 2 listeners", demux.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_wildcard_and_a_specific_listener_prove_SO_REUSEPORT_too()
        {
            SocketIndex index = Index("tcp LISTEN 0.0.0.0:9100 uid=1000", "tcp LISTEN 127.0.0.1:9100 uid=1000");
            Assert.All(index.Entries, e => Assert.True(e.ReusePort));
        }

        [Fact]
        public void Listeners_on_two_devices_prove_nothing()
        {
            SocketIndex index = Index("tcp LISTEN 0.0.0.0:9100 dev=eth0 uid=1000", "tcp LISTEN 0.0.0.0:9100 dev=eth1 uid=1000");
            Assert.All(index.Entries, e => Assert.False(e.ReusePortKnown));
        }

        [Fact]
        public void An_unconnected_UDP_holder_makes_a_SO_REUSEADDR_bind_depend_on_its_SO_REUSEADDR()
        {
            PortBindResult result = Bind(Index("udp UNCONN 127.0.0.1:9100 uid=1000"), "udp", reuseAddress: true, reusePort: false);
            Assert.Null(result.CanBind);
            Assert.StartsWith("SO_REUSEADDR of udp UNCONN 127.0.0.1:9100", Assert.Single(result.DependsOn), StringComparison.Ordinal);
            Assert.Equal("linux.udp.unknown-options", result.Rule);
        }

        [Fact]
        public void Known_options_on_a_UDP_holder_still_give_a_certain_answer()
        {
            Assert.True(Bind(Index("udp UNCONN 127.0.0.1:9100 reuseaddr noreuseport uid=1000"), "udp", reuseAddress: true, reusePort: false).CanBind);
            Assert.False(Bind(Index("udp UNCONN 127.0.0.1:9100 noreuseaddr noreuseport uid=1000"), "udp", reuseAddress: true, reusePort: false).CanBind);
        }

        [Fact]
        public void Two_UDP_sockets_of_two_uids_prove_SO_REUSEADDR_and_one_uid_proves_one_of_the_two()
        {
            SocketIndex twoUsers = Index("udp UNCONN 127.0.0.1:9100 uid=1000", "udp UNCONN 127.0.0.1:9100 uid=1001");
            Assert.All(twoUsers.Entries, e => Assert.True(e.ReuseAddressKnown && e.ReuseAddress));
            Assert.True(Bind(twoUsers, "udp", reuseAddress: true, reusePort: false).CanBind);

            SocketIndex oneUser = Index("udp UNCONN 127.0.0.1:9100 uid=1000", "udp UNCONN 127.0.0.1:9100 uid=1000");
            Assert.All(oneUser.Entries, e => Assert.True(e.SharingProven && !e.ReuseAddressKnown && !e.ReusePortKnown));
        }

        [Fact]
        public void UDP_sockets_among_others_on_the_port_prove_nothing()
        {
            // A wildcard SO_REUSEPORT bind that met 127.0.0.2 first never compared itself with 127.0.0.1.
            SocketIndex index = Index("udp UNCONN 127.0.0.1:9100 uid=1000", "udp UNCONN 127.0.0.2:9100 uid=1000", "udp UNCONN 0.0.0.0:9100 uid=1000");
            Assert.All(index.Entries, e => Assert.False(e.SharingProven || e.ReusePortKnown || e.ReuseAddressKnown));
        }

        [Fact]
        public void Resolve_Demux_names_every_UDP_socket_that_may_receive()
        {
            SocketIndex index = Index("udp UNCONN 127.0.0.1:9100 uid=1000 pid=1", "udp UNCONN 127.0.0.1:9100 uid=1000 pid=2");
            DemuxResult demux = RuleEngine.DecideDelivery(index, new DemuxRequest { Protocol = TransportProtocol.Udp, Source = IPEndPoint.Parse("127.0.0.9:40000"), Destination = IPEndPoint.Parse("127.0.0.1:9100") });
            Assert.Equal(DemuxOutcome.Delivered, demux.Outcome);
            Assert.Null(demux.Socket);
            Assert.Equal(2, demux.Sockets.Count);
            Assert.StartsWith("SO_REUSEPORT of udp UNCONN 127.0.0.1:9100", Assert.Single(demux.DependsOn), StringComparison.Ordinal);
            Assert.StartsWith("2 sockets may receive it", demux.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("order decided", demux.Reason, StringComparison.Ordinal);

            // Known options decide at once.
            SocketIndex known = Index("udp UNCONN 127.0.0.1:9100 reuseaddr noreuseport uid=1000", "udp UNCONN 127.0.0.1:9100 reuseaddr noreuseport uid=1000");
            DemuxResult first = RuleEngine.DecideDelivery(known, new DemuxRequest { Protocol = TransportProtocol.Udp, Source = IPEndPoint.Parse("127.0.0.9:40000"), Destination = IPEndPoint.Parse("127.0.0.1:9100") });
            Assert.NotNull(first.Socket);
            Assert.Empty(first.DependsOn);
        }

        [Fact]
        public void A_TIME_WAIT_holder_depends_on_the_socket_that_closed()
        {
            PortBindResult result = Bind(Index("tcp TIME-WAIT 127.0.0.1:9100 127.0.0.1:40000"), "tcp", reuseAddress: true, reusePort: false, listen: false);
            Assert.Null(result.CanBind);
            Assert.Contains("can bind if the socket that closed into this TIME-WAIT entry set SO_REUSEADDR", result.Reason, StringComparison.Ordinal);
        }
    }
}
