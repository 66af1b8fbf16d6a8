using System.Globalization;

namespace PortTools
{
    /// <summary>
    /// Counts for a parse run. Every line read is counted once, as parsed, skipped or failed; lines of a
    /// record still open (such as a JSON object not yet closed) are counted when it closes or when the
    /// input completes.
    /// </summary>
    public sealed class SocketTableSummary
    {
        internal SocketTableSummary(SocketTableFormat format, long linesRead, long linesParsed, long linesSkipped, long linesFailed, long sockets, long otherProtocolLines)
        {
            Format = format;
            LinesRead = linesRead;
            LinesParsed = linesParsed;
            LinesSkipped = linesSkipped;
            LinesFailed = linesFailed;
            Sockets = sockets;
            OtherProtocolLines = otherProtocolLines;
        }

        /// <summary>The format used: the one given, or the one detected (Auto while none was detected).</summary>
        public SocketTableFormat Format { get; }

        /// <summary>Lines read.</summary>
        public long LinesRead { get; }

        /// <summary>Lines that were part of a socket record that parsed.</summary>
        public long LinesParsed { get; }

        /// <summary>Headers, banners, blank lines and lines about other protocols.</summary>
        public long LinesSkipped { get; }

        /// <summary>Lines that produced an error (or were part of a record that did).</summary>
        public long LinesFailed { get; }

        /// <summary>Sockets emitted (merged lsof lines count once).</summary>
        public long Sockets { get; }

        /// <summary>Of the skipped lines, those describing sockets other than TCP and UDP (unix, raw, sctp...).</summary>
        public long OtherProtocolLines { get; }

        /// <summary>"Read 120 lines as Ss: 117 sockets from 117 lines, 3 skipped, 0 failed."</summary>
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture,
            "Read {0} lines as {1}: {2} sockets from {3} lines, {4} skipped{5}, {6} failed.",
            LinesRead,
            Format,
            Sockets,
            LinesParsed,
            LinesSkipped,
            OtherProtocolLines > 0 ? " (" + OtherProtocolLines.ToString(CultureInfo.InvariantCulture) + " about other protocols)" : string.Empty,
            LinesFailed);
    }
}
