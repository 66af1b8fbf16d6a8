using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace PortTools
{
    /// <summary>
    /// The canonical text form of a UNIX domain socket:
    /// <c>&lt;u_str|u_dgr|u_seq&gt; &lt;LISTEN|ESTAB|UNCONN&gt; &lt;path|@name|*&gt; [ino=&lt;n&gt;] [peer=&lt;n&gt;] [uid=&lt;n&gt;] [netns=[&lt;name&gt;:]&lt;inode&gt;] [pid=&lt;n&gt;[,&lt;n&gt;...]] [process=&lt;name&gt;[,&lt;name&gt;...]]</c>.
    /// The netids are ss's; * is an unnamed socket. Characters that would break the grammar are
    /// percent-escaped as in the socket text (a space is %20); a path that starts with @ starts
    /// with %40, so that it is not read as an abstract name.
    /// </summary>
    internal static class UnixSocketText
    {
        public static string NetId(UnixSocketType type) => type switch
        {
            UnixSocketType.Stream => "u_str",
            UnixSocketType.Datagram => "u_dgr",
            UnixSocketType.SeqPacket => "u_seq",
            _ => "u_" + ((int)type).ToString(CultureInfo.InvariantCulture),
        };

        public static string StateName(SocketState state) => state switch
        {
            SocketState.Listen => "LISTEN",
            SocketState.Established => "ESTAB",
            SocketState.Unconnected => "UNCONN",
            _ => SocketStateNames.ToCanonical(TransportProtocol.Tcp, state),
        };

        /// <summary>The address as the text form writes it: * when unnamed, @name when abstract, the escaped path otherwise.</summary>
        public static string FormatAddress(UnixSocket socket)
        {
            string? path = socket.Path;
            switch (socket.AddressKind)
            {
                case UnixAddressKind.Unnamed:
                    return "*";
                case UnixAddressKind.Abstract:
                    return "@" + SocketTupleText.Escape(path!.Substring(1));
                default:
                    string escaped = SocketTupleText.Escape(path!);
                    return escaped == "*" ? "%2A" : escaped[0] == '@' ? "%40" + escaped.Substring(1) : escaped;
            }
        }

        public static string Format(UnixSocket socket)
        {
            var text = new StringBuilder(64);
            text.Append(NetId(socket.Type)).Append(' ').Append(StateName(socket.State)).Append(' ').Append(FormatAddress(socket));
            if (socket.Inode is ulong inode)
            {
                text.Append(" ino=").Append(inode.ToString(CultureInfo.InvariantCulture));
            }

            if (socket.PeerInode is ulong peer)
            {
                text.Append(" peer=").Append(peer.ToString(CultureInfo.InvariantCulture));
            }

            if (socket.UserId is long uid)
            {
                text.Append(" uid=").Append(uid.ToString(CultureInfo.InvariantCulture));
            }

            if (socket.NetworkNamespace is NetworkNamespaceInfo space)
            {
                text.Append(" netns=").Append(SocketTupleText.Escape(space.ToString()));
            }

            IReadOnlyList<SocketOwner> owners = socket.Processes;
            if (owners.Count > 0)
            {
                text.Append(" pid=");
                bool anyName = false;
                bool sameName = true;
                for (int i = 0; i < owners.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ",").Append(owners[i].ProcessId.ToString(CultureInfo.InvariantCulture));
                    anyName |= owners[i].ProcessName is not null;
                    sameName &= string.Equals(owners[i].ProcessName, owners[0].ProcessName, StringComparison.Ordinal);
                }

                if (anyName)
                {
                    text.Append(" process=");
                    for (int i = 0; i < (sameName ? 1 : owners.Count); i++)
                    {
                        text.Append(i == 0 ? string.Empty : ",").Append(owners[i].ProcessName is null ? string.Empty : SocketTupleText.Escape(owners[i].ProcessName!));
                    }
                }
            }

            return text.ToString();
        }

        public static bool TryParse(string? text, [NotNullWhen(true)] out UnixSocket? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            string[] tokens = (text ?? string.Empty).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length < 3)
            {
                error = Fail(text, "expected at least a type, a state and an address, as in 'u_str LISTEN /run/app.sock'");
                return false;
            }

            if (!TryParseNetId(tokens[0], out UnixSocketType type))
            {
                error = Fail(text, "unknown type '" + tokens[0] + "': expected u_str, u_dgr or u_seq");
                return false;
            }

            if (!TryParseState(tokens[1], out SocketState state))
            {
                error = Fail(text, "'" + tokens[1] + "' is not a UNIX socket state: expected LISTEN, ESTAB or UNCONN");
                return false;
            }

            if (!TryParseAddress(tokens[2], out string? path, out UnixAddressKind kind))
            {
                error = Fail(text, "'" + tokens[2] + "' is not a UNIX socket address: expected a path, @name or *, with %XX escapes only before two hex digits");
                return false;
            }

            ulong? inode = null;
            ulong? peer = null;
            long? uid = null;
            NetworkNamespaceInfo? space = null;
            int[]? pids = null;
            string?[]? names = null;
            for (int i = 3; i < tokens.Length; i++)
            {
                string token = tokens[i];
                int equals = token.IndexOf('=');
                string key = equals < 0 ? token : token.Substring(0, equals);
                string value = equals < 0 ? string.Empty : token.Substring(equals + 1);
                switch (key)
                {
                    case "ino" when ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number):
                        inode = number;
                        break;
                    case "peer" when ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number):
                        peer = number;
                        break;
                    case "uid" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number) && number <= uint.MaxValue:
                        uid = number;
                        break;
                    case "netns" when SocketTupleText.TryUnescape(value, out string? spaceText) && NetworkNamespaceInfo.TryParse(spaceText, out NetworkNamespaceInfo? info):
                        space = info;
                        break;
                    case "pid" when TryParsePids(value, out int[]? list):
                        pids = list;
                        break;
                    case "process" when value.Length > 0:
                        string[] parts = value.Split(',');
                        names = new string?[parts.Length];
                        for (int k = 0; k < parts.Length; k++)
                        {
                            if (!SocketTupleText.TryUnescape(parts[k], out string? name))
                            {
                                error = Fail(text, "'" + token + "' has a bad %XX escape");
                                return false;
                            }

                            names[k] = name.Length == 0 ? null : name;
                        }

                        break;
                    default:
                        error = Fail(text, "'" + token + "' is not understood: expected ino=<n>, peer=<n>, uid=<n>, netns=<inode>, pid=<n>[,<n>...] or process=<name>");
                        return false;
                }
            }

            if (names is not null && pids is null)
            {
                error = Fail(text, "'process=' needs 'pid=': a process name belongs to a process id");
                return false;
            }

            if (names is not null && names.Length != 1 && names.Length != pids!.Length)
            {
                error = Fail(text, "'process=' lists " + names.Length.ToString(CultureInfo.InvariantCulture) + " names for " + pids.Length.ToString(CultureInfo.InvariantCulture) + " pids: give one name for all, or one per pid");
                return false;
            }

            var owners = new SocketOwner[pids?.Length ?? 0];
            for (int i = 0; i < owners.Length; i++)
            {
                owners[i] = new SocketOwner(pids![i], names is null ? null : names.Length == 1 ? names[0] : names[i]);
            }

            socket = new UnixSocket
            {
                Type = type,
                State = state,
                Path = path,
                AddressKind = kind,
                Inode = inode,
                PeerInode = peer,
                UserId = uid,
                NetworkNamespace = space,
                Processes = owners,
            };
            error = null;
            return true;
        }

        public static bool TryParseNetId(string text, out UnixSocketType type)
        {
            switch (text.ToLowerInvariant())
            {
                case "u_str":
                case "stream":
                    type = UnixSocketType.Stream;
                    return true;
                case "u_dgr":
                case "dgram":
                case "datagram":
                    type = UnixSocketType.Datagram;
                    return true;
                case "u_seq":
                case "seqpacket":
                    type = UnixSocketType.SeqPacket;
                    return true;
                default:
                    type = default;
                    return false;
            }
        }

        /// <summary>LISTEN, ESTAB or UNCONN and their other spellings; CONNECTED reads as Established.</summary>
        public static bool TryParseState(string text, out SocketState state)
        {
            if (!SocketStateNames.TryParse(text, out state))
            {
                return false;
            }

            state = Normalize(state);
            return state is SocketState.Listen or SocketState.Established or SocketState.Unconnected;
        }

        /// <summary>The UNIX reading of a state given as a filter: Connected is Established, and Closed and Bound are Unconnected.</summary>
        public static SocketState Normalize(SocketState state) => state switch
        {
            SocketState.Connected => SocketState.Established,
            SocketState.Closed or SocketState.Bound => SocketState.Unconnected,
            _ => state,
        };

        public static bool TryParseAddress(string text, out string? path, out UnixAddressKind kind)
        {
            path = null;
            kind = UnixAddressKind.Unnamed;
            if (text == "*")
            {
                return true;
            }

            if (text[0] == '@')
            {
                kind = UnixAddressKind.Abstract;
                if (!SocketTupleText.TryUnescape(text.Substring(1), out string? name))
                {
                    return false;
                }

                path = "@" + name;
                return true;
            }

            kind = UnixAddressKind.Path;
            return SocketTupleText.TryUnescape(text, out path);
        }

        private static bool TryParsePids(string value, [NotNullWhen(true)] out int[]? pids)
        {
            pids = null;
            string[] parts = value.Split(',');
            var list = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out list[i]))
                {
                    return false;
                }
            }

            pids = list;
            return true;
        }

        private static string Fail(string? text, string detail) => "Cannot parse UNIX socket text '" + text + "': " + detail + ".";
    }
}
