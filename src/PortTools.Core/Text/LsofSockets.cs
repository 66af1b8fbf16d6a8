using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace PortTools.Text
{
    /// <summary>
    /// What lsof's two layouts share: reading the NAME of an Internet file ("127.0.0.1:5000->127.0.0.1:80",
    /// "*:80", "[::1]:53", "[fe80::1%eth0]:123") and its TCP/TPI info (state, QR=, QS=), and merging the
    /// lines of a socket that several processes hold into one socket with every owner.
    /// </summary>
    internal sealed class LsofSockets
    {
        private readonly ParseContext _context;
        private readonly Dictionary<string, Entry> _shared = new Dictionary<string, Entry>(StringComparer.Ordinal);
        private readonly List<Entry> _order = new List<Entry>();

        public LsofSockets(ParseContext context) => _context = context;

        /// <summary>The parts of one lsof line about an Internet socket.</summary>
        public struct Fields
        {
            public TransportProtocol Protocol;
            public bool? IPv6;
            public string Name;
            public string? Device;
            public ulong? Inode;
            public string? State;
            public long? ReceiveQueue;
            public long? SendQueue;
            public int ProcessId;
            public string? Command;
        }

        /// <summary>Builds the socket and either emits it or keeps it to merge its owners (see SocketTableParserOptions.MergeSharedSockets).</summary>
        public bool TryAdd(in Fields fields, long lineNumber, string line, out string? error)
        {
            if (!TryBuild(fields, lineNumber, out SocketTuple? socket, out error))
            {
                return false;
            }

            SocketOwner? owner = fields.ProcessId > 0 ? _context.Owner(fields.ProcessId, fields.Command) : null;
            if (!_context.Options.MergeSharedSockets || fields.Device is null)
            {
                _context.Emit(owner is null ? socket : WithOwners(socket, new List<SocketOwner> { owner }), lineNumber, line);
                return true;
            }

            string key = (fields.Protocol == TransportProtocol.Tcp ? "t" : "u") + fields.Device;
            if (!_shared.TryGetValue(key, out Entry? entry))
            {
                entry = new Entry(socket, lineNumber, line);
                _shared.Add(key, entry);
                _order.Add(entry);
            }

            if (owner is not null && !entry.Owners.Exists(o => o.ProcessId == owner.ProcessId))
            {
                entry.Owners.Add(owner);
            }

            return true;
        }

        /// <summary>Emits the merged sockets, in the order their first line came.</summary>
        public void Flush()
        {
            foreach (Entry entry in _order)
            {
                _context.Emit(WithOwners(entry.Socket, entry.Owners), entry.LineNumber, entry.Line);
            }

            _order.Clear();
            _shared.Clear();
        }

        private static SocketTuple WithOwners(SocketTuple socket, List<SocketOwner> owners) => new SocketTuple
        {
            Protocol = socket.Protocol,
            State = socket.State,
            LocalAddress = socket.LocalAddress,
            LocalPort = socket.LocalPort,
            RemoteAddress = socket.RemoteAddress,
            RemotePort = socket.RemotePort,
            Processes = owners.Count == 0 ? SocketOwnerList.Empty : SocketOwnerList.Wrap(owners.ToArray()),
            Inode = socket.Inode,
            ReceiveQueue = socket.ReceiveQueue,
            SendQueue = socket.SendQueue,
            IPv6Only = socket.IPv6Only,
            Source = socket.Source,
            ComputerName = socket.ComputerName,
        };

        private bool TryBuild(in Fields fields, long lineNumber, [NotNullWhen(true)] out SocketTuple? socket, out string? error)
        {
            socket = null;
            ReadOnlySpan<char> name = fields.Name.AsSpan();
            int arrow = name.IndexOf("->".AsSpan(), StringComparison.Ordinal);
            ReadOnlySpan<char> localText = arrow < 0 ? name : name.Slice(0, arrow);
            ReadOnlySpan<char> remoteText = arrow < 0 ? default : name.Slice(arrow + 2);
            if (!TryEndpoint(localText, fields.IPv6, "local", out IPAddress? local, out int localPort, out error))
            {
                return false;
            }

            IPAddress? remote = null;
            int remotePort = 0;
            if (arrow >= 0 && !TryEndpoint(remoteText, fields.IPv6 ?? (local!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6), "remote", out remote, out remotePort, out error))
            {
                return false;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily)
            {
                error = "the remote endpoint " + ParseContext.Quote(remoteText) + " is not of the local endpoint's family";
                return false;
            }

            SocketState state;
            if (fields.Protocol == TransportProtocol.Udp)
            {
                state = arrow >= 0 ? SocketState.Connected : SocketState.Unconnected;
            }
            else if (fields.State is null)
            {
                state = SocketState.Unknown; // lsof -T without 's' prints no state
            }
            else if (fields.State == "CLOSE")
            {
                state = SocketState.Bound; // Linux's TCP_CLOSE, which the live reader calls Bound
            }
            else if (!StateText.TryParse(fields.State.AsSpan(), TransportProtocol.Tcp, out state, out error))
            {
                return false;
            }

            socket = new SocketTuple
            {
                Protocol = fields.Protocol,
                State = state,
                LocalAddress = local!,
                LocalPort = localPort,
                RemoteAddress = remote!,
                RemotePort = remotePort,
                Inode = fields.Inode,
                ReceiveQueue = fields.ReceiveQueue,
                SendQueue = fields.SendQueue,
                Source = _context.Source(lineNumber),
                ComputerName = _context.ComputerName,
            };
            error = null;
            return true;
        }

        private bool TryEndpoint(ReadOnlySpan<char> text, bool? ipv6, string which, out IPAddress? address, out int port, out string? error)
        {
            address = null;
            port = 0;
            error = null;
            int colon = text.LastIndexOf(':');
            if (colon <= 0)
            {
                error = "expected the " + which + " endpoint in NAME as address:port (as in 127.0.0.1:80, [::1]:53 or *:80), found " + (text.IsEmpty ? "nothing" : ParseContext.Quote(text));
                return false;
            }

            ReadOnlySpan<char> portText = text.Slice(colon + 1);
            if (!(portText.Length == 1 && portText[0] == '*') && !Digits.TryParsePort(portText, out port))
            {
                error = "bad " + which + " port " + ParseContext.Quote(portText) + " in " + ParseContext.Quote(text) + ": expected a number from 0 to 65535"
                    + (portText.Length > 0 && char.IsLetter(portText[0]) ? " (service names need lsof -P)" : string.Empty);
                return false;
            }

            ReadOnlySpan<char> host = text.Slice(0, colon);
            switch (AddressText.TryParseHost(host, _context, out address, out _))
            {
                case HostKind.Star:
                    if (ipv6 is null)
                    {
                        error = "cannot tell whether " + ParseContext.Quote(text) + " is IPv4 or IPv6 without the file type: add t to the lsof -F fields (as in -F pcfnPTt)";
                        return false;
                    }

                    address = ipv6.Value ? IPAddress.IPv6Any : IPAddress.Any;
                    return true;
                case HostKind.Address:
                    if (ipv6 == true && address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host[0] != '[')
                    {
                        // lsof prints the v4-mapped address of an IPv6 socket as plain IPv4.
                        Span<byte> mapped = stackalloc byte[16];
                        mapped[10] = 0xFF;
                        mapped[11] = 0xFF;
                        address.GetAddressBytes().CopyTo(mapped.Slice(12));
                        address = _context.Address(mapped);
                    }

                    if (ipv6 is not null && (address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) != ipv6.Value)
                    {
                        error = "the address " + ParseContext.Quote(host) + " does not match the type " + (ipv6.Value ? "IPv6" : "IPv4");
                        address = null;
                        return false;
                    }

                    return true;
                default:
                    error = "bad " + which + " address " + ParseContext.Quote(host) + ": expected an IPv4 address, a bracketed IPv6 address or *"
                        + (host.Length > 0 && char.IsLetter(host[host.Length - 1]) && host[0] != '[' ? " (host names need lsof -n)" : string.Empty);
                    return false;
            }
        }

        /// <summary>Reads "(LISTEN)", "(ESTABLISHED QR=0 QS=0)" or the -F T fields "ST=LISTEN", "QR=0".</summary>
        public static bool TryInfo(ReadOnlySpan<char> item, ref Fields fields, ParseContext context)
        {
            if (item.StartsWith("ST=".AsSpan(), StringComparison.Ordinal))
            {
                fields.State = context.Names.Get(item.Slice(3));
            }
            else if (item.StartsWith("QR=".AsSpan(), StringComparison.Ordinal))
            {
                if (!Digits.TryParse(item.Slice(3), out long value))
                {
                    return false;
                }

                fields.ReceiveQueue = value;
            }
            else if (item.StartsWith("QS=".AsSpan(), StringComparison.Ordinal))
            {
                if (!Digits.TryParse(item.Slice(3), out long value))
                {
                    return false;
                }

                fields.SendQueue = value;
            }
            else if (item.IndexOf('=') < 0 && fields.State is null)
            {
                fields.State = context.Names.Get(item);
            }

            return true;
        }

        private sealed class Entry
        {
            public Entry(SocketTuple socket, long lineNumber, string line)
            {
                Socket = socket;
                LineNumber = lineNumber;
                Line = line;
            }

            public SocketTuple Socket { get; }

            public long LineNumber { get; }

            public string Line { get; }

            public List<SocketOwner> Owners { get; } = new List<SocketOwner>(2);
        }
    }
}
