using System;
using PortTools.Linux;

namespace PortTools.Text
{
    /// <summary>
    /// /proc/net/tcp, tcp6, udp and udp6 text, decoded by the live reader's own line decoder
    /// (Linux/ProcNetReader.DecodeLine; layouts of tcp4_seq_show in net/ipv4/tcp_ipv4.c, tcp6_seq_show
    /// in net/ipv6/tcp_ipv6.c and udp4_format_sock in net/ipv4/udp.c) with the writer's byte order.
    /// </summary>
    /// <remarks>
    /// IPv4 or IPv6 follows from the address length (8 or 32 hex digits). TCP or UDP: the options'
    /// protocol if given, else the last header seen (the udp headers end with "ref pointer drops"), else
    /// the fields after the inode: a UDP line has exactly three (ref, pointer, drops), a TCP line two
    /// (time-wait and request sockets) or seven. Concatenated files work: each header switches.
    /// </remarks>
    internal sealed class ProcNetFormat : TableFormat
    {
        private static readonly SocketQuery s_everything = new SocketQuery();
        private readonly RawSocketTable _scratch = new RawSocketTable(1);
        private readonly bool _littleEndian;
        private byte[] _bytes = new byte[256];
        private TransportProtocol? _headerProtocol;

        public ProcNetFormat(ParseContext context)
            : base(context)
        {
            _littleEndian = context.Options.ProcNetByteOrder == ProcNetByteOrder.LittleEndian;
        }

        public override void Read(string line, long lineNumber)
        {
            ReadOnlySpan<char> text = TokenReader.Trim(line.AsSpan());
            if (text.IsEmpty)
            {
                Context.Skip(lineNumber, line, "blank line");
                return;
            }

            if (text.StartsWith("sl".AsSpan(), StringComparison.Ordinal) && text.IndexOf("local_address".AsSpan(), StringComparison.Ordinal) > 0)
            {
                _headerProtocol = text.EndsWith("ref pointer drops".AsSpan(), StringComparison.Ordinal) ? TransportProtocol.Udp : TransportProtocol.Tcp;
                Context.Skip(lineNumber, line, "header");
                return;
            }

            var tokens = new TokenReader(text);
            tokens.Next(out ReadOnlySpan<char> slot);
            tokens.Next(out ReadOnlySpan<char> localText);
            int colon = localText.IndexOf(':');
            bool ipv6 = colon == 32;
            if (slot.Length < 2 || slot[slot.Length - 1] != ':' || !Digits.IsAll(slot.Slice(0, slot.Length - 1)) || (colon != 8 && colon != 32))
            {
                Context.Fail(lineNumber, line, Diagnose(text));
                return;
            }

            TransportProtocol protocol = Context.Options.Protocol ?? _headerProtocol ?? ProtocolFromTrailingFields(text);
            if (text.Length > _bytes.Length)
            {
                _bytes = new byte[text.Length * 2];
            }

            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                _bytes[i] = c < 128 ? (byte)c : (byte)'?';
            }

            if (!ProcNetReader.DecodeLine(new ReadOnlySpan<byte>(_bytes, 0, text.Length), protocol, ipv6, _littleEndian, s_everything, _scratch) || _scratch.Count != 1)
            {
                Context.Fail(lineNumber, line, Diagnose(text));
                return;
            }

            ref RawSocketTable.Record record = ref _scratch[0];
            (SocketTimer? timer, TimeSpan? expiresIn, int? retransmits) = record.TimerFields();
            var socket = new SocketTuple
            {
                Protocol = record.Protocol,
                State = record.State,
                LocalAddress = Context.Address(_scratch.LocalAddress(0)),
                LocalPort = record.LocalPort,
                RemoteAddress = Context.Address(_scratch.RemoteAddress(0)),
                RemotePort = record.RemotePort,
                UserId = record.UserId,
                Inode = record.Inode == 0 ? null : record.Inode,
                ReceiveQueue = record.ReceiveQueue,
                SendQueue = record.SendQueue,
                Timer = timer,
                TimerExpiresIn = expiresIn,
                Retransmits = retransmits,
                Source = Context.Source(lineNumber),
                ComputerName = Context.ComputerName,
            };
            _scratch.RemoveLast();
            Context.Parsed();
            Context.Emit(socket, lineNumber, line);
        }

        private static TransportProtocol ProtocolFromTrailingFields(ReadOnlySpan<char> text)
        {
            var tokens = new TokenReader(text);
            int count = 0;
            while (tokens.Next(out _))
            {
                count++;
            }

            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode = 10 fields, then the rest.
            return count - 10 == 3 ? TransportProtocol.Udp : TransportProtocol.Tcp;
        }

        /// <summary>Names the first field that does not have the shape the kernel prints.</summary>
        private static string Diagnose(ReadOnlySpan<char> text)
        {
            string[] names = { "sl (a number and ':')", "local_address (hex address:port)", "rem_address (hex address:port)", "st (hex state)", "tx_queue:rx_queue (hex)", "tr:tm->when (hex)", "retrnsmt (hex)", "uid (decimal)", "timeout (decimal)", "inode (decimal)" };
            var tokens = new TokenReader(text);
            int addressLength = -1;
            for (int field = 0; field < names.Length; field++)
            {
                if (!tokens.Next(out ReadOnlySpan<char> token))
                {
                    return "expected a /proc/net line ('sl: local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode'), but it ends before " + names[field];
                }

                bool ok;
                if (field == 1 || field == 2)
                {
                    ok = IsHexPair(token, out int length) && (length == 8 || length == 32) && (addressLength < 0 || length == addressLength);
                    addressLength = length;
                }
                else
                {
                    ok = field switch
                    {
                        0 => token.Length > 1 && token[token.Length - 1] == ':' && Digits.IsAll(token.Slice(0, token.Length - 1)),
                        3 => IsHex(token) && token.Length <= 2,
                        4 or 5 => IsHexPair(token, out _),
                        6 => IsHex(token),
                        _ => Digits.IsAll(token) || (field == 8 && token.Length > 1 && token[0] == '-' && Digits.IsAll(token.Slice(1))),
                    };
                }
                if (!ok)
                {
                    return "expected " + names[field] + " in field " + (field + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + " of a /proc/net line, found " + ParseContext.Quote(token);
                }
            }

            return "expected a /proc/net line ('sl: local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode')";
        }

        private static bool IsHexPair(ReadOnlySpan<char> token, out int firstLength)
        {
            firstLength = token.IndexOf(':');
            return firstLength > 0 && IsHex(token.Slice(0, firstLength)) && IsHex(token.Slice(firstLength + 1));
        }

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
    }
}
