using System;
using System.Collections.Generic;
using System.Text;

namespace PortTools.Text
{
    /// <summary>
    /// Export-Csv / ConvertTo-Csv text (RFC 4180 quoting, as PowerShell writes it): an optional
    /// "#TYPE name" line (Windows PowerShell 5.1 writes it by default), a header row of property names,
    /// then one row per object. The delimiter is taken from the header (',' by default, ';' or a tab
    /// with -Delimiter or -UseCulture). A quoted field may span lines.
    /// </summary>
    /// <remarks>
    /// The header says whose objects these are (ExportRecords): Get-SocketTuple, or Get-NetTCPConnection /
    /// Get-NetUDPEndpoint (TCP unless the #TYPE line, the CimClass column or the options say UDP, or
    /// there is neither a State nor a RemotePort column). A repeated header (concatenated exports) is
    /// skipped.
    /// </remarks>
    internal sealed class CsvFormat : TableFormat
    {
        private const int MaxRecordLines = 1000;
        private readonly List<string> _fields = new List<string>(32);
        private readonly StringBuilder _pending = new StringBuilder();
        private string[]? _header;
        private Dictionary<string, int>? _columns;
        private ExportKind _kind;
        private char _delimiter = ',';
        private TransportProtocol? _typeProtocol;
        private long _pendingStart;
        private string _pendingFirstLine = string.Empty;
        private int _pendingLines;

        public CsvFormat(ParseContext context)
            : base(context)
        {
        }

        public override void Read(string line, long lineNumber)
        {
            if (_pendingLines > 0)
            {
                _pending.Append('\n').Append(line);
                _pendingLines++;
                if (QuotesBalanced(_pending) || _pendingLines >= MaxRecordLines)
                {
                    string record = _pending.ToString();
                    int lines = _pendingLines;
                    _pending.Clear();
                    _pendingLines = 0;
                    if (!QuotesBalanced(record))
                    {
                        Context.Fail(_pendingStart, _pendingFirstLine, "a quoted field that starts on this line is not closed within " + ParseContext.Number(MaxRecordLines) + " lines", lines);
                        return;
                    }

                    ReadRecord(record, _pendingStart, _pendingFirstLine, lines);
                }

                return;
            }

            if (TokenReader.IsBlankLine(line))
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (line.StartsWith("#TYPE", StringComparison.Ordinal))
            {
                if (line.IndexOf("MSFT_NetUDPEndpoint", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    _typeProtocol = TransportProtocol.Udp;
                }
                else if (line.IndexOf("MSFT_NetTCPConnection", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    _typeProtocol = TransportProtocol.Tcp;
                }

                Context.Skip(lineNumber, line, "type information line");
                return;
            }

            if (!QuotesBalanced(line))
            {
                _pending.Append(line);
                _pendingLines = 1;
                _pendingStart = lineNumber;
                _pendingFirstLine = line;
                return;
            }

            ReadRecord(line, lineNumber, line, 1);
        }

        public override void Complete()
        {
            if (_pendingLines > 0)
            {
                Context.Fail(_pendingStart, _pendingFirstLine, "a quoted field that starts on this line is not closed at the end of the input", _pendingLines);
                _pendingLines = 0;
            }
        }

        private static bool QuotesBalanced(string text) => Count(text) % 2 == 0;

        private static bool QuotesBalanced(StringBuilder text)
        {
            int count = 0;
            for (int i = 0; i < text.Length; i++)
            {
                count += text[i] == '"' ? 1 : 0;
            }

            return count % 2 == 0;
        }

        private static int Count(string text)
        {
            int count = 0;
            foreach (char c in text)
            {
                count += c == '"' ? 1 : 0;
            }

            return count;
        }

        private void ReadRecord(string record, long lineNumber, string firstLine, int lines)
        {
            if (_header is null)
            {
                _delimiter = DetectDelimiter(record);
            }

            if (!Split(record, _delimiter, _fields, out string? splitError))
            {
                Context.Fail(lineNumber, firstLine, splitError!, lines);
                return;
            }

            if (_header is null)
            {
                var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                for (int i = 0; i < _fields.Count; i++)
                {
                    columns[_fields[i].Trim()] = i;
                }

                ExportKind kind = ExportRecords.Classify(columns.ContainsKey);
                if (kind == ExportKind.Unknown)
                {
                    Context.Fail(lineNumber, firstLine, "expected a CSV header naming LocalAddress and LocalPort (Get-NetTCPConnection, Get-NetUDPEndpoint) or Protocol and Local (Get-SocketTuple)", lines);
                    return;
                }

                _header = _fields.ToArray();
                _columns = columns;
                _kind = kind;
                Context.Skip(lineNumber, firstLine, "header", lines);
                return;
            }

            if (IsHeader())
            {
                Context.Skip(lineNumber, firstLine, "header", lines);
                return;
            }

            if (_fields.Count != _header.Length)
            {
                Context.Fail(lineNumber, firstLine, "expected " + ParseContext.Number(_header.Length) + " fields as in the header, found " + ParseContext.Number(_fields.Count), lines);
                return;
            }

            var row = new Row(_columns!, _fields);
            if (!ExportRecords.TryMap(row, _kind, Context.Options.Protocol ?? _typeProtocol, Context, Context.Source(lineNumber), out SocketTuple? socket, out string? error))
            {
                Context.Fail(lineNumber, firstLine, error, lines);
                return;
            }

            Context.Parsed(lines);
            Context.Emit(socket, lineNumber, firstLine);
        }

        private bool IsHeader()
        {
            if (_fields.Count != _header!.Length)
            {
                return false;
            }

            for (int i = 0; i < _fields.Count; i++)
            {
                if (!string.Equals(_fields[i], _header[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        private static char DetectDelimiter(string header)
        {
            int i = 0;
            if (header.Length > 0 && header[0] == '"')
            {
                i = header.IndexOf('"', 1) + 1;
                return i > 0 && i < header.Length ? header[i] : ',';
            }

            for (; i < header.Length; i++)
            {
                if (header[i] == ',' || header[i] == ';' || header[i] == '\t')
                {
                    return header[i];
                }
            }

            return ',';
        }

        /// <summary>Splits one record; a field in quotes may hold the delimiter, line breaks and doubled quotes.</summary>
        private static bool Split(string record, char delimiter, List<string> fields, out string? error)
        {
            fields.Clear();
            error = null;
            var field = new StringBuilder();
            int i = 0;
            while (true)
            {
                field.Clear();
                if (i < record.Length && record[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= record.Length)
                        {
                            error = "a quoted field is not closed";
                            return false;
                        }

                        if (record[i] == '"')
                        {
                            if (i + 1 < record.Length && record[i + 1] == '"')
                            {
                                field.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        field.Append(record[i++]);
                    }

                    if (i < record.Length && record[i] != delimiter)
                    {
                        error = "expected '" + delimiter + "' after the quoted field \"" + field + "\", found '" + record[i] + "'";
                        return false;
                    }
                }
                else
                {
                    while (i < record.Length && record[i] != delimiter)
                    {
                        field.Append(record[i++]);
                    }
                }

                fields.Add(field.ToString());
                if (i >= record.Length)
                {
                    return true;
                }

                i++; // the delimiter
            }
        }

        private sealed class Row : IFieldRecord
        {
            private readonly Dictionary<string, int> _columns;
            private readonly List<string> _values;

            public Row(Dictionary<string, int> columns, List<string> values)
            {
                _columns = columns;
                _values = values;
            }

            public JsonValue? Get(string name)
            {
                if (!_columns.TryGetValue(name, out int index))
                {
                    return null;
                }

                string value = _values[index];
                return value.Length == 0 ? JsonValue.Null : JsonValue.String(value);
            }
        }
    }
}
