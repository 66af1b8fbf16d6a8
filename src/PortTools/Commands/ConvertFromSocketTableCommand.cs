using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// ConvertFrom-SocketTable: sockets from text other tools wrote (ss, netstat, lsof, /proc/net,
    /// PowerShell exports) and from objects that carry sockets (Import-Csv, ConvertFrom-Json,
    /// deserialized remoting results). Lines stream through the parser; nothing is held whole. With
    /// -Protocol Unix, the UNIX domain sockets of ss -x, netstat -x, lsof -U and /proc/net/unix text
    /// instead (UnixSocket objects, written when the input ends, with their peers resolved).
    /// </summary>
    [Cmdlet(VerbsData.ConvertFrom, "SocketTable", DefaultParameterSetName = InputSet)]
    [OutputType(typeof(SocketTuple))]
    [OutputType(typeof(UnixSocket))]
    public sealed class ConvertFromSocketTableCommand : PortToolsCmdlet
    {
        private const string InputSet = "InputObject";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string LineErrorId = "SocketTableLineNotParsed";

        private SocketTableParser? _parser;
        private UnixSocketTableParser? _unixParser;
        private long _unixLinesSkipped;
        private readonly Stopwatch _progressClock = Stopwatch.StartNew();
        private int _objects;

        // One for the whole pipeline: it learns each kind of property bag once (see PropertyBagReader).
        private readonly PropertyBagReader? _bags = PropertyBagReader.IsAvailable ? new PropertyBagReader() : null;

        /// <summary>Lines of text (for example from Get-Content), or objects that carry sockets.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputSet)]
        [AllowEmptyString]
        [AllowNull]
        public PSObject?[] InputObject { get; set; } = Array.Empty<PSObject?>();

        /// <summary>Files to read, with wildcards.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [SupportsWildcards]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Files to read, taken literally.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>The text format; Auto (the default) detects it from the header or the shape of the lines.</summary>
        [Parameter]
        public SocketTableFormat Format { get; set; } = SocketTableFormat.Auto;

        /// <summary>The protocol, for formats whose lines do not say (a /proc/net file, ss -tan without the Netid column); Unix reads the UNIX domain sockets of the text instead, as UnixSocket objects.</summary>
        [Parameter]
        public SocketProtocol? Protocol { get; set; }

        private bool Unix => Protocol == SocketProtocol.Unix;

        /// <summary>The byte order of the host that wrote /proc/net text (LittleEndian unless it came from a big-endian machine).</summary>
        [Parameter]
        public ProcNetByteOrder ProcNetByteOrder { get; set; } = ProcNetByteOrder.LittleEndian;

        /// <summary>The computer the table was read on, set as every socket's ComputerName (over any the input carries).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ComputerName { get; set; }

        /// <summary>
        /// Reads every line, however many fail. Without it, text whose first 50 failing lines give no
        /// socket is taken as not a socket table: one SocketTableNotRecognized error, and reading stops.
        /// </summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (ParameterSetName != InputSet)
            {
                foreach (string path in ResolvePaths())
                {
                    ReadFile(path);
                }

                return;
            }

            foreach (PSObject? item in InputObject)
            {
                object? value = PowerShellObjects.Unwrap(item);
                switch (value)
                {
                    case null:
                        continue;
                    case string line when Unix:
                        UnixParser().Add(line);
                        DrainUnix(UnixParser(), null);
                        break;
                    case string line:
                        Parser().Add(line);
                        Drain(null);
                        break;
                    case FileInfo file:
                        // Get-ChildItem *.txt | ConvertFrom-SocketTable reads the files, as -LiteralPath would.
                        ReadFile(file.FullName);
                        break;
                    case DirectoryInfo directory:
                        WriteError(DirectoryError(directory.FullName, item));
                        break;
                    case object when Unix:
                        if (PowerShellObjects.TryConvertUnixSocket(item, out UnixSocket? unixSocket, out string? unixError))
                        {
                            WriteObject(ComputerName is null ? unixSocket : unixSocket.WithComputerName(ComputerName));
                        }
                        else
                        {
                            WriteError(new ErrorRecord(new ArgumentException("Input object " + (_objects + 1) + " is not a UNIX socket: " + unixError + "."), "InputObjectNotASocket", ErrorCategory.InvalidData, item));
                        }

                        _objects++;
                        break;
                    default:
                        // An object that is (or carries) a socket passes through the converter, not the text parser.
                        if (PowerShellObjects.TryConvertSocket(item, out SocketTuple? socket, out string? error, _bags))
                        {
                            WriteObject(ComputerName is null ? socket : socket.WithComputerName(ComputerName));
                        }
                        else
                        {
                            WriteError(new ErrorRecord(new ArgumentException("Input object " + (_objects + 1) + " is not a socket: " + error + "."), "InputObjectNotASocket", ErrorCategory.InvalidData, item));
                        }

                        _objects++;
                        break;
                }
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            if (_unixParser is not null)
            {
                _unixParser.Complete();
                DrainUnix(_unixParser, null);
                WriteVerbose("Pipeline input: " + _unixParser.Summary);
            }

            if (_parser is not null)
            {
                _parser.Complete();
                Drain(null);
                WriteVerbose("Pipeline input: " + _parser.Summary);
            }

            if (_unixLinesSkipped > 0)
            {
                WriteWarning(_unixLinesSkipped + " line(s) describe UNIX domain sockets, which were passed over: add -Protocol Unix to read them (as UnixSocket objects).");
            }
        }

        private SocketTableParser Parser() => _parser ??= new SocketTableParser(Options(), CancellationToken);

        private UnixSocketTableParser UnixParser() => _unixParser ??= NewUnixParser(null);

        private UnixSocketTableParser NewUnixParser(string? path)
        {
            try
            {
                return new UnixSocketTableParser(Options());
            }
            catch (ArgumentException exception)
            {
                ThrowTerminatingError(new ErrorRecord(exception, "FormatHasNoUnixSockets", ErrorCategory.InvalidArgument, Format));
                throw;
            }
        }

        private SocketTableParserOptions Options() => new SocketTableParserOptions
        {
            Format = Format,
            Protocol = Unix ? null : (TransportProtocol?)Protocol,
            ProcNetByteOrder = ProcNetByteOrder,
            ComputerName = ComputerName,
            MaxLeadingFailures = Force ? 0 : SocketTableParserOptions.DefaultMaxLeadingFailures,

            // Only skipped lines and errors are shown with their text: a file's ss lines are read in place.
            KeepSocketLines = false,
        };

        private static ErrorRecord DirectoryError(string path, object? target) => new ErrorRecord(
            new ArgumentException("'" + path + "' is a directory, not a socket table file: give a file, or a wildcard such as " + System.IO.Path.Combine(path, "*.txt") + "."),
            "SocketTableFileIsDirectory",
            ErrorCategory.InvalidArgument,
            target);

        private void ReadFile(string path)
        {
            if (Directory.Exists(path))
            {
                WriteError(DirectoryError(path, path));
                return;
            }

            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.SequentialScan);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(exception, "SocketTableFileUnreadable", exception is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, path));
                return;
            }

            // The file is parsed on a worker thread while this (the pipeline) thread writes what it
            // parsed, in order: parsing and the pipeline's cost per object overlap. Disposing the
            // batches stops the worker and waits for it, before the file is closed.
            var progress = new ProgressRecord(1, "ConvertFrom-SocketTable", "Reading " + path);
            using (stream)
            using (var reader = new StreamReader(stream))
            {
                if (Unix)
                {
                    UnixSocketTableParser unix = NewUnixParser(path);
                    try
                    {
                        using var batches = new BackgroundBatches<UnixSocketTableResult>(token => unix.ReadAll(reader, token), CancellationToken);
                        while (batches.TryTake(out UnixSocketTableResult[]? results, out int count, out _))
                        {
                            for (int i = 0; i < count; i++)
                            {
                                WriteUnix(results[i], path);
                            }
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    WriteVerbose(path + ": " + unix.Summary);
                    return;
                }

                SocketTableParser? parser = null;
                try
                {
                    using var batches = new BackgroundBatches<SocketTableResult>(
                        token => (parser = new SocketTableParser(Options(), token)).ReadAll(reader),
                        CancellationToken,
                        () => stream.Length > 0 ? (int)Math.Min(100, stream.Position * 100 / stream.Length) : -1);
                    while (batches.TryTake(out SocketTableResult[]? results, out int count, out int percent))
                    {
                        if (percent >= 0 && _progressClock.ElapsedMilliseconds > 500)
                        {
                            progress.PercentComplete = percent;
                            WriteProgress(progress);
                            _progressClock.Restart();
                        }

                        for (int i = 0; i < count; i++)
                        {
                            Write(in results[i], path);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
                WriteVerbose(path + ": " + parser!.Summary);
            }
        }

        private void Drain(string? path)
        {
            while (_parser!.TryRead(out SocketTableResult result))
            {
                Write(result, path);
            }
        }

        private void DrainUnix(UnixSocketTableParser parser, string? path)
        {
            while (parser.TryRead(out UnixSocketTableResult result))
            {
                WriteUnix(result, path);
            }
        }

        private void WriteUnix(UnixSocketTableResult result, string? path)
        {
            switch (result.Kind)
            {
                case SocketTableResultKind.Socket:
                    WriteObject(result.Socket);
                    break;
                case SocketTableResultKind.Error:
                    string where = (path is null ? string.Empty : path + ", ") + "line " + result.LineNumber;
                    var exception = new FormatException(where + " ('" + result.Line + "') was not understood: " + result.Message);
                    WriteError(new ErrorRecord(exception, LineErrorId, ErrorCategory.InvalidData, result.Line));
                    break;
            }
        }

        private void Write(in SocketTableResult result, string? path)
        {
            switch (result.Kind)
            {
                case SocketTableResultKind.Socket:
                    WriteObject(result.Socket);
                    break;
                case SocketTableResultKind.Skipped when UnixSocketTableParser.IsUnixSocketLine(result.Line):
                    _unixLinesSkipped++;
                    break;
                case SocketTableResultKind.Error:
                    string where = (path is null ? string.Empty : path + ", ") + "line " + result.LineNumber;
                    var exception = new FormatException(where + " ('" + result.Line + "') was not understood: " + result.Message);
                    WriteError(new ErrorRecord(exception, LineErrorId, ErrorCategory.InvalidData, result.Line));
                    break;
                case SocketTableResultKind.NotATable:
                    var notTable = new FormatException((path is null ? string.Empty : path + ": ") + result.Message);
                    WriteError(new ErrorRecord(notTable, "SocketTableNotRecognized", ErrorCategory.InvalidData, result.Line));
                    break;
            }
        }

        private IEnumerable<string> ResolvePaths()
        {
            if (ParameterSetName == LiteralPathSet)
            {
                foreach (string path in LiteralPath)
                {
                    string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                    if (!File.Exists(resolved) && !Directory.Exists(resolved))
                    {
                        // The same error as -Path gives for a file that is not there.
                        var missing = new ItemNotFoundException("Cannot find path '" + resolved + "' because it does not exist.");
                        WriteError(new ErrorRecord(missing, "SocketTableFileNotFound", ErrorCategory.ObjectNotFound, path));
                        continue;
                    }

                    yield return resolved;
                }

                yield break;
            }

            foreach (string pattern in Path)
            {
                Collection<string>? resolved = null;
                try
                {
                    resolved = GetResolvedProviderPathFromPSPath(pattern, out ProviderInfo provider);
                }
                catch (ItemNotFoundException exception)
                {
                    WriteError(new ErrorRecord(exception, "SocketTableFileNotFound", ErrorCategory.ObjectNotFound, pattern));
                }

                if (resolved is null)
                {
                    continue;
                }

                foreach (string path in resolved)
                {
                    yield return path;
                }
            }
        }
    }
}
