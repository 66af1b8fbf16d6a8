using System.Collections.Generic;

namespace PortTools
{
    /// <summary>What a live read returned: the sockets in the order the kernel reported them, and any warnings.</summary>
    public sealed class SocketTableReadResult
    {
        internal SocketTableReadResult(IReadOnlyList<SocketTuple> sockets, IReadOnlyList<string> warnings, string method)
        {
            Sockets = sockets;
            Warnings = warnings;
            Method = method;
        }

        /// <summary>
        /// The sockets that passed the query's filters, less those handed over as they were built
        /// (<see cref="SocketReadProgress.HandOverSockets"/>), which come before these.
        /// </summary>
        public IReadOnlyList<SocketTuple> Sockets { get; }

        /// <summary>Things the caller should tell the user once, such as owners hidden for lack of privilege.</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>How the table was read, such as "netlink sock_diag" or "/proc/net".</summary>
        public string Method { get; }

        /// <summary>How the warning about socket options that could not be read begins.</summary>
        internal const string SocketOptionsWarningStart = "The SO_REUSEADDR and SO_REUSEPORT of ";

        /// <summary>
        /// Whether a warning is the one about socket options that could not be read. The rule cmdlets leave
        /// it out: their answers name, in DependsOn, the unknown options they turn on, and no others.
        /// </summary>
        /// <param name="warning">A warning of <see cref="Warnings"/>.</param>
        /// <returns>True for the socket options warning.</returns>
        public static bool IsSocketOptionsWarning(string warning) => warning.StartsWith(SocketOptionsWarningStart, System.StringComparison.Ordinal);

        /// <summary>The number of distinct network namespaces the sockets came from (1 for a single read).</summary>
        public int NetworkNamespaceCount { get; internal set; } = 1;
    }
}
