using System;

namespace PortTools.Text
{
    /// <summary>
    /// State words as the tools print them. The spellings that fill most lines are matched on the span
    /// (no allocation); anything else goes through SocketStateNames, which knows every spelling.
    /// </summary>
    internal static class StateText
    {
        public static bool TryParse(ReadOnlySpan<char> text, TransportProtocol protocol, out SocketState state, out string? error)
        {
            error = null;
            if (protocol == TransportProtocol.Tcp && TryParseCommonTcp(text, out state))
            {
                return true;
            }

            if (protocol == TransportProtocol.Udp && (Is(text, "UNCONN") || Is(text, "ESTAB")))
            {
                state = text[0] == 'U' ? SocketState.Unconnected : SocketState.Connected;
                return true;
            }

            return SocketStateNames.TryParse(text.ToString(), protocol, out state, out error);
        }

        /// <summary>Whether the word is a state spelling at all (for telling a state column from the next one).</summary>
        public static bool IsState(ReadOnlySpan<char> text) =>
            TryParseCommonTcp(text, out _) || (text.Length > 2 && char.IsLetter(text[0]) && SocketStateNames.TryParse(text.ToString(), out _));

        private static bool TryParseCommonTcp(ReadOnlySpan<char> text, out SocketState state)
        {
            state = text.Length switch
            {
                5 when Is(text, "ESTAB") => SocketState.Established,
                6 when Is(text, "LISTEN") => SocketState.Listen,
                9 when Is(text, "TIME-WAIT") || Is(text, "TIME_WAIT") || Is(text, "LISTENING") => text[0] == 'L' ? SocketState.Listen : SocketState.TimeWait,
                11 when Is(text, "ESTABLISHED") => SocketState.Established,
                10 when Is(text, "CLOSE-WAIT") || Is(text, "CLOSE_WAIT") => SocketState.CloseWait,
                _ => SocketState.Unknown,
            };
            return state != SocketState.Unknown;
        }

        private static bool Is(ReadOnlySpan<char> text, string value) => text.SequenceEqual(value.AsSpan());
    }
}
