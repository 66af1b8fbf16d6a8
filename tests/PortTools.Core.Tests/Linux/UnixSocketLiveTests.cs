using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// Real UNIX sockets held by lab processes, read by the live reader and compared field by field
    /// with ss -xpae on the same host: path, abstract and unnamed sockets, every type, a connection
    /// whose ends live in different processes, one still waiting to be accepted, and a stale socket
    /// file left by a process that exited.
    /// </summary>
    public sealed class UnixSocketLiveTests : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "pt-unix-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private readonly string _abstract = "@pt-unix-" + Guid.NewGuid().ToString("N").Substring(0, 8);

        public UnixSocketLiveTests()
        {
            if (OperatingSystem.IsLinux())
            {
                Directory.CreateDirectory(_directory);
            }
        }

        public void Dispose()
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }

        private string Server => Path.Combine(_directory, "srv.sock");

        /// <summary>The population: server lab A, client lab B, and a stale file left by lab C; optionally all inside a namespace.</summary>
        private (UnixLabProcess A, UnixLabProcess B, Dictionary<string, ulong> Inodes) Populate(string? networkNamespace = null)
        {
            var inodes = new Dictionary<string, ulong>();
            string[] prefix = networkNamespace is null ? Array.Empty<string>() : new[] { "ip", "netns", "exec", networkNamespace };
            var a = new UnixLabProcess(prefix);
            var b = new UnixLabProcess(prefix);
            inodes["listener"] = a.Socket("L", "stream");
            a.Ok("bind L " + Server);
            a.Ok("listen L");
            inodes["abstract"] = a.Socket("D", "dgram");
            a.Ok("bind D " + _abstract);
            string[] pair = a.Ok("pair P1 P2 stream").Split(' ');
            (inodes["pair1"], inodes["pair2"]) = (ulong.Parse(pair[0]), ulong.Parse(pair[1]));
            string[] dgramPair = a.Ok("pair Q1 Q2 dgram").Split(' ');
            (inodes["dpair1"], inodes["dpair2"]) = (ulong.Parse(dgramPair[0]), ulong.Parse(dgramPair[1]));
            inodes["seqpacket"] = a.Socket("S", "seqpacket");
            a.Ok("bind S " + Path.Combine(_directory, "seq%20packet.sock")); // a space in the path
            a.Ok("listen S");
            inodes["fresh"] = a.Socket("U", "stream");

            inodes["client"] = b.Socket("C", "stream");
            b.Ok("connect C " + Server);
            inodes["accepted"] = ulong.Parse(a.Ok("accept L A"));
            b.Ok("send C hello");
            inodes["waiting"] = b.Socket("W", "stream");
            b.Ok("connect W " + Server);
            inodes["dgramclient"] = b.Socket("G", "dgram");
            b.Ok("connect G " + _abstract);

            using (var c = new UnixLabProcess())
            {
                c.Socket("X", "stream");
                c.Ok("bind X " + Path.Combine(_directory, "stale.sock"));
                c.Ok("listen X");
            }

            return (a, b, inodes);
        }

        private static string Describe(UnixSocket s) => string.Join(
            " | ",
            s.Type,
            s.State,
            s.AddressKind,
            s.Path ?? "-",
            s.Inode,
            s.PeerInode?.ToString() ?? "-",
            s.PeerPath ?? "-",
            string.Join(",", s.PeerProcesses.Select(o => o.ProcessId + "/" + o.ProcessName)),
            s.ReceiveQueue?.ToString() ?? "-",
            s.SendQueue?.ToString() ?? "-",
            s.FileInode?.ToString() ?? "-",
            s.FileDevice ?? "-",
            string.Join(",", s.Processes.Select(o => o.ProcessId + "/" + o.ProcessName)));

        private static string Run(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output;
        }

        [LinuxFact]
        public void Every_socket_matches_ss_xpae_field_by_field()
        {
            (UnixLabProcess a, UnixLabProcess b, Dictionary<string, ulong> inodes) = Populate();
            using (a)
            using (b)
            {
                var mine = new HashSet<int> { a.Pid, b.Pid };
                UnixSocketReadResult live = LiveUnixSocketTable.Read(new UnixSocketQuery { ProcessIds = mine });
                IReadOnlyList<UnixSocket> fromSs = UnixSocketTableParser.Parse(Run("ss", "-xpae"));
                string[] expected = fromSs.Where(s => s.Processes.Any(o => mine.Contains(o.ProcessId))).Select(Describe).OrderBy(x => x, StringComparer.Ordinal).ToArray();
                string[] actual = live.Sockets.Select(Describe).OrderBy(x => x, StringComparer.Ordinal).ToArray();
                Assert.Equal("netlink unix_diag", live.Method);
                Assert.Equal(expected, actual);
                Assert.Equal(inodes.Count, actual.Length);

                UnixSocket Find(string key) => live.Sockets.Single(s => s.Inode == inodes[key]);
                string procName = Process.GetProcessById(a.Pid).ProcessName;

                UnixSocket listener = Find("listener");
                Assert.Equal((UnixSocketType.Stream, SocketState.Listen, UnixAddressKind.Path, Server), (listener.Type, listener.State, listener.AddressKind, listener.Path));
                Assert.Equal(1L, listener.ReceiveQueue); // the client that waits to be accepted
                Assert.Equal(16L, listener.SendQueue); // the backlog
                Assert.Equal(a.Pid, listener.ProcessId);
                Assert.Equal(StatInode(Server), listener.FileInode);

                // A connection whose ends live in different processes: each end names the other's owner.
                UnixSocket accepted = Find("accepted");
                UnixSocket client = Find("client");
                Assert.Equal((SocketState.Established, Server, inodes["client"], b.Pid), (accepted.State, accepted.Path, accepted.PeerInode!.Value, accepted.PeerProcessId!.Value));
                Assert.Equal(5L, accepted.ReceiveQueue);
                Assert.Equal((UnixAddressKind.Unnamed, inodes["accepted"], Server, a.Pid), (client.AddressKind, client.PeerInode!.Value, client.PeerPath, client.PeerProcessId!.Value));

                // Not accepted yet: the server end has no inode; the listener's queue holds it.
                UnixSocket waiting = Find("waiting");
                Assert.Equal((SocketState.Established, (ulong?)null, Server, a.Pid), (waiting.State, waiting.PeerInode, waiting.PeerPath, waiting.PeerProcessId!.Value));

                UnixSocket dgramClient = Find("dgramclient");
                Assert.Equal((UnixSocketType.Datagram, SocketState.Established, _abstract, a.Pid), (dgramClient.Type, dgramClient.State, dgramClient.PeerPath, dgramClient.PeerProcessId!.Value));
                // A datagram socket that another connected to is ESTABLISHED too (unix_dgram_connect sets both
                // ends' sk_state since Linux 5.15), yet has no peer of its own.
                UnixSocket abstractName = Find("abstract");
                Assert.Equal((UnixAddressKind.Abstract, _abstract, SocketState.Established, (ulong?)null, (ulong?)null), (abstractName.AddressKind, abstractName.Path, abstractName.State, abstractName.FileInode, abstractName.PeerInode));

                Assert.Equal((UnixSocketType.SeqPacket, SocketState.Listen), (Find("seqpacket").Type, Find("seqpacket").State));
                Assert.Equal(Path.Combine(_directory, "seq packet.sock"), Find("seqpacket").Path);
                Assert.Equal((UnixSocketType.Stream, UnixAddressKind.Unnamed, inodes["pair2"], a.Pid), (Find("pair1").Type, Find("pair1").AddressKind, Find("pair1").PeerInode!.Value, Find("pair1").PeerProcessId!.Value));
                Assert.Equal((UnixSocketType.Datagram, SocketState.Established, inodes["dpair1"]), (Find("dpair2").Type, Find("dpair2").State, Find("dpair2").PeerInode!.Value));
                Assert.Equal((SocketState.Unconnected, (ulong?)null), (Find("fresh").State, Find("fresh").PeerInode));
                Assert.Equal(procName, listener.ProcessName);

                // The stale file: on disk, but no socket of any process is bound to it.
                Assert.True(File.Exists(Path.Combine(_directory, "stale.sock")));
                Assert.Empty(LiveUnixSocketTable.Read(new UnixSocketQuery { PathMatch = p => p.EndsWith("stale.sock", StringComparison.Ordinal) }).Sockets);
            }
        }

        [LinuxFact]
        public void The_proc_net_unix_fallback_reads_the_same_sockets_without_peers_and_queues()
        {
            (UnixLabProcess a, UnixLabProcess b, Dictionary<string, ulong> inodes) = Populate();
            using (a)
            using (b)
            {
                var query = new UnixSocketQuery { ProcessIds = new HashSet<int> { a.Pid, b.Pid } };
                UnixSocketReadResult netlink = UnixSocketReader.Read(query, CancellationToken.None, LinuxTableSource.Automatic);
                UnixSocketReadResult proc = UnixSocketReader.Read(query, CancellationToken.None, LinuxTableSource.ProcNet);
                Assert.Equal("/proc/net/unix", proc.Method);

                static string Common(UnixSocket s) => string.Join(" | ", s.Type, s.State, s.AddressKind, s.Path ?? "-", s.Inode, string.Join(",", s.Processes.Select(o => o.ProcessId)));
                Assert.Equal(netlink.Sockets.Select(Common).OrderBy(x => x, StringComparer.Ordinal), proc.Sockets.Select(Common).OrderBy(x => x, StringComparer.Ordinal));
                Assert.Equal(inodes.Count, proc.Sockets.Count);
                Assert.All(proc.Sockets, s => Assert.Equal((ulong?)null, s.PeerInode));
                Assert.All(proc.Sockets, s => Assert.Equal((long?)null, s.ReceiveQueue));
            }
        }

        [LinuxRootFact]
        public void The_fallback_reads_a_whole_namespace_exactly_as_netlink_does()
        {
            // A namespace of the test's own holds nothing but the population (a connection waiting to be
            // accepted among it), so the two whole tables can be compared without a filter.
            using var space = new TestNetworkNamespace();
            (UnixLabProcess a, UnixLabProcess b, Dictionary<string, ulong> inodes) = Populate(space.Name);
            using (a)
            using (b)
            {
                var query = new UnixSocketQuery { NetworkNamespace = space.Name };
                UnixSocketReadResult netlink = UnixSocketReader.Read(query, CancellationToken.None, LinuxTableSource.Automatic);
                UnixSocketReadResult proc = UnixSocketReader.Read(query, CancellationToken.None, LinuxTableSource.ProcNet);
                static string Common(UnixSocket s) => string.Join(" | ", s.Type, s.State, s.AddressKind, s.Path ?? "-", s.Inode, string.Join(",", s.Processes.Select(o => o.ProcessId)), s.NetworkNamespace);
                Assert.Equal(inodes.Count, netlink.Sockets.Count);
                Assert.Equal(netlink.Sockets.Select(Common).OrderBy(x => x, StringComparer.Ordinal), proc.Sockets.Select(Common).OrderBy(x => x, StringComparer.Ordinal));
                Assert.All(netlink.Sockets, s => Assert.Equal(space.Name, s.NetworkNamespace!.Name));
            }
        }

        [LinuxFact]
        public void Filters_by_path_wildcard_state_and_process_name()
        {
            (UnixLabProcess a, UnixLabProcess b, Dictionary<string, ulong> inodes) = Populate();
            using (a)
            using (b)
            {
                var pattern = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(_directory) + "/.*$");
                IReadOnlyList<UnixSocket> underDirectory = LiveUnixSocketTable.Read(new UnixSocketQuery { PathMatch = pattern.IsMatch }).Sockets;
                Assert.Equal(new[] { inodes["accepted"], inodes["listener"], inodes["seqpacket"] }.OrderBy(i => i), underDirectory.Select(s => s.Inode!.Value).OrderBy(i => i));

                IReadOnlyList<UnixSocket> listening = LiveUnixSocketTable.Read(new UnixSocketQuery { PathMatch = pattern.IsMatch, ListeningOnly = true }).Sockets;
                Assert.Equal(new[] { inodes["listener"], inodes["seqpacket"] }.OrderBy(i => i), listening.Select(s => s.Inode!.Value).OrderBy(i => i));

                IReadOnlyList<UnixSocket> connected = LiveUnixSocketTable.Read(new UnixSocketQuery { ProcessIds = new[] { b.Pid }, States = new[] { SocketState.Connected } }).Sockets;
                Assert.Equal(new[] { inodes["client"], inodes["waiting"], inodes["dgramclient"] }.OrderBy(i => i), connected.Select(s => s.Inode!.Value).OrderBy(i => i));

                string name = Process.GetProcessById(b.Pid).ProcessName;
                Assert.All(LiveUnixSocketTable.Read(new UnixSocketQuery { ProcessNameMatch = n => n == name }).Sockets, s => Assert.Contains(s.Processes, o => o.ProcessName == name));
                Assert.Empty(LiveUnixSocketTable.Read(new UnixSocketQuery { IncludeProcesses = false, ProcessIds = new[] { b.Pid }, PathMatch = p => false }).Sockets);
            }
        }

        private static ulong StatInode(string path) => ulong.Parse(Run("stat", "-c", "%i", path).Trim());
    }
}
