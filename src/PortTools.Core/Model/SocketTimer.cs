namespace PortTools
{
    /// <summary>
    /// The kernel timer pending on a TCP socket, as inet_diag's idiag_timer (and the tr column of
    /// /proc/net/tcp) report it and <c>ss -o</c> prints it: off, on, keepalive, timewait, persist.
    /// </summary>
    public enum SocketTimer
    {
        /// <summary>No timer is pending (ss: off). UDP sockets never have one.</summary>
        None = 0,

        /// <summary>The retransmission timer (also the tail-loss probe and reordering timers; ss: on).</summary>
        Retransmit = 1,

        /// <summary>The socket's own timer: keepalive, or the FIN-WAIT-2 timeout of an orphaned socket (ss: keepalive).</summary>
        KeepAlive = 2,

        /// <summary>The TIME-WAIT entry's lifetime; when it fires the entry is gone (ss: timewait).</summary>
        TimeWait = 3,

        /// <summary>The zero-window probe timer (ss: persist).</summary>
        Probe = 4,
    }

    /// <summary>Kernel timer numbers and the names ss prints for them.</summary>
    internal static class SocketTimerNames
    {
        /// <summary>Maps idiag_timer or /proc/net/tcp's tr; null for a number the kernel is not known to use.</summary>
        public static SocketTimer? FromKernel(int timer) => timer is >= 0 and <= 4 ? (SocketTimer)timer : null;

        /// <summary>ss's word: off, on, keepalive, timewait, persist.</summary>
        public static string ToSs(SocketTimer timer) => timer switch
        {
            SocketTimer.Retransmit => "on",
            SocketTimer.KeepAlive => "keepalive",
            SocketTimer.TimeWait => "timewait",
            SocketTimer.Probe => "persist",
            _ => "off",
        };

        /// <summary>Reads ss's word or the enum name, case-insensitively.</summary>
        public static bool TryParse(string text, out SocketTimer timer)
        {
            switch (text.ToLowerInvariant())
            {
                case "off":
                case "none":
                    timer = SocketTimer.None;
                    return true;
                case "on":
                case "retransmit":
                    timer = SocketTimer.Retransmit;
                    return true;
                case "keepalive":
                    timer = SocketTimer.KeepAlive;
                    return true;
                case "timewait":
                    timer = SocketTimer.TimeWait;
                    return true;
                case "persist":
                case "probe":
                    timer = SocketTimer.Probe;
                    return true;
                default:
                    timer = SocketTimer.None;
                    return false;
            }
        }
    }
}
