using System;

namespace PortTools.Text
{
    /// <summary>
    /// lsof -F field output (lsof(8) "OUTPUT FOR OTHER PROGRAMS", lsof 4.95): one field per line, its
    /// first character naming it: a process set starts with p (pid) and may hold c (command), u (uid),
    /// L (login), g, R; each file set starts with f (descriptor) and may hold t (type: IPv4, IPv6...),
    /// d (device; the socket inode on Linux), i, o, P (protocol), n (name) and T (TCP/TPI info: ST=state,
    /// QR=, QS=). With -F0 the fields of a set share one line, each ended by a NUL.
    /// </summary>
    /// <remarks>
    /// When f was not asked for (lsof -F pcnPT) a file set starts where a file field repeats. A file
    /// set becomes a socket when it ends; its lines are counted then. u is the process's user, not the
    /// socket's, and is not taken as UserId.
    /// </remarks>
    internal sealed class LsofFieldFormat : TableFormat
    {
        private readonly LsofSockets _sockets;
        private int _processId;
        private string? _command;
        private FileSet _file;

        public LsofFieldFormat(ParseContext context)
            : base(context)
        {
            _sockets = new LsofSockets(context);
        }

        public override void Read(string line, long lineNumber)
        {
            if (line.Length == 0 || TokenReader.IsBlankLine(line))
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            bool fileLine = false;
            foreach (string field in line.Split('\0'))
            {
                if (field.Length == 0)
                {
                    continue;
                }

                char id = field[0];
                ReadOnlySpan<char> value = field.AsSpan(1);
                switch (id)
                {
                    case 'p':
                        EndFile();
                        if (!Digits.TryParseInt(value, out _processId))
                        {
                            _processId = 0;
                            Context.Fail(lineNumber, line, "expected a process id after 'p', found " + ParseContext.Quote(value));
                            return;
                        }

                        _command = null;
                        break;
                    case 'c':
                        _command = value.IsEmpty ? null : Context.ProcessName(value);
                        break;
                    case 'u':
                    case 'L':
                    case 'g':
                    case 'R':
                    case 'K':
                        break; // process fields the model has no place for
                    case 'f':
                        EndFile();
                        Start(lineNumber, line);
                        fileLine = true;
                        break;
                    case 't':
                    case 'd':
                    case 'D':
                    case 'i':
                    case 'o':
                    case 's':
                    case 'P':
                    case 'n':
                    case 'a':
                    case 'l':
                    case 'k':
                    case 'N':
                    case 'S':
                    case 'G':
                    case 'r':
                    case 'z':
                    case 'Z':
                    case 'm':
                    case 'T':
                        if (!_file.Open || (_file.Has(id) && id != 'T'))
                        {
                            EndFile();
                            Start(lineNumber, line);
                        }

                        _file.Mark(id);
                        fileLine = true;
                        Take(id, value);
                        break;
                    default:
                        if (_file.Open && _file.FirstLine == lineNumber)
                        {
                            _file = default; // the set began on this bad line: the error stands for it
                        }

                        Context.Fail(lineNumber, line, "expected an lsof -F field (a known field letter such as p, c, f, t, P, n or T, then its value), found " + ParseContext.Quote(field.AsSpan()));
                        return;
                }
            }

            if (fileLine)
            {
                _file.Lines++;
            }
            else
            {
                Context.Parsed(); // a process field: it names the owner of the files that follow
            }
        }

        public override void Complete()
        {
            EndFile();
            _sockets.Flush();
        }

        private void Start(long lineNumber, string line)
        {
            _file = new FileSet { Open = true, FirstLine = lineNumber, FirstText = line };
            _file.Lines = -1; // the line that starts the set is counted when Read finishes with it
        }

        private void Take(char id, ReadOnlySpan<char> value)
        {
            switch (id)
            {
                case 't':
                    _file.Type = value.ToString();
                    break;
                case 'd':
                case 'i':
                    if (id == 'i' || _file.Device is null)
                    {
                        _file.Device = value.ToString();
                    }

                    break;
                case 'P':
                    _file.Protocol = value.ToString();
                    break;
                case 'n':
                    _file.Name = value.ToString();
                    break;
                case 'T':
                    _file.Info ??= new System.Collections.Generic.List<string>(3);
                    _file.Info.Add(value.ToString());
                    break;
            }
        }

        private void EndFile()
        {
            if (!_file.Open)
            {
                return;
            }

            FileSet file = _file;
            _file = default;
            int lines = file.Lines + 1;
            if (file.Type is not null && file.Type != "IPv4" && file.Type != "IPv6")
            {
                Context.SkipOtherProtocol(file.FirstLine, file.FirstText!, "an lsof file of type " + file.Type, lines);
                return;
            }

            if (file.Protocol is not null && file.Protocol != "TCP" && file.Protocol != "UDP")
            {
                Context.SkipOtherProtocol(file.FirstLine, file.FirstText!, file.Protocol, lines);
                return;
            }

            if (file.Protocol is null || file.Name is null)
            {
                Context.Fail(file.FirstLine, file.FirstText!, "expected the P (protocol) and n (name) fields of the file set (run lsof -F with at least pPn)", lines);
                return;
            }

            var fields = new LsofSockets.Fields
            {
                Protocol = file.Protocol == "TCP" ? TransportProtocol.Tcp : TransportProtocol.Udp,
                IPv6 = file.Type is null ? null : file.Type == "IPv6",
                Name = file.Name,
                Device = file.Device,
                Inode = Digits.TryParseUInt64(file.Device.AsSpan(), out ulong inode) && inode != 0 ? inode : null,
                ProcessId = _processId,
                Command = _command,
            };
            if (file.Info is not null)
            {
                foreach (string item in file.Info)
                {
                    if (!LsofSockets.TryInfo(item.AsSpan(), ref fields, Context))
                    {
                        Context.Fail(file.FirstLine, file.FirstText!, "bad T field " + ParseContext.Quote(item.AsSpan()) + ": expected ST=state, QR=n or QS=n", lines);
                        return;
                    }
                }
            }

            if (!_sockets.TryAdd(fields, file.FirstLine, file.FirstText!, out string? error))
            {
                Context.Fail(file.FirstLine, file.FirstText!, error!, lines);
                return;
            }

            Context.Parsed(lines);
        }

        private struct FileSet
        {
            public bool Open;
            public long FirstLine;
            public string? FirstText;
            public int Lines;
            public string? Type;
            public string? Device;
            public string? Protocol;
            public string? Name;
            public System.Collections.Generic.List<string>? Info;
            private int _seen;

            public bool Has(char id) => (_seen & Bit(id)) != 0;

            public void Mark(char id) => _seen |= Bit(id);

            private static int Bit(char id) => 1 << ((id - 'A') & 31);
        }
    }
}
