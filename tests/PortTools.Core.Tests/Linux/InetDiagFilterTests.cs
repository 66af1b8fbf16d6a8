using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// The port filters sent to the kernel as inet_diag bytecode: checked by a transcription of the
    /// kernel's audit and run (net/ipv4/inet_diag.c), then against the live kernel, where a filtered
    /// dump must keep exactly what an unfiltered one keeps after this process's own filter.
    /// </summary>
    public class InetDiagFilterTests
    {
        [Fact]
        public void No_port_filter_or_one_that_every_port_passes_sends_no_bytecode()
        {
            Assert.Null(InetDiagFilter.Compile(new SocketQuery()));
            Assert.Null(InetDiagFilter.Compile(new SocketQuery { LocalPorts = new[] { new PortRange(0, 65535) } }));
            Assert.Null(InetDiagFilter.Compile(new SocketQuery { LocalPorts = new[] { new PortRange(80), new PortRange(0, 65535) } }));
            Assert.NotNull(InetDiagFilter.Compile(new SocketQuery { LocalPorts = new[] { new PortRange(80) }, RemotePorts = new[] { new PortRange(0, 65535) } }));
        }

        [Fact]
        public void One_port_is_at_least_and_at_most_it_and_anything_else_jumps_past_the_end()
        {
            byte[] code = InetDiagFilter.Compile(new SocketQuery { LocalPorts = new[] { new PortRange(8080) } })!;

            // S_GE 8080 (yes 8, no 16 + 4 - 0), then S_LE 8080 (yes 8, no 16 + 4 - 8).
            Assert.Equal(Operation(2, 8, 20, 8080).Concat(Operation(3, 8, 12, 8080)), code);
        }

        [Fact]
        public void Too_many_ranges_are_left_to_this_process()
        {
            PortRange[] many = Enumerable.Range(1, 300).Select(i => new PortRange(i * 100, i * 100 + 10)).ToArray();
            Assert.Null(InetDiagFilter.Compile(new SocketQuery { LocalPorts = many }));
        }

        [Fact]
        public void The_kernel_audit_accepts_every_program_and_it_keeps_exactly_the_ports_the_query_keeps()
        {
            var random = new Random(20261202);
            for (int round = 0; round < 400; round++)
            {
                var query = new SocketQuery { LocalPorts = RandomRanges(random), RemotePorts = RandomRanges(random) };
                byte[]? code = InetDiagFilter.Compile(query);
                if (code is null)
                {
                    continue;
                }

                Assert.True(KernelAudit(code), "audit refused " + Describe(query));
                foreach (int local in SamplePorts(random, query.LocalPorts))
                {
                    foreach (int remote in SamplePorts(random, query.RemotePorts))
                    {
                        Assert.True(
                            KernelRun(code, local, remote) == query.WantsEndpoints(IPAddress.Loopback.GetAddressBytes(), local, IPAddress.Loopback.GetAddressBytes(), remote),
                            Describe(query) + " on " + local + " -> " + remote);
                    }
                }
            }
        }

        [LinuxFact]
        public void The_live_kernel_sends_only_what_the_filter_keeps_and_the_read_keeps_the_same_sockets()
        {
            IPAddress address = Loopback.NextAddress();
            var sockets = new List<Socket>();
            try
            {
                var ports = new List<int>();
                for (int i = 0; i < 12; i++)
                {
                    Socket listener = Loopback.Tcp();
                    sockets.Add(listener);
                    listener.Bind(new IPEndPoint(address, 0));
                    listener.Listen(4);
                    Socket client = Loopback.Tcp();
                    sockets.Add(client);
                    client.Bind(new IPEndPoint(address, 0));
                    client.Connect(listener.LocalEndPoint!);
                    sockets.Add(listener.Accept());
                    ports.Add(Loopback.PortOf(listener));
                    ports.Add(Loopback.PortOf(client));
                    Socket udp = Loopback.Udp();
                    sockets.Add(udp);
                    udp.Bind(new IPEndPoint(address, 0));
                    ports.Add(Loopback.PortOf(udp));
                }

                ports.Sort();
                var random = new Random(7);
                var queries = new List<SocketQuery>
                {
                    new SocketQuery { LocalPorts = new[] { new PortRange(ports[3]) } },
                    new SocketQuery { RemotePorts = new[] { new PortRange(ports[5]) } },
                    new SocketQuery { LocalPorts = new[] { new PortRange(ports[2], ports[20]) } },
                    new SocketQuery { LocalPorts = new[] { new PortRange(ports[1]), new PortRange(ports[10], ports[12]), new PortRange(ports[30], 65535) } },
                    new SocketQuery { LocalPorts = new[] { new PortRange(0, ports[8]) }, RemotePorts = new[] { new PortRange(ports[4], ports[25]) } },
                    new SocketQuery { LocalPorts = new[] { new PortRange(1) } },
                };
                for (int i = 0; i < 20; i++)
                {
                    queries.Add(new SocketQuery { LocalPorts = Pick(random, ports), RemotePorts = random.Next(3) == 0 ? Pick(random, ports) : null });
                }

                using InetDiagReader reader = InetDiagReader.TryOpen(out _)!;
                foreach (SocketQuery query in queries)
                {
                    foreach (TransportProtocol protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
                    {
                        long before = reader.RecordsReceived;
                        var filtered = new RawSocketTable();
                        Assert.Equal(0, reader.Dump(protocol, ipv6: false, query, filtered, CancellationToken.None));
                        long sent = reader.RecordsReceived - before;

                        before = reader.RecordsReceived;
                        var unfiltered = new RawSocketTable();
                        Assert.Equal(0, reader.DumpFiltered(protocol, ipv6: false, query, filter: null, unfiltered, CancellationToken.None));
                        long all = reader.RecordsReceived - before;

                        // Nothing the read keeps is lost to the kernel's filter, and the kernel sent only what it keeps.
                        Assert.Equal(Ours(unfiltered, address), Ours(filtered, address));
                        Assert.Equal(filtered.Count, sent);
                        Assert.InRange(all, unfiltered.Count, long.MaxValue);
                    }
                }
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        }

        [LinuxFact]
        public void Bytecode_the_kernel_refuses_is_dropped_and_every_socket_read()
        {
            using Socket listener = Loopback.Tcp();
            IPAddress address = Loopback.NextAddress();
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);
            using InetDiagReader reader = InetDiagReader.TryOpen(out _)!;
            var query = new SocketQuery();
            var table = new RawSocketTable();

            // Code 200 is no operation the kernel knows: its audit answers EINVAL.
            Assert.Equal(0, reader.DumpFiltered(TransportProtocol.Tcp, ipv6: false, query, new byte[] { 200, 4, 8, 0 }, table, CancellationToken.None));
            Assert.Contains((TransportProtocol.Tcp, address.ToString(), Loopback.PortOf(listener), 0), Ours(table, address));
        }

        private static List<(TransportProtocol, string, int, int)> Ours(RawSocketTable table, IPAddress address)
        {
            var ours = new List<(TransportProtocol, string, int, int)>();
            for (int i = 0; i < table.Count; i++)
            {
                if (new IPAddress(table.LocalAddress(i).ToArray()).Equals(address))
                {
                    ours.Add((table[i].Protocol, address.ToString(), table[i].LocalPort, table[i].RemotePort));
                }
            }

            ours.Sort();
            return ours;
        }

        private static PortRange[] Pick(Random random, List<int> ports)
        {
            var ranges = new PortRange[random.Next(1, 4)];
            for (int i = 0; i < ranges.Length; i++)
            {
                int a = ports[random.Next(ports.Count)];
                ranges[i] = random.Next(2) == 0 ? new PortRange(a) : new PortRange(a, Math.Min(65535, a + random.Next(0, 2000)));
            }

            return ranges;
        }

        private static PortRange[]? RandomRanges(Random random)
        {
            int count = random.Next(0, 5);
            if (count == 0)
            {
                return null;
            }

            var ranges = new PortRange[count];
            for (int i = 0; i < count; i++)
            {
                int start = random.Next(5) == 0 ? 0 : random.Next(0, 65536);
                int end = random.Next(5) == 0 ? 65535 : Math.Min(65535, start + random.Next(0, 3) * random.Next(0, 3000));
                ranges[i] = new PortRange(start, end);
            }

            return ranges;
        }

        // The edges of every range and a few ports anywhere.
        private static IEnumerable<int> SamplePorts(Random random, IReadOnlyList<PortRange>? ranges)
        {
            var ports = new HashSet<int> { 0, 1, 65534, 65535, random.Next(65536), random.Next(65536) };
            foreach (PortRange range in ranges ?? Array.Empty<PortRange>())
            {
                foreach (int port in new[] { range.Start - 1, range.Start, range.Start + 1, range.End - 1, range.End, range.End + 1 })
                {
                    if (port is >= 0 and <= 65535)
                    {
                        ports.Add(port);
                    }
                }
            }

            return ports;
        }

        private static string Describe(SocketQuery query) =>
            "local " + string.Join(",", query.LocalPorts ?? Array.Empty<PortRange>()) + " remote " + string.Join(",", query.RemotePorts ?? Array.Empty<PortRange>());

        private static byte[] Operation(byte code, byte yes, ushort no, ushort port)
        {
            var bytes = new byte[8];
            bytes[0] = code;
            bytes[1] = yes;
            MemoryMarshal.Write(bytes.AsSpan(2), in no);
            MemoryMarshal.Write(bytes.AsSpan(6), in port);
            return bytes;
        }

        private static ushort No(byte[] code, int at) => MemoryMarshal.Read<ushort>(code.AsSpan(at + 2));

        // inet_diag_bc_run for port comparisons and jumps: keep when the program ends exactly at its length.
        private static bool KernelRun(byte[] code, int localPort, int remotePort)
        {
            int at = 0;
            int length = code.Length;
            while (length > 0)
            {
                byte operation = code[at];
                int port = operation == 1 ? 0 : No(code, at + 4);
                bool yes = operation switch
                {
                    1 => false,
                    2 => localPort >= port,
                    3 => localPort <= port,
                    4 => remotePort >= port,
                    5 => remotePort <= port,
                    _ => throw new InvalidOperationException("operation " + operation),
                };
                int step = yes ? code[at + 1] : No(code, at);
                length -= step;
                at += step;
            }

            return length == 0;
        }

        // inet_diag_bc_audit for port comparisons and jumps, with valid_cc.
        private static bool KernelAudit(byte[] code)
        {
            int at = 0;
            int length = code.Length;
            while (length > 0)
            {
                byte operation = code[at];
                int minimum = operation switch
                {
                    1 => 4,
                    >= 2 and <= 5 => length >= 8 ? 8 : int.MaxValue,
                    _ => int.MaxValue,
                };
                if (minimum == int.MaxValue)
                {
                    return false;
                }

                int no = No(code, at);
                if (no < minimum || no > length + 4 || (no & 3) != 0)
                {
                    return false;
                }

                if (no < length && !ValidJumpTarget(code, length - no))
                {
                    return false;
                }

                int yes = code[at + 1];
                if (yes < minimum || yes > length + 4 || (yes & 3) != 0)
                {
                    return false;
                }

                at += yes;
                length -= yes;
            }

            return length == 0;
        }

        private static bool ValidJumpTarget(byte[] code, int remaining)
        {
            int at = 0;
            int length = code.Length;
            while (length >= 0)
            {
                if (remaining > length)
                {
                    return false;
                }

                if (remaining == length)
                {
                    return true;
                }

                int yes = code[at + 1];
                if (yes < 4 || (yes & 3) != 0)
                {
                    return false;
                }

                length -= yes;
                at += yes;
            }

            return false;
        }
    }
}
