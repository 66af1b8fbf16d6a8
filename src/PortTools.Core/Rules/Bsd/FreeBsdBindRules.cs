using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// FreeBSD bind() (kernel-rules.md 3A; sys/netinet/in_pcb.c in_pcbbind_setup and
    /// sys/netinet6/in6_pcb.c in6_pcbbind, 14/15-era main). The steps run in the kernel's order:
    /// address, reserved port, the cross-user check, then the main check in the lookup mode S's
    /// options choose, and for a dual-stack [::] bind the same again against IPv4 sockets (step 8).
    /// listen() checks nothing more. Nothing here builds text.
    /// </summary>
    internal static class FreeBsdBindRules
    {
        // in_pcblookup_local with INET6: matchwild starts at 3 + INP_LOOKUP_MAPPED_PCB_COST.
        private const int MatchWild = 3 + BsdPcb.FreeBsdMappedCost;

        public static BindDecision Decide(SocketIndex index, BindRequest request)
        {
            HostFacts facts = index.Facts;
            IndexedSocket proposed = RuleSupport.Propose(request, facts);
            bool privileged = RuleSupport.Privileged(request, facts);
            BindCaveats caveats = BindCaveats.None;

            // Options FreeBSD does not have: setsockopt() fails with ENOPROTOOPT (row 26: no SO_BINDTODEVICE).
            if (request.ExclusiveAddressUse)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "freebsd.enoprotoopt.exclusiveaddruse", BindDetail.ExclusiveAddressUseNotSupported);
            }

            if (request.Interface is not null)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.OptionNotSupported, "freebsd.enoprotoopt.bindtodevice", BindDetail.InterfaceNotSupported);
            }

            // IP_BINDANY needs PRIV_NETINET_BINDANY; unprivileged, setsockopt() fails and the bind runs without it.
            bool bindAny = request.FreeBind && privileged;
            if (request.FreeBind && !privileged)
            {
                caveats |= BindCaveats.FreeBsdBindAnyUnprivileged;
            }

            BindDecision? early = BsdBindCommon.AddressChecks(proposed, request, facts, bindAny, freeBsd: true);
            if (early is not null)
            {
                early.Caveats |= caveats;
                return early;
            }

            // Step 4: [reservedlow, reservedhigh] (0-1023) needs PRIV_NETINET_RESERVEDPORT, for any address.
            int reservedHigh = facts.UnprivilegedPortStart - 1;
            if (request.Port != 0 && request.Port <= reservedHigh && !privileged)
            {
                BindDecision reserved = RuleSupport.Fail(proposed, BindErrorKind.AccessDenied, "freebsd.eacces.reserved-port", BindDetail.ReservedPort);
                reserved.Range = new PortRange(0, reservedHigh);
                reserved.Caveats |= caveats;
                return reserved;
            }

            List<IndexedSocket>? bucket = index.BindBucket(proposed.Protocol, proposed.Port);
            BindDecision decision = request.Port == 0
                ? BsdBindCommon.Ephemeral(index, proposed, port => Free(index.BindBucket(proposed.Protocol, port), proposed), freeBsd: true)
                : Check(bucket, proposed, privileged);
            decision.Caveats |= caveats | BsdBindCommon.CommonCaveats(decision, bucket, request, privileged, freeBsd: true);
            if (bucket is not null && decision.Success && !privileged && request.Port != 0 && BsdBindCommon.SharesWithOtherUser(bucket, proposed))
            {
                decision.Caveats |= BindCaveats.FreeBsdOtherUserLoadBalance;
            }

            if (proposed.Class != AddressClass.V4 && bucket is not null && bucket.Exists(BsdPcb.IPv6Capable))
            {
                decision.Caveats |= BindCaveats.FreeBsdIPv6Path;
            }

            return decision;
        }

        /// <summary>Steps 5 to 8 for a port that is not 0.</summary>
        private static BindDecision Check(List<IndexedSocket>? bucket, IndexedSocket proposed, bool privileged)
        {
            bool multicast = proposed.Local.IsMulticast;
            bool wildcardLookup = !(proposed.ReuseAddress || proposed.ReusePort || proposed.ReusePortLoadBalance);
            bool udp = proposed.Protocol == TransportProtocol.Udp;

            // Step 2: on a multicast address SO_REUSEADDR counts as SO_REUSEPORT and as SO_REUSEPORT_LB.
            int reusePort = proposed.ReusePort ? BsdPcb.ReusePort : 0;
            int reusePortLb = proposed.ReusePortLoadBalance ? BsdPcb.ReusePortLoadBalance : 0;
            if (multicast)
            {
                reusePort = proposed.ReuseAddress || proposed.ReusePort ? BsdPcb.ReuseAddress | BsdPcb.ReusePort : 0;
                reusePortLb = proposed.ReuseAddress || proposed.ReusePortLoadBalance ? BsdPcb.ReuseAddress | BsdPcb.ReusePortLoadBalance : 0;
            }

            bool Shares(IndexedSocket holder) => (reusePort & BsdPcb.Options(holder)) != 0 || (reusePortLb & BsdPcb.Options(holder)) != 0;

            if (proposed.Class == AddressClass.V4)
            {
                uint address = proposed.Local.V4;
                if (!multicast && !privileged)
                {
                    // Step 6: the cross-user check, always on the best-fit lookup.
                    IndexedSocket? other = BsdPcb.BestFitV4(bucket, address, BsdPcb.FreeBsdMappedCost, MatchWild);
                    if (other is not null && (udp || !BsdPcb.Connected(other))
                        && (address != 0 || BsdPcb.Inet4(other) != 0 || other.ReusePort || !other.ReusePortLoadBalance)
                        && other.Uid != proposed.Uid)
                    {
                        return BsdBindCommon.Conflict(proposed, other, ConflictCause.BsdOtherUser, "freebsd.cross-user");
                    }
                }

                // Step 7: the main check, in the mode S's options chose; two AF_INET6 wildcards are exempt.
                IndexedSocket? holder = wildcardLookup ? BsdPcb.BestFitV4(bucket, address, BsdPcb.FreeBsdMappedCost, MatchWild) : BsdPcb.ExactV4(bucket, address);
                if (holder is not null && !Shares(holder) && !(address == 0 && BsdPcb.Inet4(holder) == 0 && proposed.Inet6 && holder.Inet6))
                {
                    return BsdBindCommon.Conflict(proposed, holder, wildcardLookup ? ConflictCause.BsdBestFit : ConflictCause.BsdExact, wildcardLookup ? "freebsd.inuse.best-fit" : "freebsd.inuse.exact");
                }

                return new BindDecision(proposed, BindErrorKind.None, "freebsd.ok");
            }

            // in6_pcbbind: the same checks on IPv6 sockets, then step 8 for a dual-stack [::].
            Ip16 local = proposed.Local;
            bool dualStack = BsdPcb.DualStack(proposed);
            if (!multicast && !privileged)
            {
                IndexedSocket? other = BsdPcb.BestFitV6(bucket, local);
                if (other is not null && (udp || !BsdPcb.Connected(other))
                    && (!local.IsZero || other.Class != AddressClass.Any6 || other.ReusePort || !other.ReusePortLoadBalance)
                    && other.Uid != proposed.Uid)
                {
                    return BsdBindCommon.Conflict(proposed, other, ConflictCause.BsdOtherUser, "freebsd.cross-user");
                }

                if (dualStack)
                {
                    IndexedSocket? inet = BsdPcb.BestFitV4(bucket, 0, BsdPcb.FreeBsdMappedCost, MatchWild);
                    if (inet is not null && (udp || !BsdPcb.Connected(inet)) && inet.Uid != proposed.Uid)
                    {
                        return BsdBindCommon.Conflict(proposed, inet, ConflictCause.BsdDualStackOtherUser, "freebsd.cross-user.ipv4");
                    }
                }
            }

            IndexedSocket? holder6 = wildcardLookup ? BsdPcb.BestFitV6(bucket, local) : BsdPcb.ExactV6(bucket, local);
            if (holder6 is not null && !Shares(holder6))
            {
                return BsdBindCommon.Conflict(proposed, holder6, wildcardLookup ? ConflictCause.BsdBestFit : ConflictCause.BsdExact, wildcardLookup ? "freebsd.inuse.best-fit" : "freebsd.inuse.exact");
            }

            if (dualStack)
            {
                // Step 8: a pure AF_INET socket on 0.0.0.0 does not block a later dual-stack [::] bind.
                IndexedSocket? holder4 = wildcardLookup ? BsdPcb.BestFitV4(bucket, 0, BsdPcb.FreeBsdMappedCost, MatchWild) : BsdPcb.ExactV4(bucket, 0);
                if (holder4 is not null && !Shares(holder4) && (BsdPcb.Inet4(holder4) != 0 || holder4.Inet6))
                {
                    return BsdBindCommon.Conflict(proposed, holder4, ConflictCause.BsdDualStackIPv4, "freebsd.inuse.dual-stack");
                }
            }

            return new BindDecision(proposed, BindErrorKind.None, "freebsd.ok");
        }

        /// <summary>
        /// bind(0) (3C, in_pcb_lport_dest without a foreign address): a port is rejected if
        /// in_pcblookup_local finds anything in the socket's lookup mode; a dual-stack socket checks
        /// IPv6 and IPv4.
        /// </summary>
        private static bool Free(List<IndexedSocket>? bucket, IndexedSocket proposed)
        {
            if (bucket is null)
            {
                return true;
            }

            bool wildcardLookup = !(proposed.ReuseAddress || proposed.ReusePort || proposed.ReusePortLoadBalance);
            if (proposed.Class == AddressClass.V4)
            {
                return (wildcardLookup ? BsdPcb.BestFitV4(bucket, proposed.Local.V4, BsdPcb.FreeBsdMappedCost, MatchWild) : BsdPcb.ExactV4(bucket, proposed.Local.V4)) is null;
            }

            if ((wildcardLookup ? BsdPcb.BestFitV6(bucket, proposed.Local) : BsdPcb.ExactV6(bucket, proposed.Local)) is not null)
            {
                return false;
            }

            return !BsdPcb.DualStack(proposed) || (wildcardLookup ? BsdPcb.BestFitV4(bucket, 0, BsdPcb.FreeBsdMappedCost, MatchWild) : BsdPcb.ExactV4(bucket, 0)) is null;
        }
    }
}
