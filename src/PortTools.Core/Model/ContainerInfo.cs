using System;
using System.Diagnostics.CodeAnalysis;

namespace PortTools
{
    /// <summary>
    /// The container a socket belongs to, as the owning processes' cgroups name it: the runtime
    /// (docker, containerd, cri-o, podman, lxc, systemd-nspawn), the container's id, and the
    /// Kubernetes pod UID where the cgroup path carries one. Where only the pod is known (a socket
    /// of a pod's shared network namespace with no owner to ask), <see cref="Runtime"/> and
    /// <see cref="Id"/> are null.
    /// </summary>
    /// <remarks>
    /// The text form is <c>docker:3f2a...</c>, <c>containerd:3f2a... pod:5b1e...</c> or
    /// <c>pod:5b1e...</c>; <see cref="Parse"/> reads it back. Equality compares all three parts.
    /// </remarks>
    public sealed class ContainerInfo : IEquatable<ContainerInfo>
    {
        /// <summary>Describes a container.</summary>
        /// <param name="runtime">The runtime, such as docker; null when only the pod is known.</param>
        /// <param name="id">The container id (64 hex digits for OCI runtimes, a name for lxc and systemd-nspawn); null when only the pod is known.</param>
        /// <param name="podUid">The Kubernetes pod UID, or null.</param>
        public ContainerInfo(string? runtime, string? id, string? podUid = null)
        {
            Runtime = string.IsNullOrEmpty(runtime) ? null : runtime;
            Id = string.IsNullOrEmpty(id) ? null : id;
            PodUid = string.IsNullOrEmpty(podUid) ? null : podUid;
            if ((Runtime is null) != (Id is null))
            {
                throw new ArgumentException("A container needs both a runtime and an id, or neither (a pod alone).", Runtime is null ? nameof(runtime) : nameof(id));
            }

            if (Id is null && PodUid is null)
            {
                throw new ArgumentException("A container needs an id or a pod UID.", nameof(id));
            }

            if ((Id?.IndexOf(' ') ?? -1) >= 0 || (PodUid?.IndexOf(' ') ?? -1) >= 0 || (Runtime?.IndexOf(':') ?? -1) >= 0)
            {
                throw new ArgumentException("Container ids and pod UIDs hold no spaces, and runtime names no colon.", nameof(id));
            }
        }

        /// <summary>The runtime that runs the container: docker, containerd, cri-o, podman, lxc or systemd-nspawn; kubernetes where kubelet's cgroupfs layout does not name it (containerd or CRI-O); null when only the pod is known.</summary>
        public string? Runtime { get; }

        /// <summary>The container id as the runtime's CLI takes it (docker ps shows its first 12 characters); null when only the pod is known.</summary>
        public string? Id { get; }

        /// <summary>The Kubernetes pod UID (kubectl get pod -o jsonpath='{.metadata.uid}'), or null outside Kubernetes.</summary>
        public string? PodUid { get; }

        /// <summary>The id cut to 12 characters, as docker ps and crictl ps show it.</summary>
        public string? ShortId => Id is null ? null : Id.Length > 12 && IsHex(Id) ? Id.Substring(0, 12) : Id;

        /// <summary>Reads the text form.</summary>
        /// <param name="text">Such as <c>docker:3f2a...</c>, <c>containerd:3f2a... pod:5b1e...</c> or <c>pod:5b1e...</c>.</param>
        /// <returns>The container.</returns>
        /// <exception cref="FormatException">The text is not one of those forms.</exception>
        public static ContainerInfo Parse(string text) =>
            TryParse(text, out ContainerInfo? container)
                ? container
                : throw new FormatException("'" + text + "' is not a container: expected runtime:id (docker:3f2a...), runtime:id pod:uid, or pod:uid.");

        /// <summary>Reads the text form.</summary>
        /// <param name="text">The text.</param>
        /// <param name="container">The container, when the text is valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out ContainerInfo? container)
        {
            container = null;
            string[] parts = (text ?? string.Empty).Trim().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            string? runtime = null;
            string? id = null;
            string? pod = null;
            foreach (string part in parts)
            {
                int colon = part.IndexOf(':');
                if (colon <= 0 || colon == part.Length - 1)
                {
                    return false;
                }

                string key = part.Substring(0, colon);
                string value = part.Substring(colon + 1);
                if (key == "pod")
                {
                    if (pod is not null)
                    {
                        return false;
                    }

                    pod = value;
                }
                else
                {
                    if (id is not null)
                    {
                        return false;
                    }

                    runtime = key;
                    id = value;
                }
            }

            if (id is null && pod is null)
            {
                return false;
            }

            container = new ContainerInfo(runtime, id, pod);
            return true;
        }

        /// <summary>"docker:3f2a...", "containerd:3f2a... pod:5b1e..." or "pod:5b1e...".</summary>
        public override string ToString()
        {
            string container = Id is null ? string.Empty : Runtime + ":" + Id;
            return PodUid is null ? container : (container.Length == 0 ? string.Empty : container + " ") + "pod:" + PodUid;
        }

        /// <inheritdoc/>
        public bool Equals(ContainerInfo? other) =>
            other is not null
            && string.Equals(other.Runtime, Runtime, StringComparison.Ordinal)
            && string.Equals(other.Id, Id, StringComparison.Ordinal)
            && string.Equals(other.PodUid, PodUid, StringComparison.Ordinal);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as ContainerInfo);

        /// <inheritdoc/>
        public override int GetHashCode() => (Id ?? PodUid ?? string.Empty).GetHashCode();

        private static bool IsHex(string text)
        {
            foreach (char c in text)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
