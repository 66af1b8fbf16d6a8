using System;
using System.Diagnostics;
using PortTools.Linux;

namespace PortTools.Tests.Support
{
    /// <summary>
    /// A network namespace made for one test (ip netns add), with loopback up and a veth pair
    /// (veth0 holds 192.0.2.1/24 and 2001:db8::1/64; the dummy driver is not in every kernel),
    /// deleted on dispose. Sockets created inside <see cref="Run{T}"/> belong to it, so wildcard
    /// binds stay off the host's interfaces.
    /// </summary>
    public sealed class TestNetworkNamespace : IDisposable
    {
        public TestNetworkNamespace()
        {
            Name = "pt-test-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N").Substring(0, 6);
            Ip("netns", "add", Name);
            Ip("-n", Name, "link", "set", "lo", "up");
            Ip("-n", Name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1");
            Ip("-n", Name, "link", "set", "veth0", "up");
            Ip("-n", Name, "link", "set", "veth1", "up");
            Ip("-n", Name, "addr", "add", "192.0.2.1/24", "dev", "veth0");
            Ip("-n", Name, "addr", "add", "2001:db8::1/64", "dev", "veth0", "nodad");
        }

        public string Name { get; }

        public string Path => "/run/netns/" + Name;

        /// <summary>Runs code on a thread inside the namespace (sockets it creates live there).</summary>
        public T Run<T>(Func<T> work) => NetworkNamespace.Resolve(Name).Run(work);

        /// <summary>Sets one of the namespace's own sysctls, such as "net/ipv4/ip_local_port_range" (written from a thread inside it).</summary>
        public void Sysctl(string name, string value) => Run(() =>
        {
            System.IO.File.WriteAllText("/proc/sys/" + name, value);
            return 0;
        });

        /// <summary>Reads one of the namespace's sysctls as the kernel shows it to a process inside (ip netns exec), the oracle for what PortTools reads.</summary>
        public string SysctlSeenInside(string name) => Output("ip", "netns", "exec", Name, "cat", "/proc/sys/" + name).Trim();

        /// <summary>Runs a command and returns what it printed.</summary>
        public static string Output(string file, params string[] args)
        {
            using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(file + " " + string.Join(" ", args) + " failed: " + error);
            }

            return output;
        }

        public static void Ip(params string[] args)
        {
            using Process ip = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardError = true })!;
            string error = ip.StandardError.ReadToEnd();
            ip.WaitForExit();
            if (ip.ExitCode != 0)
            {
                throw new InvalidOperationException("ip " + string.Join(" ", args) + " failed: " + error);
            }
        }

        public void Dispose() => Ip("netns", "del", Name);
    }
}
