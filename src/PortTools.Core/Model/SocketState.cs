namespace PortTools
{
    /// <summary>
    /// The state of a socket. TCP sockets use the TCP states (numbered as Linux numbers them) and
    /// <see cref="Bound"/>; UDP sockets are <see cref="Unconnected"/> or <see cref="Connected"/>.
    /// </summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum SocketState : long
    {
        /// <summary>The source did not say.</summary>
        Unknown = 0,

        /// <summary>TCP: a connection is open (ss: ESTAB).</summary>
        Established = 1,

        /// <summary>TCP: connect() sent a SYN and waits for the answer.</summary>
        SynSent = 2,

        /// <summary>TCP: a SYN arrived and was answered; the handshake is not finished.</summary>
        SynReceived = 3,

        /// <summary>TCP: this side closed first and waits for the peer's ACK or FIN.</summary>
        FinWait1 = 4,

        /// <summary>TCP: this side's FIN was acknowledged; waiting for the peer's FIN.</summary>
        FinWait2 = 5,

        /// <summary>TCP: closed; the 4-tuple is kept for a while so late segments are not misread. Still holds the port.</summary>
        TimeWait = 6,

        /// <summary>TCP: closed.</summary>
        Closed = 7,

        /// <summary>TCP: the peer closed; this side has not closed yet.</summary>
        CloseWait = 8,

        /// <summary>TCP: both sides closed; waiting for the last ACK.</summary>
        LastAck = 9,

        /// <summary>TCP: accepting connections.</summary>
        Listen = 10,

        /// <summary>TCP: both sides closed at once.</summary>
        Closing = 11,

        /// <summary>TCP: bound to a port but neither listening nor connected. It holds the port all the same.</summary>
        Bound = 13,

        /// <summary>UDP: bound, with no fixed peer (ss: UNCONN).</summary>
        Unconnected = 20,

        /// <summary>UDP: connect() fixed the peer (ss: ESTAB).</summary>
        Connected = 21,

        /// <summary>TCP on Windows: the control block is being deleted.</summary>
        DeleteTcb = 30,
    }
}
