using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Threading;
using PortTools.Linux;

namespace PortTools.Text
{
    /// <summary>
    /// What every format reader writes to: the result queue, the line counters, and the caches that
    /// keep one IPAddress, name and owner object per distinct value instead of one per line.
    /// </summary>
    internal sealed class ParseContext
    {
        private readonly Queue<SocketTableResult> _results = new Queue<SocketTableResult>();

        // Before the first socket, results wait here once a line has failed, so that text which is not a
        // socket table ends in one NotATable result rather than an error per line.
        private readonly Queue<SocketTableResult> _held = new Queue<SocketTableResult>();
        private int _heldFailures;
        private readonly Dictionary<int, SocketOwner> _owners = new Dictionary<int, SocketOwner>();
        private readonly char[] _sourceBuffer = new char[48];
        private readonly Dictionary<int, SocketOwnerList> _singleOwners = new Dictionary<int, SocketOwnerList>();
        private readonly RecentAddresses _addresses = new RecentAddresses();

        // Exported rows (CSV, JSON, property bags) repeat the same addresses, owners and namespaces as text:
        // each text is parsed once while it is recent. The results are immutable or, for addresses, shared
        // as RecentAddresses shares them.
        private readonly RecentTexts<IPAddress> _addressTexts = new RecentTexts<IPAddress>();
        private readonly RecentTexts<SocketOwnerList> _ownerTexts = new RecentTexts<SocketOwnerList>();
        private readonly RecentTexts<NetworkNamespaceInfo> _namespaceTexts = new RecentTexts<NetworkNamespaceInfo>();
        private int _sourcePrefixLength;

        public ParseContext(SocketTableParserOptions options, CancellationToken cancellation)
        {
            Options = options;
            Cancellation = cancellation;
        }

        public SocketTableParserOptions Options { get; }

        public CancellationToken Cancellation { get; }

        /// <summary>The computer the text was read on, stamped on every socket; null leaves what the text says.</summary>
        public string? ComputerName => Options.ComputerName;

        public StringPool Names { get; } = new StringPool();

        public SocketTableFormat Format { get; private set; }

        public long LinesParsed { get; private set; }

        public long LinesSkipped { get; private set; }

        public long LinesFailed { get; private set; }

        public long Sockets { get; private set; }

        public long OtherProtocolLines { get; private set; }

        public int Pending => _results.Count;

        public void SetFormat(SocketTableFormat format)
        {
            Format = format;
            string prefix = SourceName(format) + ":";
            prefix.CopyTo(0, _sourceBuffer, 0, prefix.Length);
            _sourcePrefixLength = prefix.Length;
        }

        public static string SourceName(SocketTableFormat format) => format switch
        {
            SocketTableFormat.Canonical => "canonical",
            SocketTableFormat.Ss => "ss",
            SocketTableFormat.NetstatLinux => "netstat-linux",
            SocketTableFormat.NetstatWindows => "netstat-windows",
            SocketTableFormat.NetstatBsd => "netstat-bsd",
            SocketTableFormat.ProcNet => "proc-net",
            SocketTableFormat.Lsof => "lsof",
            SocketTableFormat.LsofFields => "lsof-fields",
            SocketTableFormat.Csv => "csv",
            SocketTableFormat.Json => "json",
            _ => "text",
        };

        /// <summary>"ss:12": one string per socket, built without intermediate strings.</summary>
        public string Source(long lineNumber)
        {
            int length = _sourcePrefixLength;
            Span<char> digits = stackalloc char[20];
            int count = 0;
            do
            {
                digits[count++] = (char)('0' + (int)(lineNumber % 10));
                lineNumber /= 10;
            }
            while (lineNumber > 0);

            while (count > 0)
            {
                _sourceBuffer[length++] = digits[--count];
            }

            return new string(_sourceBuffer, 0, length);
        }

        /// <summary>One IPAddress object per address (and link-local scope) seen recently: see <see cref="RecentAddresses"/>.</summary>
        public IPAddress Address(ReadOnlySpan<byte> bytes, uint scopeId = 0) => _addresses.Get(bytes, scopeId);

        /// <summary>A process name as the live reader would give it (see <see cref="ProcessNameText"/>), pooled.</summary>
        public string ProcessName(ReadOnlySpan<char> name) => ProcessNameText.TryNormalize(name, out string normalized) ? Names.Get(normalized.AsSpan()) : Names.Get(name);

        /// <summary>An address from its text, as <see cref="IPAddressText.TryParse(string?, out IPAddress?)"/> reads it; one object per recent text.</summary>
        public bool TryAddress(string text, [NotNullWhen(true)] out IPAddress? address) =>
            _addressTexts.TryGet(text, out address) || _addressTexts.TryAdd(text, IPAddressText.TryParse(text, out address) ? address : null, out address);

        /// <summary>Owners from their text, as <see cref="SocketOwnerList.TryParse"/> reads them; one list per recent text.</summary>
        public bool TryOwners(string text, [NotNullWhen(true)] out SocketOwnerList? owners) =>
            _ownerTexts.TryGet(text, out owners) || _ownerTexts.TryAdd(text, SocketOwnerList.TryParse(text, out owners) ? owners : null, out owners);

        /// <summary>A network namespace from its text, as <see cref="NetworkNamespaceInfo.TryParse"/> reads it; one object per recent text.</summary>
        public bool TryNetworkNamespace(string text, [NotNullWhen(true)] out NetworkNamespaceInfo? space) =>
            _namespaceTexts.TryGet(text, out space) || _namespaceTexts.TryAdd(text, NetworkNamespaceInfo.TryParse(text, out space) ? space : null, out space);

        /// <summary>One owner object per process id and name.</summary>
        public SocketOwner Owner(int processId, string? processName)
        {
            if (_owners.TryGetValue(processId, out SocketOwner? owner) && ReferenceEquals(owner.ProcessName, processName))
            {
                return owner;
            }

            owner = new SocketOwner(processId, processName);
            if (_owners.Count < 65536)
            {
                _owners[processId] = owner;
            }

            return owner;
        }

        /// <summary>The list of one owner, shared by every socket of that owner (a list is immutable).</summary>
        public SocketOwnerList SingleOwner(SocketOwner owner)
        {
            if (_singleOwners.TryGetValue(owner.ProcessId, out SocketOwnerList? list) && ReferenceEquals(list[0], owner))
            {
                return list;
            }

            list = SocketOwnerList.Wrap(new[] { owner });
            if (_singleOwners.Count < 65536)
            {
                _singleOwners[owner.ProcessId] = list;
            }

            return list;
        }

        /// <summary>Whether the text was taken as not a socket table: nothing more is read.</summary>
        public bool Stopped { get; private set; }

        public void Emit(SocketTuple socket, long lineNumber, string line)
        {
            Sockets++;
            ReleaseHeld();
            _results.Enqueue(new SocketTableResult(SocketTableResultKind.Socket, lineNumber, line, socket, null));
        }

        /// <summary>Counts lines that belong to a socket record (emitted now or later).</summary>
        public void Parsed(int lines = 1)
        {
            LinesParsed += lines;
            if (_held.Count > 0)
            {
                ReleaseHeld();
            }
        }

        public void Skip(long lineNumber, string line, string reason, int lines = 1)
        {
            LinesSkipped += lines;
            (_held.Count > 0 ? _held : _results).Enqueue(new SocketTableResult(SocketTableResultKind.Skipped, lineNumber, line, null, reason));
        }

        /// <summary>Skips a line that describes a socket of another kind (unix, raw, sctp...).</summary>
        public void SkipOtherProtocol(long lineNumber, string line, string kind, int lines = 1)
        {
            OtherProtocolLines += lines;
            Skip(lineNumber, line, "not a TCP or UDP socket: " + kind, lines);
        }

        /// <summary>Reports an error for a record; <paramref name="lines"/> counts the lines it spans.</summary>
        public void Fail(long lineNumber, string line, string message, int lines = 1)
        {
            LinesFailed += lines;
            var error = new SocketTableResult(SocketTableResultKind.Error, lineNumber, line, null, message);
            int limit = Options.MaxLeadingFailures;
            if (Sockets > 0 || LinesParsed > 0 || limit <= 0)
            {
                _results.Enqueue(error);
                return;
            }

            _held.Enqueue(error);
            if (++_heldFailures < limit)
            {
                return;
            }

            SocketTableResult first = default;
            foreach (SocketTableResult held in _held)
            {
                if (held.Kind == SocketTableResultKind.Error)
                {
                    first = held;
                    break;
                }
            }

            _held.Clear();
            Stopped = true;
            string count = Number(limit);
            _results.Enqueue(new SocketTableResult(
                SocketTableResultKind.NotATable,
                first.LineNumber,
                first.Line,
                null,
                "This is not a socket table" + (Format == SocketTableFormat.Auto ? string.Empty : " in the " + SourceName(Format) + " layout") + ": " + count + " lines failed and none gave a socket, so reading stopped at line " + Number(lineNumber)
                    + ". The first that failed was line " + Number(first.LineNumber) + " ('" + first.Line + "'): " + first.Message + (first.Message is string m && m.EndsWith(".", StringComparison.Ordinal) ? string.Empty : ".")
                    + " Give the layout with -Format if it is a table, or add -Force to read every line and report each one that fails."));
        }

        /// <summary>The end of the input: results held back while no socket was read go out as they are.</summary>
        public void ReleaseHeld()
        {
            while (_held.Count > 0)
            {
                _results.Enqueue(_held.Dequeue());
            }

            _heldFailures = 0;
        }

        /// <summary>Counts more lines of a record whose error was already reported.</summary>
        public void FailedLines(int lines) => LinesFailed += lines;

        public bool TryDequeue(out SocketTableResult result)
        {
            if (_results.Count > 0)
            {
                result = _results.Dequeue();
                return true;
            }

            result = default;
            return false;
        }

        public static string Quote(ReadOnlySpan<char> token) => "'" + token.ToString() + "'";

        public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// What texts parsed to, while they are recent: at most <see cref="Capacity"/> texts, forgotten all at
    /// once when full, so that a long run of distinct texts costs a bounded memory. Texts that did not parse
    /// are not kept (each is parsed again, and its error said again).
    /// </summary>
    /// <typeparam name="T">What a text parses to.</typeparam>
    internal sealed class RecentTexts<T>
        where T : class
    {
        public const int Capacity = 4096;

        private readonly Dictionary<string, T> _parsed = new Dictionary<string, T>(StringComparer.Ordinal);

        public bool TryGet(string text, [NotNullWhen(true)] out T? value) => _parsed.TryGetValue(text, out value);

        /// <summary>Keeps what a text parsed to, when it parsed.</summary>
        /// <param name="text">The text.</param>
        /// <param name="parsed">What it parsed to, or null when it did not parse.</param>
        /// <param name="value">The same as <paramref name="parsed"/>.</param>
        /// <returns>Whether it parsed.</returns>
        public bool TryAdd(string text, T? parsed, [NotNullWhen(true)] out T? value)
        {
            value = parsed;
            if (value is null)
            {
                return false;
            }

            if (_parsed.Count >= Capacity)
            {
                _parsed.Clear();
            }

            _parsed[text] = value;
            return true;
        }
    }
}
