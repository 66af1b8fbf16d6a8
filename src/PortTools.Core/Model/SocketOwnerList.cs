using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PortTools
{
    /// <summary>
    /// The owners of a socket, in process-id order, whichever order a source listed them in (ss and
    /// lsof differ from /proc), so the same socket compares equal from every source. Its text,
    /// "nginx (pid 812), nginx (pid 813)", is what Export-Csv writes for the Processes column, and
    /// <see cref="TryParse"/> reads it back.
    /// </summary>
    public sealed class SocketOwnerList : IReadOnlyList<SocketOwner>
    {
        private static readonly Regex s_owner = new Regex(@"^(?:(?<name>.*) \(pid (?<pid>\d+)\)|pid (?<pid>\d+))$", RegexOptions.CultureInvariant);
        private readonly SocketOwner[] _owners;

        /// <summary>Creates a list.</summary>
        /// <param name="owners">The owners, first owner first.</param>
        public SocketOwnerList(IEnumerable<SocketOwner> owners)
            : this(new List<SocketOwner>(owners ?? Array.Empty<SocketOwner>()).ToArray(), true)
        {
        }

        private SocketOwnerList(SocketOwner[] owners, bool _)
        {
            if (owners.Length > 1)
            {
                // Stable: equal pids (never in practice) keep their order.
                var keyed = new KeyValuePair<int, SocketOwner>[owners.Length];
                for (int i = 0; i < owners.Length; i++)
                {
                    keyed[i] = new KeyValuePair<int, SocketOwner>(i, owners[i]);
                }

                Array.Sort(keyed, (a, b) => a.Value.ProcessId != b.Value.ProcessId ? a.Value.ProcessId.CompareTo(b.Value.ProcessId) : a.Key.CompareTo(b.Key));
                for (int i = 0; i < owners.Length; i++)
                {
                    owners[i] = keyed[i].Value;
                }
            }

            _owners = owners;
        }

        /// <summary>No owners.</summary>
        public static SocketOwnerList Empty { get; } = new SocketOwnerList(Array.Empty<SocketOwner>());

        /// <inheritdoc/>
        public int Count => _owners.Length;

        /// <summary>Takes ownership of an array the caller will not touch again (it is sorted in place): no copy, for readers' hot loops.</summary>
        internal static SocketOwnerList Wrap(SocketOwner[] owners) => new SocketOwnerList(owners, true);

        /// <inheritdoc/>
        public SocketOwner this[int index] => _owners[index];

        /// <summary>Reads the text that <see cref="ToString"/> writes; an empty text is an empty list.</summary>
        /// <param name="text">Such as "nginx (pid 812), nginx (pid 813)".</param>
        /// <param name="owners">The list.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, [NotNullWhen(true)] out SocketOwnerList? owners)
        {
            owners = null;
            var list = new List<SocketOwner>();
            string trimmed = (text ?? string.Empty).Trim().TrimStart('{').TrimEnd('}');
            if (trimmed.Length > 0)
            {
                foreach (string part in trimmed.Split(new[] { "), " }, StringSplitOptions.None))
                {
                    string item = part.EndsWith(")", StringComparison.Ordinal) || part.StartsWith("pid ", StringComparison.Ordinal) ? part : part + ")";
                    Match match = s_owner.Match(item);
                    if (!match.Success || !int.TryParse(match.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    {
                        return false;
                    }

                    list.Add(new SocketOwner(pid, match.Groups["name"].Success ? match.Groups["name"].Value : null));
                }
            }

            owners = new SocketOwnerList(list);
            return true;
        }

        /// <inheritdoc/>
        public IEnumerator<SocketOwner> GetEnumerator() => ((IEnumerable<SocketOwner>)_owners).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _owners.GetEnumerator();

        /// <summary>"nginx (pid 812), nginx (pid 813)"; empty when there are none.</summary>
        public override string ToString() => string.Join(", ", (IEnumerable<SocketOwner>)_owners);
    }
}
