using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;

namespace PortTools
{
    /// <summary>
    /// The spellings of socket states: the enum names, ss (ESTAB, TIME-WAIT, UNCONN, ...), netstat
    /// (ESTABLISHED, TIME_WAIT, LISTENING) and Linux's own (SYN_RECV), all case-insensitive.
    /// </summary>
    public static class SocketStateNames
    {
        // Keys are normalized: upper case, without '-', '_' or spaces.
        private static readonly Dictionary<string, SocketState> s_aliases = new Dictionary<string, SocketState>(StringComparer.Ordinal)
        {
            ["ESTAB"] = SocketState.Established,
            ["ESTABLISHED"] = SocketState.Established,
            ["SYNSENT"] = SocketState.SynSent,
            ["SYNRECV"] = SocketState.SynReceived,
            ["SYNRECEIVED"] = SocketState.SynReceived,
            ["SYNRCVD"] = SocketState.SynReceived,
            ["NEWSYNRECV"] = SocketState.SynReceived,
            ["FINWAIT1"] = SocketState.FinWait1,
            ["FINWAIT2"] = SocketState.FinWait2,
            ["TIMEWAIT"] = SocketState.TimeWait,
            ["CLOSE"] = SocketState.Closed,
            ["CLOSED"] = SocketState.Closed,
            ["CLOSEWAIT"] = SocketState.CloseWait,
            ["LASTACK"] = SocketState.LastAck,
            ["LISTEN"] = SocketState.Listen,
            ["LISTENING"] = SocketState.Listen,
            ["CLOSING"] = SocketState.Closing,
            ["BOUND"] = SocketState.Bound,
            ["BOUNDINACTIVE"] = SocketState.Bound,
            ["UNCONN"] = SocketState.Unconnected,
            ["UNCONNECTED"] = SocketState.Unconnected,
            ["CONNECTED"] = SocketState.Connected,
            ["DELETETCB"] = SocketState.DeleteTcb,
        };

        /// <summary>The spellings accepted, for error messages and completion.</summary>
        public static IReadOnlyList<string> KnownSpellings { get; } = new[]
        {
            "LISTEN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSE",
            "CLOSE-WAIT", "LAST-ACK", "CLOSING", "BOUND", "UNCONN", "DELETE-TCB",
        };

        /// <summary>The canonical (ss-style) name of a state for a protocol: what SocketTuple.ToString writes.</summary>
        /// <param name="protocol">The protocol.</param>
        /// <param name="state">The state.</param>
        /// <returns>The name, such as LISTEN, ESTAB, TIME-WAIT or UNCONN.</returns>
        public static string ToCanonical(TransportProtocol protocol, SocketState state) => state switch
        {
            SocketState.Established => "ESTAB",
            SocketState.SynSent => "SYN-SENT",
            SocketState.SynReceived => "SYN-RECV",
            SocketState.FinWait1 => "FIN-WAIT-1",
            SocketState.FinWait2 => "FIN-WAIT-2",
            SocketState.TimeWait => "TIME-WAIT",
            SocketState.Closed => "CLOSE",
            SocketState.CloseWait => "CLOSE-WAIT",
            SocketState.LastAck => "LAST-ACK",
            SocketState.Listen => "LISTEN",
            SocketState.Closing => "CLOSING",
            SocketState.Bound => "BOUND",
            SocketState.Unconnected => "UNCONN",
            SocketState.Connected => protocol == TransportProtocol.Udp ? "ESTAB" : "CONNECTED",
            SocketState.DeleteTcb => "DELETE-TCB",
            _ => "UNKNOWN",
        };

        /// <summary>Parses any accepted spelling, without regard to protocol.</summary>
        /// <param name="text">The text.</param>
        /// <param name="state">The state.</param>
        /// <returns>Whether the spelling is known.</returns>
        public static bool TryParse(string? text, out SocketState state)
        {
            state = SocketState.Unknown;
            if (string.IsNullOrWhiteSpace(text))
            {
                return false;
            }

            string key = Normalize(text!);
            if (s_aliases.TryGetValue(key, out state))
            {
                return true;
            }

            if (string.Equals(key, "UNKNOWN", StringComparison.Ordinal))
            {
                state = SocketState.Unknown;
                return true;
            }

            return false;
        }

        /// <summary>
        /// Parses a spelling for a socket of the given protocol, mapping the shared spellings to that
        /// protocol's states: ESTAB is Connected for UDP, UNCONN is Bound for TCP (ss prints a TCP
        /// socket in CLOSE as UNCONN), CLOSE is Unconnected for UDP.
        /// </summary>
        /// <param name="text">The text.</param>
        /// <param name="protocol">The protocol of the socket.</param>
        /// <param name="state">The state.</param>
        /// <param name="error">Why the text was rejected.</param>
        /// <returns>Whether the text names a state of that protocol.</returns>
        public static bool TryParse(string? text, TransportProtocol protocol, out SocketState state, [NotNullWhen(false)] out string? error)
        {
            if (!TryParse(text, out state))
            {
                error = "unknown state '" + text + "': expected one of " + string.Join(", ", KnownSpellings) + " (or the SocketState names)";
                return false;
            }

            if (protocol == TransportProtocol.Udp)
            {
                state = state switch
                {
                    SocketState.Established => SocketState.Connected,
                    SocketState.Closed => SocketState.Unconnected,
                    _ => state,
                };
                if (state != SocketState.Connected && state != SocketState.Unconnected && state != SocketState.Unknown)
                {
                    error = "'" + text + "' is not a UDP state: a UDP socket is UNCONN or ESTAB (connected)";
                    return false;
                }
            }
            else
            {
                state = state switch
                {
                    SocketState.Unconnected => SocketState.Bound,
                    SocketState.Connected => SocketState.Established,
                    _ => state,
                };
            }

            error = null;
            return true;
        }

        private static string Normalize(string text)
        {
            char[] buffer = new char[text.Length];
            int n = 0;
            foreach (char c in text.Trim())
            {
                if (c != '-' && c != '_' && c != ' ')
                {
                    buffer[n++] = char.ToUpperInvariant(c);
                }
            }

            return new string(buffer, 0, n);
        }

        /// <summary>All enum names and canonical spellings, for help and completion.</summary>
        internal static IEnumerable<string> AllNames() => Enum.GetNames(typeof(SocketState)).Concat(KnownSpellings);
    }
}
