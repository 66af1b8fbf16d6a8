using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;

namespace PortTools
{
    /// <summary>The errors a bind can end in, independent of how an OS names them.</summary>
    public enum BindErrorKind
    {
        /// <summary>Success.</summary>
        None,

        /// <summary>The address and port are taken (EADDRINUSE, WSAEADDRINUSE).</summary>
        AddressInUse,

        /// <summary>Privilege or an access check is missing (EACCES, WSAEACCES).</summary>
        AccessDenied,

        /// <summary>The address is not local, or no ephemeral port is left (EADDRNOTAVAIL, WSAEADDRNOTAVAIL).</summary>
        AddressNotAvailable,

        /// <summary>The request is invalid for this socket (EINVAL, WSAEINVAL).</summary>
        InvalidArgument,

        /// <summary>The device named for SO_BINDTODEVICE does not exist (ENODEV).</summary>
        NoSuchDevice,
    }

    /// <summary>Why one existing socket blocks the bind; put into words only when a result is built.</summary>
    internal enum ConflictCause
    {
        /// <summary>Neither SO_REUSEADDR nor SO_REUSEPORT on the new socket.</summary>
        NoSharingOption,

        /// <summary>Both have SO_REUSEADDR, but the holder listens (Linux TCP).</summary>
        ReuseAddressVersusListener,

        /// <summary>The new socket has SO_REUSEADDR, the holder does not.</summary>
        ReuseAddressNotOnBoth,

        /// <summary>The new socket has SO_REUSEPORT, the holder does not.</summary>
        ReusePortNotOnBoth,

        /// <summary>Both have SO_REUSEPORT, but they belong to different users.</summary>
        ReusePortOtherUser,
    }

    /// <summary>A rule engine's answer to a bind (and listen), before it is put into words.</summary>
    internal sealed class BindDecision
    {
        public BindDecision(IndexedSocket proposed, BindErrorKind error, string rule, bool atListen = false)
        {
            Proposed = proposed;
            Error = error;
            Rule = rule;
            AtListen = atListen;
        }

        /// <summary>The socket being bound, normalized like the table's.</summary>
        public IndexedSocket Proposed { get; }

        public BindErrorKind Error { get; }

        /// <summary>The rule that decided, such as linux.tcp.reuseaddr-vs-listener.</summary>
        public string Rule { get; }

        /// <summary>Whether the conflict appears only at listen() (the bind itself succeeds).</summary>
        public bool AtListen { get; }

        /// <summary>Conflicting sockets with what makes each conflict, in the order the kernel met them.</summary>
        public List<(IndexedSocket Socket, ConflictCause Cause)> Conflicts { get; } = new List<(IndexedSocket, ConflictCause)>();

        /// <summary>The explanation when there is no conflicting socket to name.</summary>
        public string? Detail { get; set; }

        /// <summary>Caveats that qualify the answer (unknown options, order-decided ties).</summary>
        public List<string> Notes { get; } = new List<string>();

        public bool Success => Error == BindErrorKind.None;
    }

    /// <summary>Error names and numbers per OS.</summary>
    internal static class BindErrors
    {
        public static (string Name, int Code)? Describe(TargetOS os, BindErrorKind error)
        {
            if (error == BindErrorKind.None)
            {
                return null;
            }

            if (os == TargetOS.Windows)
            {
                return error switch
                {
                    BindErrorKind.AddressInUse => ("WSAEADDRINUSE", 10048),
                    BindErrorKind.AccessDenied => ("WSAEACCES", 10013),
                    BindErrorKind.AddressNotAvailable => ("WSAEADDRNOTAVAIL", 10049),
                    BindErrorKind.InvalidArgument => ("WSAEINVAL", 10022),
                    _ => ("WSAENODEV", 10019),
                };
            }

            bool bsd = os is TargetOS.FreeBSD or TargetOS.MacOS;
            return error switch
            {
                BindErrorKind.AddressInUse => ("EADDRINUSE", bsd ? 48 : 98),
                BindErrorKind.AccessDenied => ("EACCES", 13),
                BindErrorKind.AddressNotAvailable => ("EADDRNOTAVAIL", bsd ? 49 : 99),
                BindErrorKind.InvalidArgument => ("EINVAL", 22),
                _ => ("ENODEV", 19),
            };
        }

        /// <summary>Maps a Linux errno to the kind; null for an errno the engine never predicts.</summary>
        public static BindErrorKind? FromLinuxErrno(int errno) => errno switch
        {
            0 => BindErrorKind.None,
            98 => BindErrorKind.AddressInUse,
            13 => BindErrorKind.AccessDenied,
            99 => BindErrorKind.AddressNotAvailable,
            22 => BindErrorKind.InvalidArgument,
            19 => BindErrorKind.NoSuchDevice,
            _ => null,
        };
    }

    /// <summary>Puts bind decisions into words.</summary>
    internal static class BindExplanation
    {
        public static PortBindResult ToResult(BindDecision decision, BindRequest request, TargetOS os, BindCheckMethod method, string? computerName = null)
        {
            (string Name, int Code)? error = BindErrors.Describe(os, decision.Error);
            var conflicts = new List<SocketTuple>(decision.Conflicts.Count);
            foreach ((IndexedSocket socket, _) in decision.Conflicts)
            {
                conflicts.Add(socket.Socket);
            }

            return new PortBindResult
            {
                Protocol = request.Protocol,
                Address = request.Address,
                Port = request.Port,
                CanBind = decision.Success,
                Error = error?.Name,
                ErrorCode = error?.Code,
                Conflicts = conflicts,
                Reason = Reason(decision, request, error?.Name),
                Rule = decision.Rule,
                Method = method,
                TargetOS = os,
                Options = Options(request),
                ComputerName = computerName,
            };
        }

        public static string Reason(BindDecision decision, BindRequest request, string? errorName)
        {
            var text = new StringBuilder();
            string subject = Endpoint(request.Address, request.Port) + "/" + Protocol(request.Protocol);
            if (decision.Success)
            {
                text.Append(subject).Append(request.Listen && request.Protocol == TransportProtocol.Tcp ? " can be bound and listened on" : " can be bound");
                if (decision.Detail is not null)
                {
                    text.Append(": ").Append(decision.Detail);
                }
            }
            else if (decision.Conflicts.Count > 0)
            {
                text.Append(decision.AtListen ? "bind() succeeds, but listen() fails with " : "bind() fails with ").Append(errorName).Append(": ");
                for (int i = 0; i < decision.Conflicts.Count && i < 3; i++)
                {
                    text.Append(i == 0 ? string.Empty : "; and ").Append(Why(decision.Proposed, decision.Conflicts[i].Socket, decision.Conflicts[i].Cause));
                }

                if (decision.Conflicts.Count > 3)
                {
                    text.Append("; and ").Append((decision.Conflicts.Count - 3).ToString(CultureInfo.InvariantCulture)).Append(" more conflicting sockets (see Conflicts)");
                }
            }
            else
            {
                text.Append("bind() fails with ").Append(errorName).Append(": ").Append(decision.Detail);
            }

            foreach (string note in decision.Notes)
            {
                text.Append(". ").Append(note);
            }

            return text.Append('.').ToString().Replace("..", ".");
        }

        public static string Options(BindRequest request)
        {
            var parts = new List<string>();
            if (request.ReuseAddress)
            {
                parts.Add("reuseaddr");
            }

            if (request.ReusePort)
            {
                parts.Add("reuseport");
            }

            if (request.IPv6Only == true)
            {
                parts.Add("v6only");
            }

            if (request.Interface is not null)
            {
                parts.Add("dev=" + request.Interface);
            }

            if (request.Listen)
            {
                parts.Add("listen");
            }

            return string.Join(" ", parts);
        }

        /// <summary>One conflict in words: who holds the port, how the addresses overlap, and the rule.</summary>
        public static string Why(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause)
        {
            var text = new StringBuilder(Holder(holder));
            string? overlap = Overlap(proposed, holder);
            if (overlap is not null)
            {
                text.Append(" (").Append(overlap).Append(')');
            }

            text.Append("; ").Append(cause switch
            {
                ConflictCause.ReuseAddressVersusListener => "SO_REUSEADDR does not share a port with a listening socket",
                ConflictCause.ReuseAddressNotOnBoth => holder.State == SocketState.TimeWait
                    ? "SO_REUSEADDR shares a port only when both sockets set it, and a TIME-WAIT entry keeps the options of the socket that closed, which did not"
                    : "SO_REUSEADDR shares a port only when both sockets set it, and the holder did not",
                ConflictCause.ReusePortNotOnBoth => "SO_REUSEPORT shares a port only when both sockets set it, and the holder did not",
                ConflictCause.ReusePortOtherUser => "SO_REUSEPORT shares a port only between sockets of the same user (uid " + proposed.Uid.ToString(CultureInfo.InvariantCulture) + " here, uid " + holder.Uid.ToString(CultureInfo.InvariantCulture) + " there)",
                _ => proposed.Protocol == TransportProtocol.Tcp
                    ? "without SO_REUSEADDR (holder not listening) or SO_REUSEPORT (same user) on both sockets, a port is not shared"
                    : "without SO_REUSEADDR or SO_REUSEPORT (same user) on both sockets, a port is not shared",
            });
            if (!holder.FlagsKnown && cause is ConflictCause.ReuseAddressNotOnBoth or ConflictCause.ReusePortNotOnBoth)
            {
                text.Append(" (the holder's SO_REUSEADDR and SO_REUSEPORT are not in the socket table and are taken as off)");
            }

            return text.ToString();
        }

        /// <summary>How two bindings overlap, when they are not the same address.</summary>
        private static string? Overlap(IndexedSocket proposed, IndexedSocket holder)
        {
            if (proposed.Local.Equals(holder.Local) && proposed.Inet6 == holder.Inet6)
            {
                return null;
            }

            if (holder.Class == AddressClass.Any6 && !holder.V6Only && !proposed.Inet6)
            {
                return "[::] without IPV6_V6ONLY also takes IPv4";
            }

            if (proposed.Class == AddressClass.Any6 && !proposed.V6Only && !holder.Inet6)
            {
                return "[::] without IPV6_V6ONLY also takes IPv4, so it overlaps " + holder.Socket.LocalAddress;
            }

            if (IsWildcard(holder))
            {
                return "its wildcard address covers " + proposed.Socket.LocalAddress;
            }

            if (IsWildcard(proposed))
            {
                return "the wildcard " + proposed.Socket.LocalAddress + " covers " + holder.Socket.LocalAddress;
            }

            return "the same IPv4 address, once v4-mapped";
        }

        private static bool IsWildcard(IndexedSocket socket) => socket.Class == AddressClass.Any6 || (socket.Class == AddressClass.V4 && socket.V4 == 0);

        /// <summary>"0.0.0.0:8080/tcp is held by nginx (pid 812), listening".</summary>
        public static string Holder(IndexedSocket socket)
        {
            SocketTuple tuple = socket.Socket;
            var text = new StringBuilder();
            text.Append(tuple.Local).Append('/').Append(Protocol(tuple.Protocol));
            if (tuple.State == SocketState.TimeWait)
            {
                text.Append(" is held by a TIME-WAIT entry of the connection to ").Append(tuple.Remote);
                return text.ToString();
            }

            text.Append(" is held by ");
            if (tuple.Processes.Count > 0)
            {
                text.Append(tuple.Processes[0]);
                if (tuple.Processes.Count > 1)
                {
                    text.Append(" and ").Append((tuple.Processes.Count - 1).ToString(CultureInfo.InvariantCulture)).Append(" more");
                }
            }
            else
            {
                text.Append("a socket").Append(socket.UidKnown ? " of uid " + socket.Uid.ToString(CultureInfo.InvariantCulture) : string.Empty);
            }

            text.Append(", ").Append(StatePhrase(tuple));
            return text.ToString();
        }

        public static string StatePhrase(SocketTuple socket) => socket.State switch
        {
            SocketState.Listen => "listening",
            SocketState.Bound => "bound but not listening",
            SocketState.Unconnected => "bound (unconnected)",
            SocketState.Connected => "connected to " + socket.Remote,
            SocketState.Established => "connected to " + socket.Remote,
            SocketState.TimeWait => "in TIME-WAIT",
            _ => "in " + SocketStateNames.ToCanonical(socket.Protocol, socket.State) + " with " + socket.Remote,
        };

        public static string Endpoint(IPAddress address, int port) => IPAddressText.FormatEndpoint(address, port);

        public static string Protocol(TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? "tcp" : "udp";
    }
}
