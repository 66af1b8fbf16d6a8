using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace PortTools
{
    /// <summary>
    /// Which Linux network namespace a socket or a set of host facts belongs to: the namespace's
    /// inode number (what /proc/[pid]/ns/net links to, net:[4026531840]), which identifies it on one
    /// host while it exists, and its name under /run/netns where it has one. Two sockets in different
    /// namespaces never share a port, an address or a delivery.
    /// </summary>
    /// <remarks>
    /// The text form is <c>&lt;inode&gt;</c> or <c>&lt;name&gt;:&lt;inode&gt;</c> (such as
    /// <c>red:4026532301</c>); <see cref="Parse"/> also reads <c>net:[4026532301]</c>. Equality is the
    /// inode alone: a name is only a label.
    /// </remarks>
    public sealed class NetworkNamespaceInfo : IEquatable<NetworkNamespaceInfo>
    {
        /// <summary>Describes a namespace.</summary>
        /// <param name="inode">The namespace's inode number (non-zero).</param>
        /// <param name="name">Its name under /run/netns, or null.</param>
        /// <param name="processId">A process that lives in it, or null.</param>
        public NetworkNamespaceInfo(ulong inode, string? name = null, int? processId = null)
        {
            if (inode == 0)
            {
                throw new ArgumentOutOfRangeException(nameof(inode), "A network namespace's inode number is never 0.");
            }

            Inode = inode;
            Name = string.IsNullOrEmpty(name) ? null : name;
            ProcessId = processId;
        }

        /// <summary>The inode number of the namespace (ls -L -i /proc/[pid]/ns/net).</summary>
        public ulong Inode { get; }

        /// <summary>The name under /run/netns (ip netns list), or null for an unnamed namespace.</summary>
        public string? Name { get; }

        /// <summary>A process that lives in the namespace, when one is known: how to enter it without a name.</summary>
        public int? ProcessId { get; }

        /// <summary>
        /// The namespace file through which this process read the namespace live (/run/netns/red,
        /// /proc/1234/ns/net, or /proc/self/ns/net for its own), or null for a namespace known only
        /// from text or a deserialized object. It marks the namespaces whose host facts are this
        /// host's to read: an inode alone cannot, since every host's initial namespace has the same
        /// one. Not part of the text form, so a copy that travelled never carries it.
        /// </summary>
        internal string? LiveEntryPath { get; init; }

        /// <summary>Reads the text form: <c>4026532301</c>, <c>red:4026532301</c> or <c>net:[4026532301]</c>.</summary>
        /// <param name="text">The text.</param>
        /// <returns>The namespace.</returns>
        /// <exception cref="FormatException">The text is not one of those forms.</exception>
        public static NetworkNamespaceInfo Parse(string text) =>
            TryParse(text, out NetworkNamespaceInfo? info)
                ? info
                : throw new FormatException("'" + text + "' is not a network namespace: expected its inode number (4026532301), name:inode (red:4026532301) or net:[4026532301].");

        /// <summary>Reads the text form.</summary>
        /// <param name="text">The text.</param>
        /// <param name="info">The namespace, when the text is valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out NetworkNamespaceInfo? info)
        {
            info = null;
            string value = (text ?? string.Empty).Trim();
            if (value.StartsWith("net:[", StringComparison.Ordinal) && value.EndsWith("]", StringComparison.Ordinal))
            {
                value = value.Substring(5, value.Length - 6);
            }

            string? name = null;
            int colon = value.LastIndexOf(':');
            if (colon >= 0)
            {
                name = value.Substring(0, colon);
                value = value.Substring(colon + 1);
                if (name.Length == 0)
                {
                    return false;
                }
            }

            if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) || inode == 0)
            {
                return false;
            }

            info = new NetworkNamespaceInfo(inode, name);
            return true;
        }

        /// <summary>"red:4026532301", or "4026532301" for an unnamed namespace.</summary>
        public override string ToString() =>
            Name is null ? Inode.ToString(CultureInfo.InvariantCulture) : Name + ":" + Inode.ToString(CultureInfo.InvariantCulture);

        /// <inheritdoc/>
        public bool Equals(NetworkNamespaceInfo? other) => other is not null && other.Inode == Inode;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as NetworkNamespaceInfo);

        /// <inheritdoc/>
        public override int GetHashCode() => Inode.GetHashCode();
    }
}
