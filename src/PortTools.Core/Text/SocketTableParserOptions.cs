namespace PortTools
{
    /// <summary>The byte order of the host that wrote a /proc/net file.</summary>
    public enum ProcNetByteOrder
    {
        /// <summary>x86, ARM and most hosts: each 32-bit address word is printed least significant byte first.</summary>
        LittleEndian = 0,

        /// <summary>s390x, big-endian PowerPC and MIPS: address words are printed in network order.</summary>
        BigEndian,
    }

    /// <summary>How a <see cref="SocketTableParser"/> reads its text.</summary>
    public sealed class SocketTableParserOptions
    {
        /// <summary>The layout of the text; Auto detects it from the first meaningful lines.</summary>
        public SocketTableFormat Format { get; set; } = SocketTableFormat.Auto;

        /// <summary>
        /// The protocol of every socket, for layouts whose lines do not say: ss without its Netid column
        /// (ss -tan or ss -uan), /proc/net files without their header, Get-NetUDPEndpoint exports.
        /// Null infers it (see the remarks of each format); a value overrides what a header says.
        /// </summary>
        public TransportProtocol? Protocol { get; set; }

        /// <summary>The byte order of the host that wrote /proc/net text (addresses are printed per 32-bit word in host order).</summary>
        public ProcNetByteOrder ProcNetByteOrder { get; set; } = ProcNetByteOrder.LittleEndian;

        /// <summary>
        /// The computer the text was read on: set as every socket's ComputerName, over any ComputerName or
        /// PSComputerName column of an export. Null keeps what an export says and leaves other formats unnamed.
        /// </summary>
        public string? ComputerName { get; set; }

        /// <summary>
        /// lsof prints a socket shared by several processes once per process and descriptor. When true
        /// (the default) lines with the same device (the Linux socket inode) become one socket listing
        /// every owner in order, as Get-SocketTuple does; those sockets are emitted when the input is
        /// complete. When false each line is emitted at once with its one owner.
        /// </summary>
        public bool MergeSharedSockets { get; set; } = true;

        /// <summary>
        /// How many lines may fail before the first socket is read: when that many fail and none was read,
        /// the text is taken as not a socket table and the parser stops with one NotATable result instead
        /// of an error per line (errors held until then are dropped). 0 reads every line whatever happens.
        /// </summary>
        public int MaxLeadingFailures { get; set; } = DefaultMaxLeadingFailures;

        /// <summary>
        /// Whether a socket result of <see cref="SocketTableParser.ReadAll"/> carries its line's text
        /// (<see cref="SocketTableResult.Line"/>). When false, ss lines are read in a reused buffer and a
        /// socket read from one has an empty Line, which spares a string per line; skipped lines and errors
        /// always carry their text. True by default.
        /// </summary>
        public bool KeepSocketLines { get; set; } = true;

        /// <summary>The default of <see cref="MaxLeadingFailures"/>.</summary>
        public const int DefaultMaxLeadingFailures = 50;
    }
}
