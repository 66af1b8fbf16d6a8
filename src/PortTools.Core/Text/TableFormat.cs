using System;

namespace PortTools.Text
{
    /// <summary>
    /// A reader for one text layout. It is handed every line, in order, and must account for each one
    /// exactly once through the context: a socket record (Parsed), a Skip, or a Fail. Records that span
    /// lines are settled when they close or in <see cref="Complete"/>.
    /// </summary>
    internal abstract class TableFormat
    {
        protected TableFormat(ParseContext context) => Context = context;

        protected ParseContext Context { get; }

        public abstract void Read(string line, long lineNumber);

        /// <summary>A line in a buffer the caller reuses; formats that can read it in place override this.</summary>
        public virtual void Read(ReadOnlySpan<char> line, long lineNumber) => Read(line.ToString(), lineNumber);

        /// <summary>The input ended: settle and emit whatever is still open.</summary>
        public virtual void Complete()
        {
        }

        public static TableFormat Create(SocketTableFormat format, ParseContext context) => format switch
        {
            SocketTableFormat.Canonical => new CanonicalFormat(context),
            SocketTableFormat.Ss => new SsFormat(context),
            SocketTableFormat.NetstatLinux => new NetstatLinuxFormat(context),
            SocketTableFormat.NetstatWindows => new NetstatWindowsFormat(context),
            SocketTableFormat.NetstatBsd => new NetstatBsdFormat(context),
            SocketTableFormat.ProcNet => new ProcNetFormat(context),
            SocketTableFormat.Lsof => new LsofFormat(context),
            SocketTableFormat.LsofFields => new LsofFieldFormat(context),
            SocketTableFormat.Csv => new CsvFormat(context),
            SocketTableFormat.Json => new JsonFormat(context),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "No reader for this format."),
        };
    }
}
