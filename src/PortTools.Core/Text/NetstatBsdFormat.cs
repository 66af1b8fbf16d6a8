using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools.Text
{
    /// <summary>
    /// macOS and FreeBSD netstat -an [-p tcp|udp] (protopr in usr.bin/netstat/inet.c of FreeBSD, and
    /// netstat.tproj/inet.c of Apple's network_cmds-741): after "Active Internet connections (including
    /// servers)" and the header "Proto Recv-Q Send-Q Local Address Foreign Address (state)", lines such
    /// as <c>tcp4 0 0 127.0.0.1.8080 *.* LISTEN</c>.
    /// </summary>
    /// <remarks>
    /// <para>The protocol column is the name plus "4" (an IPv4 socket), "6" (IPv6 only) or "46" (an IPv6
    /// socket that also takes IPv4: the dual-stack wildcard, IPv6Only false). Endpoints are host.port
    /// with the port after the last dot; "*" is the wildcard host or no port, so "*.*" is no peer;
    /// IPv6 link-local hosts carry their zone ("fe80::1%lo0.123"), kept as BoundInterface as the Linux
    /// reader does for a scoped socket. UDP has no state column.</para>
    /// <para>Without -W (FreeBSD) or -l (macOS) inetprint/inet6print cut the host to 16 characters and
    /// the endpoint to a 22-column field, so an IPv6 host of exactly 16 characters in a narrow field may
    /// be cut and is reported as an error. -A adds the PCB address (and on macOS a flow hash) before the
    /// protocol; macOS -v adds columns after the state, of which "process:pid" gives the owner. Other
    /// sections (UNIX domain sockets, kernel controls...) are skipped.</para>
    /// </remarks>
    internal sealed class NetstatBsdFormat : TableFormat
    {
        private const int NarrowEndpointColumn = 23;
        private bool _otherSection;
        private bool _hasProcessColumn;

        public NetstatBsdFormat(ParseContext context)
            : base(context)
        {
        }

        public override void Read(string line, long lineNumber)
        {
            ReadOnlySpan<char> text = TokenReader.TrimEnd(line.AsSpan());
            ReadOnlySpan<char> trimmed = TokenReader.Trim(text);
            if (trimmed.IsEmpty)
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (trimmed.StartsWith("Active ".AsSpan(), StringComparison.Ordinal) || trimmed.StartsWith("Current listen queue".AsSpan(), StringComparison.Ordinal)
                || trimmed.StartsWith("Registered kernel".AsSpan(), StringComparison.Ordinal))
            {
                _otherSection = !trimmed.StartsWith("Active Internet connections".AsSpan(), StringComparison.Ordinal)
                    && !trimmed.StartsWith("Active Internet6 connections".AsSpan(), StringComparison.Ordinal);
                Context.Skip(lineNumber, line, "banner");
                return;
            }

            if (trimmed.IndexOf("Local Address".AsSpan(), StringComparison.Ordinal) >= 0 || trimmed.StartsWith("Proto ".AsSpan(), StringComparison.Ordinal))
            {
                if (!_otherSection)
                {
                    _hasProcessColumn = trimmed.IndexOf("process:pid".AsSpan(), StringComparison.Ordinal) >= 0;
                }

                Context.Skip(lineNumber, line, "header");
                return;
            }

            if (trimmed.StartsWith("Some ".AsSpan(), StringComparison.Ordinal) && trimmed.IndexOf("may have been".AsSpan(), StringComparison.Ordinal) > 0)
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

            // -A: the PCB address, and on macOS a flow hash, come before the protocol.
            while (!IsProtocolWord(proto) && IsHex(proto))
            {
                tokens.Next(out proto);
            }

            TransportProtocol protocol;
            if (proto.StartsWith("tcp".AsSpan(), StringComparison.Ordinal) || proto.StartsWith("toe".AsSpan(), StringComparison.Ordinal))
            {
                protocol = TransportProtocol.Tcp;
            }
            else if (proto.StartsWith("udp".AsSpan(), StringComparison.Ordinal))
            {
                protocol = TransportProtocol.Udp;
            }
            else if (IsOtherProtocolWord(proto))
            {
                Context.SkipOtherProtocol(lineNumber, line, proto.ToString());
                return;
            }
            else
            {
                Context.Fail(lineNumber, line, "expected the protocol (tcp4, tcp6, tcp46, udp4, udp6 or udp46) first, found " + Found(proto));
                return;
            }

            ReadOnlySpan<char> version = proto.Slice(3);
            bool v4 = version.SequenceEqual("4".AsSpan());
            bool v6 = version.SequenceEqual("6".AsSpan());
            bool dual = version.SequenceEqual("46".AsSpan());
            if (!v4 && !v6 && !dual && !version.IsEmpty)
            {
                Context.Fail(lineNumber, line, "expected the protocol (tcp4, tcp6, tcp46, udp4, udp6 or udp46) first, found " + Quote(proto));
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
            int localStart = tokens.Position - localText.Length;
            tokens.Next(out ReadOnlySpan<char> remoteText);
            int remoteStart = tokens.Position - remoteText.Length;
            bool narrow = remoteStart - localStart <= NarrowEndpointColumn;

            int family = v4 ? 4 : version.IsEmpty ? 0 : 6;
            if (!TryEndpoint(localText, "local", family, narrow, out IPAddress? local, out bool localStar, out int localPort, out string? zone, out string? error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            if (!TryEndpoint(remoteText, "foreign", family, narrow, out IPAddress? remote, out bool remoteStar, out int remotePort, out _, out error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            if (localStar)
            {
                local = v4 ? IPAddress.Any : IPAddress.IPv6Any;
            }

            if (remoteStar)
            {
                remote = null;
            }

            if (version.IsEmpty && localStar)
            {
                Context.Fail(lineNumber, line, "cannot tell the address family of the wildcard " + Quote(localText) + ": the protocol column has no 4, 6 or 46");
                return;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily)
            {
                Context.Fail(lineNumber, line, "the foreign address " + Quote(remoteText) + " is not of the local address's family");
                return;
            }

            SocketState state;
            if (protocol == TransportProtocol.Tcp)
            {
                tokens.Next(out ReadOnlySpan<char> stateText);
                if (!StateText.TryParse(stateText, protocol, out state, out string? stateError))
                {
                    Context.Fail(lineNumber, line, stateText.IsEmpty ? "expected the TCP state after the foreign address, found the end of the line" : stateError!);
                    return;
                }
            }
            else
            {
                state = remote is null && remotePort == 0 ? SocketState.Unconnected : SocketState.Connected;
            }

            IReadOnlyList<SocketOwner> owners = SocketOwnerList.Empty;
            if (_hasProcessColumn && !TryProcessColumn(tokens.Rest, out owners, out error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            bool? v6Only = null;
            if (dual)
            {
                v6Only = false;
            }
            else if (v6 && localStar)
            {
                v6Only = true; // an IPv6 wildcard socket that does not take IPv4 has IPV6_V6ONLY set
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
                ReceiveQueue = receiveQueue,
                SendQueue = sendQueue,
                BoundInterface = zone,
                IPv6Only = v6Only,
                Source = Context.Source(lineNumber),
                ComputerName = Context.ComputerName,
            };
            Context.Parsed();
            Context.Emit(socket, lineNumber, line);
        }

        private static bool IsProtocolWord(ReadOnlySpan<char> token) =>
            token.StartsWith("tcp".AsSpan(), StringComparison.Ordinal) || token.StartsWith("udp".AsSpan(), StringComparison.Ordinal) || IsOtherProtocolWord(token);

        private static bool IsOtherProtocolWord(ReadOnlySpan<char> token) =>
            token.StartsWith("icm".AsSpan(), StringComparison.Ordinal) || token.StartsWith("sctp".AsSpan(), StringComparison.Ordinal)
            || token.StartsWith("raw".AsSpan(), StringComparison.Ordinal) || token.StartsWith("div".AsSpan(), StringComparison.Ordinal)
            || token.StartsWith("ip".AsSpan(), StringComparison.Ordinal) || token.StartsWith("igmp".AsSpan(), StringComparison.Ordinal)
            || token.StartsWith("mptcp".AsSpan(), StringComparison.Ordinal) || token.StartsWith("sdp".AsSpan(), StringComparison.Ordinal);

        private static bool IsHex(ReadOnlySpan<char> token)
        {
            if (token.IsEmpty)
            {
                return false;
            }

            foreach (char c in token)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>macOS -v: "... rhiwat shiwat process:pid state options ...", the name right-aligned (it may hold spaces).</summary>
        private bool TryProcessColumn(ReadOnlySpan<char> rest, out IReadOnlyList<SocketOwner> owners, out string? error)
        {
            owners = SocketOwnerList.Empty;
            error = null;
            var tokens = new TokenReader(rest);
            int numbers = 0;
            while (tokens.Next(out ReadOnlySpan<char> token))
            {
                if (IsCount(token))
                {
                    numbers++;
                    continue;
                }

                if (numbers < 2)
                {
                    break;
                }

                // The name starts here and ends at the last ':' before the pid's digits.
                int nameStart = tokens.Position - token.Length;
                ReadOnlySpan<char> tail = rest.Slice(nameStart);
                for (int colon = tail.IndexOf(':'); colon >= 0; colon = NextColon(tail, colon))
                {
                    int end = colon + 1;
                    while (end < tail.Length && tail[end] >= '0' && tail[end] <= '9')
                    {
                        end++;
                    }

                    if (end > colon + 1 && (end == tail.Length || tail[end] == ' ') && Digits.TryParseInt(tail.Slice(colon + 1, end - colon - 1), out int pid))
                    {
                        ReadOnlySpan<char> name = TokenReader.Trim(tail.Slice(0, colon));
                        owners = pid == 0 ? SocketOwnerList.Empty : Context.SingleOwner(Context.Owner(pid, name.IsEmpty ? null : Context.ProcessName(name)));
                        return true;
                    }
                }

                break;
            }

            error = "expected the -v columns with process:pid after the state, found " + Found(rest);
            return false;
        }

        private static int NextColon(ReadOnlySpan<char> text, int after)
        {
            int next = text.Slice(after + 1).IndexOf(':');
            return next < 0 ? -1 : after + 1 + next;
        }

        private static bool IsCount(ReadOnlySpan<char> token)
        {
            int slash = token.IndexOf('/');
            return slash < 0 ? Digits.IsAll(token) : Digits.IsAll(token.Slice(0, slash)) && Digits.IsAll(token.Slice(slash + 1));
        }

        private bool TryEndpoint(ReadOnlySpan<char> text, string which, int family, bool narrow, out IPAddress? address, out bool star, out int port, out string? zone, out string? error)
        {
            address = null;
            star = false;
            port = 0;
            zone = null;
            error = null;
            int dot = text.LastIndexOf('.');
            if (dot <= 0)
            {
                error = "expected the " + which + " address.port (as in 127.0.0.1.8080, *.80 or *.*), found " + Found(text);
                return false;
            }

            ReadOnlySpan<char> portText = text.Slice(dot + 1);
            if (!(portText.Length == 1 && portText[0] == '*') && !Digits.TryParsePort(portText, out port))
            {
                error = "bad " + which + " port " + Quote(portText) + " in " + Quote(text) + ": expected a number from 0 to 65535 or *"
                    + (portText.Length > 0 && char.IsLetter(portText[0]) ? " (service names need netstat -n)" : string.Empty);
                return false;
            }

            ReadOnlySpan<char> host = text.Slice(0, dot);
            HostKind kind = AddressText.TryParseHost(host, Context, out address, out ReadOnlySpan<char> zoneText);
            if (kind == HostKind.Star)
            {
                star = true;
                return true;
            }

            bool isV6 = host.IndexOf(':') >= 0;
            if (isV6 && narrow && host.Length == 16)
            {
                address = null;
                error = "the " + which + " address " + Quote(host) + " may be cut short: netstat cuts hosts to 16 characters unless run with -W (FreeBSD) or -l (macOS)";
                return false;
            }

            if (kind != HostKind.Address || (family == 4 && isV6) || (family == 6 && !isV6))
            {
                address = null;
                error = "bad " + which + " address " + Quote(host) + ": expected " + (family == 4 ? "an IPv4" : family == 6 ? "an IPv6" : "an") + " address or *"
                    + (host.Length > 0 && char.IsLetter(host[host.Length - 1]) && !isV6 ? " (host names need netstat -n)" : string.Empty);
                return false;
            }

            if (!zoneText.IsEmpty && !AddressText.IsNumericZone(zoneText))
            {
                zone = Context.Names.Get(zoneText);
            }

            return true;
        }

        private static string Quote(ReadOnlySpan<char> text) => ParseContext.Quote(text);

        private static string Found(ReadOnlySpan<char> token) => token.IsEmpty ? "the end of the line" : Quote(token);
    }
}
