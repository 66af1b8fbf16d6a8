using System;
using System.Text;

namespace PortTools.Text
{
    /// <summary>
    /// ConvertTo-Json output of Get-SocketTuple, Get-NetTCPConnection or Get-NetUDPEndpoint: an array of
    /// objects, a single object, or objects one after another (one compressed object per line).
    /// </summary>
    /// <remarks>
    /// Read incrementally: a small scanner follows strings and nesting across lines and collects the
    /// text of one top-level object (or array element) at a time; when it closes, that object alone is
    /// parsed (JsonValue) and mapped (ExportRecords). So memory holds one object, never the document.
    /// The object's lines are counted when it closes; lines holding only brackets and commas are
    /// skipped. An object larger than 8 MB is reported as an error and passed over.
    /// </remarks>
    internal sealed class JsonFormat : TableFormat
    {
        private const int MaxObjectChars = 8 * 1024 * 1024;
        private readonly StringBuilder _object = new StringBuilder();
        private int _depth;
        private bool _inString;
        private bool _escape;
        private bool _inArray;
        private long _arrayLine;
        private string _arrayText = string.Empty;
        private bool _capturing;
        private bool _discarding;
        private int _objectDepth;
        private long _objectLine;
        private string _objectText = string.Empty;
        private long _lastCounted;
        private long _lastLine;

        public JsonFormat(ParseContext context)
            : base(context)
        {
        }

        public override void Read(string line, long lineNumber)
        {
            _lastLine = lineNumber;
            bool touched = _capturing || _discarding;
            string? error = null;
            for (int i = 0; i <= line.Length && error is null; i++)
            {
                char c = i < line.Length ? line[i] : '\n';
                if (_capturing)
                {
                    if (_object.Length >= MaxObjectChars)
                    {
                        _capturing = false;
                        _discarding = true;
                        _object.Clear();
                        Context.Fail(_objectLine, _objectText, "the JSON object that starts on this line is larger than 8 MB (or never closes)", Settle(lineNumber));
                    }
                    else
                    {
                        _object.Append(c);
                    }
                }

                if (_inString)
                {
                    if (_escape)
                    {
                        _escape = false;
                    }
                    else if (c == '\\')
                    {
                        _escape = true;
                    }
                    else if (c == '"')
                    {
                        _inString = false;
                    }

                    continue;
                }

                bool inObject = _capturing || _discarding;
                switch (c)
                {
                    case ' ':
                    case '\t':
                    case '\r':
                    case '\n':
                        break;
                    case '"':
                        if (!inObject)
                        {
                            error = "expected a JSON object, found a string";
                        }

                        _inString = true;
                        break;
                    case '{':
                        if (!inObject)
                        {
                            if (_depth != (_inArray ? 1 : 0))
                            {
                                error = "expected a JSON object or array of objects, found a nested '{'";
                                break;
                            }

                            _capturing = true;
                            touched = true;
                            _objectDepth = _depth;
                            _objectLine = lineNumber;
                            _objectText = line;
                            _object.Clear().Append('{');
                        }

                        _depth++;
                        break;
                    case '[':
                        if (!inObject)
                        {
                            if (_depth != 0)
                            {
                                error = "expected a JSON object, found an array";
                                break;
                            }

                            _inArray = true;
                            _arrayLine = lineNumber;
                            _arrayText = line;
                        }

                        _depth++;
                        break;
                    case '}':
                    case ']':
                        if (_depth == 0)
                        {
                            error = "found '" + c + "' with nothing open";
                            break;
                        }

                        _depth--;
                        if (inObject && _depth == _objectDepth)
                        {
                            if (c != '}')
                            {
                                error = "the object is closed with ']'";
                            }

                            if (_capturing)
                            {
                                EndObject(lineNumber);
                            }
                            else
                            {
                                Context.FailedLines(Settle(lineNumber));
                            }

                            _capturing = false;
                            _discarding = false;
                        }
                        else if (!inObject && _inArray && _depth == 0)
                        {
                            _inArray = false;
                        }

                        break;
                    case ',':
                        if (!inObject && !(_inArray && _depth == 1))
                        {
                            error = "found ',' outside an array";
                        }

                        break;
                    default:
                        if (!inObject)
                        {
                            error = "expected a JSON object, found '" + c + "'";
                        }

                        break;
                }
            }

            if (error is not null)
            {
                bool counted = _lastCounted >= lineNumber;
                _lastCounted = lineNumber;
                Context.Fail(lineNumber, line, error, counted ? 0 : 1);
                return;
            }

            if (!touched && _lastCounted < lineNumber)
            {
                _lastCounted = lineNumber;
                Context.Skip(lineNumber, line, TokenReader.IsBlankLine(line) ? "blank line" : "JSON punctuation");
            }
        }

        public override void Complete()
        {
            bool reported = _capturing;
            if (_capturing)
            {
                Context.Fail(_objectLine, _objectText, "the JSON object that starts on this line is not closed at the end of the input", Settle(_lastLine));
            }
            else if (_discarding)
            {
                Context.FailedLines(Settle(_lastLine));
            }

            _capturing = false;
            _discarding = false;
            if (_inArray && !reported)
            {
                Context.Fail(_arrayLine, _arrayText, "the JSON array that starts on this line is not closed at the end of the input", 0);
            }
        }

        private void EndObject(long lineNumber)
        {
            string text = _object.ToString();
            _object.Clear();
            string source = Context.Source(_objectLine);
            if (!JsonValue.TryParse(text, out JsonValue? value, out string? error, out int offset))
            {
                Context.Fail(_objectLine, _objectText, error + " (line " + ParseContext.Number(_objectLine + CountLines(text, offset)) + ")", Settle(lineNumber));
                return;
            }

            var record = new ObjectRecord(value!);
            ExportKind kind = ExportRecords.Classify(name => value![name] is not null);
            if (kind == ExportKind.Unknown)
            {
                Context.Fail(_objectLine, _objectText, "expected an object with LocalAddress and LocalPort (Get-NetTCPConnection, Get-NetUDPEndpoint) or Protocol and Local (Get-SocketTuple)", Settle(lineNumber));
                return;
            }

            if (!ExportRecords.TryMap(record, kind, Context.Options.Protocol, Context, source, out SocketTuple? socket, out error))
            {
                Context.Fail(_objectLine, _objectText, error, Settle(lineNumber));
                return;
            }

            Context.Parsed(Settle(lineNumber));
            Context.Emit(socket, _objectLine, _objectText);
        }

        /// <summary>How many of the object's lines are not counted yet (a line shared with an earlier object was counted with it); marks them counted.</summary>
        private int Settle(long lineNumber)
        {
            long first = Math.Max(_objectLine, _lastCounted + 1);
            int lines = (int)Math.Max(0, lineNumber - first + 1);
            _lastCounted = Math.Max(_lastCounted, lineNumber);
            return lines;
        }

        private static long CountLines(string text, int offset)
        {
            long lines = 0;
            for (int i = 0; i < offset && i < text.Length; i++)
            {
                lines += text[i] == '\n' ? 1 : 0;
            }

            return lines;
        }

        private sealed class ObjectRecord : IFieldRecord
        {
            private readonly JsonValue _value;

            public ObjectRecord(JsonValue value) => _value = value;

            public JsonValue? Get(string name) => _value[name];
        }
    }
}
