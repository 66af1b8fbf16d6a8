using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace PortTools.Text
{
    /// <summary>The kinds of JSON value.</summary>
    internal enum JsonKind
    {
        Null,
        False,
        True,
        Number,
        String,
        Array,
        Object,
    }

    /// <summary>
    /// A parsed JSON value (RFC 8259). Numbers keep their text so 64-bit inodes and ids lose nothing;
    /// object keys are matched case-insensitively, as PowerShell property names are.
    /// </summary>
    internal sealed class JsonValue
    {
        public static readonly JsonValue Null = new JsonValue(JsonKind.Null, null, null, null);
        public static readonly JsonValue True = new JsonValue(JsonKind.True, null, null, null);
        public static readonly JsonValue False = new JsonValue(JsonKind.False, null, null, null);

        private JsonValue(JsonKind kind, string? text, List<JsonValue>? items, Dictionary<string, JsonValue>? properties)
        {
            Kind = kind;
            Text = text;
            Items = items;
            Properties = properties;
        }

        public JsonKind Kind { get; }

        /// <summary>A string's value, or a number's text.</summary>
        public string? Text { get; }

        public List<JsonValue>? Items { get; }

        public Dictionary<string, JsonValue>? Properties { get; }

        public static JsonValue String(string text) => new JsonValue(JsonKind.String, text, null, null);

        public static JsonValue Number(string text) => new JsonValue(JsonKind.Number, text, null, null);

        public static JsonValue Array(List<JsonValue> items) => new JsonValue(JsonKind.Array, null, items, null);

        public static JsonValue Object(Dictionary<string, JsonValue> properties) => new JsonValue(JsonKind.Object, null, null, properties);

        public JsonValue? this[string name] => Properties is not null && Properties.TryGetValue(name, out JsonValue? value) ? value : null;

        /// <summary>Parses one JSON text; on failure says what was expected and at which offset.</summary>
        public static bool TryParse(string text, out JsonValue? value, out string? error, out int errorOffset)
        {
            var reader = new Reader(text);
            value = null;
            error = null;
            errorOffset = 0;
            try
            {
                reader.SkipWhitespace();
                value = reader.ReadValue(0);
                reader.SkipWhitespace();
                if (!reader.AtEnd)
                {
                    throw reader.Error("expected the end of the JSON value");
                }

                return true;
            }
            catch (JsonError failure)
            {
                error = failure.Message;
                errorOffset = failure.Offset;
                value = null;
                return false;
            }
        }

        private sealed class JsonError : Exception
        {
            public JsonError(string message, int offset)
                : base(message) => Offset = offset;

            public int Offset { get; }
        }

        private struct Reader
        {
            private const int MaxDepth = 64;
            private readonly string _text;
            private int _position;

            public Reader(string text)
            {
                _text = text;
                _position = 0;
            }

            public bool AtEnd => _position >= _text.Length;

            public void SkipWhitespace()
            {
                while (_position < _text.Length && (_text[_position] == ' ' || _text[_position] == '\t' || _text[_position] == '\n' || _text[_position] == '\r'))
                {
                    _position++;
                }
            }

            public JsonValue ReadValue(int depth)
            {
                if (depth > MaxDepth)
                {
                    throw Error("JSON nested too deeply");
                }

                if (AtEnd)
                {
                    throw Error("expected a JSON value, found the end of the text");
                }

                char c = _text[_position];
                switch (c)
                {
                    case '{':
                        return ReadObject(depth);
                    case '[':
                        return ReadArray(depth);
                    case '"':
                        return String(ReadString());
                    case 't':
                        Expect("true");
                        return True;
                    case 'f':
                        Expect("false");
                        return False;
                    case 'n':
                        Expect("null");
                        return Null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9'))
                        {
                            return ReadNumber();
                        }

                        throw Error("expected a JSON value, found '" + c + "'");
                }
            }

            public JsonError Error(string message) => new JsonError(message, _position);

            private JsonValue ReadObject(int depth)
            {
                _position++;
                var properties = new Dictionary<string, JsonValue>(StringComparer.OrdinalIgnoreCase);
                SkipWhitespace();
                if (!AtEnd && _text[_position] == '}')
                {
                    _position++;
                    return new JsonValue(JsonKind.Object, null, null, properties);
                }

                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _text[_position] != '"')
                    {
                        throw Error("expected a property name in quotes");
                    }

                    string name = ReadString();
                    SkipWhitespace();
                    if (AtEnd || _text[_position] != ':')
                    {
                        throw Error("expected ':' after the property name \"" + name + "\"");
                    }

                    _position++;
                    SkipWhitespace();
                    properties[name] = ReadValue(depth + 1);
                    SkipWhitespace();
                    if (!AtEnd && _text[_position] == ',')
                    {
                        _position++;
                        continue;
                    }

                    if (!AtEnd && _text[_position] == '}')
                    {
                        _position++;
                        return new JsonValue(JsonKind.Object, null, null, properties);
                    }

                    throw Error("expected ',' or '}' after the value of \"" + name + "\"");
                }
            }

            private JsonValue ReadArray(int depth)
            {
                _position++;
                var items = new List<JsonValue>();
                SkipWhitespace();
                if (!AtEnd && _text[_position] == ']')
                {
                    _position++;
                    return new JsonValue(JsonKind.Array, null, items, null);
                }

                while (true)
                {
                    SkipWhitespace();
                    items.Add(ReadValue(depth + 1));
                    SkipWhitespace();
                    if (!AtEnd && _text[_position] == ',')
                    {
                        _position++;
                        continue;
                    }

                    if (!AtEnd && _text[_position] == ']')
                    {
                        _position++;
                        return new JsonValue(JsonKind.Array, null, items, null);
                    }

                    throw Error("expected ',' or ']' in the array");
                }
            }

            private string ReadString()
            {
                _position++;
                StringBuilder? built = null;
                int start = _position;
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Error("the string is not closed");
                    }

                    char c = _text[_position];
                    if (c == '"')
                    {
                        string result = built is null ? _text.Substring(start, _position - start) : built.Append(_text, start, _position - start).ToString();
                        _position++;
                        return result;
                    }

                    if (c < ' ')
                    {
                        throw Error("a control character in a string must be escaped");
                    }

                    if (c != '\\')
                    {
                        _position++;
                        continue;
                    }

                    built ??= new StringBuilder();
                    built.Append(_text, start, _position - start);
                    _position++;
                    if (AtEnd)
                    {
                        throw Error("the string is not closed");
                    }

                    char escape = _text[_position++];
                    switch (escape)
                    {
                        case '"': built.Append('"'); break;
                        case '\\': built.Append('\\'); break;
                        case '/': built.Append('/'); break;
                        case 'b': built.Append('\b'); break;
                        case 'f': built.Append('\f'); break;
                        case 'n': built.Append('\n'); break;
                        case 'r': built.Append('\r'); break;
                        case 't': built.Append('\t'); break;
                        case 'u':
                            if (_position + 4 > _text.Length || !ushort.TryParse(_text.Substring(_position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort code))
                            {
                                throw Error("expected four hex digits after \\u");
                            }

                            built.Append((char)code);
                            _position += 4;
                            break;
                        default:
                            _position--;
                            throw Error("unknown escape '\\" + escape + "'");
                    }

                    start = _position;
                }
            }

            private JsonValue ReadNumber()
            {
                int start = _position;
                if (_text[_position] == '-')
                {
                    _position++;
                }

                int digits = SkipDigits();
                if (digits == 0 || (digits > 1 && _text[_position - digits] == '0'))
                {
                    throw Error("bad number");
                }

                if (!AtEnd && _text[_position] == '.')
                {
                    _position++;
                    if (SkipDigits() == 0)
                    {
                        throw Error("expected digits after the decimal point");
                    }
                }

                if (!AtEnd && (_text[_position] == 'e' || _text[_position] == 'E'))
                {
                    _position++;
                    if (!AtEnd && (_text[_position] == '+' || _text[_position] == '-'))
                    {
                        _position++;
                    }

                    if (SkipDigits() == 0)
                    {
                        throw Error("expected digits in the exponent");
                    }
                }

                return new JsonValue(JsonKind.Number, _text.Substring(start, _position - start), null, null);
            }

            private int SkipDigits()
            {
                int start = _position;
                while (!AtEnd && _text[_position] >= '0' && _text[_position] <= '9')
                {
                    _position++;
                }

                return _position - start;
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(_text, _position, word, 0, word.Length) != 0)
                {
                    throw Error("expected a JSON value (true, false, null, a number, a string, an array or an object)");
                }

                _position += word.Length;
            }
        }
    }
}
