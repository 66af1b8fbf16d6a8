namespace PortTools
{
    /// <summary>What one line (or multi-line record) of socket table text turned out to be.</summary>
    public enum SocketTableResultKind
    {
        /// <summary>A socket was read; <see cref="SocketTableResult.Socket"/> holds it.</summary>
        Socket = 0,

        /// <summary>
        /// The line was passed over on purpose: a header, banner, separator, blank line, or a line about
        /// something other than a TCP or UDP socket; <see cref="SocketTableResult.Message"/> says which.
        /// </summary>
        Skipped,

        /// <summary>The line could not be read; <see cref="SocketTableResult.Message"/> says what was expected.</summary>
        Error,

        /// <summary>
        /// The text is not a socket table: the first lines all failed (see
        /// SocketTableParserOptions.MaxLeadingFailures) and the parser stopped. The result names the
        /// first line that failed and why; nothing more is read.
        /// </summary>
        NotATable,
    }

    /// <summary>One result of <see cref="SocketTableParser"/>: a socket, a skipped line or an error, with where it came from.</summary>
    public readonly struct SocketTableResult
    {
        internal SocketTableResult(SocketTableResultKind kind, long lineNumber, string line, SocketTuple? socket, string? message)
        {
            Kind = kind;
            LineNumber = lineNumber;
            Line = line;
            Socket = socket;
            Message = message;
        }

        /// <summary>Socket, Skipped or Error.</summary>
        public SocketTableResultKind Kind { get; }

        /// <summary>The 1-based number of the line (for a multi-line record, its first line).</summary>
        public long LineNumber { get; }

        /// <summary>The text of that line.</summary>
        public string Line { get; }

        /// <summary>The socket, when <see cref="Kind"/> is Socket.</summary>
        public SocketTuple? Socket { get; }

        /// <summary>For an error, what was wrong and what was expected; for a skipped line, why it was skipped.</summary>
        public string? Message { get; }

        private string Number => LineNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>"line 12: socket tcp LISTEN ...", "line 3: skipped (header)" or "line 7: error ...".</summary>
        public override string ToString() => Kind switch
        {
            SocketTableResultKind.Socket => "line " + Number + ": " + Socket,
            SocketTableResultKind.Skipped => "line " + Number + ": skipped (" + Message + ")",
            _ => "line " + Number + ": " + Message,
        };
    }
}
