using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Rules.Linux
{
    /// <summary>
    /// Linux bind() and listen() (kernel-rules.md 1A; net/ipv4/af_inet.c __inet_bind,
    /// net/ipv6/af_inet6.c __inet6_bind, net/ipv4/inet_connection_sock.c inet_csk_get_port and
    /// inet_bind_conflict, net/ipv4/udp.c udp_lib_get_port and udp_lib_lport_inuse[2]).
    /// The checks run in the kernel's order, so the first failing one names the error.
    /// </summary>
    internal static class LinuxBindRules
    {
        // udp_lib_get_port switches to the port+address hash when a port's slot holds more than this.
        private const int UdpPrimarySlotLimit = 10;

        /// <summary>
        /// Decides a bind. Unrecorded, the port checks keep no conflict list, note or dependency (the
        /// notes and dependencies are words): the decision replays itself recorded when they are read.
        /// </summary>
        public static BindDecision Decide(SocketIndex index, BindRequest request) => Decide(index, request, recording: true);

        /// <inheritdoc cref="Decide(SocketIndex, BindRequest)"/>
        public static BindDecision Decide(SocketIndex index, BindRequest request, bool recording)
        {
            HostFacts facts = index.Facts;
            IndexedSocket proposed = Propose(request, facts);
            BindDecision? early = Precheck(proposed, request, facts);
            if (early is not null)
            {
                return early;
            }

            if (request.Port == 0)
            {
                return EphemeralPort(index, proposed, request);
            }

            // With -Listen, listen() runs the same conflict check again (inet_csk_listen_start); the
            // pair rule looks only at the holder's state, so against an unchanged table it answers as
            // bind() did. Sequences (bind A, bind B, listen A, listen B) go through DecideListen.
            BindDecision decision = request.Protocol == TransportProtocol.Tcp ? TcpConflicts(index, proposed, atListen: false, recording: recording) : UdpConflicts(index, proposed, recording);
            if (!recording)
            {
                return decision.ReplayOn(index, request);
            }

            if (request.Listen && request.Protocol == TransportProtocol.Udp)
            {
                decision.Notes.Add("listen() applies to TCP only; it was not checked for UDP");
            }

            return decision;
        }

        /// <summary>
        /// The checks bind() makes before it looks at the port (the device, the address, privilege), in
        /// the kernel's order; null when they pass. With IP_BIND_ADDRESS_NO_PORT and port 0 they are
        /// all bind() does (__inet_bind records only the address).
        /// </summary>
        public static BindDecision? Precheck(SocketIndex index, BindRequest request) => Precheck(Propose(request, index.Facts), request, index.Facts);

        /// <summary>bind() with IP_BIND_ADDRESS_NO_PORT and port 0, or the part of bind(address, 0) before the port: <see cref="Precheck(SocketIndex, BindRequest)"/> as a decision.</summary>
        public static BindDecision DecideAddress(SocketIndex index, BindRequest request)
        {
            IndexedSocket proposed = Propose(request, index.Facts);
            return Precheck(proposed, request, index.Facts) ?? new BindDecision(proposed, BindErrorKind.None, "linux.bind.address");
        }

        private static BindDecision? Precheck(IndexedSocket proposed, BindRequest request, HostFacts facts)
        {
            // setsockopt(SO_BINDTODEVICE) comes before bind() and fails for a device that does not exist.
            if (request.Interface is not null && !facts.HasInterface(request.Interface))
            {
                return Fail(proposed, BindErrorKind.NoSuchDevice, "linux.enodev.device", "setsockopt(SO_BINDTODEVICE) fails first: there is no interface named '" + request.Interface + "' (the host's interfaces: " + facts.InterfaceList() + ")");
            }

            return request.AddressFamily == AddressFamily.InterNetworkV6 ? Ipv6Prechecks(proposed, request, facts) : Ipv4Prechecks(proposed, request, facts);
        }

        /// <summary>listen() on a socket of the table: the conflict check again, with the socket in LISTEN.</summary>
        public static BindDecision DecideListen(SocketIndex index, IndexedSocket socket)
        {
            IndexedSocket listening = new IndexedSocket(socket.Socket.Copy(state: SocketState.Listen), socket.Position, index.Facts);
            return TcpConflicts(index, listening, atListen: true, exclude: socket);
        }

        private static BindDecision? Ipv4Prechecks(IndexedSocket proposed, BindRequest request, HostFacts facts)
        {
            // 1. The address: 0.0.0.0, local, multicast or broadcast; else EADDRNOTAVAIL unless nonlocal binds are allowed.
            IPAddress address = request.Address;
            if (!IsValidIpv4(proposed.Local.V4, address, facts) && !facts.NonLocalBind && !request.FreeBind)
            {
                return Fail(proposed, BindErrorKind.AddressNotAvailable, "linux.eaddrnotavail.not-local", address + " is not an address of the host (net.ipv4.ip_nonlocal_bind is off and IP_FREEBIND was not set)");
            }

            // 2. Then the privileged port check (__inet_bind checks the address first).
            return PrivilegedPort(proposed, request, facts);
        }

        private static BindDecision? Ipv6Prechecks(IndexedSocket proposed, BindRequest request, HostFacts facts)
        {
            IPAddress address = request.Address;
            Ip16 bytes = proposed.Local;
            if (!bytes.IsV4Mapped && bytes.IsMulticast && request.Protocol == TransportProtocol.Tcp)
            {
                return Fail(proposed, BindErrorKind.InvalidArgument, "linux.einval.multicast-stream", "a TCP socket cannot bind the IPv6 multicast address " + address);
            }

            // __inet6_bind checks the privileged port before the address.
            BindDecision? privileged = PrivilegedPort(proposed, request, facts);
            if (privileged is not null)
            {
                return privileged;
            }

            if (bytes.IsV4Mapped)
            {
                if (proposed.V6Only)
                {
                    return Fail(proposed, BindErrorKind.InvalidArgument, "linux.einval.mapped-v6only", "an IPV6_V6ONLY socket cannot bind the v4-mapped address " + address);
                }

                if (!IsValidIpv4(bytes.V4, address.MapToIPv4(), facts) && !facts.NonLocalBind && !request.FreeBind)
                {
                    return Fail(proposed, BindErrorKind.AddressNotAvailable, "linux.eaddrnotavail.not-local", address.MapToIPv4() + " is not an address of the host (net.ipv4.ip_nonlocal_bind is off and IP_FREEBIND was not set)");
                }

                return null;
            }

            if (bytes.IsZero)
            {
                return null;
            }

            if (bytes.NeedsScope && address.ScopeId == 0 && request.Interface is null)
            {
                return Fail(proposed, BindErrorKind.InvalidArgument, "linux.einval.no-scope", "the " + (bytes.IsMulticast ? "link-scope multicast" : "link-local") + " address " + address + " needs a scope (" + address + "%eth0) or a bound device");
            }

            if (!bytes.IsMulticast && !facts.NonLocalBindV6 && !request.FreeBind)
            {
                if (!facts.IsLocal(address))
                {
                    return Fail(proposed, BindErrorKind.AddressNotAvailable, "linux.eaddrnotavail.not-local", address + " is not configured on the host (net.ipv6.ip_nonlocal_bind is off and IP_FREEBIND was not set)");
                }

                // ipv6_chk_addr with the bound device: a host- or link-scope address must be on that
                // very device; a global address may be on any.
                if (request.Interface is not null && (bytes.IsLoopbackV6 || bytes.IsLinkLocal) && !facts.IsOnInterface(address, request.Interface))
                {
                    return Fail(proposed, BindErrorKind.AddressNotAvailable, "linux.eaddrnotavail.not-on-device", address + " is not on " + request.Interface + ", the device the socket is bound to (a " + (bytes.IsLoopbackV6 ? "host" : "link") + "-scope address must be on the bound device)");
                }
            }

            return null;
        }

        private static BindDecision? PrivilegedPort(IndexedSocket proposed, BindRequest request, HostFacts facts)
        {
            if (request.Port != 0 && request.Port < facts.UnprivilegedPortStart && !(request.Privileged ?? facts.Privileged))
            {
                // A uid the engine only assumed (weighing an unknown user) is not named as the binder.
                long? uid = request.UserIdAssumed ? null : request.UserId ?? (facts.Knows(KnownHostFacts.UserId) ? facts.UserId : null);
                return Fail(proposed, BindErrorKind.AccessDenied, "linux.eacces.privileged-port", string.Format(
                    CultureInfo.InvariantCulture,
                    "port {0} is below net.ipv4.ip_unprivileged_port_start ({1}), and binding it needs CAP_NET_BIND_SERVICE, which {2} does not have",
                    request.Port,
                    facts.UnprivilegedPortStart,
                    uid is long known ? "uid " + known.ToString(CultureInfo.InvariantCulture) : "the user who binds"));
            }

            return null;
        }

        /// <param name="v4">The address as Ip16.V4 holds it (first octet lowest), read without copying its bytes.</param>
        /// <param name="address">The same address, for the host's address sets.</param>
        /// <param name="facts">The host facts.</param>
        private static bool IsValidIpv4(uint v4, IPAddress address, HostFacts facts)
        {
            bool any = v4 == 0;
            bool multicast = (v4 & 0xF0) == 0xE0;
            return any || multicast || facts.IsLocal(address) || facts.IsBroadcast(address);
        }

        /// <summary>
        /// TCP: for every socket on the port that passes the device filter and overlaps, S may coexist
        /// only if R1 (SO_REUSEADDR on both, the holder not listening) or R2 (SO_REUSEPORT on both,
        /// the holder in TIME-WAIT or of the same uid) holds. Every conflict is listed.
        /// </summary>
        private static BindDecision TcpConflicts(SocketIndex index, IndexedSocket proposed, bool atListen, IndexedSocket? exclude = null, bool recording = true)
        {
            List<IndexedSocket>? bucket = index.TcpBucket(proposed.Port, out BindBucketCache? cache, out IndexedSocket[]? holderClasses);
            if (bucket is null || (exclude is not null && bucket.Count == 1 && bucket[0] == exclude))
            {
                return new BindDecision(proposed, BindErrorKind.None, "linux.ok", atListen);
            }

            if (!recording && exclude is null && holderClasses is not null)
            {
                return TcpConflictsByClass(proposed, atListen, cache, holderClasses);
            }

            var decision = new BindDecision(proposed, BindErrorKind.None, "linux.ok", atListen);

            // inet_csk_get_port's fast paths come before the slow check and can admit a bind it would refuse.
            bool reuse = proposed.ReuseAddress && !atListen;
            string? fastPath = cache is null ? null
                : cache.FastReuse > 0 && reuse ? "fastreuse"
                : cache.ReusePortMatch(proposed) ? "fastreuseport"
                : null;

            // Unrecorded, only the first conflict and the counts are kept.
            List<IndexedSocket>? undecided = recording ? new List<IndexedSocket>() : null;
            int undecidedCount = 0;
            int conflictCount = 0;
            ConflictCause firstCause = ConflictCause.NoSharingOption;
            foreach (IndexedSocket holder in bucket)
            {
                if (holder == exclude)
                {
                    continue;
                }

                HolderVerdict verdict = TcpVerdict(proposed, holder);
                if (verdict == HolderVerdict.Shares)
                {
                    continue;
                }

                if (verdict == HolderVerdict.Undecided)
                {
                    undecided?.Add(holder);
                    undecidedCount++;
                }
                else
                {
                    if (conflictCount++ == 0)
                    {
                        firstCause = TcpCause(proposed, holder);
                    }

                    if (recording)
                    {
                        decision.Conflicts.Add((holder, conflictCount == 1 ? firstCause : TcpCause(proposed, holder)));
                    }
                }
            }

            // Holders whose unknown options decide: with a certain conflict they change nothing; alone they make the answer depend on them.
            if (conflictCount == 0 && undecidedCount > 0 && fastPath is null)
            {
                return recording
                    ? UnknownOptions(decision, undecided!, TransportProtocol.Tcp)
                    : new BindDecision(proposed, BindErrorKind.AddressInUse, "linux.tcp.unknown-options", atListen);
            }

            if (fastPath is not null)
            {
                if (conflictCount > 0)
                {
                    var admitted = new BindDecision(proposed, BindErrorKind.None, fastPath == "fastreuse" ? "linux.tcp.fast-path-fastreuse" : "linux.tcp.fast-path-fastreuseport", atListen);
                    if (!recording)
                    {
                        return admitted;
                    }

                    admitted.Notes.Add("the port's bind bucket admitted it from its " + fastPath + " cache without checking every socket, although "
                        + BindExplanation.Why(proposed, decision.Conflicts[0].Socket, decision.Conflicts[0].Cause)
                        + " (inet_csk_get_port: the cache was last set by a socket whose own options let it share the port)");
                    return admitted;
                }

                return decision;
            }

            return conflictCount == 0
                ? decision
                : recording ? Rename(decision, BindErrorKind.AddressInUse, RuleName(firstCause, TransportProtocol.Tcp))
                : new BindDecision(proposed, BindErrorKind.AddressInUse, RuleName(firstCause, TransportProtocol.Tcp), atListen);
        }

        /// <summary>
        /// <see cref="TcpConflicts"/> unrecorded, with one holder of each class standing for all of its
        /// class (<see cref="SocketIndex.TcpBucket"/>): they meet the proposed socket alike, and the first of
        /// a class comes first in the bucket, so the first conflict is one of them. Only the answer is
        /// made; the decision replays recorded for its conflicts and notes.
        /// </summary>
        private static BindDecision TcpConflictsByClass(IndexedSocket proposed, bool atListen, BindBucketCache? cache, IndexedSocket[] holderClasses)
        {
            bool reuse = proposed.ReuseAddress && !atListen;
            string? fastPath = cache is null ? null
                : cache.FastReuse > 0 && reuse ? "linux.tcp.fast-path-fastreuse"
                : cache.ReusePortMatch(proposed) ? "linux.tcp.fast-path-fastreuseport"
                : null;
            bool undecided = false;
            foreach (IndexedSocket holder in holderClasses)
            {
                HolderVerdict verdict = TcpVerdict(proposed, holder);
                if (verdict == HolderVerdict.Conflicts)
                {
                    // A fast path admits it all the same; else the first conflict names the rule.
                    return fastPath is not null
                        ? new BindDecision(proposed, BindErrorKind.None, fastPath, atListen)
                        : new BindDecision(proposed, BindErrorKind.AddressInUse, RuleName(TcpCause(proposed, holder), TransportProtocol.Tcp), atListen);
                }

                undecided |= verdict == HolderVerdict.Undecided;
            }

            return undecided && fastPath is null
                ? new BindDecision(proposed, BindErrorKind.AddressInUse, "linux.tcp.unknown-options", atListen)
                : new BindDecision(proposed, BindErrorKind.None, "linux.ok", atListen);
        }

        /// <summary>How one holder of the port meets the proposed socket.</summary>
        private enum HolderVerdict
        {
            /// <summary>No conflict: another device or address, or a sharing rule both certainly meet.</summary>
            Shares,

            /// <summary>A sharing rule the holder's unknown options may meet.</summary>
            Undecided,

            /// <summary>A certain conflict.</summary>
            Conflicts,
        }

        /// <summary>
        /// inet_bind_conflict for one holder: S may coexist only if R1 (SO_REUSEADDR on both, the holder
        /// not listening) or R2 (SO_REUSEPORT on both, the holder in TIME-WAIT or of the same uid) holds.
        /// </summary>
        private static HolderVerdict TcpVerdict(IndexedSocket proposed, IndexedSocket holder)
        {
            if (!DevicesMayConflict(proposed, holder) || !Overlap(proposed, holder))
            {
                return HolderVerdict.Shares;
            }

            // A holder's option that is not known may be on: a rule it could meet is "possible".
            bool r1 = proposed.ReuseAddress && holder.MayReuseAddress && holder.State != SocketState.Listen;
            bool r2 = proposed.ReusePort && holder.MayReusePort && (holder.State == SocketState.TimeWait || proposed.Uid == holder.Uid);
            if ((r1 && holder.ReuseAddressKnown) || (r2 && holder.ReusePortKnown))
            {
                return HolderVerdict.Shares;
            }

            return r1 || r2 ? HolderVerdict.Undecided : HolderVerdict.Conflicts;
        }

        /// <summary>The cause of a certain conflict: one that holds whatever the holder's unknown options are (a uid mismatch first).</summary>
        private static ConflictCause TcpCause(IndexedSocket proposed, IndexedSocket holder)
        {
            if (proposed.ReusePort && holder.MayReusePort && holder.State != SocketState.TimeWait && proposed.Uid != holder.Uid)
            {
                return ConflictCause.ReusePortOtherUser;
            }

            // A listening holder refuses SO_REUSEADDR whatever its own options: that is the reason to give.
            if (proposed.ReuseAddress && (holder.ReuseAddress || holder.State == SocketState.Listen))
            {
                return ConflictCause.ReuseAddressVersusListener;
            }

            if (proposed.ReuseAddress)
            {
                return ConflictCause.ReuseAddressNotOnBoth;
            }

            return proposed.ReusePort ? ConflictCause.ReusePortNotOnBoth : ConflictCause.NoSharingOption;
        }

        /// <summary>
        /// UDP: udp_lib_lport_inuse walks the port's primary chain (newest first, AF_INET6
        /// SO_REUSEPORT sockets last) and the first one that
        /// overlaps (and does not share SO_REUSEADDR with S) decides: a SO_REUSEPORT match of the same
        /// uid lets the bind through at once, anything else fails it. With more than ten sockets on the
        /// port, udp_lib_lport_inuse2 looks only at S's own address and at the wildcard.
        /// </summary>
        private static BindDecision UdpConflicts(SocketIndex index, IndexedSocket proposed, bool recording)
        {
            var decision = new BindDecision(proposed, BindErrorKind.None, "linux.ok");
            List<IndexedSocket>? bucket = index.BindBucket(TransportProtocol.Udp, proposed.Port);
            if (bucket is null)
            {
                return decision;
            }

            // Since 2024 the shortcut is taken only for a specific address (inet_use_hash2_on_bind);
            // a wildcard bind scans every socket on the port.
            UdpWalk walk;
            if (bucket.Count > UdpPrimarySlotLimit && !proposed.ChainAddress.IsZero)
            {
                walk = UdpWalk.Run(index.UdpChain(proposed.Port, proposed.ChainAddress), proposed, recording);
                if (!walk.Stopped)
                {
                    walk = walk.Then(index.UdpChain(proposed.Port, default), proposed);
                }

                walk.Finish();

                if (recording && walk.Decider is null && walk.UndecidedCount == 0 && IsSpecificWithOthers(bucket, proposed))
                {
                    decision.Notes.Add("with more than " + UdpPrimarySlotLimit + " sockets on the port, the kernel compares only sockets on the same address and on the wildcard");
                }
            }
            else
            {
                walk = UdpWalk.Run(index.UdpPrimaryChain(proposed.Port), proposed, recording).Finish();
            }

            if (!walk.MayFail)
            {
                if (recording && walk.Decider is not null && HasOtherUdpConflict(bucket, proposed, walk.Decider))
                {
                    decision.Notes.Add("the kernel met " + walk.Decider.Socket.Local + " first, which shares the port through SO_REUSEPORT, and stopped looking: order decided");
                }

                return decision;
            }

            if (walk.MaySucceed)
            {
                return recording
                    ? UnknownOptions(decision, walk.Undecided!, TransportProtocol.Udp)
                    : new BindDecision(proposed, BindErrorKind.AddressInUse, "linux.udp.unknown-options");
            }

            // Fails whichever way the unknown options go: the socket the walk certainly stops at names the cause.
            if (!recording)
            {
                return new BindDecision(proposed, BindErrorKind.AddressInUse, RuleName(UdpCause(proposed, walk.Decider!), TransportProtocol.Udp));
            }

            decision.Conflicts.Add((walk.Decider!, UdpCause(proposed, walk.Decider!)));
            return Rename(decision, BindErrorKind.AddressInUse, RuleName(decision.Conflicts[0].Cause, TransportProtocol.Udp));
        }

        /// <summary>
        /// udp_lib_lport_inuse's walk with options that may be unknown: the first overlapping socket
        /// that does not share SO_REUSEADDR with S decides (a SO_REUSEPORT match of one uid admits S at
        /// once, anything else refuses it). A socket whose options are unknown may be passed over or may
        /// decide, so the walk follows both ways and records what can happen.
        /// </summary>
        private sealed class UdpWalk
        {
            public bool MaySucceed { get; private set; }

            public bool MayFail { get; private set; }

            /// <summary>The walk ended at a certain decision (it did not run off the chain's end).</summary>
            public bool Stopped { get; private set; }

            /// <summary>The socket where the walk certainly stops.</summary>
            public IndexedSocket? Decider { get; private set; }

            /// <summary>Sockets whose unknown options decide; null when the walk is not recorded (only <see cref="UndecidedCount"/> is kept).</summary>
            public List<IndexedSocket>? Undecided { get; private set; }

            public int UndecidedCount { get; private set; }

            public static UdpWalk Run(List<IndexedSocket>? chain, IndexedSocket proposed, bool recording) =>
                new UdpWalk { Undecided = recording ? new List<IndexedSocket>() : null }.Walk(chain, proposed);

            /// <summary>Continues into a second chain (the wildcard slot of the hash2 shortcut).</summary>
            public UdpWalk Then(List<IndexedSocket>? chain, IndexedSocket proposed) => Walk(chain, proposed);

            /// <summary>Ends the walk: one that ran off the chain's end found nothing to refuse S.</summary>
            public UdpWalk Finish()
            {
                MaySucceed |= !Stopped;
                return this;
            }

            private UdpWalk Walk(List<IndexedSocket>? chain, IndexedSocket proposed)
            {
                if (chain is not null)
                {
                    foreach (IndexedSocket holder in chain)
                    {
                        if (holder.Port != proposed.Port || !DevicesMayConflict(proposed, holder) || !Overlap(proposed, holder))
                        {
                            continue;
                        }

                        bool skip = proposed.ReuseAddress && holder.MayReuseAddress;
                        if (skip && holder.ReuseAddressKnown)
                        {
                            continue; // SO_REUSEADDR on both: passed over
                        }

                        bool match = proposed.ReusePort && holder.MayReusePort && proposed.Uid == holder.Uid;
                        bool matchCertain = match && holder.ReusePortKnown;
                        if (skip || (match && !matchCertain))
                        {
                            Undecided?.Add(holder);
                            UndecidedCount++;
                        }

                        MaySucceed |= match;
                        MayFail |= !matchCertain;
                        if (!skip)
                        {
                            Decider = holder;
                            Stopped = true;
                            return this;
                        }
                    }
                }

                return this;
            }
        }

        private static bool UdpCandidate(IndexedSocket holder, IndexedSocket proposed) =>
            holder.Port == proposed.Port && !(holder.ReuseAddress && proposed.ReuseAddress) && DevicesMayConflict(proposed, holder) && Overlap(proposed, holder);

        private static bool UdpReusePortMatch(IndexedSocket proposed, IndexedSocket holder) =>
            proposed.ReusePort && holder.ReusePort && proposed.Uid == holder.Uid;

        private static bool HasOtherUdpConflict(List<IndexedSocket> bucket, IndexedSocket proposed, IndexedSocket decider)
        {
            foreach (IndexedSocket holder in bucket)
            {
                if (holder != decider && UdpCandidate(holder, proposed) && !UdpReusePortMatch(proposed, holder))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsSpecificWithOthers(List<IndexedSocket> bucket, IndexedSocket proposed)
        {
            foreach (IndexedSocket holder in bucket)
            {
                if (UdpCandidate(holder, proposed) && !UdpReusePortMatch(proposed, holder))
                {
                    return true;
                }
            }

            return false;
        }

        private static ConflictCause UdpCause(IndexedSocket proposed, IndexedSocket holder)
        {
            if (proposed.ReusePort && holder.MayReusePort && proposed.Uid != holder.Uid)
            {
                return ConflictCause.ReusePortOtherUser;
            }

            if (proposed.ReuseAddress)
            {
                return ConflictCause.ReuseAddressNotOnBoth;
            }

            return proposed.ReusePort ? ConflictCause.ReusePortNotOnBoth : ConflictCause.NoSharingOption;
        }

        /// <summary>
        /// Port 0 (1C): TCP (inet_csk_find_open_port) takes a port on which no overlapping socket
        /// exists at all, odd offsets first and, with SO_REUSEADDR, the lower half of the range first;
        /// with ip_autobind_reuse and SO_REUSEADDR a second round shares a port with SO_REUSEADDR
        /// sockets that do not listen. UDP (udp_lib_get_port) takes one on which no socket conflicts
        /// under the normal sharing rules. Reserved ports are skipped. Which free port the kernel
        /// takes is random, so the answer is the range and the count.
        /// </summary>
        private static BindDecision EphemeralPort(SocketIndex index, IndexedSocket proposed, BindRequest request)
        {
            HostFacts facts = index.Facts;
            PortRange range = facts.EphemeralPortRange;
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            ScanSegment[] segments = tcp ? Bind0Segments(range, request.ReuseAddress) : new[] { new ScanSegment(range.Start, range.End, parity: false, lowParityFirst: true) };
            var strict = new Bind0Classifier(index, proposed, relax: false);
            ScanAnalysis scan = ScanAnalysis.Analyze(segments, strict);
            int total = range.Count;
            string ranges = range + (facts.ReservedPorts.Count > 0 ? " less ip_local_reserved_ports" : string.Empty);
            string head = "port 0 asks the kernel for a free port from net.ipv4.ip_local_port_range (" + ranges + ")";
            string tcpNote = tcp ? " (for TCP, a port counts as free only when no socket overlaps it at all)" : string.Empty;
            if (scan.Max > 0)
            {
                var decision = new BindDecision(proposed, scan.FirstCertain ? BindErrorKind.None : BindErrorKind.AddressInUse, "linux.port0");
                decision.Detail = string.Format(
                    CultureInfo.InvariantCulture,
                    "{0}; {1} of its {2} ports are free for this address{3}",
                    head,
                    FreeText(scan),
                    total,
                    tcpNote);
                if (scan.NeverTried > 0)
                {
                    decision.Notes.Add("port " + range.End.ToString(CultureInfo.InvariantCulture) + " is never tried: the kernel rounds a range of 3 ports down to 2");
                }

                if (!scan.FirstCertain)
                {
                    if (scan.OffsetDecides)
                    {
                        decision.DependsOn.Add("the random offset bind(0) starts from, which decides whether it leaves out port " + range.Start.ToString(CultureInfo.InvariantCulture) + " or " + range.End.ToString(CultureInfo.InvariantCulture) + " of the odd-sized range");
                    }

                    if ((strict.Unknowns & ConnectUnknowns.HolderOptions) != 0)
                    {
                        decision.DependsOn.Add("SO_REUSEADDR and SO_REUSEPORT of the sockets on the range's ports, which the socket table does not show");
                    }
                }

                return decision;
            }

            // The second round: ip_autobind_reuse (5.7+) lets a SO_REUSEADDR socket share a port as an explicit bind could.
            bool autobindKnown = facts.Knows(KnownHostFacts.AutobindReuse);
            if (tcp && request.ReuseAddress && (facts.AutobindReuse || !autobindKnown))
            {
                var relax = new Bind0Classifier(index, proposed, relax: true);
                ScanAnalysis shared = ScanAnalysis.Analyze(segments, relax);
                if (shared.Max > 0)
                {
                    var decision = new BindDecision(proposed, shared.FirstCertain && autobindKnown ? BindErrorKind.None : BindErrorKind.AddressInUse, "linux.port0.autobind-reuse");
                    decision.Detail = string.Format(
                        CultureInfo.InvariantCulture,
                        "{0}; none of its {1} ports is free for this address, but with net.ipv4.ip_autobind_reuse a second round shares {2} of them with SO_REUSEADDR sockets that do not listen (ports that already reach a destination fail that connect() with EADDRNOTAVAIL)",
                        head,
                        total,
                        FreeText(shared));
                    if (!autobindKnown)
                    {
                        decision.DependsOn.Add("net.ipv4.ip_autobind_reuse of that host, which lets bind(0) share a port with SO_REUSEADDR sockets once none is free");
                    }

                    if (!shared.FirstCertain && (relax.Unknowns & ConnectUnknowns.HolderOptions) != 0)
                    {
                        decision.DependsOn.Add("SO_REUSEADDR and SO_REUSEPORT of the sockets on the range's ports, which the socket table does not show");
                    }

                    if (!shared.FirstCertain && shared.OffsetDecides)
                    {
                        decision.DependsOn.Add("the random offset bind(0) starts from");
                    }

                    return decision;
                }
            }

            return Fail(proposed, BindErrorKind.AddressInUse, "linux.port0.exhausted", string.Format(
                CultureInfo.InvariantCulture,
                "{0}, and none of its {1} ports is free for this address{2}",
                head,
                total,
                tcp && request.ReuseAddress && !facts.AutobindReuse && autobindKnown ? " (net.ipv4.ip_autobind_reuse is off, so no port is shared with SO_REUSEADDR sockets)" : tcpNote));
        }

        private static string FreeText(ScanAnalysis scan) => scan.Uncertain > 0
            ? scan.Certain.ToString(CultureInfo.InvariantCulture) + " to " + (scan.Certain + scan.Uncertain).ToString(CultureInfo.InvariantCulture)
            : scan.Certain.ToString(CultureInfo.InvariantCulture);

        /// <summary>bind(0)'s halves: with SO_REUSEADDR and 4 ports or more, [low, half) first, then [half, high].</summary>
        internal static ScanSegment[] Bind0Segments(PortRange range, bool reuseAddress)
        {
            int size = range.Count;
            if (!reuseAddress || size < 4)
            {
                return new[] { new ScanSegment(range.Start, range.End, parity: true, lowParityFirst: false) };
            }

            int half = range.Start + ((size >> 2) << 1);
            return new[]
            {
                new ScanSegment(range.Start, half - 1, parity: true, lowParityFirst: false),
                new ScanSegment(half, range.End, parity: true, lowParityFirst: false),
            };
        }

        /// <summary>Sockets bound to two different devices never conflict.</summary>
        internal static bool DevicesMayConflict(IndexedSocket a, IndexedSocket b) =>
            a.Device is null || b.Device is null || string.Equals(a.Device, b.Device, StringComparison.Ordinal);

        /// <summary>inet_rcv_saddr_equal with wildcards matching on both sides: the address overlap of kernel-rules.md 1A.</summary>
        internal static bool Overlap(IndexedSocket s, IndexedSocket e) => RcvSaddrEqual(s, e, true, true);

        /// <summary>
        /// ipv6_rcv_saddr_equal / ipv4_rcv_saddr_equal (net/ipv4/inet_connection_sock.c), read from the
        /// kernel's code path for the first socket's family; each side's wildcard counts only when
        /// its flag says so (sk_reuseport_match lets only the cached side's wildcard match).
        /// </summary>
        internal static bool RcvSaddrEqual(IndexedSocket first, IndexedSocket second, bool matchFirstWildcard, bool matchSecondWildcard)
        {
            if (!first.Inet6)
            {
                return Ipv4Equal(first.V4, second.V4, second.V6Only, matchFirstWildcard, matchSecondWildcard);
            }

            bool firstMapped = first.Class == AddressClass.V4;
            bool secondMapped = second.Class == AddressClass.V4; // AF_INET sockets have no v6 address: "mapped"
            if (firstMapped && secondMapped)
            {
                return Ipv4Equal(first.V4, second.V4, second.V6Only, matchFirstWildcard, matchSecondWildcard);
            }

            bool firstAny = first.Class == AddressClass.Any6;
            bool secondAny = second.Class == AddressClass.Any6;
            if (firstAny && secondAny)
            {
                return true;
            }

            if (secondAny && matchSecondWildcard && !(second.V6Only && firstMapped))
            {
                return true;
            }

            if (firstAny && matchFirstWildcard && !(first.V6Only && secondMapped))
            {
                return true;
            }

            return second.Inet6 && first.Local.Equals(second.Local);
        }

        private static bool Ipv4Equal(uint first, uint second, bool secondV6Only, bool matchFirstWildcard, bool matchSecondWildcard) =>
            !secondV6Only && (first == second || (matchFirstWildcard && first == 0) || (matchSecondWildcard && second == 0));

        // The SocketTuple of the proposed socket is made only when a result names it.
        private static IndexedSocket Propose(BindRequest request, HostFacts facts) => IndexedSocket.Proposed(request, facts, IPv6OnlyOf(request, facts), MakeProposedTuple);

        private static readonly Func<BindRequest, HostFacts, SocketTuple> MakeProposedTuple = ProposedTuple;

        /// <summary>IPV6_V6ONLY as given, else net.ipv6.bindv6only; none for IPv4.</summary>
        private static bool? IPv6OnlyOf(BindRequest request, HostFacts facts) =>
            request.AddressFamily == AddressFamily.InterNetworkV6 ? request.IPv6Only ?? facts.BindV6Only : null;

        private static SocketTuple ProposedTuple(BindRequest request, HostFacts facts) => new SocketTuple
        {
            Protocol = request.Protocol,
            State = request.Protocol == TransportProtocol.Udp ? SocketState.Unconnected : request.Listen ? SocketState.Listen : SocketState.Bound,
            LocalAddress = request.Address,
            LocalPort = request.Port,
            ReuseAddress = request.ReuseAddress,
            ReusePort = request.ReusePort,
            IPv6Only = IPv6OnlyOf(request, facts),
            BoundInterface = request.Interface,
            UserId = request.UserId ?? facts.UserId,
        };

        private static BindDecision Fail(IndexedSocket proposed, BindErrorKind error, string rule, string detail) =>
            new BindDecision(proposed, error, rule) { Detail = detail };

        private static BindDecision Rename(BindDecision decision, BindErrorKind error, string rule)
        {
            var renamed = new BindDecision(decision.Proposed, error, rule, decision.AtListen) { Detail = decision.Detail };
            renamed.Conflicts.AddRange(decision.Conflicts);
            renamed.Notes.AddRange(decision.Notes);
            return renamed;
        }

        // Whole literals, so that naming the rule allocates nothing per decision.
        private static string RuleName(ConflictCause cause, TransportProtocol protocol) => protocol == TransportProtocol.Tcp
            ? cause switch
            {
                ConflictCause.ReuseAddressVersusListener => "linux.tcp.reuseaddr-vs-listener",
                ConflictCause.ReuseAddressNotOnBoth => "linux.tcp.reuseaddr-not-on-both",
                ConflictCause.ReusePortNotOnBoth => "linux.tcp.reuseport-not-on-both",
                ConflictCause.ReusePortOtherUser => "linux.tcp.reuseport-other-user",
                _ => "linux.tcp.in-use",
            }
            : cause switch
            {
                ConflictCause.ReuseAddressVersusListener => "linux.udp.reuseaddr-vs-listener",
                ConflictCause.ReuseAddressNotOnBoth => "linux.udp.reuseaddr-not-on-both",
                ConflictCause.ReusePortNotOnBoth => "linux.udp.reuseport-not-on-both",
                ConflictCause.ReusePortOtherUser => "linux.udp.reuseport-other-user",
                _ => "linux.udp.in-use",
            };

        /// <summary>
        /// No socket certainly refuses the bind, but some may, depending on options that are not
        /// known: the answer is the unfavourable one (EADDRINUSE) with each deciding option named, and
        /// CanBind stays null.
        /// </summary>
        private static BindDecision UnknownOptions(BindDecision decision, List<IndexedSocket> undecided, TransportProtocol protocol)
        {
            var result = new BindDecision(decision.Proposed, BindErrorKind.AddressInUse, protocol == TransportProtocol.Tcp ? "linux.tcp.unknown-options" : "linux.udp.unknown-options", decision.AtListen);
            foreach (IndexedSocket holder in undecided)
            {
                result.Conflicts.Add((holder, ConflictCause.HolderOptionsUnknown));
                result.DependsOn.Add(UnknownOptionText.Fact(decision.Proposed, holder));
            }

            result.Notes.AddRange(decision.Notes);
            return result;
        }
    }
}
