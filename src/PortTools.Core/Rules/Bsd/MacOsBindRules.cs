using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// macOS bind() (kernel-rules.md 4A; XNU bsd/netinet/in_pcb.c in_pcbbind and, UNVERIFIED in
    /// the spec, bsd/netinet6/in6_pcb.c in6_pcbbind). As FreeBSD without SO_REUSEPORT_LB and
    /// without the dual-stack cost in the best-fit lookup; a low port needs privilege only on a
    /// specific address; the cross-user check looks only at specific addresses and honours
    /// SOF_REUSESHAREUID (absent from socket tables, so taken as absent). Skywalk reservations and
    /// restricted ports are not modelled. Nothing here builds text.
    /// </summary>
    internal static class MacOsBindRules
    {
        // in_pcblookup_local: matchwild starts at 3 and there is no mapped-PCB cost.
        private const int MatchWild = 3;

        public static BindDecision Decide(SocketIndex index, BindRequest request)
        {
            HostFacts facts = index.Facts;
            IndexedSocket proposed = RuleSupport.Propose(request, facts);
            bool privileged = RuleSupport.Privileged(request, facts);

            // Options XNU does not have: setsockopt() fails with ENOPROTOOPT (rows 11 and 26).
            if (request.ReusePortLoadBalance)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "macos.enoprotoopt.reuseport-lb", BindDetail.ReusePortLoadBalanceNotSupported);
            }

            if (request.ExclusiveAddressUse)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "macos.enoprotoopt.exclusiveaddruse", BindDetail.ExclusiveAddressUseNotSupported);
            }

            if (request.FreeBind)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "macos.enoprotoopt.freebind", BindDetail.FreeBindNotSupported);
            }

            BindDecision? early = BsdBindCommon.AddressChecks(proposed, request, facts, bindAny: false, freeBsd: false);
            if (early is not null)
            {
                return early;
            }

            // Step 6 (macOS only): a port below 1024 needs PRIV_NETINET_RESERVEDPORT only on a specific address.
            BindCaveats caveats = BindCaveats.None;
            if (request.Port != 0 && request.Port < facts.UnprivilegedPortStart && !privileged)
            {
                if (!RuleSupport.IsWildcard(proposed))
                {
                    return RuleSupport.Fail(proposed, BindErrorKind.AccessDenied, "macos.eacces.specific-low-port", BindDetail.SpecificLowPort);
                }

                caveats |= BindCaveats.MacWildcardLowPort;
            }

            List<IndexedSocket>? bucket = index.BindBucket(proposed.Protocol, proposed.Port);
            BindDecision decision = request.Port == 0
                ? BsdBindCommon.Ephemeral(index, proposed, port => !Blocks(index.BindBucket(proposed.Protocol, port), proposed), freeBsd: false)
                : Check(bucket, proposed, privileged);
            decision.Caveats |= caveats | BsdBindCommon.CommonCaveats(decision, bucket, request, privileged, freeBsd: false);

            // Row 26: IP_BOUND_IF is taken to be ignored by bind() (UNVERIFIED).
            if (request.Interface is not null || decision.Conflicts.Exists(c => c.Socket.Device is not null))
            {
                decision.Caveats |= BindCaveats.MacBoundIfIgnored;
            }

            if (proposed.Class != AddressClass.V4)
            {
                decision.Caveats |= BindCaveats.MacIPv6Path;
            }

            if ((request.IPv6Only is null && BsdPcb.DualStack(proposed)) || decision.Conflicts.Exists(c => DefaultDualStack(c.Socket)))
            {
                decision.Caveats |= BindCaveats.MacDefaultDualStack;
            }

            if (decision.Conflicts.Exists(c => c.Cause is ConflictCause.BsdOtherUser or ConflictCause.BsdDualStackOtherUser))
            {
                decision.Caveats |= BindCaveats.MacReuseShareUidAbsent;
            }
            else if (bucket is not null && decision.Success && !privileged && request.Port != 0 && BsdBindCommon.SharesWithOtherUser(bucket, proposed))
            {
                decision.Caveats |= BindCaveats.MacOtherUserWildcardShare;
            }

            return decision;
        }

        /// <summary>A [::] socket whose IPV6_V6ONLY is not given: dual-stack only by the (UNVERIFIED) default.</summary>
        private static bool DefaultDualStack(IndexedSocket socket) => BsdPcb.DualStack(socket) && !socket.V6OnlyKnown;

        /// <summary>Steps 8 and 9 (and in6_pcbbind's IPv4 half for a dual-stack [::]) for a port that is not 0.</summary>
        private static BindDecision Check(List<IndexedSocket>? bucket, IndexedSocket proposed, bool privileged)
        {
            bool multicast = proposed.Local.IsMulticast;
            bool wildcardLookup = !(proposed.ReuseAddress || proposed.ReusePort);

            // Step 3: on a multicast address SO_REUSEADDR counts as SO_REUSEPORT.
            int reusePort = proposed.ReusePort ? BsdPcb.ReusePort : 0;
            if (multicast && proposed.ReuseAddress)
            {
                reusePort = BsdPcb.ReuseAddress | BsdPcb.ReusePort;
            }

            bool Shares(IndexedSocket holder) => (reusePort & BsdPcb.Options(holder) & (BsdPcb.ReuseAddress | BsdPcb.ReusePort)) != 0;

            if (proposed.Class == AddressClass.V4)
            {
                uint address = proposed.Local.V4;

                // Step 8: the cross-user check (S's uid is not 0, the address not multicast): another
                // user's best-fit match blocks when either address is specific.
                if (!multicast && !privileged)
                {
                    IndexedSocket? other = BsdPcb.BestFitV4(bucket, address, 0, MatchWild);
                    if (other is not null && (address != 0 || BsdPcb.Inet4(other) != 0) && other.Uid != proposed.Uid)
                    {
                        return BsdBindCommon.Conflict(proposed, other, ConflictCause.BsdOtherUser, "macos.cross-user");
                    }
                }

                // Step 9: the main check; two PF_INET6 wildcards are exempt.
                IndexedSocket? holder = wildcardLookup ? BsdPcb.BestFitV4(bucket, address, 0, MatchWild) : BsdPcb.ExactV4(bucket, address);
                if (holder is not null && !Shares(holder) && !(address == 0 && BsdPcb.Inet4(holder) == 0 && proposed.Inet6 && holder.Inet6))
                {
                    return BsdBindCommon.Conflict(proposed, holder, wildcardLookup ? ConflictCause.BsdBestFit : ConflictCause.BsdExact, wildcardLookup ? "macos.inuse.best-fit" : "macos.inuse.exact");
                }

                return new BindDecision(proposed, BindErrorKind.None, "macos.ok");
            }

            // in6_pcbbind (as read in XNU; the spec marks this path UNVERIFIED).
            Ip16 local = proposed.Local;
            bool dualStack = BsdPcb.DualStack(proposed);
            if (!multicast && !privileged)
            {
                IndexedSocket? other = BsdPcb.BestFitV6(bucket, local);
                if (other is not null && (!local.IsZero || other.Class != AddressClass.Any6 || !other.ReusePort) && other.Uid != proposed.Uid)
                {
                    return BsdBindCommon.Conflict(proposed, other, ConflictCause.BsdOtherUser, "macos.cross-user");
                }

                if (dualStack)
                {
                    IndexedSocket? inet = BsdPcb.BestFitV4(bucket, 0, 0, MatchWild);
                    if (inet is not null && !inet.ReusePort && inet.Uid != proposed.Uid && (BsdPcb.Inet4(inet) != 0 || inet.Inet6))
                    {
                        return BsdBindCommon.Conflict(proposed, inet, ConflictCause.BsdDualStackOtherUser, "macos.cross-user.ipv4");
                    }
                }
            }

            IndexedSocket? holder6 = wildcardLookup ? BsdPcb.BestFitV6(bucket, local) : BsdPcb.ExactV6(bucket, local);
            if (holder6 is not null && !Shares(holder6))
            {
                return BsdBindCommon.Conflict(proposed, holder6, wildcardLookup ? ConflictCause.BsdBestFit : ConflictCause.BsdExact, wildcardLookup ? "macos.inuse.best-fit" : "macos.inuse.exact");
            }

            if (dualStack)
            {
                // An AF_INET socket on 0.0.0.0 does not block the dual-stack bind (row 19, ok?✱).
                IndexedSocket? holder4 = wildcardLookup ? BsdPcb.BestFitV4(bucket, 0, 0, MatchWild) : BsdPcb.ExactV4(bucket, 0);
                if (holder4 is not null && !Shares(holder4) && (BsdPcb.Inet4(holder4) != 0 || holder4.Inet6))
                {
                    return BsdBindCommon.Conflict(proposed, holder4, ConflictCause.BsdDualStackIPv4, "macos.inuse.dual-stack");
                }
            }

            return new BindDecision(proposed, BindErrorKind.None, "macos.ok");
        }

        /// <summary>
        /// bind(0) (4C): the implicit bind always uses the wildcard lookup, so a port is free only
        /// when no overlapping socket holds it at all, whatever the reuse options.
        /// </summary>
        private static bool Blocks(List<IndexedSocket>? bucket, IndexedSocket proposed)
        {
            if (bucket is null)
            {
                return false;
            }

            if (proposed.Class == AddressClass.V4)
            {
                return BsdPcb.BestFitV4(bucket, proposed.Local.V4, 0, MatchWild) is not null;
            }

            return BsdPcb.BestFitV6(bucket, proposed.Local) is not null || (BsdPcb.DualStack(proposed) && BsdPcb.BestFitV4(bucket, 0, 0, MatchWild) is not null);
        }
    }
}
