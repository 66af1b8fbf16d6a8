using System;

namespace PortTools.Text
{
    /// <summary>
    /// lsof -nP -iTCP -iUDP table output (lsof 4.95; lsof(8) "OUTPUT"): the header
    /// <c>COMMAND PID [TID TASKCMD] USER FD TYPE DEVICE SIZE/OFF NODE NAME</c> and lines such as
    /// <c>nginx 812 root 6u IPv4 530306 0t0 TCP *:80 (LISTEN)</c>.
    /// </summary>
    /// <remarks>
    /// TYPE (IPv4 or IPv6) gives the family of a "*" host; NODE is the protocol; NAME is
    /// local[->remote] with the TCP state (and with -T, QR= and QS=) in parentheses. On Linux DEVICE is
    /// the socket's inode. COMMAND is cut to 9 characters unless +c is given. USER is the process's
    /// user, not the socket's, so it is not taken as UserId. A socket held by several processes is
    /// listed once per process and descriptor; see SocketTableParserOptions.MergeSharedSockets.
    /// </remarks>
    internal sealed class LsofFormat : TableFormat
    {
        private readonly LsofSockets _sockets;

        public LsofFormat(ParseContext context)
            : base(context)
        {
            _sockets = new LsofSockets(context);
        }

        public override void Read(string line, long lineNumber)
        {
            ReadOnlySpan<char> text = TokenReader.Trim(line.AsSpan());
            if (text.IsEmpty)
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (text.StartsWith("COMMAND".AsSpan(), StringComparison.Ordinal) && text.IndexOf(" PID".AsSpan(), StringComparison.Ordinal) > 0)
            {
                Context.Skip(lineNumber, line, "header");
                return;
            }

            if (text.StartsWith("lsof: WARNING".AsSpan(), StringComparison.Ordinal) || text.StartsWith("Output information may be incomplete".AsSpan(), StringComparison.Ordinal))
            {
                Context.Skip(lineNumber, line, "lsof notice");
                return;
            }

            // TYPE (IPv4 or IPv6) anchors the line: COMMAND may hold spaces and TID, TASKCMD or USER may be
            // absent, but PID is the first number after COMMAND and before TYPE.
            var tokens = new TokenReader(text);
            int pidStart = -1;
            int pidLength = 0;
            int index = 0;
            ReadOnlySpan<char> token;
            ReadOnlySpan<char> type = default;
            while (tokens.Next(out token))
            {
                if (index > 0 && (token.SequenceEqual("IPv4".AsSpan()) || token.SequenceEqual("IPv6".AsSpan())))
                {
                    type = token;
                    break;
                }

                if (index > 0 && pidStart < 0 && Digits.IsAll(token))
                {
                    pidStart = tokens.Position - token.Length;
                    pidLength = token.Length;
                }

                index++;
            }

            if (type.IsEmpty)
            {
                Context.SkipOtherProtocol(lineNumber, line, "an lsof file that is not IPv4 or IPv6");
                return;
            }

            if (pidStart < 0 || !Digits.TryParseInt(text.Slice(pidStart, pidLength), out int pid))
            {
                Context.Fail(lineNumber, line, "expected COMMAND then PID (a number) before TYPE, found no PID");
                return;
            }

            ReadOnlySpan<char> command = TokenReader.Trim(text.Slice(0, pidStart));
            tokens.Next(out ReadOnlySpan<char> device);
            tokens.Next(out ReadOnlySpan<char> node);
            if (!IsNode(node))
            {
                tokens.Next(out node); // past SIZE/OFF
            }

            if (!IsNode(node))
            {
                if (Digits.EqualsIgnoreCase(node, "TCP") || Digits.EqualsIgnoreCase(node, "UDP") || node.IsEmpty)
                {
                    Context.Fail(lineNumber, line, "expected TYPE DEVICE SIZE/OFF NODE NAME with NODE TCP or UDP, found " + (node.IsEmpty ? "the end of the line" : ParseContext.Quote(node)));
                }
                else
                {
                    Context.SkipOtherProtocol(lineNumber, line, node.ToString());
                }

                return;
            }

            ReadOnlySpan<char> name = tokens.Rest;
            var fields = new LsofSockets.Fields
            {
                Protocol = node[0] == 'T' ? TransportProtocol.Tcp : TransportProtocol.Udp,
                IPv6 = type[3] == '6',
                Device = device.IsEmpty ? null : device.ToString(),
                Inode = Digits.TryParseUInt64(device, out ulong inode) && inode != 0 ? inode : null,
                ProcessId = pid,
                Command = command.IsEmpty ? null : Context.ProcessName(command),
            };

            int open = name.LastIndexOf(" (".AsSpan());
            if (open > 0 && name[name.Length - 1] == ')')
            {
                var info = new TokenReader(name.Slice(open + 2, name.Length - open - 3));
                while (info.Next(out ReadOnlySpan<char> item))
                {
                    if (!LsofSockets.TryInfo(item, ref fields, Context))
                    {
                        Context.Fail(lineNumber, line, "bad TCP/TPI info " + ParseContext.Quote(item) + ": expected a state, QR=n or QS=n");
                        return;
                    }
                }

                name = TokenReader.TrimEnd(name.Slice(0, open));
            }

            fields.Name = name.ToString();
            if (!_sockets.TryAdd(fields, lineNumber, line, out string? error))
            {
                Context.Fail(lineNumber, line, error!);
                return;
            }

            Context.Parsed();
        }

        public override void Complete() => _sockets.Flush();

        private static bool IsNode(ReadOnlySpan<char> token) => token.SequenceEqual("TCP".AsSpan()) || token.SequenceEqual("UDP".AsSpan());
    }
}
