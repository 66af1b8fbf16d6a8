using System;

namespace PortTools.Text
{
    /// <summary>Walks a line's whitespace-separated tokens as spans, remembering where each starts.</summary>
    internal ref struct TokenReader
    {
        private readonly ReadOnlySpan<char> _line;
        private int _position;

        public TokenReader(ReadOnlySpan<char> line)
        {
            _line = line;
            _position = 0;
        }

        /// <summary>Where the next token (or the end) starts.</summary>
        public int Position => _position;

        /// <summary>The rest of the line from the next token on, without leading or trailing blanks.</summary>
        public ReadOnlySpan<char> Rest
        {
            get
            {
                SkipBlanks();
                return TrimEnd(_line.Slice(_position));
            }
        }

        public bool AtEnd
        {
            get
            {
                SkipBlanks();
                return _position >= _line.Length;
            }
        }

        public bool Next(out ReadOnlySpan<char> token)
        {
            SkipBlanks();
            int start = _position;
            while (_position < _line.Length && !IsBlank(_line[_position]))
            {
                _position++;
            }

            token = _line.Slice(start, _position - start);
            return token.Length > 0;
        }

        /// <summary>The next token without consuming it.</summary>
        public ReadOnlySpan<char> Peek()
        {
            TokenReader copy = this;
            copy.Next(out ReadOnlySpan<char> token);
            return token;
        }

        public void SkipTo(int position) => _position = position;

        public static bool IsBlank(char c) => c == ' ' || c == '\t';

        public static ReadOnlySpan<char> TrimEnd(ReadOnlySpan<char> text)
        {
            int end = text.Length;
            while (end > 0 && (IsBlank(text[end - 1]) || text[end - 1] == '\r'))
            {
                end--;
            }

            return text.Slice(0, end);
        }

        public static ReadOnlySpan<char> Trim(ReadOnlySpan<char> text)
        {
            int start = 0;
            while (start < text.Length && IsBlank(text[start]))
            {
                start++;
            }

            return TrimEnd(text.Slice(start));
        }

        public static bool IsBlankLine(string line)
        {
            foreach (char c in line)
            {
                if (!IsBlank(c) && c != '\r')
                {
                    return false;
                }
            }

            return true;
        }

        private void SkipBlanks()
        {
            while (_position < _line.Length && IsBlank(_line[_position]))
            {
                _position++;
            }
        }
    }

    /// <summary>Number parsing on spans, invariant and strict: ASCII digits only, no sign.</summary>
    internal static class Digits
    {
        public static bool TryParse(ReadOnlySpan<char> text, out long value)
        {
            value = 0;
            if (text.IsEmpty || text.Length > 18)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
            }

            return true;
        }

        public static bool TryParseUInt64(ReadOnlySpan<char> text, out ulong value)
        {
            value = 0;
            if (text.IsEmpty || text.Length > 20)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                ulong next = (value * 10) + (ulong)(c - '0');
                if (next / 10 != value)
                {
                    return false;
                }

                value = next;
            }

            return true;
        }

        public static bool TryParseInt(ReadOnlySpan<char> text, out int value)
        {
            value = 0;
            if (!TryParse(text, out long wide) || wide > int.MaxValue)
            {
                return false;
            }

            value = (int)wide;
            return true;
        }

        /// <summary>A decimal port 0 to 65535.</summary>
        public static bool TryParsePort(ReadOnlySpan<char> text, out int port)
        {
            port = 0;
            if (text.Length > 5 || !TryParse(text, out long value) || value > PortRange.MaxPort)
            {
                return false;
            }

            port = (int)value;
            return true;
        }

        public static bool IsAll(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            return true;
        }

        public static bool StartsWith(ReadOnlySpan<char> text, string prefix) =>
            text.StartsWith(prefix.AsSpan(), StringComparison.Ordinal);

        public static bool EqualsIgnoreCase(ReadOnlySpan<char> text, string value) =>
            text.Equals(value.AsSpan(), StringComparison.OrdinalIgnoreCase);
    }
}
