using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace PortTools.Linux
{
    /// <summary>
    /// Tells a process's container from its cgroup path (/proc/[pid]/cgroup), which every runtime
    /// names in its own way:
    /// docker: docker-&lt;id&gt;.scope (systemd driver) or /docker/&lt;id&gt; (cgroupfs);
    /// containerd (CRI): cri-containerd-&lt;id&gt;.scope; CRI-O: crio-&lt;id&gt;.scope;
    /// podman: libpod-&lt;id&gt;.scope or /libpod-&lt;id&gt;; Kubernetes with the cgroupfs driver:
    /// /kubepods/&lt;qos&gt;/pod&lt;uid&gt;/&lt;id&gt; (the runtime is not named);
    /// LXC: /lxc/&lt;name&gt; or /lxc.payload.&lt;name&gt;; systemd-nspawn: systemd-nspawn@&lt;name&gt;.service.
    /// Kubernetes pods: a pod&lt;uid&gt; segment (the systemd driver writes the UID's dashes as underscores).
    /// A conmon or shim process (crio-conmon-, libpod-conmon-) is not the container.
    /// </summary>
    internal sealed class ContainerAttribution
    {
        private readonly string _procRoot;
        private readonly Dictionary<int, ContainerInfo?> _byProcess = new Dictionary<int, ContainerInfo?>();

        public ContainerAttribution(string procRoot = "/proc") => _procRoot = procRoot;

        /// <summary>The container of a process, read once per process; null outside containers or when the process is gone.</summary>
        public ContainerInfo? OfProcess(int pid)
        {
            lock (_byProcess)
            {
                if (_byProcess.TryGetValue(pid, out ContainerInfo? known))
                {
                    return known;
                }
            }

            ContainerInfo? container;
            try
            {
                container = FromCgroupFile(File.ReadAllText(_procRoot + "/" + pid.ToString(CultureInfo.InvariantCulture) + "/cgroup"));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                container = null;
            }

            lock (_byProcess)
            {
                _byProcess[pid] = container;
            }

            return container;
        }

        /// <summary>
        /// What a namespace's processes agree on: their one container, or their one pod when the
        /// containers differ (a pod's containers share its network namespace), else null.
        /// </summary>
        public ContainerInfo? Common(IEnumerable<int> processIds)
        {
            ContainerInfo? first = null;
            bool sameContainer = true;
            bool samePod = true;
            bool any = false;
            foreach (int pid in processIds)
            {
                ContainerInfo? container = OfProcess(pid);
                if (!any)
                {
                    first = container;
                    any = true;
                    continue;
                }

                sameContainer &= Equals(container, first);
                samePod &= container?.PodUid is not null && container.PodUid == first?.PodUid;
            }

            if (first is null)
            {
                return null;
            }

            return sameContainer ? first : samePod && first.PodUid is not null ? new ContainerInfo(null, null, first.PodUid) : null;
        }

        /// <summary>The container named by a /proc/[pid]/cgroup file: the unified (0::) line first, then the v1 lines.</summary>
        public static ContainerInfo? FromCgroupFile(string text)
        {
            ContainerInfo? fromV1 = null;
            foreach (string line in text.Split('\n'))
            {
                int first = line.IndexOf(':');
                int second = first < 0 ? -1 : line.IndexOf(':', first + 1);
                if (second < 0)
                {
                    continue;
                }

                ContainerInfo? container = FromCgroupPath(line.Substring(second + 1));
                if (container is not null && line.StartsWith("0::", StringComparison.Ordinal))
                {
                    return container;
                }

                fromV1 ??= container;
            }

            return fromV1;
        }

        /// <summary>The container named by one cgroup path, or null.</summary>
        public static ContainerInfo? FromCgroupPath(string path)
        {
            string? pod = null;
            string? runtime = null;
            string? id = null;
            string[] segments = path.Trim().Split('/');
            for (int i = 0; i < segments.Length; i++)
            {
                string segment = segments[i];
                if (segment.Length == 0)
                {
                    continue;
                }

                pod ??= PodUid(segment);
                string? previous = i > 0 ? segments[i - 1] : null;
                if (Scoped(segment, "docker-", out string? dockerId))
                {
                    (runtime, id) = ("docker", dockerId);
                }
                else if (Scoped(segment, "cri-containerd-", out string? containerdId))
                {
                    (runtime, id) = ("containerd", containerdId);
                }
                else if (Scoped(segment, "crio-", out string? crioId))
                {
                    (runtime, id) = ("cri-o", crioId);
                }
                else if (Scoped(segment, "libpod-", out string? podmanId))
                {
                    (runtime, id) = ("podman", podmanId);
                }
                else if (IsContainerId(segment) && previous == "docker")
                {
                    (runtime, id) = ("docker", segment);
                }
                else if (IsContainerId(segment) && previous is not null && PodUid(previous) is not null)
                {
                    (runtime, id) = ("kubernetes", segment); // kubelet's cgroupfs layout does not name the runtime (containerd or CRI-O)
                }
                else if (previous == "lxc")
                {
                    (runtime, id) = ("lxc", segment);
                }
                else if (segment.StartsWith("lxc.payload.", StringComparison.Ordinal) && segment.Length > 12)
                {
                    (runtime, id) = ("lxc", segment.Substring(12));
                }
                else if (segment.StartsWith("systemd-nspawn@", StringComparison.Ordinal) && segment.EndsWith(".service", StringComparison.Ordinal) && segment.Length > 23)
                {
                    (runtime, id) = ("systemd-nspawn", UnescapeSystemd(segment.Substring(15, segment.Length - 23)));
                }
            }

            if (id is null && pod is null)
            {
                return null;
            }

            return new ContainerInfo(id is null ? null : runtime, id, pod);
        }

        /// <summary>"docker-&lt;64 hex&gt;.scope" (or without .scope under cgroupfs); a conmon scope is not a container.</summary>
        private static bool Scoped(string segment, string prefix, out string? id)
        {
            id = null;
            if (!segment.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }

            string rest = segment.Substring(prefix.Length);
            if (rest.EndsWith(".scope", StringComparison.Ordinal))
            {
                rest = rest.Substring(0, rest.Length - 6);
            }

            if (!IsContainerId(rest))
            {
                return false;
            }

            id = rest;
            return true;
        }

        /// <summary>"pod5b1e...", "kubepods-besteffort-pod5b1e_....slice", "kubepods-pod5b1e_....slice": the pod UID with dashes.</summary>
        private static string? PodUid(string segment)
        {
            int at = segment.LastIndexOf("pod", StringComparison.Ordinal);
            if (at < 0 || (at > 0 && segment[at - 1] != '-'))
            {
                return null;
            }

            string uid = segment.Substring(at + 3);
            if (uid.EndsWith(".slice", StringComparison.Ordinal))
            {
                uid = uid.Substring(0, uid.Length - 6);
            }

            uid = uid.Replace('_', '-');
            if (uid.Length != 36)
            {
                return null;
            }

            for (int i = 0; i < uid.Length; i++)
            {
                bool dash = i is 8 or 13 or 18 or 23;
                if (dash ? uid[i] != '-' : !IsHex(uid[i]))
                {
                    return null;
                }
            }

            return uid;
        }

        private static bool IsContainerId(string text)
        {
            if (text.Length != 64)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (!IsHex(c))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

        /// <summary>systemd unit names escape '-' inside a name as \x2d.</summary>
        private static string UnescapeSystemd(string name) => name.Replace("\\x2d", "-");
    }
}
