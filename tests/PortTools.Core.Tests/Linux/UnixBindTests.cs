using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using PortTools.Linux;
using PortTools.Tests.Support;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>
    /// Test-PortBind -Path on this host, each answer checked against a real bind() to the same path by a
    /// lab process (as root, and as nobody where permissions decide): what is at the path, whether a
    /// socket holds it or the file is stale, the directories on the way, the 108-byte limit, abstract names.
    /// </summary>
    public sealed class UnixBindTests : IDisposable
    {
        private readonly string _directory = "/tmp/pt-ubind-" + Guid.NewGuid().ToString("N").Substring(0, 8);
        private readonly List<UnixLabProcess> _labs = new List<UnixLabProcess>();

        public UnixBindTests()
        {
            if (OperatingSystem.IsLinux())
            {
                Directory.CreateDirectory(_directory);
            }
        }

        public void Dispose()
        {
            foreach (UnixLabProcess lab in _labs)
            {
                lab.Dispose();
            }

            if (Directory.Exists(_directory))
            {
                Run("chmod", "-R", "u+rwx", _directory);
                Directory.Delete(_directory, recursive: true);
            }
        }

        private string At(string name) => _directory + "/" + name;

        private UnixLabProcess Lab(int? uid = null)
        {
            var lab = new UnixLabProcess(uid);
            _labs.Add(lab);
            return lab;
        }

        private static void Run(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
            process.WaitForExit();
        }

        /// <summary>What a real bind() of a fresh socket answers: "ok" or the errno name. A socket file it creates is removed again.</summary>
        private string RealBind(string path, int? uid = null, string type = "stream")
        {
            UnixLabProcess lab = Lab(uid);
            string id = "T" + Guid.NewGuid().ToString("N").Substring(0, 6);
            lab.Socket(id, type);
            string reply = lab.Do("bind " + id + " " + path.Replace(" ", "%20"));
            lab.Do("close " + id);
            if (reply == "ok" && path[0] != '@')
            {
                File.Delete(path);
            }

            return reply == "ok" ? "ok" : UnixPathProbe.Name(int.Parse(reply.Substring(4)));
        }

        private static string Answer(UnixBindResult result) => result.CanBind == true ? "ok" : result.Error!;

        private void AssertAgrees(string path, int? uid = null)
        {
            UnixBindResult predicted = LiveUnixBindCheck.Probe(path, userId: uid);
            Assert.Empty(predicted.DependsOn);
            Assert.Equal(RealBind(path, uid), Answer(predicted));
        }

        [LinuxFact]
        public void Nothing_at_the_path_binds()
        {
            UnixBindResult result = LiveUnixBindCheck.Probe(At("new.sock"));
            Assert.Equal((true, UnixPathFileType.None, "unix.path.free"), (result.CanBind!.Value, result.FileType!.Value, result.Rule));
            AssertAgrees(At("new.sock"));
        }

        [LinuxFact]
        public void A_listening_socket_holds_the_path_and_is_named()
        {
            UnixLabProcess holder = Lab();
            holder.Socket("L", "stream");
            holder.Ok("bind L " + At("live.sock"));
            holder.Ok("listen L");
            UnixBindResult result = LiveUnixBindCheck.Probe(At("live.sock"));
            Assert.Equal(("EADDRINUSE", UnixPathFileType.Socket, false), (result.Error, result.FileType!.Value, result.Stale!.Value));
            Assert.Equal(holder.Pid, Assert.Single(result.Holders).ProcessId);
            Assert.Contains("listening", result.Reason, StringComparison.Ordinal);
            AssertAgrees(At("live.sock"));
        }

        [LinuxFact]
        public void A_bound_datagram_socket_holds_the_path_and_the_probe_leaves_it_unconnected()
        {
            UnixLabProcess holder = Lab();
            holder.Socket("D", "dgram");
            holder.Ok("bind D " + At("dgram.sock"));
            UnixBindResult result = LiveUnixBindCheck.Probe(At("dgram.sock"));
            Assert.Equal(("EADDRINUSE", false), (result.Error, result.Stale!.Value));
            UnixSocket held = Assert.Single(result.Holders);
            Assert.Equal((UnixSocketType.Datagram, holder.Pid), (held.Type, held.ProcessId!.Value));
            Assert.Equal((ulong?)null, LiveUnixSocketTable.Read(new UnixSocketQuery { ProcessIds = new[] { holder.Pid } }).Sockets.Single().PeerInode);
            AssertAgrees(At("dgram.sock"));
        }

        [LinuxFact]
        public void A_stale_socket_file_is_safe_to_unlink_and_then_binds()
        {
            using (var gone = new UnixLabProcess())
            {
                gone.Socket("X", "stream");
                gone.Ok("bind X " + At("stale.sock"));
                gone.Ok("listen X");
            }

            UnixBindResult result = LiveUnixBindCheck.Probe(At("stale.sock"));
            Assert.Equal(("EADDRINUSE", UnixPathFileType.Socket, true, "unix.path.stale-socket-file"), (result.Error, result.FileType!.Value, result.Stale!.Value, result.Rule));
            Assert.Contains("safe to unlink", result.Reason, StringComparison.Ordinal);
            Assert.Empty(result.Holders);
            AssertAgrees(At("stale.sock"));

            File.Delete(At("stale.sock"));
            AssertAgrees(At("stale.sock"));
        }

        [LinuxFact]
        public void A_directory_a_file_or_a_dangling_link_where_a_socket_is_expected_is_in_the_way()
        {
            Directory.CreateDirectory(At("dir.sock"));
            File.WriteAllText(At("file.sock"), "x");
            File.CreateSymbolicLink(At("link.sock"), "/nonexistent-pt-target");
            foreach ((string name, UnixPathFileType type) in new[] { ("dir.sock", UnixPathFileType.Directory), ("file.sock", UnixPathFileType.File), ("link.sock", UnixPathFileType.SymbolicLink) })
            {
                UnixBindResult result = LiveUnixBindCheck.Probe(At(name));
                Assert.Equal(("EADDRINUSE", type, false), (result.Error, result.FileType!.Value, result.Stale!.Value));
                AssertAgrees(At(name));
            }

            Assert.Contains("directory where a socket is expected", LiveUnixBindCheck.Probe(At("dir.sock")).Reason, StringComparison.Ordinal);
        }

        [LinuxFact]
        public void Missing_directories_and_files_on_the_way_fail_as_the_kernel_says()
        {
            File.WriteAllText(At("plain"), "x");
            UnixBindResult missing = LiveUnixBindCheck.Probe(At("no/such/x.sock"));
            Assert.Equal("ENOENT", missing.Error);
            Assert.Contains(At("no"), missing.Reason, StringComparison.Ordinal);
            AssertAgrees(At("no/such/x.sock"));
            Assert.Equal("ENOTDIR", LiveUnixBindCheck.Probe(At("plain/x.sock")).Error);
            AssertAgrees(At("plain/x.sock"));
        }

        [LinuxFact]
        public void The_address_holds_108_bytes_and_no_more()
        {
            string exact = _directory + "/" + new string('x', 108 - _directory.Length - 1);
            string over = exact + "y";
            Assert.Equal(108, UnixBindRules.AddressBytes(exact));
            AssertAgrees(exact);
            UnixBindResult tooLong = LiveUnixBindCheck.Probe(over);
            Assert.Equal(("EINVAL", "unix.address-too-long"), (tooLong.Error, tooLong.Rule));
            Assert.Contains("109 bytes", tooLong.Reason, StringComparison.Ordinal);
            AssertAgrees(over);

            string abstractExact = "@" + new string('a', 107);
            AssertAgrees(abstractExact);
            Assert.Equal("EINVAL", LiveUnixBindCheck.Probe(abstractExact + "b").Error);
            AssertAgrees(abstractExact + "b");
        }

        [LinuxFact]
        public void A_path_with_a_nul_or_an_empty_address_is_refused_with_a_clear_error()
        {
            ArgumentException nul = Assert.Throws<ArgumentException>(() => LiveUnixBindCheck.Probe(At("a\0b")));
            Assert.Contains("NUL", nul.Message, StringComparison.Ordinal);
            Assert.Contains("would create '" + At("a") + "'", nul.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => LiveUnixBindCheck.Probe(string.Empty));
        }

        [LinuxFact]
        public void An_abstract_name_is_in_use_while_a_socket_of_its_type_holds_it_and_free_after()
        {
            string name = "@pt-ubind-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            Assert.Equal(true, LiveUnixBindCheck.Probe(name).CanBind);
            UnixLabProcess holder = Lab();
            holder.Socket("A", "stream");
            holder.Ok("bind A " + name);
            UnixBindResult taken = LiveUnixBindCheck.Probe(name);
            Assert.Equal(("EADDRINUSE", UnixAddressKind.Abstract, holder.Pid), (taken.Error, taken.AddressKind, Assert.Single(taken.Holders).ProcessId!.Value));
            Assert.NotNull(taken.NetworkNamespace);
            AssertAgrees(name);
            holder.Do("close A");
            AssertAgrees(name);
        }

        [LinuxFact]
        public void Abstract_names_are_per_socket_type()
        {
            // The kernel hashes the type into an abstract name's bucket: a seqpacket socket's name does not stop a stream socket.
            string name = "@pt-ubind-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            UnixLabProcess holder = Lab();
            holder.Socket("A", "seqpacket");
            holder.Ok("bind A " + name);
            UnixBindResult stream = LiveUnixBindCheck.Probe(name);
            Assert.Equal(true, stream.CanBind);
            Assert.Contains("per socket type", stream.Reason, StringComparison.Ordinal);
            Assert.Equal(RealBind(name), Answer(stream));
            UnixBindResult seqpacket = LiveUnixBindCheck.Probe(name, type: UnixSocketType.SeqPacket);
            Assert.Equal("EADDRINUSE", seqpacket.Error);
            Assert.Equal(RealBind(name, type: "seqpacket"), Answer(seqpacket));
        }

        [LinuxRootFact]
        public void Permissions_are_those_of_the_binding_user_in_the_kernels_order()
        {
            // /closed is searchable by its owner only; /open is searchable, not writable; in it, taken.sock exists.
            Directory.CreateDirectory(At("closed"));
            Run("chmod", "0700", At("closed"));
            Directory.CreateDirectory(At("open"));
            Run("chmod", "0755", At("open"));
            File.WriteAllText(At("open/taken.sock"), "x");
            Directory.CreateDirectory(At("group"));
            Run("chmod", "0775", At("group"));
            Run("chgrp", "65534", At("group")); // nogroup: nobody's primary group where /etc/passwd says so

            const int Nobody = TestHost.NobodyUid;
            foreach (string path in new[] { At("closed/x.sock"), At("open/new.sock"), At("open/taken.sock"), At("new.sock") })
            {
                UnixBindResult asCaller = LiveUnixBindCheck.Probe(path);
                Assert.Equal(RealBind(path), Answer(asCaller));

                UnixBindResult forNobody = LiveUnixBindCheck.Probe(path, userId: Nobody);
                Assert.Equal(RealBind(path, Nobody), Answer(forNobody));
                Assert.Equal((long?)Nobody, forNobody.UserId);
            }

            Assert.Equal("unix.path.search-denied", LiveUnixBindCheck.Probe(At("closed/x.sock"), userId: Nobody).Rule);
            Assert.Equal("unix.path.create-denied", LiveUnixBindCheck.Probe(At("open/new.sock"), userId: Nobody).Rule);
            Assert.Equal("EADDRINUSE", LiveUnixBindCheck.Probe(At("open/taken.sock"), userId: Nobody).Error); // the file is found before write permission counts

            UnixBindResult group = LiveUnixBindCheck.Probe(At("group/x.sock"), userId: Nobody);
            if (group.DependsOn.Count == 0)
            {
                Assert.Equal(RealBind(At("group/x.sock"), Nobody), Answer(group));
            }
            else
            {
                Assert.Null(group.CanBind); // nobody's groups are not in /etc/passwd here: said, not guessed
            }
        }

        [LinuxRootFact]
        public void A_socket_bound_from_another_network_namespace_is_found_there()
        {
            UnixLabProcess inside = Lab();
            _labs.Remove(inside);
            inside.Dispose();
            using var contained = new UnixLabProcess("unshare", "-n");
            contained.Socket("L", "stream");
            contained.Ok("bind L " + At("shared.sock"));
            contained.Ok("listen L");

            UnixBindResult result = LiveUnixBindCheck.Probe(At("shared.sock"));
            Assert.Equal(("EADDRINUSE", false), (result.Error, result.Stale!.Value));
            UnixSocket holder = Assert.Single(result.Holders);
            Assert.Equal(contained.Pid, holder.ProcessId);
            Assert.NotNull(holder.NetworkNamespace);
            Assert.NotEqual(NetworkNamespaceDiscovery.InodeOf("/proc/self/ns/net"), holder.NetworkNamespace!.Inode);
            Assert.Contains("network namespace", result.Reason, StringComparison.Ordinal);
        }
    }
}
