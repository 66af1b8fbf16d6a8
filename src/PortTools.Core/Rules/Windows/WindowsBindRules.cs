using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Rules.Windows
{
    /// <summary>
    /// Windows bind() (kernel-rules.md 2A, 2C, 2D; learn.microsoft.com "Sharing Transport Addresses",
    /// "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", "Dual-Stack Sockets", the bind error list).
    /// Every holder of the port is put through the sharing matrix of 2A; the checks that come before
    /// it (options, address, excluded ports) run first so the first failing one names the error.
    /// Nothing here builds text: the result does (WindowsBindText).
    /// </summary>
    internal static class WindowsBindRules
    {
        /// <summary>A cell of the sharing matrix.</summary>
        internal enum Cell : byte
        {
            Ok,
            InUse,
            Denied,
            Check,
        }

        private const Cell O = Cell.Ok;
        private const Cell U = Cell.InUse;
        private const Cell D = Cell.Denied;
        private const Cell C = Cell.Check;

        // kernel-rules.md 2A, transcribed: rows are the second bind, columns the first, each in the
        // order none W, none S, SO_REUSEADDR W, SO_REUSEADDR S, SO_EXCLUSIVEADDRUSE W, SO_EXCLUSIVEADDRUSE S
        // (W = wildcard, S = the same specific address).
        private static readonly Cell[] s_matrix =
        {
            U, O, U, O, U, O,
            C, U, C, D, D, U,
            D, O, O, O, D, O,
            C, D, O, O, D, D,
            U, U, U, U, U, U,
            C, U, C, U, D, U,
        };

        public static BindDecision Decide(SocketIndex index, BindRequest request)
        {
            HostFacts facts = index.Facts;
            IndexedSocket proposed = RuleSupport.Propose(request, facts);
            BindDecision? early = Prechecks(proposed, request, facts);
            if (early is not null)
            {
                return early;
            }

            BindDecision decision = request.Port == 0 ? Ephemeral(index, proposed) : Conflicts(index, proposed);
            if (request.Listen && request.Protocol == TransportProtocol.Udp)
            {
                decision.Caveats |= BindCaveats.ListenOnUdp;
            }

            // 2E: no privileged ports below 1024 (UNVERIFIED); UnprivilegedPortStart is not consulted.
            if (request.Port is > 0 and < 1024 && !RuleSupport.Privileged(request, facts))
            {
                decision.Caveats |= BindCaveats.WindowsNoPrivilegedPorts;
            }

            return decision;
        }

        /// <summary>setsockopt() failures, then the address and the port (2A, 2C, 2D).</summary>
        private static BindDecision? Prechecks(IndexedSocket proposed, BindRequest request, HostFacts facts)
        {
            // Options Windows does not have: setsockopt() fails (WSAENOPROTOOPT) before bind() is reached.
            if (request.ReusePort)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "windows.enoprotoopt.reuseport", BindDetail.ReusePortNotSupported);
            }

            if (request.ReusePortLoadBalance)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "windows.enoprotoopt.reuseport-lb", BindDetail.ReusePortLoadBalanceNotSupported);
            }

            if (request.Interface is not null)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "windows.enoprotoopt.bindtodevice", BindDetail.InterfaceNotSupported);
            }

            if (request.FreeBind)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "windows.enoprotoopt.freebind", BindDetail.FreeBindNotSupported);
            }

            // 2A: setting both on one socket is an error (UNVERIFIED).
            if (request.ReuseAddress && request.ExclusiveAddressUse)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.InvalidArgument, "windows.einval.reuseaddr-and-exclusiveaddruse", BindDetail.ReuseAddressWithExclusive);
            }

            Ip16 address = proposed.Local;
            if (proposed.Inet6 && address.IsV4Mapped && proposed.V6Only)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AddressNotAvailable, "windows.eaddrnotavail.mapped-v6only", BindDetail.MappedOnV6Only);
            }

            IPAddress plain = request.Address.IsIPv4MappedToIPv6 ? request.Address.MapToIPv4() : request.Address;
            bool broadcast = plain.AddressFamily == AddressFamily.InterNetwork && facts.IsBroadcast(plain);
            if (broadcast && !request.Broadcast)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AccessDenied, "windows.eacces.broadcast", BindDetail.BroadcastWithoutOption);
            }

            // 2D: WSAEADDRNOTAVAIL for an address that is not local. Multicast groups may be bound (row 16).
            if (!RuleSupport.IsWildcard(proposed) && !address.IsMulticast && !broadcast && !facts.IsLocal(request.Address))
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AddressNotAvailable, "windows.eaddrnotavail.not-local", BindDetail.NotLocal);
            }

            // 2C: HostFacts.ReservedPorts are the excluded port ranges on Windows; binding one gives WSAEACCES.
            if (request.Port != 0 && facts.IsReserved(request.Port))
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AccessDenied, "windows.eacces.excluded-port", BindDetail.ExcludedPort);
            }

            return null;
        }

        /// <summary>
        /// Every socket on the port that overlaps the new one, through the matrix. TIME-WAIT entries
        /// are skipped (rows 12–14, UNVERIFIED). The oldest conflicting holder names the error.
        /// </summary>
        private static BindDecision Conflicts(SocketIndex index, IndexedSocket proposed)
        {
            List<IndexedSocket>? bucket = index.BindBucket(proposed.Protocol, proposed.Port);
            if (bucket is null)
            {
                return new BindDecision(proposed, BindErrorKind.None, "windows.ok");
            }

            BindCaveats caveats = BindCaveats.None;
            List<(IndexedSocket, ConflictCause)>? conflicts = null;
            List<(IndexedSocket Holder, Cell Failure)>? undecided = null;
            BindErrorKind error = BindErrorKind.None;
            string rule = "windows.ok";
            foreach (IndexedSocket holder in bucket)
            {
                if (!Overlap(proposed, holder, out bool holderWild, out bool proposedWild, out bool viaDualStackHolder))
                {
                    continue;
                }

                if (holder.State == SocketState.TimeWait)
                {
                    caveats |= BindCaveats.WindowsTimeWaitIgnored;
                    continue;
                }

                caveats |= HolderCaveats(holder);
                Cell cell = Resolve(Lookup(proposed, holder, holderWild, proposedWild), proposed, holder);
                if (!OptionsKnown(holder) || !holder.UidKnown)
                {
                    // What the table does not show is never taken as off or as this user: every value it
                    // could have is weighed, and only a holder whose unknowns decide makes the answer depend.
                    Possible possible = Weigh(proposed, holder, holderWild, proposedWild);
                    if (possible.Ok && possible.Fails)
                    {
                        (undecided ??= new List<(IndexedSocket, Cell)>()).Add((holder, possible.FirstFailure));
                        continue;
                    }

                    if (cell == Cell.Ok && possible.Fails)
                    {
                        cell = possible.FirstFailure;
                    }
                }

                if (cell == Cell.Ok)
                {
                    rule = "windows.ok.shared";
                    // Identical SO_REUSEADDR bindings leave delivery undefined (2A); a multicast group's members all receive (2B).
                    if (proposed.ReuseAddress && holder.ReuseAddress && holderWild == proposedWild && (proposedWild || proposed.Local.Equals(holder.Local)) && !proposed.Local.IsMulticast)
                    {
                        caveats |= BindCaveats.WindowsIndeterminate;
                    }

                    continue;
                }

                ConflictCause cause = cell switch
                {
                    Cell.InUse => ConflictCause.WindowsInUse,
                    Cell.Denied => ConflictCause.WindowsDenied,
                    _ => ConflictCause.WindowsAccessCheck,
                };
                BindErrorKind kind = cell == Cell.InUse ? BindErrorKind.AddressInUse : BindErrorKind.AccessDenied;
                conflicts ??= new List<(IndexedSocket, ConflictCause)>();
                conflicts.Add((holder, cause));
                if (viaDualStackHolder)
                {
                    caveats |= BindCaveats.WindowsDualStackHolder;
                }

                if (IsConnection(holder))
                {
                    caveats |= BindCaveats.WindowsConnectionHolder;
                }

                if (error == BindErrorKind.None)
                {
                    error = kind;
                    rule = RuleName(cell, holderWild, proposedWild);
                }
                else if (kind != error)
                {
                    caveats |= BindCaveats.WindowsErrorsDisagree;
                }
            }

            if (conflicts is null && undecided is not null)
            {
                // Only holders whose unknown options or user decide: the answer depends on them.
                var depends = new BindDecision(proposed, undecided[0].Failure == Cell.InUse ? BindErrorKind.AddressInUse : BindErrorKind.AccessDenied, "windows.unknown-options");
                foreach ((IndexedSocket holder, Cell _) in undecided)
                {
                    depends.Conflicts.Add((holder, ConflictCause.WindowsOptionsUnknown));
                    depends.DependsOn.Add(WindowsText.UnknownFact(proposed, holder));
                }

                depends.Caveats = caveats;
                return depends;
            }

            var decision = new BindDecision(proposed, error, rule);
            if (conflicts is not null)
            {
                decision.Conflicts.AddRange(conflicts);
                if (error == BindErrorKind.AddressInUse && RuleSupport.IsWildcard(proposed))
                {
                    caveats |= BindCaveats.WindowsErrorAtListen;
                }
            }

            decision.Caveats = caveats;
            return decision;
        }

        /// <summary>What a holder's unknown options and user allow: whether some values let the bind share, and whether some fail it.</summary>
        internal readonly struct Possible
        {
            public Possible(bool ok, bool fails, Cell firstFailure, int okOptions, bool userDecides)
            {
                Ok = ok;
                Fails = fails;
                FirstFailure = firstFailure;
                OkOptions = okOptions;
                UserDecides = userDecides;
            }

            public bool Ok { get; }

            public bool Fails { get; }

            public Cell FirstFailure { get; }

            /// <summary>Bit per holder option (1 plain, 2 SO_REUSEADDR, 4 SO_EXCLUSIVEADDRUSE) with which the bind shares.</summary>
            public int OkOptions { get; }

            /// <summary>Whether the holder's unknown user alone decides (a CHECK cell).</summary>
            public bool UserDecides { get; }
        }

        /// <summary>Every option value the table leaves open for the holder, and both a same and another user where its user is unknown.</summary>
        internal static Possible Weigh(IndexedSocket proposed, IndexedSocket holder, bool holderWild, bool proposedWild)
        {
            SocketTuple socket = holder.Socket;
            bool ok = false, fails = false, userDecides = false;
            Cell first = Cell.Ok;
            int okOptions = 0;
            int mine = Option(proposed);
            for (int theirs = 0; theirs <= 2; theirs++)
            {
                // Exclusive wins over SO_REUSEADDR when a table claims both (Option).
                bool possible = theirs switch
                {
                    2 => socket.ExclusiveAddressUse != false,
                    1 => socket.ReuseAddress != false && socket.ExclusiveAddressUse != true,
                    _ => socket.ReuseAddress != true && socket.ExclusiveAddressUse != true,
                };
                if (!possible)
                {
                    continue;
                }

                Cell cell = s_matrix[(((mine * 2) + (proposedWild ? 0 : 1)) * 6) + (theirs * 2) + (holderWild ? 0 : 1)];
                bool shares = cell == Cell.Ok || (cell == Cell.Check && holder.UidKnown && proposed.Uid == holder.Uid);
                bool refused = cell is Cell.InUse or Cell.Denied || (cell == Cell.Check && (!holder.UidKnown || proposed.Uid != holder.Uid));
                if (cell == Cell.Check && !holder.UidKnown)
                {
                    shares = true; // the same user passes the access check
                    userDecides = true;
                }

                if (shares)
                {
                    ok = true;
                    okOptions |= 1 << theirs;
                }

                if (refused)
                {
                    if (!fails)
                    {
                        first = cell;
                    }

                    fails = true;
                }
            }

            return new Possible(ok, fails, first, okOptions, userDecides);
        }

        /// <summary>Whether the table shows the holder's SO_REUSEADDR and SO_EXCLUSIVEADDRUSE.</summary>
        internal static bool OptionsKnown(IndexedSocket holder) => holder.Socket.ReuseAddress.HasValue && holder.Socket.ExclusiveAddressUse.HasValue;

        /// <summary>A CHECK cell passes for the same known user.</summary>
        private static Cell Resolve(Cell cell, IndexedSocket proposed, IndexedSocket holder) =>
            cell == Cell.Check && holder.UidKnown && proposed.Uid == holder.Uid ? Cell.Ok : cell;

        /// <summary>Whether any socket on the port blocks the new one (for port 0, without building a decision).</summary>
        private static bool Blocked(SocketIndex index, IndexedSocket proposed)
        {
            List<IndexedSocket>? bucket = index.BindBucket(proposed.Protocol, proposed.Port);
            if (bucket is null)
            {
                return false;
            }

            foreach (IndexedSocket holder in bucket)
            {
                if (holder.State != SocketState.TimeWait && Overlap(proposed, holder, out bool holderWild, out bool proposedWild, out _))
                {
                    Cell cell = Lookup(proposed, holder, holderWild, proposedWild);
                    if (cell != Cell.Ok && !(cell == Cell.Check && proposed.Uid == holder.Uid))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>
        /// Port 0 (2C): a port of the dynamic range, excluded ranges skipped (presumably; UNVERIFIED),
        /// that the matrix lets this socket bind. Which one Windows takes is not documented, so the
        /// answer is the count; none left is taken as WSAENOBUFS (UNVERIFIED).
        /// </summary>
        private static BindDecision Ephemeral(SocketIndex index, IndexedSocket proposed)
        {
            HostFacts facts = index.Facts;
            PortRange range = facts.EphemeralPortRange;
            int free = 0;
            bool skipped = false;
            for (int port = range.Start; port <= range.End; port++)
            {
                if (facts.IsReserved(port))
                {
                    skipped = true;
                    continue;
                }

                if (index.BindBucket(proposed.Protocol, port) is null || !Blocked(index, new IndexedSocket(proposed.Socket.Copy(localPort: port), -1, facts)))
                {
                    free++;
                }
            }

            BindDecision decision = free == 0
                ? RuleSupport.Fail(proposed, BindErrorKind.NoBufferSpace, "windows.port0.exhausted", BindDetail.EphemeralExhausted)
                : new BindDecision(proposed, BindErrorKind.None, "windows.port0") { DetailKind = BindDetail.Ephemeral };
            decision.FreePorts = free;
            decision.Range = range;
            decision.Caveats |= skipped ? BindCaveats.EphemeralReservedSkipped : BindCaveats.None;
            return decision;
        }

        /// <summary>
        /// Whether two bindings meet on a stack, and as what: each is W (wildcard) or S on that stack.
        /// AF_INET and v4-mapped sockets live on the IPv4 stack, other AF_INET6 sockets on the IPv6
        /// stack, and a [::] socket without IPV6_V6ONLY on both (2A "Dual-stack"). Two different
        /// specific addresses never meet.
        /// </summary>
        internal static bool Overlap(IndexedSocket proposed, IndexedSocket holder, out bool holderWild, out bool proposedWild, out bool viaDualStackHolder)
        {
            viaDualStackHolder = false;
            if (OnIPv4(proposed) && OnIPv4(holder))
            {
                proposedWild = proposed.Class == AddressClass.Any6 || proposed.Local.V4 == 0;
                holderWild = holder.Class == AddressClass.Any6 || holder.Local.V4 == 0;
                if (proposedWild || holderWild || proposed.Local.V4 == holder.Local.V4)
                {
                    viaDualStackHolder = holder.Class == AddressClass.Any6 && proposed.Class == AddressClass.V4;
                    return true;
                }
            }

            if (OnIPv6(proposed) && OnIPv6(holder))
            {
                proposedWild = proposed.Class == AddressClass.Any6;
                holderWild = holder.Class == AddressClass.Any6;
                if (proposedWild || holderWild || proposed.Local.Equals(holder.Local))
                {
                    return true;
                }
            }

            holderWild = proposedWild = false;
            return false;
        }

        internal static bool OnIPv4(IndexedSocket socket) => socket.Class == AddressClass.V4 || (socket.Class == AddressClass.Any6 && !socket.V6Only);

        internal static bool OnIPv6(IndexedSocket socket) => socket.Class != AddressClass.V4;

        /// <summary>The matrix row or column of a socket: none 0, SO_REUSEADDR 1, SO_EXCLUSIVEADDRUSE 2 (which wins if a table claims both).</summary>
        internal static int Option(IndexedSocket socket) => socket.ExclusiveAddressUse ? 2 : socket.ReuseAddress ? 1 : 0;

        internal static Cell Lookup(IndexedSocket proposed, IndexedSocket holder, bool holderWild, bool proposedWild) =>
            s_matrix[(((Option(proposed) * 2) + (proposedWild ? 0 : 1)) * 6) + (Option(holder) * 2) + (holderWild ? 0 : 1)];

        /// <summary>Sockets in a connection state (not listening, bound or unconnected).</summary>
        internal static bool IsConnection(IndexedSocket socket) =>
            socket.State is not (SocketState.Listen or SocketState.Bound or SocketState.Unconnected or SocketState.Unknown or SocketState.Closed);

        private static BindCaveats HolderCaveats(IndexedSocket holder)
        {
            SocketTuple socket = holder.Socket;
            BindCaveats caveats = BindCaveats.None;
            if (holder.ReusePort || holder.ReusePortLoadBalance)
            {
                caveats |= BindCaveats.WindowsForeignOptionIgnored;
            }

            return caveats;
        }

        /// <summary>windows.{inuse|denied|check}.{wildcard-then-specific|specific-then-wildcard|same-wildcard|same-specific}.</summary>
        private static string RuleName(Cell cell, bool holderWild, bool proposedWild)
        {
            string prefix = cell switch
            {
                Cell.InUse => "windows.inuse.",
                Cell.Denied => "windows.denied.",
                _ => "windows.check.",
            };
            return prefix + (holderWild, proposedWild) switch
            {
                (true, true) => "same-wildcard",
                (true, false) => "wildcard-then-specific",
                (false, true) => "specific-then-wildcard",
                _ => "same-specific",
            };
        }
    }
}
