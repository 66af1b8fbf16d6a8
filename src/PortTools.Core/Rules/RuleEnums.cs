namespace PortTools
{
    /// <summary>How a bind answer was reached.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum BindCheckMethod : long
    {
        /// <summary>A real bind (and listen) on this host, explained by the rule engine against the live table.</summary>
        Probed,

        /// <summary>The rule engine alone, against a given socket table and host facts.</summary>
        Simulated,
    }

    /// <summary>What happens to an incoming packet.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum DemuxOutcome : long
    {
        /// <summary>A socket (or a SO_REUSEPORT group, or every matching socket for multicast) receives it.</summary>
        Delivered,

        /// <summary>TCP: no socket takes the segment; the kernel answers with a RST.</summary>
        Refused,

        /// <summary>UDP: no socket takes the datagram; the kernel answers with ICMP port unreachable.</summary>
        PortUnreachable,

        /// <summary>UDP multicast or broadcast that no socket takes: dropped without any answer (no ICMP error is ever sent for these).</summary>
        Dropped,

        /// <summary>
        /// One of <see cref="DemuxResult.Sockets"/> receives it, and the OS does not define which
        /// (Windows: identical bindings shared through SO_REUSEADDR, and the undocumented ties of
        /// kernel-rules.md 2B). <see cref="DemuxResult.Socket"/> is null: the engine never guesses.
        /// </summary>
        Nondeterministic,
    }

    /// <summary>The kind of TCP segment that arrives.</summary>
    public enum TcpSegmentKind
    {
        /// <summary>A SYN opening a connection (the default question: who accepts it?).</summary>
        Syn,

        /// <summary>Any other segment of a connection (ACK, data, FIN).</summary>
        Other,
    }
}
