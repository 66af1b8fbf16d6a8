using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules
{
    /// <summary>Sockets of different network namespaces never conflict: every engine that takes a table keeps them apart.</summary>
    public class NetworkNamespacePartitionTests
    {
        private static readonly string[] Mixed =
        {
            "tcp LISTEN 0.0.0.0:8080 netns=red:4026532301 pid=10 process=web",
            "tcp LISTEN 0.0.0.0:8080 netns=4026532302 pid=20 process=api",
            "tcp LISTEN 0.0.0.0:9090 netns=4026532303 pid=30 process=db",
        };

        private static IReadOnlyList<SocketTuple> Table(params string[] lines) => lines.Select(SocketTuple.Parse).ToArray();

        [Theory]
        [InlineData(new string[0], 0)]
        [InlineData(new[] { "tcp LISTEN 0.0.0.0:80", "tcp LISTEN 0.0.0.0:81" }, 1)]
        [InlineData(new[] { "tcp LISTEN 0.0.0.0:80 netns=4026532301", "tcp LISTEN 0.0.0.0:81 netns=4026532301" }, 1)]
        [InlineData(new[] { "tcp LISTEN 0.0.0.0:80 netns=4026532301", "tcp LISTEN 0.0.0.0:81" }, 2)]
        [InlineData(new[] { "tcp LISTEN 0.0.0.0:80", "tcp LISTEN 0.0.0.0:81 netns=4026532301", "tcp LISTEN 0.0.0.0:82" }, 2)]
        [InlineData(new[] { "tcp LISTEN 0.0.0.0:80 netns=4026532301", "tcp LISTEN 0.0.0.0:81 netns=4026532302", "tcp LISTEN 0.0.0.0:82 netns=4026532301", "tcp LISTEN 0.0.0.0:83 netns=4026532303" }, 3)]
        public void Count_counts_distinct_namespaces_with_unknown_as_one(string[] lines, int expected)
        {
            // Counted in one pass that builds no set while every socket agrees with the first.
            Assert.Equal(expected, NetworkNamespacePartition.Count(Table(lines), s => s.NetworkNamespace));
        }

        [Fact]
        public void One_index_never_holds_two_namespaces()
        {
            ArgumentException exception = Assert.Throws<ArgumentException>(() => SocketIndex.Build(Table(Mixed), new HostFacts(TargetOS.Linux)));
            Assert.Contains("3 network namespaces", exception.Message, StringComparison.Ordinal);
            Assert.Contains("BuildPerNetworkNamespace", exception.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Two_namespaces_port_8080_do_not_conflict_and_each_answer_names_its_namespace()
        {
            IReadOnlyList<SocketIndex> indexes = SocketIndex.BuildPerNetworkNamespace(Table(Mixed), new HostFacts(TargetOS.Linux));
            Assert.Equal(new ulong[] { 4026532301, 4026532302, 4026532303 }, indexes.Select(i => i.NetworkNamespace!.Inode));

            var request = new BindRequest { Protocol = TransportProtocol.Tcp, Address = IPAddress.Any, Port = 8080, Listen = true };
            PortBindResult[] answers = indexes.Select(i => RuleEngine.DecideBind(i, request)).ToArray();
            Assert.Equal(new bool?[] { false, false, true }, answers.Select(a => a.CanBind));
            Assert.Equal("web", Assert.Single(answers[0].Conflicts).ProcessName);
            Assert.Equal("api", Assert.Single(answers[1].Conflicts).ProcessName);
            Assert.Equal(("red", 4026532303ul), (answers[0].NetworkNamespace!.Name, answers[2].NetworkNamespace!.Inode));

            // The two listeners on 8080 in different namespaces are no conflict of each other.
            Assert.All(answers.Take(2), a => Assert.DoesNotContain(a.Conflicts, c => !c.NetworkNamespace!.Equals(a.NetworkNamespace)));
        }

        [Fact]
        public void A_packet_is_delivered_within_each_namespace_on_its_own()
        {
            IReadOnlyList<SocketIndex> indexes = SocketIndex.BuildPerNetworkNamespace(Table(Mixed), new HostFacts(TargetOS.Linux, new[] { IPAddress.Parse("10.0.0.5") }));
            var request = new DemuxRequest { Protocol = TransportProtocol.Tcp, Source = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000), Destination = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8080) };
            DemuxResult[] answers = indexes.Select(i => RuleEngine.DecideDelivery(i, request)).ToArray();
            Assert.Equal(new[] { DemuxOutcome.Delivered, DemuxOutcome.Delivered, DemuxOutcome.Refused }, answers.Select(a => a.Outcome));
            Assert.Equal(new[] { "web", "api" }, answers.Take(2).Select(a => a.Socket!.ProcessName));
            Assert.Equal(new ulong[] { 4026532301, 4026532302, 4026532303 }, answers.Select(a => a.NetworkNamespace!.Inode));
        }

        [Fact]
        public void A_table_without_namespaces_is_one_partition_as_before()
        {
            IReadOnlyList<SocketIndex> indexes = SocketIndex.BuildPerNetworkNamespace(Table("tcp LISTEN 0.0.0.0:8080", "tcp LISTEN 0.0.0.0:9090"), new HostFacts(TargetOS.Linux));
            Assert.Null(Assert.Single(indexes).NetworkNamespace);
            Assert.Single(SocketIndex.BuildPerNetworkNamespace(Array.Empty<SocketTuple>(), new HostFacts(TargetOS.Linux)));
        }

        [Fact]
        public void Each_namespace_counts_its_own_ephemeral_pool()
        {
            var table = new List<SocketTuple>();
            foreach (string space in new[] { "4026532301", "4026532302" })
            {
                for (int i = 0; i < 60; i++)
                {
                    table.Add(SocketTuple.Parse("tcp ESTAB 127.0.0.1:" + (40000 + i) + " 127.0.0.9:5432 netns=" + space));
                }
            }

            HostPortSettings host = HostPortSettings.Defaults(TargetOS.Linux);
            IReadOnlyList<EphemeralPortUsage> rows = EphemeralPortUsageAnalyzer.Analyze(table, host);
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Equal(60, r.InUse));
            Assert.Equal(new ulong[] { 4026532301, 4026532302 }, rows.Select(r => r.NetworkNamespace!.Inode).OrderBy(i => i));

            IReadOnlyList<string> warnings = EphemeralPortUsageAnalyzer.Warnings(EphemeralPortUsageAnalyzer.Analyze(table, host, nearExhaustionPercent: 0.1));
            Assert.Equal(2, warnings.Count);
            Assert.Contains(warnings, w => w.Contains("network namespace 4026532301", StringComparison.Ordinal));
        }

        [Fact]
        public void Abstract_names_are_checked_per_namespace_and_per_type_in_a_table()
        {
            UnixSocket[] table =
            {
                UnixSocket.Parse("u_str LISTEN @bus netns=4026532301 pid=10 process=dbus"),
                UnixSocket.Parse("u_seq LISTEN @bus netns=4026532302 pid=20 process=other"),
                UnixSocket.Parse("u_str LISTEN /run/app.sock netns=4026532302 pid=21 process=app"),
            };
            IReadOnlyList<UnixBindResult> bus = UnixBindRules.Simulate("@bus", table);
            Assert.Equal(2, bus.Count);
            Assert.Equal((false, "EADDRINUSE", 10), (bus[0].CanBind!.Value, bus[0].Error, bus[0].Holders.Single().ProcessId!.Value));
            Assert.Equal(true, bus[1].CanBind);
            Assert.Contains("per socket type", bus[1].Reason, StringComparison.Ordinal);
            Assert.Equal(false, UnixBindRules.Simulate("@bus", table, type: UnixSocketType.SeqPacket)[1].CanBind);

            // Paths: a table lists sockets, not files, so the answer says what it depends on.
            UnixBindResult held = UnixBindRules.Simulate("/run/app.sock", table)[1];
            Assert.Equal(((bool?)null, "EADDRINUSE", 21), (held.CanBind, held.Error, held.Holders.Single().ProcessId!.Value));
            Assert.Contains(held.DependsOn, d => d.Contains("still exists", StringComparison.Ordinal));
            UnixBindResult free = UnixBindRules.Simulate("/run/other.sock", table, userId: 1000)[0];
            Assert.Null(free.CanBind);
            Assert.Equal(2, free.DependsOn.Count);
            Assert.Contains("uid 1000", free.DependsOn[1], StringComparison.Ordinal);

            Assert.Equal("EINVAL", UnixBindRules.Simulate("/" + new string('x', 120), table)[0].Error);
            Assert.Throws<ArgumentException>(() => UnixBindRules.Simulate("/run/a\0b", table));
            Assert.Equal(true, Assert.Single(UnixBindRules.Simulate("@free", Array.Empty<UnixSocket>())).CanBind);
        }
    }
}
