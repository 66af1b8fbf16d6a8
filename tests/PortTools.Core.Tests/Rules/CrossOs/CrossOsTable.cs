using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using Xunit;

namespace PortTools.Tests.Rules.CrossOs
{
    /// <summary>
    /// The cases of kernel-rules.md section 5 as data: each row is a few checks (a bind, a delivery,
    /// the source-port pool) against a small table written in the canonical text form, with the
    /// outcome the spec gives for one OS. Rows marked ✱ in the spec carry the caveat their Reason must
    /// show ("UNVERIFIED" or "[derived]").
    /// </summary>
    public static class CrossOsTable
    {
        /// <summary>P in the spec.</summary>
        public const int Port = 8080;

        public const long User = 1000;

        public const long OtherUser = 1001;

        /// <summary>The host of every row: 192.0.2.1 (row 13's "local address") on eth0, 198.51.100.1 on eth1, loopback; an unprivileged user.</summary>
        public static HostFacts Facts(TargetOS os) => new HostFacts(
            os,
            broadcastAddresses: new[] { IPAddress.Parse("192.0.2.255") },
            interfaceAddresses: new[]
            {
                new KeyValuePair<string, IEnumerable<IPAddress>>("eth0", new[] { IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1") }),
                new KeyValuePair<string, IEnumerable<IPAddress>>("eth1", new[] { IPAddress.Parse("198.51.100.1") }),
                new KeyValuePair<string, IEnumerable<IPAddress>>("lo", new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }),
            })
        {
            UserId = User,
            Privileged = false,
        };

        /// <summary>
        /// A socket of a table: "tcp LISTEN 0.0.0.0:P" with every reuse option given (the ones named
        /// on, the others off), uid=1000 unless a uid= token is given. P stands for <see cref="Port"/>.
        /// </summary>
        public static string S(string head, params string[] tokens)
        {
            var text = new List<string> { head.Replace(":P", ":" + Port) };
            foreach (string option in new[] { "reuseaddr", "reuseport", "reuseport_lb", "exclusiveaddruse" })
            {
                text.Add(tokens.Contains(option) ? option : "no" + option);
            }

            text.AddRange(tokens.Where(t => t is not ("reuseaddr" or "reuseport" or "reuseport_lb" or "exclusiveaddruse")));
            if (!tokens.Any(t => t.StartsWith("uid=", StringComparison.Ordinal)))
            {
                text.Add("uid=" + User);
            }

            return string.Join(" ", text);
        }

        public static BindRequest Bind(string address, TransportProtocol protocol = TransportProtocol.Tcp, bool reuseAddress = false, bool reusePort = false, bool loadBalance = false, bool? v6Only = null, bool listen = true, long user = User, int port = Port, string? device = null) => new BindRequest
        {
            Protocol = protocol,
            Address = IPAddress.Parse(address),
            Port = port,
            ReuseAddress = reuseAddress,
            ReusePort = reusePort,
            ReusePortLoadBalance = loadBalance,
            IPv6Only = v6Only,
            Listen = listen && protocol == TransportProtocol.Tcp,
            UserId = user,
            Interface = device,
        };

        public static DemuxRequest Packet(TransportProtocol protocol, string source, string destination) => new DemuxRequest
        {
            Protocol = protocol,
            Source = Endpoint(source),
            Destination = Endpoint(destination),
        };

        private static IPEndPoint Endpoint(string text)
        {
            int colon = text.LastIndexOf(':');
            return new IPEndPoint(IPAddress.Parse(text.Substring(0, colon).Trim('[', ']')), int.Parse(text.Substring(colon + 1).Replace("P", Port.ToString()), System.Globalization.CultureInfo.InvariantCulture));
        }

        /// <summary>Runs every check of a row for an OS.</summary>
        public static void Verify(TargetOS os, CrossOsRow row)
        {
            Assert.NotEmpty(row.Checks);
            foreach (CrossOsCheck check in row.Checks)
            {
                check.Verify(os, row);
            }
        }
    }

    /// <summary>One row of the table for one OS: its number, the case in words, and what to check.</summary>
    public sealed class CrossOsRow
    {
        public CrossOsRow(int number, string name, params CrossOsCheck[] checks)
        {
            Number = number;
            Name = name;
            Checks = checks;
        }

        public int Number { get; }

        public string Name { get; }

        public IReadOnlyList<CrossOsCheck> Checks { get; }

        /// <summary>"row 03: as #2, but B has SO_REUSEADDR".</summary>
        public string Title => "row " + Number.ToString("00", System.Globalization.CultureInfo.InvariantCulture) + ": " + Name;

        public override string ToString() => Title;

        /// <summary>The rows as theory data, named so that each is a test of its own.</summary>
        public static IEnumerable<object[]> Data(IEnumerable<CrossOsRow> rows) => rows.Select(r => new object[] { r.Title });

        public static CrossOsRow Find(IEnumerable<CrossOsRow> rows, string title) => rows.Single(r => r.Title == title);
    }

    /// <summary>A check within a row; <see cref="Caveat"/> is text the Reason must contain (✱ rows).</summary>
    public abstract class CrossOsCheck
    {
        public string? Caveat { get; init; }

        public abstract void Verify(TargetOS os, CrossOsRow row);

        protected void CheckCaveat(string reason, CrossOsRow row)
        {
            if (Caveat is not null)
            {
                Assert.True(reason.Contains(Caveat, StringComparison.Ordinal), row.Title + ": the Reason should carry '" + Caveat + "' but is: " + reason);
            }
        }

        protected static IReadOnlyList<SocketTuple> Parse(IEnumerable<string> table) => table.Select(SocketTuple.Parse).ToList();
    }

    /// <summary>A bind (and listen) against a table: null Error means it succeeds.</summary>
    public sealed class BindCheck : CrossOsCheck
    {
        public BindCheck(string[] table, BindRequest request, string? error, string? rule = null)
        {
            Table = table;
            Request = request;
            Error = error;
            Rule = rule;
        }

        public string[] Table { get; }

        public BindRequest Request { get; }

        public string? Error { get; }

        public string? Rule { get; }

        public override void Verify(TargetOS os, CrossOsRow row)
        {
            PortBindResult result = RuleEngine.DecideBind(SocketIndex.Build(Parse(Table), CrossOsTable.Facts(os)), Request);
            string what = row.Title + " (" + os + "): " + result.Reason;
            Assert.True(Error == result.Error, what + " — expected " + (Error ?? "success") + ", got " + (result.Error ?? "success"));
            Assert.Equal(Error is null, result.CanBind);
            Assert.Equal(os, result.TargetOS);
            Assert.StartsWith(os.ToString().ToLowerInvariant() + ".", result.Rule, StringComparison.Ordinal);
            if (Rule is not null)
            {
                Assert.True(Rule == result.Rule, what + " — expected rule " + Rule + ", got " + result.Rule);
            }

            Assert.False(string.IsNullOrWhiteSpace(result.Reason));
            CheckCaveat(result.Reason, row);
        }
    }

    /// <summary>A packet against a table: the outcome and which sockets (indexes into the table) receive it.</summary>
    public sealed class DemuxCheck : CrossOsCheck
    {
        public DemuxCheck(string[] table, DemuxRequest packet, DemuxOutcome outcome, params int[] receivers)
        {
            Table = table;
            Packet = packet;
            Outcome = outcome;
            Receivers = receivers;
        }

        public string[] Table { get; }

        public DemuxRequest Packet { get; }

        public DemuxOutcome Outcome { get; }

        public int[] Receivers { get; }

        public override void Verify(TargetOS os, CrossOsRow row)
        {
            IReadOnlyList<SocketTuple> table = Parse(Table);
            DemuxResult result = RuleEngine.DecideDelivery(SocketIndex.Build(table, CrossOsTable.Facts(os)), Packet);
            string what = row.Title + " (" + os + "): " + result.Reason;
            Assert.True(Outcome == result.Outcome, what + " — expected " + Outcome + ", got " + result.Outcome);
            var expected = Receivers.Select(i => table[i]).ToList();
            Assert.True(expected.Count == result.Sockets.Count && expected.All(s => result.Sockets.Contains(s)), what + " — expected receivers " + string.Join(" | ", expected) + ", got " + string.Join(" | ", result.Sockets));
            bool single = Outcome == DemuxOutcome.Delivered && Receivers.Length == 1;
            Assert.True(single ? ReferenceEquals(expected[0], result.Socket) : result.Socket is null, what + " — Socket should be " + (single ? expected[0].ToString() : "null"));
            CheckCaveat(result.Reason, row);
        }
    }

    /// <summary>Row 25: whether connect() shares a source port across destinations (the exhaustion analyser's per-OS rule).</summary>
    public sealed class SourcePortPoolCheck : CrossOsCheck
    {
        public SourcePortPoolCheck(SourcePortPool expected) => Expected = expected;

        public SourcePortPool Expected { get; }

        public override void Verify(TargetOS os, CrossOsRow row)
        {
            Assert.Equal(Expected, EphemeralPortUsageAnalyzer.PoolOf(os, TransportProtocol.Tcp));
            CheckCaveat(EphemeralPortUsageAnalyzer.RuleOf(os, TransportProtocol.Tcp), row);
        }
    }
}
