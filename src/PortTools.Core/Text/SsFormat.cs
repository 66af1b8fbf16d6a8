using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Text
{
    /// <summary>
    /// iproute2 ss output, as misc/ss.c (iproute2 6.1 to 7.x) prints it:
    /// <c>[Netid] State Recv-Q Send-Q Local-Address:Port Peer-Address:Port [users:((...))] [-e/-o fields]</c>.
    /// </summary>
    /// <remarks>
    /// <para>Addresses (inet_addr_print): IPv4 as is, IPv6 in brackets, "*" for :: when IPV6_V6ONLY is
    /// off (so "[::]" means it is on), and "%dev" after the host when the socket has an interface index
    /// (SO_BINDTODEVICE or a link-local scope): "0.0.0.0%lo:53", "[fe80::1]%eth0:546". Ports are numbers,
    /// or "*" for none; a listener's peer prints as "0.0.0.0:*", "[::]:*" or "*:*".</para>
    /// <para>Owners (find_entry): <c>users:(("nginx",pid=812,fd=6),("nginx",pid=813,fd=6))</c>, one
    /// entry per process and descriptor; each process is kept once, in the order printed. -e adds
    /// "uid:N" (only when not 0), "ino:N" and "sk:X"; "v6only:N" follows for listening and closed IPv6
    /// sockets. Lines that start with a tab are -i/-m details and are skipped.</para>
    /// <para>Without the Netid column (ss -tan or ss -uan: one protocol asked for) the protocol comes from
    /// the options, or is inferred: a TCP-only state (LISTEN, TIME-WAIT...) means TCP, an UNCONN before
    /// any of those means UDP (ss lists bound-inactive TCP sockets, printed UNCONN by iproute2 6.8 and
    /// later, after the others). ESTAB lines seen before the protocol is known are held, up to 1024, and
    /// read as TCP if nothing decides. So <c>ss -tanB</c> (bound-inactive sockets only, all UNCONN) needs
    /// the protocol option: its text cannot be told from <c>ss -uan</c>.</para>
    /// </remarks>
    internal sealed class SsFormat : TableFormat
    {
        private const int MaxHeldLines = 1024;
        private readonly List<KeyValuePair<long, string>> _held = new List<KeyValuePair<long, string>>();
        private readonly List<SocketOwner> _owners = new List<SocketOwner>(4);
        private TransportProtocol? _protocol;

        public SsFormat(ParseContext context)
            : base(context)
        {
            _protocol = context.Options.Protocol;
        }

        public override void Read(string line, long lineNumber) => Read(line.AsSpan(), line, lineNumber);

        /// <summary>A line in a reused buffer: its text is made a string only for a result that shows it (a skip, an error, a held line).</summary>
        public override void Read(ReadOnlySpan<char> line, long lineNumber) => Read(line, null, lineNumber);

        private void Read(ReadOnlySpan<char> line, string? lineText, long lineNumber)
        {
            if (line.Length > 0 && line[0] == '\t')
            {
                Context.Skip(lineNumber, Text(line, lineText), "ss detail line (-i, -m)");
                return;
            }

            var tokens = new TokenReader(line);
            if (!tokens.Next(out ReadOnlySpan<char> first))
            {
                Context.Skip(lineNumber, Text(line, lineText), "blank line");
                return;
            }

            if (Is(first, "Netid") || (Is(first, "State") && line.IndexOf("Recv-Q".AsSpan(), StringComparison.Ordinal) > 0))
            {
                Context.Skip(lineNumber, Text(line, lineText), "header");
                return;
            }

            if (first[0] == '`')
            {
                Context.SkipOtherProtocol(lineNumber, Text(line, lineText), "an SCTP association");
                return;
            }

            TransportProtocol protocol;
            ReadOnlySpan<char> state;
            if (IsNetid(first))
            {
                if (Is(first, "tcp"))
                {
                    protocol = TransportProtocol.Tcp;
                }
                else if (Is(first, "udp"))
                {
                    protocol = TransportProtocol.Udp;
                }
                else
                {
                    Context.SkipOtherProtocol(lineNumber, Text(line, lineText), first.ToString());
                    return;
                }

                tokens.Next(out state);
            }
            else
            {
                state = first;
                if (_protocol is null && !Decide(state))
                {
                    if (_held.Count < MaxHeldLines)
                    {
                        _held.Add(new KeyValuePair<long, string>(lineNumber, Text(line, lineText)));
                        return;
                    }

                    _protocol = TransportProtocol.Tcp;
                    Flush();
                }

                protocol = _protocol ?? TransportProtocol.Tcp;
            }

            ReadSocket(line, lineText, lineNumber, ref tokens, protocol, state);
        }

        public override void Complete()
        {
            _protocol ??= TransportProtocol.Tcp;
            Flush();
        }

        private static bool Is(ReadOnlySpan<char> token, string word) => token.SequenceEqual(word.AsSpan());

        private static bool IsNetid(ReadOnlySpan<char> token) =>
            Is(token, "tcp") || Is(token, "udp") || Is(token, "raw") || Is(token, "u_str") || Is(token, "u_dgr") || Is(token, "u_seq")
            || Is(token, "nl") || Is(token, "p_raw") || Is(token, "p_dgr") || Is(token, "mptcp") || Is(token, "sctp") || Is(token, "tipc")
            || Is(token, "ti_st") || Is(token, "ti_dg") || Is(token, "ti_rd") || Is(token, "v_str") || Is(token, "v_dgr") || Is(token, "xdp")
            || Is(token, "dccp") || Is(token, "unknown");

        /// <summary>Settles the protocol of Netid-less output from a state word, when the word says.</summary>
        private bool Decide(ReadOnlySpan<char> state)
        {
            if (Is(state, "ESTAB"))
            {
                return false;
            }

            if (Is(state, "UNCONN"))
            {
                _protocol = TransportProtocol.Udp;
            }
            else if (StateText.TryParse(state, TransportProtocol.Tcp, out _, out _))
            {
                _protocol = TransportProtocol.Tcp;
            }
            else
            {
                return true; // not a state: the line fails when read, and decides nothing
            }

            Flush();
            return true;
        }

        private void Flush()
        {
            if (_held.Count == 0)
            {
                return;
            }

            var held = _held.ToArray();
            _held.Clear();
            foreach (KeyValuePair<long, string> entry in held)
            {
                var tokens = new TokenReader(entry.Value.AsSpan());
                tokens.Next(out ReadOnlySpan<char> state);
                ReadSocket(entry.Value.AsSpan(), entry.Value, entry.Key, ref tokens, _protocol!.Value, state);
            }
        }

        private void ReadSocket(ReadOnlySpan<char> line, string? lineText, long lineNumber, ref TokenReader tokens, TransportProtocol protocol, ReadOnlySpan<char> stateText)
        {
            if (!StateText.TryParse(stateText, protocol, out SocketState state, out string? stateError))
            {
                Context.Fail(lineNumber, Text(line, lineText), stateError!);
                return;
            }

            if (!tokens.Next(out ReadOnlySpan<char> recvText) || !Digits.TryParse(recvText, out long receiveQueue))
            {
                Context.Fail(lineNumber, Text(line, lineText), "expected the Recv-Q column (a number) after the state, found " + Found(recvText));
                return;
            }

            if (!tokens.Next(out ReadOnlySpan<char> sendText) || !Digits.TryParse(sendText, out long sendQueue))
            {
                Context.Fail(lineNumber, Text(line, lineText), "expected the Send-Q column (a number) after Recv-Q, found " + Found(sendText));
                return;
            }

            tokens.Next(out ReadOnlySpan<char> localText);
            if (!TryEndpoint(localText, "local", out IPAddress? local, out int localPort, out bool localStar, out string? device, out string? error))
            {
                Context.Fail(lineNumber, Text(line, lineText), error!);
                return;
            }

            tokens.Next(out ReadOnlySpan<char> peerText);
            if (!TryEndpoint(peerText, "peer", out IPAddress? peer, out int peerPort, out _, out _, out error))
            {
                Context.Fail(lineNumber, Text(line, lineText), error!);
                return;
            }

            bool? v6Only = null;
            if (localStar)
            {
                local = IPAddress.IPv6Any;
                v6Only = false;
            }
            else if (local!.Equals(IPAddress.IPv6Any))
            {
                v6Only = true; // ss writes "*" for :: unless IPV6_V6ONLY is on
            }

            if (peer is not null && peer.AddressFamily != local.AddressFamily && !IPAddressText.IsWildcard(peer))
            {
                Context.Fail(lineNumber, Text(line, lineText), "the peer " + Quote(peerText) + " is not of the local address's family (" + Quote(localText) + ")");
                return;
            }

            _owners.Clear();
            SocketTimer? timer = null; // ss prints timer:(...) only with -o and only when one is pending
            TimeSpan? timerExpiresIn = null;
            int? retransmits = null;
            long? userId = null;
            ulong? inode = null;
            bool extended = false;
            ReadOnlySpan<char> rest = line;
            while (tokens.Next(out ReadOnlySpan<char> token))
            {
                if (token.StartsWith("users:(".AsSpan(), StringComparison.Ordinal))
                {
                    int start = tokens.Position - token.Length;
                    if (!TryReadUsers(rest.Slice(start), out int consumed, out error))
                    {
                        Context.Fail(lineNumber, Text(line, lineText), error!);
                        return;
                    }

                    tokens.SkipTo(start + consumed);
                }
                else if (token.StartsWith("uid:".AsSpan(), StringComparison.Ordinal))
                {
                    if (!Digits.TryParse(token.Slice(4), out long uid) || uid > uint.MaxValue)
                    {
                        Context.Fail(lineNumber, Text(line, lineText), "expected a user id after 'uid:', found " + Quote(token));
                        return;
                    }

                    userId = uid;
                }
                else if (token.StartsWith("ino:".AsSpan(), StringComparison.Ordinal))
                {
                    if (!Digits.TryParseUInt64(token.Slice(4), out ulong number))
                    {
                        Context.Fail(lineNumber, Text(line, lineText), "expected an inode number after 'ino:', found " + Quote(token));
                        return;
                    }

                    extended = true;
                    inode = number == 0 ? null : number;
                }
                else if (token.StartsWith("v6only:".AsSpan(), StringComparison.Ordinal) && token.Length == 8 && (token[7] == '0' || token[7] == '1'))
                {
                    v6Only = token[7] == '1';
                }

                else if (token.StartsWith("timer:(".AsSpan(), StringComparison.Ordinal))
                {
                    if (!TryTimer(token, out SocketTimer parsedTimer, out TimeSpan parsedExpiry, out int parsedCount))
                    {
                        Context.Fail(lineNumber, Text(line, lineText), "expected timer:(name,time,count) as ss -o prints it, such as timer:(timewait,52sec,0), found " + Quote(token));
                        return;
                    }

                    timer = parsedTimer;
                    timerExpiresIn = parsedTimer == SocketTimer.None ? null : parsedExpiry;
                    retransmits = parsedTimer == SocketTimer.None ? null : parsedCount;
                }

                // sk:, cgroup:, fwmark:, <-> and the rest describe nothing the model holds.
            }

            // -e prints uid: only when it is not 0, so with -e (ino: is always printed) no uid: means root.
            if (extended && userId is null)
            {
                userId = 0;
            }

            var socket = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local,
                LocalPort = localPort,
                RemoteAddress = peer!,
                RemotePort = peerPort,
                Processes = _owners.Count switch { 0 => SocketOwnerList.Empty, 1 => Context.SingleOwner(_owners[0]), _ => SocketOwnerList.Wrap(_owners.ToArray()) },
                UserId = userId,
                Inode = inode,
                ReceiveQueue = receiveQueue,
                SendQueue = sendQueue,
                Timer = timer,
                TimerExpiresIn = timerExpiresIn,
                Retransmits = retransmits,
                BoundInterface = device,
                IPv6Only = local.AddressFamily == AddressFamily.InterNetworkV6 ? v6Only : null,
                Source = Context.Source(lineNumber),
                ComputerName = Context.ComputerName,
            };
            Context.Parsed();
            Context.Emit(socket, lineNumber, lineText ?? string.Empty);
        }

        /// <summary>
        /// timer:(name,time,count) as ss -o prints it: the name (off, on, keepalive, timewait, persist),
        /// the time as ss's print_ms_timer writes it ("1min12sec", "52sec", "5.200ms" for 5.2 s,
        /// "200ms", empty for 0; rounded by ss), and the retransmissions or probes.
        /// </summary>
        internal static bool TryTimer(ReadOnlySpan<char> token, out SocketTimer timer, out TimeSpan expiresIn, out int count)
        {
            timer = SocketTimer.None;
            expiresIn = TimeSpan.Zero;
            count = 0;
            if (!token.StartsWith("timer:(".AsSpan(), StringComparison.Ordinal) || token[token.Length - 1] != ')')
            {
                return false;
            }

            ReadOnlySpan<char> inner = token.Slice(7, token.Length - 8);
            int first = inner.IndexOf(',');
            int last = inner.LastIndexOf(',');
            if (first < 0 || last == first
                || !SocketTimerNames.TryParse(inner.Slice(0, first).ToString(), out timer)
                || !int.TryParse(inner.Slice(last + 1).ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out count))
            {
                return false;
            }

            ReadOnlySpan<char> time = inner.Slice(first + 1, last - first - 1);
            long milliseconds = 0;
            while (time.Length > 0)
            {
                int digits = 0;
                long number = 0;
                while (digits < time.Length && digits < 9 && char.IsDigit(time[digits]))
                {
                    number = (number * 10) + (time[digits] - '0');
                    digits++;
                }

                if (digits == 0)
                {
                    return false;
                }

                ReadOnlySpan<char> unit = time.Slice(digits);
                if (unit.StartsWith("min".AsSpan(), StringComparison.Ordinal))
                {
                    milliseconds += number * 60000;
                    time = unit.Slice(3);
                }
                else if (unit.StartsWith("sec".AsSpan(), StringComparison.Ordinal))
                {
                    milliseconds += number * 1000;
                    time = unit.Slice(3);
                }
                else if (unit.StartsWith(".".AsSpan(), StringComparison.Ordinal))
                {
                    milliseconds += number * 1000; // "5.200ms": seconds, then milliseconds
                    time = unit.Slice(1);
                }
                else if (unit.StartsWith("ms".AsSpan(), StringComparison.Ordinal))
                {
                    milliseconds += number;
                    time = unit.Slice(2);
                }
                else
                {
                    return false;
                }
            }

            expiresIn = TimeSpan.FromMilliseconds(milliseconds);
            return true;
        }

        /// <summary>"host:port" as inet_addr_print writes it; a "*" host is returned as <paramref name="star"/> with no address.</summary>
        private bool TryEndpoint(ReadOnlySpan<char> text, string which, out IPAddress? address, out int port, out bool star, out string? device, out string? error)
        {
            address = null;
            port = 0;
            star = false;
            device = null;
            error = null;
            int colon = text.LastIndexOf(':');
            if (colon <= 0)
            {
                error = "expected the " + which + " address:port (as in 192.0.2.1:80, [2001:db8::1]:443 or *:53), found " + Found(text);
                return false;
            }

            ReadOnlySpan<char> portText = text.Slice(colon + 1);
            if (!(portText.Length == 1 && portText[0] == '*') && !Digits.TryParsePort(portText, out port))
            {
                error = "bad " + which + " port " + Quote(portText) + " in " + Quote(text) + ": expected a number from 0 to 65535"
                    + (portText.Length > 0 && char.IsLetter(portText[0]) ? " (service names need ss -n)" : string.Empty);
                return false;
            }

            switch (AddressText.TryParseHost(text.Slice(0, colon), Context, out address, out ReadOnlySpan<char> zone))
            {
                case HostKind.Star:
                    star = true;
                    break;
                case HostKind.Address:
                    break;
                default:
                    error = "bad " + which + " address " + Quote(text.Slice(0, colon)) + ": expected an IPv4 address, a bracketed IPv6 address or *"
                        + (LooksLikeName(text.Slice(0, colon)) ? " (host names need ss -n)" : string.Empty);
                    return false;
            }

            if (!zone.IsEmpty)
            {
                device = Context.Names.Get(zone);
            }

            return true;
        }

        /// <summary>Reads users:(("name",pid=N[,tid=N][,proc_ctx=X],fd=N),...) and returns how many characters it took.</summary>
        private bool TryReadUsers(ReadOnlySpan<char> text, out int consumed, out string? error)
        {
            consumed = 0;
            error = null;
            int position = "users:(".Length;
            while (true)
            {
                if (position + 1 >= text.Length || text[position] != '(' || text[position + 1] != '"')
                {
                    break;
                }

                // A command name may hold spaces, quotes or parentheses: it ends where ",pid=" follows a quote.
                int nameStart = position + 2;
                int nameLength = text.Slice(nameStart).IndexOf("\",pid=".AsSpan(), StringComparison.Ordinal);
                if (nameLength < 0)
                {
                    break;
                }

                int pidStart = nameStart + nameLength + 6;
                int pidEnd = pidStart;
                while (pidEnd < text.Length && text[pidEnd] >= '0' && text[pidEnd] <= '9')
                {
                    pidEnd++;
                }

                if (!Digits.TryParseInt(text.Slice(pidStart, pidEnd - pidStart), out int pid))
                {
                    break;
                }

                int close = text.Slice(pidEnd).IndexOf(')');
                if (close < 0)
                {
                    break;
                }

                AddOwner(pid, Context.ProcessName(text.Slice(nameStart, nameLength)));
                position = pidEnd + close + 1;
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }

                if (position < text.Length && text[position] == ')')
                {
                    consumed = position + 1;
                    return true;
                }

                break;
            }

            int end = text.IndexOf(' ');
            error = "expected users:((\"name\",pid=N,fd=N),...) as ss -p prints it, found " + Quote(end < 0 ? text : text.Slice(0, end));
            return false;
        }

        private void AddOwner(int pid, string name)
        {
            foreach (SocketOwner owner in _owners)
            {
                if (owner.ProcessId == pid)
                {
                    return; // one entry per descriptor or thread; the model lists processes
                }
            }

            _owners.Add(Context.Owner(pid, name));
        }

        private static bool LooksLikeName(ReadOnlySpan<char> host)
        {
            foreach (char c in host)
            {
                if (char.IsLetter(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F'))
                {
                    return true;
                }
            }

            return false;
        }

        private static string Quote(ReadOnlySpan<char> text) => ParseContext.Quote(text);

        private static string Text(ReadOnlySpan<char> line, string? lineText) => lineText ?? line.ToString();

        private static string Found(ReadOnlySpan<char> token) => token.IsEmpty ? "the end of the line" : Quote(token);
    }
}
