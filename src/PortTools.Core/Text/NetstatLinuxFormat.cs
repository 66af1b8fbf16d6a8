using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Text
{
    /// <summary>
    /// Linux net-tools netstat (netstat.c, net-tools 2.10): after the banner "Active Internet connections
    /// (...)" and the header "Proto Recv-Q Send-Q Local Address Foreign Address State [User Inode]
    /// [PID/Program name] [Timer]", lines printed by tcp_do_one / udp_do_one:
    /// <c>tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 812/sshd: /usr/sbin</c>.
    /// </summary>
    /// <remarks>
    /// Addresses are inet_ntop text with the port after the last colon (IPv6 unbracketed, ":::*" is ::
    /// with no port); a v4-mapped address of a tcp6/udp6 socket is printed as plain IPv4 (lib/inet6.c). Without -W, addr_do_one cuts an endpoint longer than 22 characters to 23 with the
    /// port kept, so an IPv6 endpoint of exactly 23 characters may be cut and is reported as an error.
    /// The state column is empty for unconnected UDP. -e adds User and Inode, -p "pid/name" where the
    /// name is the start of the command line (not always the kernel's command name, and cut to fit 20
    /// columns) or "-", -o a timer such as "off (0.00/0/0)". Other sections (UNIX domain sockets...) are
    /// skipped. A bound device or IPV6_V6ONLY are not shown.
    /// </remarks>
    internal sealed class NetstatLinuxFormat : TableFormat
    {
        private bool _otherSection;
        private bool _hasUserInode;
        private bool _hasProgram;
        private bool _hasTimer;
        private bool _headerSeen;

        public NetstatLinuxFormat(ParseContext context)
            : base(context)
        {
        }

        public override void Read(string line, long lineNumber)
        {
            ReadOnlySpan<char> text = TokenReader.Trim(line.AsSpan());
            if (text.IsEmpty)
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (text.StartsWith("Active ".AsSpan(), StringComparison.Ordinal))
            {
                _otherSection = !text.StartsWith("Active Internet connections".AsSpan(), StringComparison.Ordinal);
                _headerSeen = false;
                Context.Skip(lineNumber, line, "banner");
                return;
            }

            if (text.StartsWith("Proto ".AsSpan(), StringComparison.Ordinal))
            {
                if (!_otherSection)
                {
                    _headerSeen = true;
                    _hasUserInode = text.IndexOf("Inode".AsSpan(), StringComparison.Ordinal) > 0;
                    _hasProgram = text.IndexOf("PID/Program".AsSpan(), StringComparison.Ordinal) > 0;
                    _hasTimer = text.IndexOf("Timer".AsSpan(), StringComparison.Ordinal) > 0;
                }

                Context.Skip(lineNumber, line, "header");
                return;
            }

            if (text[0] == '(' || text.StartsWith("will not be shown".AsSpan(), StringComparison.Ordinal))
            {
                Context.Skip(lineNumber, line, "netstat notice");
                return;
            }

            var tokens = new TokenReader(text);
            tokens.Next(out ReadOnlySpan<char> proto);
            if (_otherSection)
            {
                Context.SkipOtherProtocol(lineNumber, line, proto.ToString());
                return;
            }

            TransportProtocol protocol;
            bool ipv6;
            if (Is(proto, "tcp") || Is(proto, "tcp6"))
            {
                protocol = TransportProtocol.Tcp;
                ipv6 = proto.Length == 4;
            }
            else if (Is(proto, "udp") || Is(proto, "udp6"))
            {
                protocol = TransportProtocol.Udp;
                ipv6 = proto.Length == 4;
            }
            else if (Is(proto, "raw") || Is(proto, "raw6") || Is(proto, "udpl") || Is(proto, "udpl6") || Is(proto, "sctp") || Is(proto, "sctp6") || Is(proto, "unix"))
            {
                Context.SkipOtherProtocol(lineNumber, line, proto.ToString());
                return;
            }
            else
            {
                Context.Fail(lineNumber, line, "expected the protocol tcp, tcp6, udp or udp6 first, found " + Quote(proto));
                return;
            }

            if (!tokens.Next(out ReadOnlySpan<char> recvText) || !Digits.TryParse(recvText, out long receiveQueue))
            {
                Context.Fail(lineNumber, line, "expected Recv-Q (a number) after the protocol, found " + Found(recvText));
                return;
            }

            if (!tokens.Next(out ReadOnlySpan<char> sendText) || !Digits.TryParse(sendText, out long sendQueue))
            {
                Context.Fail(lineNumber, line, "expected Send-Q (a number) after Recv-Q, found " + Found(sendText));
                return;
            }

            tokens.Next(out ReadOnlySpan<char> localText);
            if (!TryEndpoint(localText, ipv6, "local", out IPAddress? local, out int localPort, out string? error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            tokens.Next(out ReadOnlySpan<char> remoteText);
            if (!TryEndpoint(remoteText, ipv6, "foreign", out IPAddress? remote, out int remotePort, out error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            SocketState state;
            ReadOnlySpan<char> next = tokens.Peek();
            if (protocol == TransportProtocol.Tcp || (!next.IsEmpty && char.IsLetter(next[0]) && StateText.IsState(next)))
            {
                tokens.Next(out ReadOnlySpan<char> stateText);
                if (!StateText.TryParse(stateText, protocol, out state, out string? stateError))
                {
                    Context.Fail(lineNumber, line, stateText.IsEmpty ? "expected the TCP state after the foreign address, found the end of the line" : stateError!);
                    return;
                }

                if (state == SocketState.Closed && protocol == TransportProtocol.Tcp)
                {
                    state = SocketState.Bound; // Linux's TCP_CLOSE: what the live reader calls Bound
                }
            }
            else
            {
                state = SocketState.Unconnected; // udp_do_one leaves the column empty for TCP_CLOSE
            }

            long? userId = null;
            ulong? inode = null;
            bool wantUserInode = _hasUserInode || (!_headerSeen && LooksLikeUserInode(tokens));
            if (wantUserInode)
            {
                tokens.Next(out ReadOnlySpan<char> userText);
                tokens.Next(out ReadOnlySpan<char> inodeText);
                if (!Digits.TryParseUInt64(inodeText, out ulong number))
                {
                    Context.Fail(lineNumber, line, "expected User and Inode columns (netstat -e), found " + Found(userText) + " and " + Found(inodeText));
                    return;
                }

                if (Digits.TryParse(userText, out long uid) && uid <= uint.MaxValue)
                {
                    userId = uid; // a user name (without --numeric-users) cannot be turned into an id here
                }

                inode = number == 0 ? null : number;
            }

            ReadOnlySpan<char> rest = tokens.Rest;
            if (_hasTimer || !_headerSeen)
            {
                rest = StripTimer(rest);
            }

            IReadOnlyList<SocketOwner> owners = SocketOwnerList.Empty;
            if (!rest.IsEmpty && (_hasProgram || !_headerSeen))
            {
                if (!TryProgram(rest, out owners, out error))
                {
                    Context.Fail(lineNumber, line, error!);
                    return;
                }
            }
            else if (!rest.IsEmpty)
            {
                Context.Fail(lineNumber, line, "unexpected text after the columns of the header: " + Quote(rest));
                return;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily)
            {
                Context.Fail(lineNumber, line, "the foreign address " + Quote(remoteText) + " is not of the local address's family");
                return;
            }

            if (protocol == TransportProtocol.Udp && state == SocketState.Unconnected && remote is not null && (remotePort != 0 || !IPAddressText.IsWildcard(remote)))
            {
                state = SocketState.Connected;
            }

            var socket = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local!,
                LocalPort = localPort,
                RemoteAddress = remote!,
                RemotePort = remotePort,
                Processes = owners,
                UserId = userId,
                Inode = inode,
                ReceiveQueue = receiveQueue,
                SendQueue = sendQueue,
                Source = Context.Source(lineNumber),
                ComputerName = Context.ComputerName,
            };
            Context.Parsed();
            Context.Emit(socket, lineNumber, line);
        }

        private static bool Is(ReadOnlySpan<char> token, string word) => token.SequenceEqual(word.AsSpan());

        private static bool LooksLikeUserInode(TokenReader tokens)
        {
            tokens.Next(out ReadOnlySpan<char> user);
            tokens.Next(out ReadOnlySpan<char> inode);
            return !user.IsEmpty && Digits.IsAll(inode) && user.IndexOf('/') < 0;
        }

        /// <summary>Drops a trailing -o timer: "off (0.00/0/0)", "keepalive (7192.38/0/0)", "on2 (0.20/0/0)".</summary>
        private static ReadOnlySpan<char> StripTimer(ReadOnlySpan<char> rest)
        {
            if (rest.Length == 0 || rest[rest.Length - 1] != ')')
            {
                return rest;
            }

            int open = rest.LastIndexOf('(');
            if (open <= 0 || rest[open - 1] != ' ')
            {
                return rest;
            }

            ReadOnlySpan<char> before = TokenReader.TrimEnd(rest.Slice(0, open));
            int space = before.LastIndexOf(' ');
            ReadOnlySpan<char> word = before.Slice(space + 1);
            bool timer = Is(word, "off") || Is(word, "keepalive") || Is(word, "timewait") || Is(word, "probe")
                || word.StartsWith("on".AsSpan(), StringComparison.Ordinal) || word.StartsWith("unkn-".AsSpan(), StringComparison.Ordinal);
            return timer ? TokenReader.TrimEnd(before.Slice(0, space + 1)) : rest;
        }

        private bool TryProgram(ReadOnlySpan<char> text, out IReadOnlyList<SocketOwner> owners, out string? error)
        {
            owners = SocketOwnerList.Empty;
            error = null;
            if (text.Length == 1 && text[0] == '-')
            {
                return true;
            }

            int slash = text.IndexOf('/');
            if (slash <= 0 || !Digits.TryParseInt(text.Slice(0, slash), out int pid))
            {
                error = "expected PID/Program name (as in 812/sshd) or '-', found " + Quote(text);
                return false;
            }

            ReadOnlySpan<char> name = TokenReader.Trim(text.Slice(slash + 1));
            owners = Context.SingleOwner(Context.Owner(pid, name.IsEmpty ? null : Context.ProcessName(name)));
            return true;
        }

        private bool TryEndpoint(ReadOnlySpan<char> text, bool ipv6, string which, out IPAddress? address, out int port, out string? error)
        {
            address = null;
            port = 0;
            error = null;
            int colon = text.LastIndexOf(':');
            if (colon <= 0)
            {
                error = "expected the " + which + " address:port (as in 0.0.0.0:22 or :::80), found " + Found(text);
                return false;
            }

            ReadOnlySpan<char> portText = text.Slice(colon + 1);
            if (!(portText.Length == 1 && portText[0] == '*') && !Digits.TryParsePort(portText, out port))
            {
                error = "bad " + which + " port " + Quote(portText) + " in " + Quote(text) + ": expected a number from 0 to 65535 or *"
                    + (portText.Length > 0 && char.IsLetter(portText[0]) ? " (service names need netstat -n)" : string.Empty);
                return false;
            }

            ReadOnlySpan<char> host = text.Slice(0, colon);
            if (ipv6 && text.Length == 23 && host.IndexOf(':') >= 0)
            {
                error = "the " + which + " endpoint " + Quote(text) + " may be cut short: netstat shortens endpoints longer than 22 characters unless run with -W (--wide)";
                return false;
            }

            HostKind kind = AddressText.TryParseHost(host, Context, out address, out _);
            if (kind == HostKind.Address && ipv6 && address!.AddressFamily == AddressFamily.InterNetwork)
            {
                // lib/inet6.c fix_v4_address prints a v4-mapped address of a tcp6/udp6 socket as plain IPv4.
                Span<byte> mapped = stackalloc byte[16];
                mapped[10] = 0xFF;
                mapped[11] = 0xFF;
                address.GetAddressBytes().CopyTo(mapped.Slice(12));
                address = Context.Address(mapped);
            }

            if (kind != HostKind.Address || (address!.AddressFamily == AddressFamily.InterNetworkV6) != ipv6)
            {
                address = null;
                error = "bad " + which + " address " + Quote(host) + ": expected " + (ipv6 ? "an IPv6" : "an IPv4") + " address"
                    + (host.Length > 0 && char.IsLetter(host[host.Length - 1]) && host.IndexOf(':') < 0 ? " (host names need netstat -n)" : string.Empty);
                return false;
            }

            return true;
        }

        private static string Quote(ReadOnlySpan<char> text) => ParseContext.Quote(text);

        private static string Found(ReadOnlySpan<char> token) => token.IsEmpty ? "the end of the line" : Quote(token);
    }
}
