using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using PortTools.Linux;
using PortTools.Tests.Text;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// Kernel timers as ss -o shows them: inet_diag_msg's idiag_timer (byte 2), idiag_retrans (byte 3)
    /// and idiag_expires (u32 at 52, after the 48-byte inet_diag_sockid), /proc/net/tcp's
    /// "tr:tm->when retrnsmt ... timeout", ss's timer:(...), and the forms a socket travels in.
    /// </summary>
    public class SocketTimerTests
    {
        private static byte[] Message(byte state, byte timer, byte retrans, uint expires)
        {
            var message = new byte[72];
            message[0] = 2; // AF_INET
            message[1] = state;
            message[2] = timer;
            message[3] = retrans;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 8000);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), 41234);
            IPAddress.Loopback.GetAddressBytes().CopyTo(message, 8);
            IPAddress.Loopback.GetAddressBytes().CopyTo(message, 24);
            BitConverter.GetBytes(expires).CopyTo(message, 52);
            BitConverter.GetBytes(11u).CopyTo(message, 56); // rqueue, to prove the neighbours stay where they were
            return message;
        }

        [Theory]
        [InlineData(6, 3, 0, 52300u, SocketTimer.TimeWait)]
        [InlineData(1, 1, 4, 1600u, SocketTimer.Retransmit)]
        [InlineData(1, 2, 0, 7199000u, SocketTimer.KeepAlive)]
        [InlineData(1, 4, 2, 400u, SocketTimer.Probe)]
        public void Inet_diag_timer_fields_are_decoded(byte state, byte timer, byte retrans, uint expires, SocketTimer expected)
        {
            var table = new RawSocketTable();
            InetDiagReader.Decode(Message(state, timer, retrans, expires), TransportProtocol.Tcp, new SocketQuery(), table);
            (SocketTimer? decoded, TimeSpan? expiresIn, int? count) = table[0].TimerFields();
            Assert.Equal(expected, decoded);
            Assert.Equal(TimeSpan.FromMilliseconds(expires), expiresIn);
            Assert.Equal(retrans, count);
            Assert.Equal(11u, table[0].ReceiveQueue);
        }

        [Fact]
        public void No_pending_timer_has_no_expiry_and_an_unknown_number_is_unknown()
        {
            var table = new RawSocketTable();
            InetDiagReader.Decode(Message(10, 0, 0, 0), TransportProtocol.Tcp, new SocketQuery(), table);
            InetDiagReader.Decode(Message(1, 9, 1, 100), TransportProtocol.Tcp, new SocketQuery(), table);
            Assert.Equal((SocketTimer.None, (TimeSpan?)null, (int?)null), table[0].TimerFields());
            Assert.Equal(((SocketTimer?)null, (TimeSpan?)null, (int?)null), table[1].TimerFields());
            Assert.Equal(((SocketTimer?)null, (TimeSpan?)null, (int?)null), default(RawSocketTable.Record).TimerFields());
        }

        [Theory]
        // TIME-WAIT: tr 3, 5200 clock ticks (USER_HZ 100) = 52 s.
        [InlineData("   3: 0100007F:1F40 0100007F:A112 06 00000000:00000000 03:00001450 00000000     0        0 0 3 0000000000000000", SocketTimer.TimeWait, 52000, 0)]
        // Retransmit: the retrnsmt column counts.
        [InlineData("   4: 0100007F:1F40 0100007F:A112 01 00000010:00000000 01:0000000A 00000003  1000        0 31337 2 0000000000000000 20 4 30 10 -1", SocketTimer.Retransmit, 100, 3)]
        // Keepalive: ss shows icsk_probes_out, the "timeout" column.
        [InlineData("   5: 0100007F:1F40 0100007F:A112 01 00000000:00000000 02:0002BF20 00000000  1000        2 31338 2 0000000000000000 20 4 30 10 -1", SocketTimer.KeepAlive, 1800000, 2)]
        public void Proc_net_tcp_timer_columns_are_decoded(string line, SocketTimer timer, int milliseconds, int count)
        {
            var table = new RawSocketTable();
            Assert.True(ProcNetReader.DecodeLine(Encoding.ASCII.GetBytes(line), TransportProtocol.Tcp, false, true, new SocketQuery(), table));
            Assert.Equal((timer, (TimeSpan?)TimeSpan.FromMilliseconds(milliseconds), (int?)count), table[0].TimerFields());
        }

        [Theory]
        [InlineData("timer:(timewait,52sec,0)", SocketTimer.TimeWait, 52000, 0)]
        [InlineData("timer:(keepalive,1min12sec,0)", SocketTimer.KeepAlive, 72000, 0)]
        [InlineData("timer:(keepalive,119min,0)", SocketTimer.KeepAlive, 7140000, 0)]
        [InlineData("timer:(on,5.200ms,3)", SocketTimer.Retransmit, 5200, 3)]
        [InlineData("timer:(on,200ms,1)", SocketTimer.Retransmit, 200, 1)]
        [InlineData("timer:(persist,,2)", SocketTimer.Probe, 0, 2)]
        public void Ss_timer_fields_are_read(string token, SocketTimer timer, int milliseconds, int count)
        {
            SocketTuple socket = Assert.Single(ParseRun.Of("ESTAB 0 0 127.0.0.1:8000 127.0.0.1:41234 " + token, SocketTableFormat.Ss).AssertNoErrors().Sockets);
            Assert.Equal(timer, socket.Timer);
            Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), socket.TimerExpiresIn);
            Assert.Equal(count, socket.Retransmits);
        }

        [Fact]
        public void A_bad_ss_timer_is_an_error_and_no_timer_is_unknown()
        {
            ParseRun bad = ParseRun.Of("ESTAB 0 0 127.0.0.1:8000 127.0.0.1:41234 timer:(sometimes,5sec,0)", SocketTableFormat.Ss);
            Assert.Empty(bad.Sockets);
            Assert.Contains("timer:(", Assert.Single(bad.Errors).Message, StringComparison.Ordinal);
            SocketTuple socket = Assert.Single(ParseRun.Of("ESTAB 0 0 127.0.0.1:8000 127.0.0.1:41234", SocketTableFormat.Ss).Sockets);
            Assert.Null(socket.Timer);
            Assert.Null(socket.TimerExpiresIn);
            Assert.Null(socket.Retransmits);
        }

        public static IEnumerable<object[]> Timed()
        {
            yield return new object[] { "tcp TIME-WAIT 127.0.0.1:8000 127.0.0.1:41234 timer=timewait,52.3s,0", SocketTimer.TimeWait, 52300, 0 };
            yield return new object[] { "tcp ESTAB 127.0.0.1:8000 127.0.0.1:41234 timer=on,0.2s,4 uid=1000", SocketTimer.Retransmit, 200, 4 };
            yield return new object[] { "tcp ESTAB 127.0.0.1:8000 127.0.0.1:41234 timer=keepalive,7199.999s,0", SocketTimer.KeepAlive, 7199999, 0 };
        }

        [Theory]
        [MemberData(nameof(Timed))]
        public void The_canonical_text_carries_timers(string text, SocketTimer timer, int? milliseconds, int? count)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            Assert.Equal(timer, socket.Timer);
            Assert.Equal(milliseconds is null ? null : TimeSpan.FromMilliseconds(milliseconds.Value), socket.TimerExpiresIn);
            Assert.Equal(count, socket.Retransmits);
            Assert.Equal(text, socket.ToString());
        }

        [Fact]
        public void No_pending_timer_is_read_from_timer_off_and_left_out_of_the_text()
        {
            SocketTuple socket = SocketTuple.Parse("tcp LISTEN 0.0.0.0:8000 timer=off");
            Assert.Equal(SocketTimer.None, socket.Timer);
            Assert.Null(socket.TimerExpiresIn);
            Assert.Equal("tcp LISTEN 0.0.0.0:8000", socket.ToString());
        }

        [Theory]
        [InlineData("tcp ESTAB 127.0.0.1:1 127.0.0.1:2 timer=sometimes,1s,0", "names no timer")]
        [InlineData("tcp ESTAB 127.0.0.1:1 127.0.0.1:2 timer=on,1,0", "timer=timewait,52.3s,0")]
        [InlineData("tcp ESTAB 127.0.0.1:1 127.0.0.1:2 timer=off,1s,0", "write timer=off")]
        public void Bad_timer_text_is_refused(string text, string expected)
        {
            Assert.Contains(expected, Assert.Throws<FormatException>(() => SocketTuple.Parse(text)).Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Exported_records_carry_timers_as_PowerShell_writes_them()
        {
            // Export-Csv writes a TimeSpan's text; ConvertTo-Json an object with Ticks; Clixml a TimeSpan.
            var csv = new Dictionary<string, object?> { ["Protocol"] = "Tcp", ["Local"] = "127.0.0.1:8000", ["Remote"] = "127.0.0.1:41234", ["State"] = "TimeWait", ["Timer"] = "TimeWait", ["TimerExpiresIn"] = "00:00:52.3000000", ["Retransmits"] = "0" };
            var json = new Dictionary<string, object?>(csv) { ["Timer"] = 3L, ["TimerExpiresIn"] = new Fields(new Dictionary<string, object?> { ["Ticks"] = 523000000L, ["TotalSeconds"] = 52.3 }) };
            var clixml = new Dictionary<string, object?>(csv) { ["Timer"] = SocketTimer.TimeWait, ["TimerExpiresIn"] = TimeSpan.FromMilliseconds(52300), ["Retransmits"] = 0 };
            foreach (Dictionary<string, object?> record in new[] { csv, json, clixml })
            {
                Assert.True(SocketTupleConverter.TryConvert(record, Bag, out SocketTuple? socket, out string? error), error);
                Assert.Equal(SocketTimer.TimeWait, socket.Timer);
                Assert.Equal(TimeSpan.FromMilliseconds(52300), socket.TimerExpiresIn);
                Assert.Equal(0, socket.Retransmits);
            }

            var bad = new Dictionary<string, object?>(csv) { ["TimerExpiresIn"] = "soon" };
            Assert.False(SocketTupleConverter.TryConvert(bad, Bag, out _, out string? message));
            Assert.Contains("TimerExpiresIn", message, StringComparison.Ordinal);
        }

        private static IEnumerable<KeyValuePair<string, object?>>? Bag(object value) => value is Fields fields ? fields.Values : value as IDictionary<string, object?>;

        /// <summary>An object with properties that is not a collection, as ConvertFrom-Json's objects are.</summary>
        private sealed class Fields
        {
            public Fields(Dictionary<string, object?> values) => Values = values;

            public Dictionary<string, object?> Values { get; }
        }
    }
}
