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
        public static List<SocketTuple> Convert(IEnumerable<object?> entries, Action<ErrorRecord> writeError, int entriesBefore = 0)
        {
            var table = entries is System.Collections.ICollection counted ? new List<SocketTuple>(counted.Count) : new List<SocketTuple>();
            int position = entriesBefore;
            foreach (object? entry in entries)
            {
                position++;
                if (PowerShellObjects.TryConvertSocket(entry, out SocketTuple? socket, out string? error))
                {
                    table.Add(socket);
                    continue;
                }

                var exception = new ArgumentException("Socket table entry " + position + " is not a socket and was left out: " + error.TrimEnd('.') + ".");
                writeError(new ErrorRecord(exception, ErrorId, ErrorCategory.InvalidArgument, entry));
            }

            return table;
        }
    }
}
