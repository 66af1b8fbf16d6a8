namespace PortTools.Text
{
    /// <summary>
    /// The canonical SocketTuple text (Model/SocketTupleText.cs), one socket per line, as
    /// <c>Get-SocketTuple | ForEach-Object ToString</c> writes it. Lines starting with '#' are comments.
    /// </summary>
    internal sealed class CanonicalFormat : TableFormat
    {
        public CanonicalFormat(ParseContext context)
            : base(context)
        {
        }

        public override void Read(string line, long lineNumber)
        {
            string trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (trimmed[0] == '#')
            {
                Context.Skip(lineNumber, line, "comment");
                return;
            }

            if (!SocketTupleText.TryParse(trimmed, out SocketTuple? socket, out string? error))
            {
                Context.Fail(lineNumber, line, error);
                return;
            }

            Context.Parsed();
            Context.Emit(socket.Copy(source: Context.Source(lineNumber), computerName: Context.ComputerName), lineNumber, line);
        }
    }
}
