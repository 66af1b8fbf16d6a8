using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Threading;
using PortTools.Text;

namespace PortTools
{
    /// <summary>
    /// Reads socket tables from text (ss, netstat, lsof, /proc/net, the module's own CSV and JSON, and
    /// more: see <see cref="SocketTableFormat"/>), one line at a time, so a file of any size is read in
    /// a single pass without holding its text.
    /// </summary>
    /// <remarks>
    /// Feed lines with <see cref="Add"/> and drain results with <see cref="TryRead"/> after each call;
    /// at the end call <see cref="Complete"/> and drain again, since some layouts finish a record only
    /// when the next one starts (netstat -anob owner lines, JSON objects, merged lsof owners). Every
    /// line is accounted for: each yields a socket, a skipped-line result or an error with its line
    /// number, and the parse continues after errors. <see cref="Summary"/> has the counts.
    /// <code>
    /// var parser = new SocketTableParser(SocketTableFormat.Auto);
    /// foreach (string line in lines) { parser.Add(line); while (parser.TryRead(out var r)) Handle(r); }
    /// parser.Complete(); while (parser.TryRead(out var r)) Handle(r);
    /// </code>
    /// </remarks>
    public sealed class SocketTableParser
    {
        private readonly ParseContext _context;
        private readonly FormatDetector _detector = new FormatDetector();
        private TableFormat? _reader;
        private long _lineNumber;
        private bool _completed;

        /// <summary>Creates a parser for a format, or Auto to detect it.</summary>
        /// <param name="format">The layout of the text.</param>
        public SocketTableParser(SocketTableFormat format = SocketTableFormat.Auto)
            : this(new SocketTableParserOptions { Format = format })
        {
        }

        /// <summary>Creates a parser with options.</summary>
        /// <param name="options">The format and per-format settings.</param>
        /// <param name="cancellationToken">Stops <see cref="ReadAll"/> between lines.</param>
        public SocketTableParser(SocketTableParserOptions options, CancellationToken cancellationToken = default)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            _context = new ParseContext(options, cancellationToken);
            if (options.Format != SocketTableFormat.Auto)
            {
                UseFormat(options.Format);
            }
        }

        /// <summary>The format in use: the one given, or the one detected so far (Auto until then).</summary>
        public SocketTableFormat Format => _context.Format;

        /// <summary>The counts so far; final after <see cref="Complete"/>.</summary>
        public SocketTableSummary Summary => new SocketTableSummary(
            _context.Format, _lineNumber, _context.LinesParsed, _context.LinesSkipped, _context.LinesFailed, _context.Sockets, _context.OtherProtocolLines);

        /// <summary>
        /// Reads the next line. A string holding line breaks (Get-Content -Raw) counts as several lines;
        /// a final line break does not start another line.
        /// </summary>
        /// <param name="text">A line, without or with its line break.</param>
        /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
        public void Add(string text)
        {
            if (text is null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            if (_completed)
            {
                throw new InvalidOperationException("The input is complete: create a new SocketTableParser for more text.");
            }

            int newline = text.IndexOf('\n');
            if (newline < 0)
            {
                AddLine(text);
                return;
            }

            int start = 0;
            while (newline >= 0)
            {
                AddLine(text.Substring(start, newline - start));
                start = newline + 1;
                newline = start < text.Length ? text.IndexOf('\n', start) : -1;
            }

            if (start < text.Length)
            {
                AddLine(text.Substring(start));
            }
        }

        /// <summary>Takes the next result, if any.</summary>
        /// <param name="result">The result.</param>
        /// <returns>Whether there was one.</returns>
        public bool TryRead(out SocketTableResult result) => _context.TryDequeue(out result);

        /// <summary>Ends the input: records still open are finished (or reported) and their results queued.</summary>
        public void Complete()
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (!_context.Stopped)
            {
                _reader?.Complete();
            }

            _context.ReleaseHeld();
        }

        /// <summary>
        /// Reads a whole reader (a file, for instance) line by line, yielding results as they come, and
        /// completes the input at its end. The reader is read lazily: nothing is held but the current line
        /// and any open record.
        /// </summary>
        /// <param name="reader">The text.</param>
        /// <returns>The results, in order.</returns>
        /// <exception cref="OperationCanceledException">The cancellation token was signalled.</exception>
        public IEnumerable<SocketTableResult> ReadAll(TextReader reader)
        {
            if (reader is null)
            {
                throw new ArgumentNullException(nameof(reader));
            }

            return _context.Options.KeepSocketLines ? ReadAllIterator(reader) : ReadBufferedIterator(reader);
        }

        /// <summary>Parses a whole text, stopping at the first error.</summary>
        /// <param name="text">The text, lines separated by line breaks.</param>
        /// <param name="format">Its layout, or Auto.</param>
        /// <returns>The sockets.</returns>
        /// <exception cref="FormatException">A line cannot be read; the message names the line, its text and what was expected.</exception>
        public static IReadOnlyList<SocketTuple> Parse(string text, SocketTableFormat format = SocketTableFormat.Auto)
        {
            if (!TryParse(text, format, out IReadOnlyList<SocketTuple>? sockets, out string? error))
            {
                throw new FormatException(error);
            }

            return sockets;
        }

        /// <summary>Parses a whole text.</summary>
        /// <param name="text">The text.</param>
        /// <param name="format">Its layout, or Auto.</param>
        /// <param name="sockets">The sockets, when every line could be read.</param>
        /// <returns>Whether every line could be read.</returns>
        public static bool TryParse(string? text, SocketTableFormat format, [NotNullWhen(true)] out IReadOnlyList<SocketTuple>? sockets) =>
            TryParse(text, format, out sockets, out _);

        internal static bool TryParse(string? text, SocketTableFormat format, [NotNullWhen(true)] out IReadOnlyList<SocketTuple>? sockets, [NotNullWhen(false)] out string? error)
        {
            sockets = null;
            var parser = new SocketTableParser(format);
            parser.Add(text ?? string.Empty);
            parser.Complete();
            var list = new List<SocketTuple>();
            while (parser.TryRead(out SocketTableResult result))
            {
                if (result.Kind is SocketTableResultKind.Error or SocketTableResultKind.NotATable)
                {
                    error = DescribeError(result);
                    return false;
                }

                if (result.Socket is not null)
                {
                    list.Add(result.Socket);
                }
            }

            if (parser._reader is null && list.Count == 0 && !string.IsNullOrWhiteSpace(text))
            {
                error = "Cannot parse the socket table: no line shows which format it is.";
                return false;
            }

            sockets = list;
            error = null;
            return true;
        }

        /// <summary>"Line 7 ('tcp 0 0 x'): expected ..." for messages that stand alone.</summary>
        internal static string DescribeError(SocketTableResult result) =>
            "Line " + ParseContext.Number(result.LineNumber) + " ('" + result.Line + "'): " + result.Message;

        private IEnumerable<SocketTableResult> ReadAllIterator(TextReader reader)
        {
            string? line;
            while (!_context.Stopped && (line = reader.ReadLine()) is not null)
            {
                if ((_lineNumber & 0x3FF) == 0)
                {
                    _context.Cancellation.ThrowIfCancellationRequested();
                }

                AddLine(line);
                while (_context.TryDequeue(out SocketTableResult result))
                {
                    yield return result;
                }
            }

            Complete();
            while (_context.TryDequeue(out SocketTableResult result))
            {
                yield return result;
            }
        }

        /// <summary>As <see cref="ReadAllIterator"/>, with lines read into a reused buffer (see SocketTableParserOptions.KeepSocketLines).</summary>
        private IEnumerable<SocketTableResult> ReadBufferedIterator(TextReader reader)
        {
            var lines = new LineBuffer(reader);
            while (!_context.Stopped)
            {
                if ((_lineNumber & 0x3FF) == 0)
                {
                    _context.Cancellation.ThrowIfCancellationRequested();
                }

                if (!AddBufferedLine(lines))
                {
                    break;
                }

                while (_context.TryDequeue(out SocketTableResult result))
                {
                    yield return result;
                }
            }

            Complete();
            while (_context.TryDequeue(out SocketTableResult result))
            {
                yield return result;
            }
        }

        private bool AddBufferedLine(LineBuffer lines)
        {
            if (!lines.TryRead(out ReadOnlySpan<char> line))
            {
                return false;
            }

            if (_reader is null)
            {
                AddLine(line.ToString()); // the format is detected on strings, from the first lines alone
                return true;
            }

            _lineNumber++;
            while (line.Length > 0 && line[0] == '\uFEFF')
            {
                line = line.Slice(1);
            }

            _reader.Read(line, _lineNumber);
            return true;
        }

        private void AddLine(string line)
        {
            if (_context.Stopped)
            {
                return;
            }

            _lineNumber++;
            if (line.Length > 0 && (line[0] == '\uFEFF' || line[line.Length - 1] == '\r'))
            {
                line = line.TrimStart('\uFEFF').TrimEnd('\r');
            }

            if (_reader is not null)
            {
                _reader.Read(line, _lineNumber);
                return;
            }

            if (TokenReader.IsBlankLine(line))
            {
                _context.Skip(_lineNumber, line, "blank line");
                return;
            }

            switch (_detector.Detect(line, out SocketTableFormat detected, out string? reason))
            {
                case Detection.Format:
                    UseFormat(detected);
                    _reader!.Read(line, _lineNumber);
                    break;
                case Detection.Banner:
                    _context.Skip(_lineNumber, line, reason!);
                    break;
                case Detection.OtherProtocol:
                    _context.SkipOtherProtocol(_lineNumber, line, reason!);
                    break;
                default:
                    _context.Fail(_lineNumber, line, reason!);
                    break;
            }
        }

        private void UseFormat(SocketTableFormat format)
        {
            _context.SetFormat(format);
            _reader = TableFormat.Create(format, _context);
        }
    }
}
