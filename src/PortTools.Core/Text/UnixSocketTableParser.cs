using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using PortTools.Linux;
using PortTools.Text;

namespace PortTools
{
    /// <summary>One result of <see cref="UnixSocketTableParser"/>: a UNIX socket, a skipped line or an error.</summary>
    public readonly struct UnixSocketTableResult
    {
        internal UnixSocketTableResult(SocketTableResultKind kind, long lineNumber, string line, UnixSocket? socket, string? message)
        {
            Kind = kind;
            LineNumber = lineNumber;
            Line = line;
            Socket = socket;
            Message = message;
        }

        /// <summary>Socket, Skipped or Error.</summary>
        public SocketTableResultKind Kind { get; }

        /// <summary>The 1-based line number.</summary>
        public long LineNumber { get; }

        /// <summary>The text of the line.</summary>
        public string Line { get; }

        /// <summary>The socket, when <see cref="Kind"/> is Socket.</summary>
        public UnixSocket? Socket { get; }

        /// <summary>Why a line was skipped, or what was wrong with it.</summary>
        public string? Message { get; }
    }

    /// <summary>
    /// Reads UNIX domain sockets from text: ss -x (with -p, -e, -a), net-tools netstat -x (with -p),
    /// lsof -U (with +E), /proc/net/unix and the canonical UnixSocket text. Lines about TCP, UDP and
    /// other sockets are skipped. Peers are resolved when the input completes (a peer can be listed
    /// after the socket that names it), so sockets are emitted then, with the owners of their peers
    /// and, for a client that waits to be accepted (ss -e lists it among a listener's peers), the
    /// listener's path and owners.
    /// </summary>
    public sealed class UnixSocketTableParser
    {
        private readonly SocketTableParserOptions _options;
        private readonly Queue<UnixSocketTableResult> _results = new Queue<UnixSocketTableResult>();
        private readonly List<Draft> _drafts = new List<Draft>();
        private readonly Dictionary<ulong, Draft> _byInode = new Dictionary<ulong, Draft>();
        private readonly Dictionary<int, SocketOwner> _owners = new Dictionary<int, SocketOwner>();
        private SocketTableFormat _format;
        private long _lineNumber;
        private bool _completed;
        private bool _netstatUnixSection = true;
        private bool _netstatHasProgram;
        private bool _ssWithoutNetid;
        private long _parsed;
        private long _skipped;
        private long _failed;
        private long _other;

        /// <summary>Creates a parser.</summary>
        /// <param name="options">The format (Auto detects it) and the computer name to stamp; Protocol is ignored.</param>
        public UnixSocketTableParser(SocketTableParserOptions? options = null)
        {
            _options = options ?? new SocketTableParserOptions();
            _format = _options.Format;
            if (_format is SocketTableFormat.NetstatWindows or SocketTableFormat.NetstatBsd or SocketTableFormat.LsofFields or SocketTableFormat.Csv or SocketTableFormat.Json)
            {
                throw new ArgumentException("UNIX sockets are read from ss, netstat (Linux), lsof, /proc/net/unix or the canonical text; " + _format + " is not one of them.", nameof(options));
            }
        }

        /// <summary>The format in use: the one given, or the one detected (Auto until then).</summary>
        public SocketTableFormat Format => _format;

        /// <summary>The counts so far; final after <see cref="Complete"/>.</summary>
        public SocketTableSummary Summary => new SocketTableSummary(_format, _lineNumber, _parsed, _skipped, _failed, _completed ? _drafts.Count : 0, _other);

        /// <summary>Reads a line (a string holding line breaks counts as several).</summary>
        /// <param name="text">The text.</param>
        public void Add(string text)
        {
            if (text is null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            if (_completed)
            {
                throw new InvalidOperationException("The input is complete: create a new UnixSocketTableParser for more text.");
            }

            string[] lines = text.Split('\n');
            int count = text.EndsWith("\n", StringComparison.Ordinal) ? lines.Length - 1 : lines.Length; // a final line break starts no line
            for (int i = 0; i < Math.Max(count, 1); i++)
            {
                AddLine(lines[i]);
            }
        }

        /// <summary>Takes the next result, if any.</summary>
        /// <param name="result">The result.</param>
        /// <returns>Whether there was one.</returns>
        public bool TryRead(out UnixSocketTableResult result)
        {
            if (_results.Count > 0)
            {
                result = _results.Dequeue();
                return true;
            }

            result = default;
            return false;
        }

        /// <summary>Ends the input: peers are resolved and every socket is queued.</summary>
        public void Complete()
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            var pending = new Dictionary<ulong, Draft>();
            foreach (Draft draft in _drafts)
            {
                foreach (ulong client in draft.Pending)
                {
                    pending[client] = draft;
                }
            }

            foreach (Draft draft in _drafts)
            {
                _results.Enqueue(new UnixSocketTableResult(SocketTableResultKind.Socket, draft.LineNumber, draft.Line, draft.Build(_byInode, pending, _options.ComputerName, Source(draft.LineNumber)), null));
            }
        }

        /// <summary>Reads a whole reader and completes the input.</summary>
        /// <param name="reader">The text.</param>
        /// <param name="cancellation">Stops between lines.</param>
        /// <returns>The results, in order (sockets last).</returns>
        public IEnumerable<UnixSocketTableResult> ReadAll(TextReader reader, CancellationToken cancellation = default)
        {
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                if ((_lineNumber & 0x3FF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                }

                AddLine(line);
                while (TryRead(out UnixSocketTableResult result))
                {
                    yield return result;
                }
            }

            Complete();
            while (TryRead(out UnixSocketTableResult result))
            {
                yield return result;
            }
        }

        /// <summary>Parses a whole text, stopping at the first error.</summary>
        /// <param name="text">The text.</param>
        /// <param name="format">Its layout, or Auto.</param>
        /// <returns>The sockets.</returns>
        /// <exception cref="FormatException">A line cannot be read.</exception>
        public static IReadOnlyList<UnixSocket> Parse(string text, SocketTableFormat format = SocketTableFormat.Auto)
        {
            var parser = new UnixSocketTableParser(new SocketTableParserOptions { Format = format });
            parser.Add(text ?? string.Empty);
            parser.Complete();
            var sockets = new List<UnixSocket>();
            while (parser.TryRead(out UnixSocketTableResult result))
            {
                if (result.Kind == SocketTableResultKind.Error)
                {
                    throw new FormatException("Line " + result.LineNumber.ToString(CultureInfo.InvariantCulture) + " ('" + result.Line + "'): " + result.Message);
                }

                if (result.Socket is not null)
                {
                    sockets.Add(result.Socket);
                }
            }

            return sockets;
        }

        private string Source(long lineNumber) => ParseContext.SourceName(_format) + "-unix:" + lineNumber.ToString(CultureInfo.InvariantCulture);

        private void AddLine(string line)
        {
            _lineNumber++;
            line = line.TrimEnd('\r').TrimStart('\uFEFF');
            if (line.Trim().Length == 0)
            {
                Skip(line, "blank line");
                return;
            }

            if (_format == SocketTableFormat.Auto)
            {
                SocketTableFormat detected = Detect(line);
                if (detected == SocketTableFormat.Auto)
                {
                    Fail(line, "cannot tell the format from this line: expected a header or a line of ss -x, netstat -x, lsof -U, /proc/net/unix, or the canonical UNIX socket text (u_str LISTEN /run/app.sock)");
                    return;
                }

                _format = detected;
            }

            switch (_format)
            {
                case SocketTableFormat.Ss:
                    ReadSs(line);
                    break;
                case SocketTableFormat.NetstatLinux:
                    ReadNetstat(line);
                    break;
                case SocketTableFormat.Lsof:
                    ReadLsof(line);
                    break;
                case SocketTableFormat.ProcNet:
                    ReadProcNet(line);
                    break;
                default:
                    ReadCanonical(line);
                    break;
            }
        }

        /// <summary>Whether a line describes a UNIX domain socket in one of the layouts this parser reads (for hints where it was skipped).</summary>
        /// <param name="line">A line of text.</param>
        /// <returns>Whether it is a UNIX socket's line.</returns>
        public static bool IsUnixSocketLine(string? line)
        {
            string[] t = Tokens((line ?? string.Empty).Trim());
            return (t.Length > 4 && t[0].StartsWith("u_", StringComparison.Ordinal) && UnixSocketText.TryParseNetId(t[0], out _))
                || (t.Length > 4 && t[0] == "unix" && IsDigits(t[1]) && t[2] == "[")
                || (t.Length > 6 && t[0].EndsWith(":", StringComparison.Ordinal) && IsHex(t[0].TrimEnd(':')) && t[3].Length == 8 && t[4].Length == 4)
                || (Array.IndexOf(t, "unix") > 0 && Array.Exists(t, x => x.StartsWith("type=", StringComparison.Ordinal)));
        }

        internal static SocketTableFormat Detect(string line)
        {
            string text = line.Trim();
            string[] t = Tokens(text);
            if (text.StartsWith("Netid", StringComparison.Ordinal) || (text.StartsWith("State", StringComparison.Ordinal) && text.Contains("Recv-Q")))
            {
                return SocketTableFormat.Ss;
            }

            if (text.StartsWith("Active ", StringComparison.Ordinal) || (text.StartsWith("Proto", StringComparison.Ordinal) && text.Contains("RefCnt")) || (t.Length > 2 && t[0] == "unix" && IsDigits(t[1])))
            {
                return SocketTableFormat.NetstatLinux;
            }

            if (text.StartsWith("Num ", StringComparison.Ordinal) && text.Contains("RefCount") || (t.Length > 6 && t[0].EndsWith(":", StringComparison.Ordinal) && IsHex(t[0].TrimEnd(':'))))
            {
                return SocketTableFormat.ProcNet;
            }

            if ((text.StartsWith("COMMAND", StringComparison.Ordinal) && text.Contains("NODE")) || (Array.IndexOf(t, "unix") > 0 && text.Contains("type=")))
            {
                return SocketTableFormat.Lsof;
            }

            if (t.Length > 3 && UnixSocketText.TryParseNetId(t[0], out _) && t[0].StartsWith("u_", StringComparison.Ordinal))
            {
                return IsDigits(t[2]) ? SocketTableFormat.Ss : SocketTableFormat.Canonical;
            }

            if (t.Length > 3 && IsDigits(t[2]) && IsDigits(t[3]) && (t[0] is "tcp" or "udp" or "raw" or "nl" or "p_raw" or "p_dgr" or "mptcp" or "sctp" or "tipc" or "v_str" or "v_dgr" or "xdp"))
            {
                return SocketTableFormat.Ss;
            }

            return SocketTableFormat.Auto;
        }

        private void ReadSs(string line)
        {
            if (line[0] == '\t')
            {
                Skip(line, "ss detail line (-i, -m)");
                return;
            }

            List<(int Start, int End)> spans = Spans(line);
            string first = Token(line, spans[0]);
            if (first == "Netid" || (first == "State" && line.Contains("Recv-Q")))
            {
                _ssWithoutNetid = first == "State";
                Skip(line, "header");
                return;
            }

            if (!UnixSocketText.TryParseNetId(first, out UnixSocketType type) || !first.StartsWith("u_", StringComparison.Ordinal))
            {
                if (_ssWithoutNetid && UnixSocketText.TryParseState(first, out _))
                {
                    Fail(line, "this ss output has no Netid column, so the socket type is not known: list UNIX sockets with ss -x (which prints it), not ss -A unix_stream");
                    return;
                }

                Other(line, first);
                return;
            }

            // netid state rq sq <name...> <ino> <peer name> <peer ino> [users:((...))] [<-> ino:N dev:M/m peers: N...]
            int peerAt = -1;
            for (int k = 5; k + 2 < spans.Count; k++)
            {
                string peerName = Token(line, spans[k + 1]);
                if (IsDigits(Token(line, spans[k])) && IsDigits(Token(line, spans[k + 2])) && (peerName is "*" or "?" || peerName[0] == '/' || peerName[0] == '@'))
                {
                    peerAt = k + 1;
                    break;
                }
            }

            if (spans.Count < 8 || peerAt < 0 || !TryState(Token(line, spans[1]), out SocketState state)
                || !long.TryParse(Token(line, spans[2]), NumberStyles.None, CultureInfo.InvariantCulture, out long receive)
                || !long.TryParse(Token(line, spans[3]), NumberStyles.None, CultureInfo.InvariantCulture, out long send))
            {
                Fail(line, "expected Netid State Recv-Q Send-Q, the local address and inode, and the peer and its inode, as ss -x prints them (u_str ESTAB 0 0 /run/app.sock 12345 * 12346)");
                return;
            }

            string local = line.Substring(spans[4].Start, spans[peerAt - 2].End - spans[4].Start);
            var draft = new Draft(_lineNumber, line)
            {
                Type = type,
                State = state,
                Inode = ulong.Parse(Token(line, spans[peerAt - 1]), CultureInfo.InvariantCulture),
                PeerInode = ulong.Parse(Token(line, spans[peerAt + 1]), CultureInfo.InvariantCulture),
                ReceiveQueue = receive,
                SendQueue = send,
            };
            SetAddress(draft, local == "*" ? null : local);
            string peer = Token(line, spans[peerAt]);
            if (peer is not "*" and not "?")
            {
                draft.PeerPath = peer;
            }

            int at = spans[peerAt + 1].End;
            int users = line.IndexOf("users:((", at, StringComparison.Ordinal);
            if (users >= 0)
            {
                if (!TryReadSsUsers(line, users, draft.Owners, out int end))
                {
                    Fail(line, "expected users:((\"name\",pid=N,fd=N),...) as ss -p prints it");
                    return;
                }

                at = end;
            }

            // -e: the shutdown arrows, "ino:N dev:M/m" of the socket file, "peers: N N" pending on a listener.
            List<(int Start, int End)> extras = Spans(line.Substring(at));
            bool inPeers = false;
            foreach ((int start, int end) in extras)
            {
                string token = line.Substring(at + start, end - start);
                if (inPeers && ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out ulong client))
                {
                    draft.Pending.Add(client);
                    continue;
                }

                inPeers = token == "peers:";
                if (token.StartsWith("ino:", StringComparison.Ordinal) && ulong.TryParse(token.Substring(4), NumberStyles.None, CultureInfo.InvariantCulture, out ulong fileInode))
                {
                    draft.FileInode = fileInode;
                }
                else if (token.StartsWith("dev:", StringComparison.Ordinal))
                {
                    draft.FileDevice = SsDevice(token.Substring(4));
                }
            }

            Add(draft);
        }

        /// <summary>
        /// ss prints the socket file's device with glibc's major()/minor() of the kernel's dev_t (major
        /// above bit 20), which scrambles it: turned back into the kernel's value, it reads as major:minor.
        /// </summary>
        internal static string? SsDevice(string text)
        {
            int slash = text.IndexOf('/');
            if (slash <= 0 || !uint.TryParse(text.Substring(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out uint major)
                || !uint.TryParse(text.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out uint minor))
            {
                return null;
            }

            uint kernel = ((major & 0xFFF) << 8) | (minor & 0xFF) | ((minor & 0xFFF00) << 12);
            return UnixSocketReader.DeviceText(kernel);
        }

        private bool TryReadSsUsers(string line, int at, List<SocketOwner> owners, out int end)
        {
            end = at;
            int position = at + "users:(".Length;
            while (position + 1 < line.Length && line[position] == '(' && line[position + 1] == '"')
            {
                int nameStart = position + 2;
                int pidMark = line.IndexOf("\",pid=", nameStart, StringComparison.Ordinal);
                if (pidMark < 0)
                {
                    return false;
                }

                int pidStart = pidMark + 6;
                int pidEnd = pidStart;
                while (pidEnd < line.Length && char.IsDigit(line[pidEnd]))
                {
                    pidEnd++;
                }

                int close = line.IndexOf(')', pidEnd);
                if (pidEnd == pidStart || close < 0)
                {
                    return false;
                }

                AddOwner(owners, int.Parse(line.Substring(pidStart, pidEnd - pidStart), CultureInfo.InvariantCulture), line.Substring(nameStart, pidMark - nameStart));
                position = close + 1;
                if (position < line.Length && line[position] == ',')
                {
                    position++;
                    continue;
                }

                if (position < line.Length && line[position] == ')')
                {
                    end = position + 1;
                    return true;
                }

                return false;
            }

            return false;
        }

        private void ReadNetstat(string line)
        {
            string text = line.Trim();
            if (text.StartsWith("Active ", StringComparison.Ordinal))
            {
                _netstatUnixSection = text.StartsWith("Active UNIX domain sockets", StringComparison.Ordinal);
                Skip(line, "banner");
                return;
            }

            if (text.StartsWith("Proto", StringComparison.Ordinal))
            {
                _netstatHasProgram = text.Contains("PID/Program");
                Skip(line, "header");
                return;
            }

            if (text[0] == '(' || text.StartsWith("will not be shown", StringComparison.Ordinal))
            {
                Skip(line, "netstat notice");
                return;
            }

            List<(int Start, int End)> spans = Spans(line);
            string proto = Token(line, spans[0]);
            if (!_netstatUnixSection || proto != "unix")
            {
                Other(line, proto);
                return;
            }

            // unix  2      [ ACC ]     STREAM     LISTENING     93660    12425/dotnet         /tmp/app.sock
            int k = 2;
            if (spans.Count < 5 || Token(line, spans[k]) != "[")
            {
                Fail(line, "expected Proto RefCnt [ Flags ] Type State I-Node [PID/Program name] Path, as netstat -x prints them");
                return;
            }

            while (k < spans.Count && Token(line, spans[k]) != "]")
            {
                k++;
            }

            k++;
            if (k + 1 >= spans.Count || !TryNetstatType(Token(line, spans[k]), out UnixSocketType type))
            {
                Fail(line, "expected the socket type (STREAM, DGRAM or SEQPACKET) after the flags");
                return;
            }

            k++;
            SocketState state = SocketState.Unconnected;
            string word = Token(line, spans[k]);
            if (!IsDigits(word))
            {
                state = word switch
                {
                    "LISTENING" => SocketState.Listen,
                    "CONNECTED" or "CONNECTING" => SocketState.Established,
                    _ => SocketState.Unconnected,
                };
                k++;
            }

            if (k >= spans.Count || !ulong.TryParse(Token(line, spans[k]), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                Fail(line, "expected the I-Node number after the state");
                return;
            }

            var draft = new Draft(_lineNumber, line) { Type = type, State = state, Inode = inode };
            int rest = spans[k].End;
            if (_netstatHasProgram)
            {
                // "%-20s" of pid/name (the name may hold spaces), then a space and the path.
                int programStart = rest;
                while (programStart < line.Length && line[programStart] == ' ')
                {
                    programStart++;
                }

                string program = line.Substring(programStart, Math.Min(20, line.Length - programStart)).TrimEnd();
                int slash = program.IndexOf('/');
                if (slash > 0 && int.TryParse(program.Substring(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    AddOwner(draft.Owners, pid, program.Substring(slash + 1));
                }

                rest = Math.Min(line.Length, programStart + 21);
            }

            string path = rest < line.Length ? line.Substring(rest).Trim() : string.Empty;
            SetAddress(draft, path.Length == 0 ? null : path);
            Add(draft);
        }

        private static bool TryNetstatType(string word, out UnixSocketType type)
        {
            switch (word)
            {
                case "STREAM":
                    type = UnixSocketType.Stream;
                    return true;
                case "DGRAM":
                    type = UnixSocketType.Datagram;
                    return true;
                case "SEQPACKET":
                    type = UnixSocketType.SeqPacket;
                    return true;
                default:
                    type = default;
                    return false;
            }
        }

        private void ReadLsof(string line)
        {
            List<(int Start, int End)> spans = Spans(line);
            string first = Token(line, spans[0]);
            if (first == "COMMAND")
            {
                Skip(line, "header");
                return;
            }

            int typeAt = -1;
            for (int i = 4; i < spans.Count; i++)
            {
                if (Token(line, spans[i]) == "unix")
                {
                    typeAt = i;
                    break;
                }
            }

            if (typeAt < 0)
            {
                Other(line, spans.Count > 4 ? "an lsof file of type " + Token(line, spans[4]) : "an lsof line");
                return;
            }

            // COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME: NAME is [path ]type=T[ ->INO=N pid,cmd,fd...] (STATE).
            if (typeAt + 4 >= spans.Count || !int.TryParse(Token(line, spans[typeAt - 3]), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || !ulong.TryParse(Token(line, spans[typeAt + 3]), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                Fail(line, "expected COMMAND PID USER FD unix DEVICE SIZE/OFF NODE NAME, as lsof -U prints them");
                return;
            }

            string command = line.Substring(spans[0].Start, spans[typeAt - 4].End - spans[0].Start);
            string name = line.Substring(spans[typeAt + 4].Start);
            int typeMark = name.StartsWith("type=", StringComparison.Ordinal) ? 0 : name.IndexOf(" type=", StringComparison.Ordinal) + 1;
            int open = name.LastIndexOf('(');
            if (typeMark < 0 || (typeMark == 0 && !name.StartsWith("type=", StringComparison.Ordinal)))
            {
                Fail(line, "expected type=STREAM, type=DGRAM or type=SEQPACKET in the NAME column");
                return;
            }

            int typeEnd = name.IndexOf(' ', typeMark);
            string typeText = name.Substring(typeMark + 5, (typeEnd < 0 ? name.Length : typeEnd) - typeMark - 5);
            if (!TryNetstatType(typeText, out UnixSocketType type))
            {
                Fail(line, "unknown UNIX socket type '" + typeText + "': expected STREAM, DGRAM or SEQPACKET");
                return;
            }

            string stateText = open > typeMark ? name.Substring(open + 1).TrimEnd(')', ' ') : string.Empty;
            SocketState state = stateText switch
            {
                "LISTEN" => SocketState.Listen,
                "CONNECTED" or "CONNECTING" => SocketState.Established,
                _ => SocketState.Unconnected,
            };
            string path = typeMark > 0 ? name.Substring(0, typeMark - 1) : string.Empty;
            if (_byInode.TryGetValue(inode, out Draft? known) && known.Type == type)
            {
                // The same socket held by one more process or descriptor: lsof prints it once per descriptor.
                AddOwner(known.Owners, pid, command);
                _parsed++;
                return;
            }

            var draft = new Draft(_lineNumber, line) { Type = type, State = state, Inode = inode };
            SetAddress(draft, path.Length == 0 ? null : path);
            int peer = name.IndexOf("->INO=", StringComparison.Ordinal);
            if (peer >= 0)
            {
                int end = peer + 6;
                while (end < name.Length && char.IsDigit(name[end]))
                {
                    end++;
                }

                if (ulong.TryParse(name.Substring(peer + 6, end - peer - 6), NumberStyles.None, CultureInfo.InvariantCulture, out ulong peerInode))
                {
                    draft.PeerInode = peerInode;
                }
            }

            AddOwner(draft.Owners, pid, command);
            Add(draft);
        }

        private void ReadProcNet(string line)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line);
            var table = new RawUnixSocketTable(1);
            ProcNetUnixReader.DecodeLine(bytes, table);
            if (table.Count == 0)
            {
                if (line.TrimStart().StartsWith("Num", StringComparison.Ordinal))
                {
                    Skip(line, "header");
                }
                else if (Tokens(line.Trim()) is { Length: >= 7 } fields && fields[6] == "0")
                {
                    Skip(line, "the server end of a connection not yet accepted (inode 0), which ss and unix_diag leave out");
                }
                else
                {
                    Fail(line, "expected Num: RefCount Protocol Flags Type St Inode [Path], as /proc/net/unix lists them");
                }

                return;
            }

            ref RawUnixSocketTable.Record record = ref table[0];
            var draft = new Draft(_lineNumber, line)
            {
                Type = (UnixSocketType)record.Type,
                State = UnixSocketReader.MapState(record.KernelState),
                Inode = record.Inode,
                NoPeers = true,
            };
            ReadOnlySpan<byte> name = table.Name(0);
            draft.Path = UnixNameCache.Decode(name);
            draft.Kind = name.Length == 0 ? UnixAddressKind.Unnamed : name[0] == 0 ? UnixAddressKind.Abstract : UnixAddressKind.Path;
            Add(draft);
        }

        private void ReadCanonical(string line)
        {
            string first = Tokens(line.Trim())[0];
            if (first is "tcp" or "udp")
            {
                Other(line, first);
                return;
            }

            if (!UnixSocketText.TryParse(line, out UnixSocket? socket, out string? error))
            {
                Fail(line, error);
                return;
            }

            var draft = new Draft(_lineNumber, line)
            {
                Type = socket.Type,
                State = socket.State,
                Path = socket.Path,
                Kind = socket.AddressKind,
                Inode = socket.Inode ?? 0,
                PeerInode = socket.PeerInode ?? 0,
                UserId = socket.UserId,
                NetworkNamespace = socket.NetworkNamespace,
            };
            draft.Owners.AddRange(socket.Processes);
            Add(draft);
        }

        private static void SetAddress(Draft draft, string? address)
        {
            draft.Path = address;
            draft.Kind = address is null ? UnixAddressKind.Unnamed : address[0] == '@' ? UnixAddressKind.Abstract : UnixAddressKind.Path;
        }

        private static bool TryState(string text, out SocketState state)
        {
            if (SocketStateNames.TryParse(text, out state))
            {
                state = UnixSocketText.Normalize(state);
                return true;
            }

            return false;
        }

        private void AddOwner(List<SocketOwner> owners, int pid, string name)
        {
            foreach (SocketOwner owner in owners)
            {
                if (owner.ProcessId == pid)
                {
                    return;
                }
            }

            if (!_owners.TryGetValue(pid, out SocketOwner? known) || !string.Equals(known.ProcessName, name, StringComparison.Ordinal))
            {
                known = new SocketOwner(pid, name);
                _owners[pid] = known;
            }

            owners.Add(known);
        }

        private void Add(Draft draft)
        {
            _parsed++;
            _drafts.Add(draft);
            if (draft.Inode != 0)
            {
                _byInode[draft.Inode] = draft;
            }
        }

        private void Skip(string line, string reason)
        {
            _skipped++;
            _results.Enqueue(new UnixSocketTableResult(SocketTableResultKind.Skipped, _lineNumber, line, null, reason));
        }

        private void Other(string line, string kind)
        {
            _other++;
            Skip(line, "not a UNIX domain socket: " + kind);
        }

        private void Fail(string line, string message)
        {
            _failed++;
            _results.Enqueue(new UnixSocketTableResult(SocketTableResultKind.Error, _lineNumber, line, null, message));
        }

        private static List<(int Start, int End)> Spans(string line)
        {
            var spans = new List<(int, int)>();
            int i = 0;
            while (i < line.Length)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == '\t'))
                {
                    i++;
                }

                int start = i;
                while (i < line.Length && line[i] != ' ' && line[i] != '\t')
                {
                    i++;
                }

                if (i > start)
                {
                    spans.Add((start, i));
                }
            }

            if (spans.Count == 0)
            {
                spans.Add((0, 0));
            }

            return spans;
        }

        private static string Token(string line, (int Start, int End) span) => line.Substring(span.Start, span.End - span.Start);

        private static string[] Tokens(string text) => text.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } tokens ? tokens : new[] { string.Empty };

        private static bool IsDigits(string text)
        {
            if (text.Length == 0)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsHex(string text)
        {
            if (text.Length == 0)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (!Uri.IsHexDigit(c))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>A socket as read from one line, until peers are resolved.</summary>
        private sealed class Draft
        {
            public Draft(long lineNumber, string line)
            {
                LineNumber = lineNumber;
                Line = line;
            }

            public long LineNumber { get; }

            public string Line { get; }

            public UnixSocketType Type { get; set; }

            public SocketState State { get; set; }

            public string? Path { get; set; }

            public UnixAddressKind Kind { get; set; }

            public ulong Inode { get; set; }

            public ulong PeerInode { get; set; }

            public string? PeerPath { get; set; }

            public ulong? FileInode { get; set; }

            public string? FileDevice { get; set; }

            public long? ReceiveQueue { get; set; }

            public long? SendQueue { get; set; }

            public long? UserId { get; set; }

            public NetworkNamespaceInfo? NetworkNamespace { get; set; }

            /// <summary>Whether the format says nothing about peers (/proc/net/unix).</summary>
            public bool NoPeers { get; set; }

            public List<SocketOwner> Owners { get; } = new List<SocketOwner>(1);

            public List<ulong> Pending { get; } = new List<ulong>();

            public UnixSocket Build(Dictionary<ulong, Draft> byInode, Dictionary<ulong, Draft> pending, string? computerName, string source)
            {
                string? peerPath = PeerPath;
                IReadOnlyList<SocketOwner> peerOwners = Array.Empty<SocketOwner>();
                if (PeerInode != 0 && byInode.TryGetValue(PeerInode, out Draft? peer))
                {
                    peerPath ??= peer.Path;
                    peerOwners = peer.Owners;
                }
                else if (PeerInode == 0 && pending.TryGetValue(Inode, out Draft? listener))
                {
                    peerPath = listener.Path;
                    peerOwners = listener.Owners;
                }

                return new UnixSocket
                {
                    Type = Type,
                    State = State,
                    Path = Path,
                    AddressKind = Kind,
                    Inode = Inode == 0 ? null : Inode,
                    FileInode = FileInode,
                    FileDevice = FileDevice,
                    PeerInode = PeerInode == 0 || NoPeers ? null : PeerInode,
                    PeerPath = peerPath,
                    PeerProcesses = peerOwners,
                    ReceiveQueue = ReceiveQueue,
                    SendQueue = SendQueue,
                    UserId = UserId,
                    Processes = Owners,
                    NetworkNamespace = NetworkNamespace,
                    Source = source,
                    ComputerName = computerName,
                };
            }
        }
    }
}
