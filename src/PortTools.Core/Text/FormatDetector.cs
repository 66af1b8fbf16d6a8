using System;

namespace PortTools.Text
{
    internal enum Detection
    {
        Unknown,
        Format,
        Banner,
        OtherProtocol,
    }

    /// <summary>
    /// Tells the layout from the first meaningful line: a header where the tool prints one, otherwise
    /// the shape of a data line. A netstat banner ("Active Internet connections") is passed over and
    /// the next line decides between the Linux and BSD layouts.
    /// </summary>
    internal sealed class FormatDetector
    {
        private static readonly string[] s_ssNetids = { "tcp", "udp", "raw", "u_str", "u_dgr", "u_seq", "nl", "p_raw", "p_dgr", "mptcp", "sctp", "tipc", "v_str", "v_dgr", "xdp", "icmp6", "dccp", "u_sock" };

        private static readonly string[] s_ssStates = { "ESTAB", "LISTEN", "UNCONN", "TIME-WAIT", "CLOSE-WAIT", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "LAST-ACK", "CLOSING", "BOUND-INACTIVE", "UNKNOWN" };

        // After a netstat banner for another kind of socket (UNIX domain, Bluetooth...), its lines are skipped until the next banner.
        private string? _otherSection;

        public Detection Detect(string line, out SocketTableFormat format, out string? reason)
        {
            format = SocketTableFormat.Auto;
            reason = null;
            ReadOnlySpan<char> text = TokenReader.Trim(line.AsSpan());

            if (text.StartsWith("Active ".AsSpan(), StringComparison.Ordinal) || text.StartsWith("Current listen queue".AsSpan(), StringComparison.Ordinal))
            {
                bool inet = text.StartsWith("Active Internet connections".AsSpan(), StringComparison.Ordinal);
                if (text.SequenceEqual("Active Connections".AsSpan()))
                {
                    format = SocketTableFormat.NetstatWindows;
                    return Detection.Format;
                }

                _otherSection = inet ? null : text.ToString();
                reason = "banner";
                return Detection.Banner;
            }

            // /proc/net/unix: UNIX domain sockets, read only when asked for (UnixSocketTableParser).
            if (text.StartsWith("Num ".AsSpan(), StringComparison.Ordinal) && Has(text, "RefCount") && Has(text, "Inode"))
            {
                _otherSection = "/proc/net/unix";
                reason = "header of /proc/net/unix (UNIX domain sockets)";
                return Detection.Banner;
            }

            if (_otherSection is not null)
            {
                reason = "a line of the netstat section '" + _otherSection + "'";
                return Detection.OtherProtocol;
            }

            if (text[0] == '[' || text[0] == '{')
            {
                format = SocketTableFormat.Json;
                return Detection.Format;
            }

            if (text.StartsWith("#TYPE".AsSpan(), StringComparison.Ordinal) || LooksLikeCsvHeader(text))
            {
                format = SocketTableFormat.Csv;
                return Detection.Format;
            }

            if (DetectHeader(text, out format))
            {
                return Detection.Format;
            }

            if (DetectDataLine(line, text, out format))
            {
                return Detection.Format;
            }

            if (text.StartsWith("(Not all processes".AsSpan(), StringComparison.Ordinal) || text.StartsWith("will not be shown".AsSpan(), StringComparison.Ordinal)
                || text.StartsWith("(No info could be read".AsSpan(), StringComparison.Ordinal))
            {
                reason = "netstat notice";
                return Detection.Banner;
            }

            reason = "cannot tell the format from this line: expected a header or a line of ss, netstat (Linux, Windows, macOS/BSD), lsof, /proc/net, "
                + "the canonical socket text (tcp LISTEN 0.0.0.0:80), or a CSV or JSON export";
            return Detection.Unknown;
        }

        /// <summary>A header row naming the columns ExportRecords needs, in quotes or not, split by ',', ';' or a tab.</summary>
        private static bool LooksLikeCsvHeader(ReadOnlySpan<char> text)
        {
            int delimiter = text.IndexOfAny(',', ';', '\t');
            if (delimiter <= 0)
            {
                return false;
            }

            var names = new System.Collections.Generic.HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (string field in text.ToString().Split(text[delimiter]))
            {
                names.Add(field.Trim().Trim('"'));
            }

            return ExportRecords.Classify(names.Contains) != ExportKind.Unknown;
        }

        private static bool DetectHeader(ReadOnlySpan<char> text, out SocketTableFormat format)
        {
            format = SocketTableFormat.Auto;

            if ((text.StartsWith("Netid".AsSpan(), StringComparison.Ordinal) || text.StartsWith("State".AsSpan(), StringComparison.Ordinal)) && Has(text, "Recv-Q") && Has(text, "Local Address"))
            {
                format = SocketTableFormat.Ss;
            }
            else if (text.StartsWith("Proto".AsSpan(), StringComparison.Ordinal) && Has(text, "Local Address"))
            {
                format = Has(text, "(state)") ? SocketTableFormat.NetstatBsd : Has(text, "Recv-Q") ? SocketTableFormat.NetstatLinux : SocketTableFormat.NetstatWindows;
            }
            else if ((text.StartsWith("Tcpcb".AsSpan(), StringComparison.Ordinal) || text.StartsWith("Socket".AsSpan(), StringComparison.Ordinal)) && Has(text, "Proto") && Has(text, "Local Address"))
            {
                format = SocketTableFormat.NetstatBsd; // -A adds the PCB address column first
            }
            else if (text.StartsWith("sl".AsSpan(), StringComparison.Ordinal) && Has(text, "local_address"))
            {
                format = SocketTableFormat.ProcNet;
            }
            else if (text.StartsWith("COMMAND".AsSpan(), StringComparison.Ordinal) && Has(text, "PID") && Has(text, "NAME"))
            {
                format = SocketTableFormat.Lsof;
            }

            return format != SocketTableFormat.Auto;
        }

        private static bool DetectDataLine(string line, ReadOnlySpan<char> text, out SocketTableFormat format)
        {
            format = SocketTableFormat.Auto;
            if (text[0] == 'p' && Digits.IsAll(FirstField(text.Slice(1))))
            {
                format = SocketTableFormat.LsofFields;
                return true;
            }

            var tokens = new TokenReader(text);
            tokens.Next(out ReadOnlySpan<char> t0);
            tokens.Next(out ReadOnlySpan<char> t1);
            tokens.Next(out ReadOnlySpan<char> t2);
            tokens.Next(out ReadOnlySpan<char> t3);

            if (t0.Length > 1 && t0[t0.Length - 1] == ':' && Digits.IsAll(t0.Slice(0, t0.Length - 1)) && (t1.IndexOf(':') == 8 || t1.IndexOf(':') == 32))
            {
                format = SocketTableFormat.ProcNet;
                return true;
            }

            if ((t0.SequenceEqual("TCP".AsSpan()) || t0.SequenceEqual("UDP".AsSpan())) && t1.IndexOf(':') >= 0)
            {
                format = SocketTableFormat.NetstatWindows;
                return true;
            }

            if (IsOneOf(t0, s_ssStates) && Digits.IsAll(t1) && Digits.IsAll(t2))
            {
                format = SocketTableFormat.Ss;
                return true;
            }

            if (IsOneOf(t0, s_ssNetids) && IsOneOf(t1, s_ssStates) && Digits.IsAll(t2))
            {
                format = SocketTableFormat.Ss;
                return true;
            }

            bool tcpOrUdp = Digits.EqualsIgnoreCase(t0, "tcp") || Digits.EqualsIgnoreCase(t0, "udp");
            if (tcpOrUdp && StateText.IsState(t1))
            {
                format = SocketTableFormat.Canonical;
                return true;
            }

            bool inetProto = t0.StartsWith("tcp".AsSpan(), StringComparison.Ordinal) || t0.StartsWith("udp".AsSpan(), StringComparison.Ordinal);
            if (inetProto && Digits.IsAll(t1) && Digits.IsAll(t2))
            {
                // BSD prints tcp4/tcp6/tcp46 and host.port; net-tools prints tcp/tcp6 and host:port.
                bool bsdProto = t0.EndsWith("4".AsSpan(), StringComparison.Ordinal) || t0.EndsWith("46".AsSpan(), StringComparison.Ordinal);
                bool dotted = t3.LastIndexOf('.') > t3.LastIndexOf(':');
                format = bsdProto || dotted ? SocketTableFormat.NetstatBsd : SocketTableFormat.NetstatLinux;
                return true;
            }

            if (Digits.IsAll(t1) && (line.IndexOf(" IPv4 ", StringComparison.Ordinal) > 0 || line.IndexOf(" IPv6 ", StringComparison.Ordinal) > 0))
            {
                format = SocketTableFormat.Lsof;
                return true;
            }

            return false;
        }

        private static ReadOnlySpan<char> FirstField(ReadOnlySpan<char> text)
        {
            int end = text.IndexOf('\0');
            return end < 0 ? TokenReader.TrimEnd(text) : text.Slice(0, end);
        }

        private static bool Has(ReadOnlySpan<char> text, string word) => text.IndexOf(word.AsSpan(), StringComparison.Ordinal) >= 0;

        private static bool IsOneOf(ReadOnlySpan<char> token, string[] words)
        {
            foreach (string word in words)
            {
                if (token.SequenceEqual(word.AsSpan()))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
