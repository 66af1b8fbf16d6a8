using System;
using System.Collections.Generic;
using System.Net;

namespace PortTools.Text
{
    /// <summary>
    /// Windows netstat -ano (and -anob, -anoq), from its documentation ("netstat", Windows Commands,
    /// learn.microsoft.com) and its help text: after "Active Connections" and the header "Proto Local
    /// Address Foreign Address State PID", lines such as
    /// <c>TCP 0.0.0.0:135 0.0.0.0:0 LISTENING 948</c>, <c>TCP [::]:135 [::]:0 LISTENING 948</c> and
    /// <c>UDP 0.0.0.0:500 *:* 4180</c> (no state for UDP).
    /// </summary>
    /// <remarks>
    /// With -b the owner follows its connection on separate lines: the components it called, then
    /// "[name.exe]" at the bottom, or "Can not obtain ownership information"; so a connection is emitted
    /// when the next one starts or the input ends. The name becomes ProcessName without ".exe", as
    /// Get-Process shows it; component (service) names are not kept. PID 0 (System Idle, shown for
    /// TIME_WAIT) means no owner. A trailing offload state (-t) is ignored. IPV6_V6ONLY is not shown.
    /// </remarks>
    internal sealed class NetstatWindowsFormat : TableFormat
    {
        private SocketTuple? _pending;
        private long _pendingLine;
        private string _pendingText = string.Empty;
        private int _pendingPid;
        private string? _pendingName;

        public NetstatWindowsFormat(ParseContext context)
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
                Flush();
                Context.Skip(lineNumber, line, "banner");
                return;
            }

            if (text.StartsWith("Proto ".AsSpan(), StringComparison.Ordinal))
            {
                Flush();
                Context.Skip(lineNumber, line, "header");
                return;
            }

            var tokens = new TokenReader(text);
            tokens.Next(out ReadOnlySpan<char> proto);
            TransportProtocol protocol;
            if (Digits.EqualsIgnoreCase(proto, "TCP"))
            {
                protocol = TransportProtocol.Tcp;
            }
            else if (Digits.EqualsIgnoreCase(proto, "UDP"))
            {
                protocol = TransportProtocol.Udp;
            }
            else
            {
                ReadOwnerLine(line, lineNumber, text);
                return;
            }

            Flush();
            tokens.Next(out ReadOnlySpan<char> localText);
            if (!TryEndpoint(localText, "local", allowStar: false, out IPAddress? local, out int localPort, out string? error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            tokens.Next(out ReadOnlySpan<char> remoteText);
            if (!TryEndpoint(remoteText, "foreign", allowStar: true, out IPAddress? remote, out int remotePort, out error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            SocketState state = SocketState.Unconnected;
            if (protocol == TransportProtocol.Tcp)
            {
                tokens.Next(out ReadOnlySpan<char> stateText);
                if (!StateText.TryParse(stateText, protocol, out state, out string? stateError))
                {
                    Context.Fail(lineNumber, line, stateText.IsEmpty ? "expected the TCP state after the foreign address, found the end of the line" : stateError!);
                    return;
                }
            }

            int pid = 0;
            if (tokens.Next(out ReadOnlySpan<char> pidText) && !Digits.TryParseInt(pidText, out pid))
            {
                Context.Fail(lineNumber, line, "expected the PID (a number) after the " + (protocol == TransportProtocol.Tcp ? "state" : "foreign address") + ", found " + Quote(pidText));
                return;
            }

            if (tokens.Next(out ReadOnlySpan<char> extra) && !IsOffloadState(extra))
            {
                Context.Fail(lineNumber, line, "unexpected text after the PID: " + Quote(extra));
                return;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily && !IPAddressText.IsWildcard(remote))
            {
                Context.Fail(lineNumber, line, "the foreign address " + Quote(remoteText) + " is not of the local address's family");
                return;
            }

            Context.Parsed();
            _pending = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local!,
                LocalPort = localPort,
                RemoteAddress = remote!,
                RemotePort = remotePort,
                Source = Context.Source(lineNumber),
                ComputerName = Context.ComputerName,
            };
            _pendingLine = lineNumber;
            _pendingText = line;
            _pendingPid = pid;
            _pendingName = null;
        }

        public override void Complete() => Flush();

        private static bool IsOffloadState(ReadOnlySpan<char> token) =>
            Digits.EqualsIgnoreCase(token, "InHost") || Digits.EqualsIgnoreCase(token, "Offloaded") || Digits.EqualsIgnoreCase(token, "Offloading") || Digits.EqualsIgnoreCase(token, "Uploading");

        private void ReadOwnerLine(string line, long lineNumber, ReadOnlySpan<char> text)
        {
            if (_pending is null)
            {
                Context.Fail(lineNumber, line, "expected a connection line starting with TCP or UDP (an owner line of -b must follow one), found " + Quote(text));
                return;
            }

            if (text[0] == '[' && text[text.Length - 1] == ']')
            {
                ReadOnlySpan<char> name = text.Slice(1, text.Length - 2);
                if (name.EndsWith(".exe".AsSpan(), StringComparison.OrdinalIgnoreCase))
                {
                    name = name.Slice(0, name.Length - 4);
                }

                _pendingName = Context.ProcessName(name);
                Context.Parsed();
                return;
            }

            bool oneWord = text.IndexOf(' ') < 0 && text.IndexOf('\t') < 0;
            if (oneWord || text.StartsWith("Can not obtain ownership information".AsSpan(), StringComparison.OrdinalIgnoreCase))
            {
                Context.Parsed(); // a component (service) name, or no owner to show
                return;
            }

            Context.Fail(lineNumber, line, "expected a -b owner line ([name.exe], a component name, or 'Can not obtain ownership information') or a TCP or UDP line, found " + Quote(text));
        }

        private void Flush()
        {
            if (_pending is null)
            {
                return;
            }

            SocketTuple socket = _pending;
            _pending = null;
            if (_pendingPid != 0)
            {
                socket = new SocketTuple
                {
                    Protocol = socket.Protocol,
                    State = socket.State,
                    LocalAddress = socket.LocalAddress,
                    LocalPort = socket.LocalPort,
                    RemoteAddress = socket.RemoteAddress,
                    RemotePort = socket.RemotePort,
                    Processes = Context.SingleOwner(Context.Owner(_pendingPid, _pendingName)),
                    Source = socket.Source,
                    ComputerName = socket.ComputerName,
                };
            }

            Context.Emit(socket, _pendingLine, _pendingText);
        }

        private bool TryEndpoint(ReadOnlySpan<char> text, string which, bool allowStar, out IPAddress? address, out int port, out string? error)
        {
            address = null;
            port = 0;
            error = null;
            if (allowStar && text.SequenceEqual("*:*".AsSpan()))
            {
                return true;
            }

            int colon = text.LastIndexOf(':');
            if (colon <= 0)
            {
                error = "expected the " + which + " address:port (as in 0.0.0.0:135 or [::]:135), found " + (text.IsEmpty ? "the end of the line" : Quote(text));
                return false;
            }

            ReadOnlySpan<char> portText = text.Slice(colon + 1);
            if (!(allowStar && portText.Length == 1 && portText[0] == '*') && !Digits.TryParsePort(portText, out port))
            {
                error = "bad " + which + " port " + Quote(portText) + " in " + Quote(text) + ": expected a number from 0 to 65535"
                    + (portText.Length > 0 && char.IsLetter(portText[0]) ? " (service names need netstat -n)" : string.Empty);
                return false;
            }

            ReadOnlySpan<char> host = text.Slice(0, colon);
            bool bracketed = host.Length > 0 && host[0] == '[';
            if (AddressText.TryParseHost(host, Context, out address, out _) != HostKind.Address || (!bracketed && host.IndexOf(':') >= 0))
            {
                address = null;
                error = "bad " + which + " address " + Quote(host) + ": expected an IPv4 address or a bracketed IPv6 address"
                    + (host.Length > 0 && char.IsLetter(host[0]) && !bracketed ? " (names need netstat -n)" : string.Empty);
                return false;
            }

            return true;
        }

        private static string Quote(ReadOnlySpan<char> text) => ParseContext.Quote(text);
    }
}
