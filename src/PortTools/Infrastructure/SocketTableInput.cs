using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// The -SocketTable argument: SocketTuples, their canonical strings, or objects that carry one
    /// (deserialized from remoting, jobs or Import-Clixml; Import-Csv rows; ConvertFrom-Json output).
    /// An entry that does not convert is reported on its own and left out; the rest is used.
    /// </summary>
    internal static class SocketTableInput
    {
        public const string ErrorId = "InvalidSocketTableEntry";

        /// <param name="entries">The entries.</param>
        /// <param name="writeError">Reports an entry that does not convert.</param>
        /// <param name="entriesBefore">How many entries earlier calls took (pipeline input comes in pieces), so that positions count from the first.</param>
        /// <param name="bags">Reads the property bags among the entries; a caller whose entries come in pieces keeps one for all of them (null: one for this call).</param>
        public static SocketTableEntries Convert(IEnumerable<object?> entries, Action<ErrorRecord> writeError, int entriesBefore = 0, PropertyBagReader? bags = null)
        {
            var table = new SocketTableEntries(entries is System.Collections.ICollection counted ? counted.Count : 0);
            int position = entriesBefore;
            bool uniform = true;
            bags ??= PropertyBagReader.IsAvailable ? new PropertyBagReader() : null;
            foreach (object? entry in entries)
            {
                position++;
                if (PowerShellObjects.TryConvertSocket(entry, out SocketTuple? socket, out string? error, bags))
                {
                    // Checked here, while the socket is at hand, rather than in another pass over the table.
                    uniform = uniform && (table.Count == 0 || SocketTableEntries.SameComputerAndNamespace(table[0], socket));
                    table.Add(socket);
                    continue;
                }

                var exception = new ArgumentException("Socket table entry " + position + " is not a socket and was left out: " + error.TrimEnd('.') + ".");
                writeError(new ErrorRecord(exception, ErrorId, ErrorCategory.InvalidArgument, entry));
            }

            table.WasOneComputerAndNamespace = uniform;
            return table;
        }
    }

    /// <summary>A converted -SocketTable, which remembers what its conversion saw of it.</summary>
    internal sealed class SocketTableEntries : List<SocketTuple>
    {
        public SocketTableEntries(int capacity)
            : base(capacity)
        {
        }

        /// <summary>
        /// Whether, when converted, every socket named the same computer (or none) and the same namespace
        /// object (or none); false when they may differ. Not kept up to date by later changes to the list.
        /// </summary>
        public bool WasOneComputerAndNamespace { get; set; }

        /// <summary>Whether two sockets name the same computer (ignoring case; or both none) and the same namespace object (or both none).</summary>
        /// <param name="first">One socket.</param>
        /// <param name="second">The other.</param>
        /// <returns>Whether they do.</returns>
        public static bool SameComputerAndNamespace(SocketTuple first, SocketTuple second) =>
            ReferenceEquals(first.NetworkNamespace, second.NetworkNamespace) && string.Equals(first.ComputerName, second.ComputerName, StringComparison.OrdinalIgnoreCase);
    }
}
