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

        /// <summary>
        /// The OS has no such socket option, so setsockopt() fails before bind() is reached
        /// (ENOPROTOOPT, WSAENOPROTOOPT): SO_REUSEPORT on Windows, SO_EXCLUSIVEADDRUSE off Windows,
        /// SO_REUSEPORT_LB off FreeBSD.
        /// </summary>
        OptionNotSupported,

        /// <summary>No buffer space, or no ephemeral port left for bind(0) on Windows (ENOBUFS, WSAENOBUFS).</summary>
        NoBufferSpace,
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

        /// <summary>The holder's SO_REUSEADDR or SO_REUSEPORT is not known, and it decides whether the port is shared.</summary>
        HolderOptionsUnknown,

        /// <summary>Windows sharing matrix (kernel-rules.md 2A) cell INUSE.</summary>
        WindowsInUse,

        /// <summary>Windows sharing matrix cell DENIED.</summary>
        WindowsDenied,

        /// <summary>Windows sharing matrix cell CHECK, failed: the holder belongs to another user.</summary>
        WindowsAccessCheck,

        /// <summary>Windows: the holder's SO_REUSEADDR and SO_EXCLUSIVEADDRUSE, or its user, are not known, and they decide.</summary>
        WindowsOptionsUnknown,

        /// <summary>BSD cross-user check (kernel-rules.md 3A step 6, 4A step 8): another user holds an overlapping binding.</summary>
        BsdOtherUser,

        /// <summary>BSD main check: the lookup (best-fit when the new socket has no reuse option) found a holder that shares no reuse option.</summary>
        BsdBestFit,

        /// <summary>BSD main check in exact mode: a holder on the identical address shares no reuse option with the new socket.</summary>
        BsdExact,

        /// <summary>BSD dual-stack [::] bind checked against IPv4 sockets (kernel-rules.md 3A step 8).</summary>
        BsdDualStackIPv4,

        /// <summary>BSD cross-user check of a dual-stack [::] bind against IPv4 sockets.</summary>
        BsdDualStackOtherUser,

        /// <summary>BSD: reuse options or the user of a socket on the port are not known, and they decide.</summary>
        BsdOptionsUnknown,
    }

    /// <summary>
    /// Why a bind failed or succeeded when no conflicting socket says it: put into words only when a
    /// result is built (the Windows and BSD rule sets keep the decision path free of text).
    /// </summary>
    internal enum BindDetail : byte
    {
        None,
        NotLocal,
        MappedOnV6Only,
        ExcludedPort,
        BroadcastWithoutOption,
        ReservedPort,
        SpecificLowPort,
        ReusePortNotSupported,
        ReusePortLoadBalanceNotSupported,
        ExclusiveAddressUseNotSupported,
        InterfaceNotSupported,
        FreeBindNotSupported,
        ReuseAddressWithExclusive,
        Ephemeral,
        EphemeralExhausted,
    }

    /// <summary>
    /// Caveats that qualify a Windows or BSD bind answer, as flags so the decision path stays cheap;
    /// each becomes a sentence in the Reason (kernel-rules.md marks most of them [derived] or UNVERIFIED).
    /// </summary>
    [Flags]
    internal enum BindCaveats : long
    {
        None = 0,
        WindowsTimeWaitIgnored = 1L << 0,
        WindowsDualStackHolder = 1L << 1,
        WindowsNoPrivilegedPorts = 1L << 2,
        WindowsConnectionHolder = 1L << 3,
        WindowsErrorsDisagree = 1L << 4,
        WindowsErrorAtListen = 1L << 5,
        WindowsIndeterminate = 1L << 6,
        WindowsForeignOptionIgnored = 1L << 7,
        OptionsUnknown = 1L << 8,
        UserUnknown = 1L << 9,
        ListenOnUdp = 1L << 10,
        MacIPv6Path = 1L << 11,
        MacDefaultDualStack = 1L << 12,
        MacWildcardLowPort = 1L << 13,
        MacBoundIfIgnored = 1L << 14,
        MacReuseShareUidAbsent = 1L << 15,
        MacOtherUserWildcardShare = 1L << 16,
        FreeBsdOtherUserLoadBalance = 1L << 17,
        FreeBsdDeviceIgnored = 1L << 18,
        FreeBsdBindAnyUnprivileged = 1L << 19,
        FreeBsdIPv6Path = 1L << 20,
        BsdForeignOptionIgnored = 1L << 21,
        EphemeralReservedSkipped = 1L << 22,
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

        // Made on first use: most decisions add no note or dependency, and a decision is made per question.
        private List<(IndexedSocket Socket, ConflictCause Cause)>? _conflicts;
        private List<string>? _notes;
        private List<string>? _dependsOn;
        private List<string>? _hostFactsDeciding;

        // An unrecorded decision holds only its answer; it is replayed with recording on the index and
        // request it was made for when its conflicts, notes or dependencies are first read.
        private SocketIndex? _replayIndex;
        private BindRequest? _replayRequest;

        /// <summary>The rule that decided, such as linux.tcp.reuseaddr-vs-listener.</summary>
        public string Rule { get; }

        /// <summary>Whether the conflict appears only at listen() (the bind itself succeeds).</summary>
        public bool AtListen { get; }

        /// <summary>Conflicting sockets with what makes each conflict, in the order the kernel met them.</summary>
        public List<(IndexedSocket Socket, ConflictCause Cause)> Conflicts
        {
            get
            {
                Materialize();
                return _conflicts ??= new List<(IndexedSocket, ConflictCause)>();
            }
        }

        /// <summary>The explanation when there is no conflicting socket to name.</summary>
        public string? Detail { get; set; }

        /// <summary>Caveats that qualify the answer (unknown options, order-decided ties).</summary>
        public List<string> Notes
        {
            get
            {
                Materialize();
                return _notes ??= new List<string>();
            }
        }

        /// <summary>
        /// The unknown facts the answer turns on, each a short phrase naming the fact and whose it is
        /// ("SO_REUSEPORT of tcp LISTEN 127.0.0.1:9100 pid=42", "whether 192.0.2.2 is an address of
        /// that host"). When any is listed, <see cref="Error"/> is what the unfavourable possibility
        /// gives and the result's CanBind is null: the engine does not guess.
        /// </summary>
        public List<string> DependsOn
        {
            get
            {
                Materialize();
                return _dependsOn ??= new List<string>();
            }
        }

        /// <summary>
        /// When the answer turns on host facts that are not known (UnknownHostFacts), what the
        /// favourable possibility gives; this decision is the unfavourable one, and the Reason says both.
        /// </summary>
        public BindDecision? Otherwise { get; set; }

        /// <summary>
        /// When bind() fails whatever the unknown host facts are, but they decide which check refuses it
        /// first: the failure the other possibility gives. <see cref="HostFactsDeciding"/> names the facts;
        /// <see cref="DependsOn"/> stays empty, since the answer (it fails) does not turn on them.
        /// </summary>
        public BindDecision? AlsoFails { get; set; }

        /// <summary>The unknown host facts that decide between this decision and <see cref="Otherwise"/> (or <see cref="AlsoFails"/>).</summary>
        public List<string> HostFactsDeciding => _hostFactsDeciding ??= new List<string>();

        /// <summary>What decided when no socket did (Windows and BSD rule sets; Linux writes <see cref="Detail"/>).</summary>
        public BindDetail DetailKind { get; set; }

        /// <summary>Caveats of the Windows and BSD rule sets, put into words by the result.</summary>
        public BindCaveats Caveats { get; set; }

        /// <summary>For port 0: how many ports of <see cref="Range"/> are free.</summary>
        public int FreePorts { get; set; }

        /// <summary>For port 0: the range searched; for reserved ports: the reserved range.</summary>
        public PortRange Range { get; set; }

        public bool Success => Error == BindErrorKind.None;

        /// <summary>
        /// Marks an unrecorded decision (one whose rule set kept no conflict list, note or dependency)
        /// as made for <paramref name="request"/> on <paramref name="index"/>, to be replayed there with
        /// recording when those are first read.
        /// </summary>
        public BindDecision ReplayOn(SocketIndex index, BindRequest request)
        {
            _replayIndex = index;
            _replayRequest = request;
            return this;
        }

        private void Materialize()
        {
            SocketIndex? index = _replayIndex;
            if (index is null)
            {
                return;
            }

            // The same rules on the same index and request: the answer is the same, now with its record.
            _replayIndex = null;
            BindDecision recorded = RuleEngine.DecideBindCore(index, _replayRequest!, recording: true);
            _replayRequest = null;
            _conflicts = recorded._conflicts;
            _notes = recorded._notes;
            _dependsOn = recorded._dependsOn;
        }
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
                    BindErrorKind.OptionNotSupported => ("WSAENOPROTOOPT", 10042),
                    BindErrorKind.NoBufferSpace => ("WSAENOBUFS", 10055),
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
                BindErrorKind.OptionNotSupported => ("ENOPROTOOPT", bsd ? 42 : 92),
                BindErrorKind.NoBufferSpace => ("ENOBUFS", bsd ? 55 : 105),
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
            92 => BindErrorKind.OptionNotSupported,
            105 => BindErrorKind.NoBufferSpace,
            _ => null,
        };

        /// <summary>
        /// Maps a Winsock error (what WSAGetLastError and SocketException.ErrorCode give on Windows)
        /// to the kind; null for an error the engine never predicts. Numbers from "Windows Sockets
        /// Error Codes" on Microsoft Learn: WSAEACCES 10013, WSAEINVAL 10022, WSAENOPROTOOPT 10042,
        /// WSAEADDRINUSE 10048, WSAEADDRNOTAVAIL 10049, WSAENOBUFS 10055.
        /// </summary>
        public static BindErrorKind? FromWinsockError(int error) => error switch
        {
            0 => BindErrorKind.None,
            10048 => BindErrorKind.AddressInUse,
            10013 => BindErrorKind.AccessDenied,
            10049 => BindErrorKind.AddressNotAvailable,
            10022 => BindErrorKind.InvalidArgument,
            10042 => BindErrorKind.OptionNotSupported,
            10055 => BindErrorKind.NoBufferSpace,
            _ => null,
        };

        /// <summary>
        /// Maps a BSD errno (macOS and FreeBSD share these numbers; XNU bsd/sys/errno.h,
        /// xnu-11417.101.15) to the kind; null for an errno the engine never predicts. ENXIO (6),
        /// which XNU gives for IP_BOUND_IF with an interface index that does not exist (inp_bindif in
        /// bsd/netinet/in_pcb.c), is the BSD counterpart of Linux's ENODEV for SO_BINDTODEVICE.
        /// </summary>
        public static BindErrorKind? FromBsdErrno(int errno) => errno switch
        {
            0 => BindErrorKind.None,
            48 => BindErrorKind.AddressInUse,
            13 => BindErrorKind.AccessDenied,
            49 => BindErrorKind.AddressNotAvailable,
            22 => BindErrorKind.InvalidArgument,
            42 => BindErrorKind.OptionNotSupported,
            55 => BindErrorKind.NoBufferSpace,
            6 or 19 => BindErrorKind.NoSuchDevice,
            _ => null,
        };

        /// <summary>Maps an OS's own error number (errno, or a Winsock error on Windows) to the kind.</summary>
        public static BindErrorKind? FromNative(TargetOS os, int code) => os switch
        {
            TargetOS.Windows => FromWinsockError(code),
            TargetOS.FreeBSD or TargetOS.MacOS => FromBsdErrno(code),
            _ => FromLinuxErrno(code),
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
                CanBind = decision.DependsOn.Count > 0 ? null : decision.Success,
                DependsOn = decision.DependsOn.Count > 0 ? decision.DependsOn.ToArray() : Array.Empty<string>(),
                Error = error?.Name,
                ErrorCode = error?.Code,
                Conflicts = conflicts,
                Holder = BindConflictText.HolderName(conflicts),
                Reason = Reason(decision, request, error?.Name, os),
                Rule = decision.Rule,
                Method = method,
                TargetOS = os,
                Options = Options(request),
                ComputerName = computerName,
            };
        }

        public static string Reason(BindDecision decision, BindRequest request, string? errorName, TargetOS os = TargetOS.Linux)
        {
            if (decision.AlsoFails is BindDecision earlier)
            {
                int facts = decision.HostFactsDeciding.Count;
                return (Plain(decision, request, errorName, os, tentative: decision.DependsOn.Count > 0)
                    + " The bind fails whatever " + (facts == 1 ? "this fact" : "these facts") + " of that host, not known here, " + (facts == 1 ? "is" : "are") + ": " + string.Join("; ", decision.HostFactsDeciding)
                    + ". " + (facts == 1 ? "It decides" : "They decide") + " only which check refuses it first; the other way: "
                    + Plain(earlier, request, BindErrors.Describe(os, earlier.Error)?.Name, os, tentative: earlier.DependsOn.Count > 0)).Replace("..", ".");
            }

            if (decision.Otherwise is null)
            {
                return Plain(decision, request, errorName, os, tentative: decision.DependsOn.Count > 0);
            }

            // The certain part first: which unknown facts decide, then what each side of them gives.
            BindDecision otherwise = decision.Otherwise;
            string subject = Endpoint(request.Address, request.Port) + "/" + Protocol(request.Protocol);
            int count = decision.HostFactsDeciding.Count;
            return (subject + " depends on what is not known of that host: " + string.Join("; ", decision.HostFactsDeciding)
                + ". If " + (count == 1 ? "it goes" : "they go") + " against the bind: " + Plain(decision, request, errorName, os, tentative: decision.DependsOn.Count > count)
                + " Otherwise: " + Plain(otherwise, request, BindErrors.Describe(os, otherwise.Error)?.Name, os, tentative: otherwise.DependsOn.Count > 0)).Replace("..", ".");
        }

        // tentative: the failure turns on facts that are not known besides those the Reason weighs ("may fail").
        private static string Plain(BindDecision decision, BindRequest request, string? errorName, TargetOS os, bool tentative)
        {
            var text = new StringBuilder();
            string subject = Endpoint(request.Address, request.Port) + "/" + Protocol(request.Protocol);
            string? detail = decision.Detail ?? (decision.DetailKind == BindDetail.None ? null : OsBindText.Detail(decision, request, os));
            if (decision.Success)
            {
                text.Append(subject).Append(request.Listen && request.Protocol == TransportProtocol.Tcp ? " can be bound and listened on" : " can be bound");
                if (detail is not null)
                {
                    text.Append(": ").Append(detail);
                }
            }
            else if (decision.Conflicts.Count > 0)
            {
                BindConflictText.Append(text, decision, request, errorName, os, tentative);
            }
            else
            {
                text.Append(decision.DetailKind is BindDetail.ReusePortNotSupported or BindDetail.ReusePortLoadBalanceNotSupported or BindDetail.ExclusiveAddressUseNotSupported
                    or BindDetail.InterfaceNotSupported or BindDetail.FreeBindNotSupported or BindDetail.ReuseAddressWithExclusive ? "setsockopt() fails with "
                    : tentative ? "bind() may fail with " : "bind() fails with ")
                    .Append(errorName).Append(": ").Append(detail);
            }

            foreach (string note in decision.Notes)
            {
                text.Append(". ").Append(Sentence(note));
            }

            if (decision.Caveats != BindCaveats.None)
            {
                OsBindText.AppendCaveats(text, decision, os);
            }

            if (!decision.Success && decision.Conflicts.Count == 0 && BindConflictText.RemedyForRule(decision.Rule) is string remedy)
            {
                text.Append(". ").Append(remedy);
            }

            return text.Append('.').ToString().Replace("..", ".");
        }

        /// <summary>A note as the start of a sentence: a leading plain word is capitalized ("the ports" to "The ports"), a name such as listen() or ip_autobind_reuse is left as written.</summary>
        internal static string Sentence(string note)
        {
            int end = 0;
            while (end < note.Length && note[end] >= 'a' && note[end] <= 'z')
            {
                end++;
            }

            bool plainWord = end > 0 && (end == note.Length || note[end] == ' ' || note[end] == ',');
            return plainWord ? char.ToUpperInvariant(note[0]) + note.Substring(1) : note;
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

            if (request.ReusePortLoadBalance)
            {
                parts.Add("reuseport_lb");
            }

            if (request.ExclusiveAddressUse)
            {
                parts.Add("exclusiveaddruse");
            }

            if (request.Broadcast)
            {
                parts.Add("broadcast");
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
        public static string Why(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause, TargetOS os = TargetOS.Linux)
        {
            if (cause >= ConflictCause.WindowsInUse)
            {
                return OsBindText.Why(proposed, holder, cause, os);
            }

            var text = new StringBuilder(Holder(holder));
            string? overlap = Overlap(proposed, holder);
            if (overlap is not null)
            {
                text.Append(" (").Append(overlap).Append(')');
            }

            text.Append("; ").Append(cause switch
            {
                ConflictCause.HolderOptionsUnknown => UnknownOptionText.Why(proposed, holder),
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
            if (cause == ConflictCause.ReusePortOtherUser)
            {
                text.Append(UnknownOptionText.Irrelevant(holder));
            }

            return text.ToString();
        }

        /// <summary>How two bindings overlap, when they are not the same address.</summary>
        internal static string? Overlap(IndexedSocket proposed, IndexedSocket holder)
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

namespace PortTools
{
    /// <summary>
    /// Words for the Windows and BSD bind decisions, which carry codes instead of text: the detail
    /// of a failure without a holder, each conflict, and the caveats (kernel-rules.md marks most of
    /// them [derived] or UNVERIFIED, and the sentence says so).
    /// </summary>
    internal static class OsBindText
    {
        public static string Detail(BindDecision decision, BindRequest request, TargetOS os)
        {
            string address = request.Address.ToString();
            string port = request.Port.ToString(CultureInfo.InvariantCulture);
            return decision.DetailKind switch
            {
                BindDetail.NotLocal => os == TargetOS.FreeBSD
                    ? address + " is not an address of the host, and IP_BINDANY is not set"
                    : address + " is not an address of the host",
                BindDetail.MappedOnV6Only => os == TargetOS.Windows
                    ? "an IPV6_V6ONLY socket (the Windows default since Vista) cannot take the v4-mapped address " + address + " (UNVERIFIED: Windows does not document its answer; clear IPV6_V6ONLY or bind an AF_INET socket)"
                    : "an IPV6_V6ONLY socket looks the v4-mapped address " + address + " up among its IPv6 addresses, where it is not ([derived] from in6_pcbbind; clear IPV6_V6ONLY or bind an AF_INET socket)",
                BindDetail.ExcludedPort => "port " + port + " lies in an excluded port range (netsh int ipv4 show excludedportrange protocol=" + BindExplanation.Protocol(request.Protocol)
                    + "; set by an administrator or reserved at run time by Hyper-V, WinNAT, WSL or Docker), and binding an excluded port fails with WSAEACCES, as field reports show",
                BindDetail.BroadcastWithoutOption => "binding the broadcast address " + address + " needs SO_BROADCAST on the socket",
                BindDetail.ReservedPort => "port " + port + " lies in net.inet.ip.portrange.reservedlow-reservedhigh (" + decision.Range + "), and binding it needs PRIV_NETINET_RESERVEDPORT (root), for any address, the wildcard included",
                BindDetail.SpecificLowPort => "port " + port + " is below 1024 and " + address + " is a specific address: binding it needs PRIV_NETINET_RESERVEDPORT (root); on the wildcard address any user may bind it",
                BindDetail.ReusePortNotSupported => "Windows has no SO_REUSEPORT (kernel-rules.md 2A), so setsockopt() fails before bind(); SO_REUSEADDR is the Windows way to share a port",
                BindDetail.ReusePortLoadBalanceNotSupported => Name(os) + " has no SO_REUSEPORT_LB; it is FreeBSD's (12.0 and later), and setsockopt() fails before bind()",
                BindDetail.ExclusiveAddressUseNotSupported => Name(os) + " has no SO_EXCLUSIVEADDRUSE; it is Windows', and setsockopt() fails before bind()",
                BindDetail.InterfaceNotSupported => Name(os) + " has no SO_BINDTODEVICE (kernel-rules.md row 26), so setsockopt() fails before bind()",
                BindDetail.FreeBindNotSupported => Name(os) + " has neither IP_FREEBIND nor IP_BINDANY, so setsockopt() fails before bind()",
                BindDetail.ReuseAddressWithExclusive => "SO_REUSEADDR and SO_EXCLUSIVEADDRUSE cannot both be set on one socket: the second setsockopt() fails (UNVERIFIED: kernel-rules.md 2A)",
                BindDetail.Ephemeral => Ephemeral(decision, os, exhausted: false),
                BindDetail.EphemeralExhausted => Ephemeral(decision, os, exhausted: true),
                _ => string.Empty,
            };
        }

        /// <summary>The OS as people write it: Linux, Windows, FreeBSD, macOS.</summary>
        public static string Name(TargetOS os) => os == TargetOS.MacOS ? "macOS" : os.ToString();

        private static string Ephemeral(BindDecision decision, TargetOS os, bool exhausted)
        {
            string range = decision.Range + ((decision.Caveats & BindCaveats.EphemeralReservedSkipped) != 0 ? os == TargetOS.Windows ? " less the excluded port ranges" : " less the reserved ports" : string.Empty);
            string source = os switch
            {
                TargetOS.Windows => "the dynamic port range (netsh int ipv4 show dynamicport)",
                TargetOS.FreeBSD => "net.inet.ip.portrange.first-last",
                _ => "net.inet.ip.portrange.first-last",
            };
            string how = os switch
            {
                TargetOS.Windows => " (UNVERIFIED: how Windows picks the port, and that it skips excluded ranges, are not documented)",
                TargetOS.FreeBSD => " (a port counts as free when in_pcblookup_local finds nothing on it in this socket's lookup mode)",
                _ => " (the implicit bind always uses the wildcard lookup, so a port counts as free only when no overlapping socket holds it)",
            };
            if (exhausted)
            {
                return string.Format(CultureInfo.InvariantCulture, "port 0 asks for a free port from {0} ({1}), and none of its {2} ports is free for this address{3}", source, range, decision.Range.Count, how)
                    + (os == TargetOS.Windows ? "; exhausted ephemeral ports are taken to give WSAENOBUFS (UNVERIFIED)" : string.Empty);
            }

            return string.Format(CultureInfo.InvariantCulture, "port 0 asks for a free port from {0} ({1}); {2} of its {3} ports are free for this address{4}", source, range, decision.FreePorts, decision.Range.Count, how);
        }

        public static string Why(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause, TargetOS os) => os == TargetOS.Windows
            ? Rules.Windows.WindowsText.Why(proposed, holder, cause)
            : Rules.Bsd.BsdText.Why(proposed, holder, cause, os == TargetOS.FreeBSD);

        public static void AppendCaveats(StringBuilder text, BindDecision decision, TargetOS os)
        {
            for (int bit = 0; bit < 63; bit++)
            {
                var caveat = (BindCaveats)(1L << bit);
                if ((decision.Caveats & caveat) != 0)
                {
                    string? sentence = os == TargetOS.Windows ? Rules.Windows.WindowsText.Caveat(caveat, decision) : Rules.Bsd.BsdText.Caveat(caveat, decision, os == TargetOS.FreeBSD);
                    if (sentence is not null)
                    {
                        text.Append(". ").Append(sentence);
                    }
                }
            }
        }
    }
}
