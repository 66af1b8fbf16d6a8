using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Rules.Bsd
{
    /// <summary>What FreeBSD's and XNU's bind() share: the address checks, failures, bind(0) and the caveats.</summary>
    internal static class BsdBindCommon
    {
        /// <summary>
        /// 3A step 3, 4A steps 1 and 4: a specific unicast address must belong to an interface
        /// (EADDRNOTAVAIL), unless IP_BINDANY (FreeBSD). An IPV6_V6ONLY socket looks a v4-mapped
        /// address up among its IPv6 addresses, where it is not ([derived], in6_pcbbind).
        /// </summary>
        public static BindDecision? AddressChecks(IndexedSocket proposed, BindRequest request, HostFacts facts, bool bindAny, bool freeBsd)
        {
            Ip16 address = proposed.Local;
            if (proposed.Inet6 && address.IsV4Mapped && proposed.V6Only && !bindAny)
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AddressNotAvailable, freeBsd ? "freebsd.eaddrnotavail.mapped-v6only" : "macos.eaddrnotavail.mapped-v6only", BindDetail.MappedOnV6Only);
            }

            IPAddress plain = request.Address.IsIPv4MappedToIPv6 ? request.Address.MapToIPv4() : request.Address;
            bool broadcast = plain.AddressFamily == AddressFamily.InterNetwork && facts.IsBroadcast(plain);
            if (!RuleSupport.IsWildcard(proposed) && !address.IsMulticast && !broadcast && !bindAny && !facts.IsLocal(request.Address))
            {
                return RuleSupport.Fail(proposed, BindErrorKind.AddressNotAvailable, freeBsd ? "freebsd.eaddrnotavail.not-local" : "macos.eaddrnotavail.not-local", BindDetail.NotLocal);
            }

            return null;
        }

        /// <summary>EADDRINUSE naming the socket the lookup returned.</summary>
        public static BindDecision Conflict(IndexedSocket proposed, IndexedSocket holder, ConflictCause cause, string rule)
        {
            var decision = new BindDecision(proposed, BindErrorKind.AddressInUse, rule);
            decision.Conflicts.Add((holder, cause));
            return decision;
        }

        /// <summary>
        /// bind(0) (3C, 4C): a port of the range that <paramref name="free"/> accepts; which one the
        /// kernel takes is random, so the answer is the count. HostFacts.ReservedPorts are skipped
        /// (macOS skips its restricted ports). None left: EADDRNOTAVAIL.
        /// </summary>
        public static BindDecision Ephemeral(SocketIndex index, IndexedSocket proposed, Func<int, bool> free, bool freeBsd)
        {
            HostFacts facts = index.Facts;
            PortRange range = facts.EphemeralPortRange;
            int count = 0;
            bool skipped = false;
            for (int port = range.Start; port <= range.End; port++)
            {
                if (facts.IsReserved(port))
                {
                    skipped = true;
                    continue;
                }

                if (free(port))
                {
                    count++;
                }
            }

            BindDecision decision = count == 0
                ? RuleSupport.Fail(proposed, BindErrorKind.AddressNotAvailable, freeBsd ? "freebsd.port0.exhausted" : "macos.port0.exhausted", BindDetail.EphemeralExhausted)
                : new BindDecision(proposed, BindErrorKind.None, freeBsd ? "freebsd.port0" : "macos.port0") { DetailKind = BindDetail.Ephemeral };
            decision.FreePorts = count;
            decision.Range = range;
            decision.Caveats |= skipped ? BindCaveats.EphemeralReservedSkipped : BindCaveats.None;
            return decision;
        }

        /// <summary>Caveats both BSDs attach: unknown options or users, options the OS lacks, listen() on UDP.</summary>
        public static BindCaveats CommonCaveats(BindDecision decision, List<IndexedSocket>? bucket, BindRequest request, bool privileged, bool freeBsd)
        {
            BindCaveats caveats = request.Listen && request.Protocol == TransportProtocol.Udp ? BindCaveats.ListenOnUdp : BindCaveats.None;
            foreach ((IndexedSocket holder, ConflictCause cause) in decision.Conflicts)
            {
                if ((cause is ConflictCause.BsdBestFit or ConflictCause.BsdExact or ConflictCause.BsdDualStackIPv4) && !BsdPcb.OptionsKnown(holder, freeBsd))
                {
                    caveats |= BindCaveats.OptionsUnknown;
                }

                if (holder.ExclusiveAddressUse || (!freeBsd && holder.ReusePortLoadBalance))
                {
                    caveats |= BindCaveats.BsdForeignOptionIgnored;
                }

                if (freeBsd && holder.Device is not null)
                {
                    caveats |= BindCaveats.FreeBsdDeviceIgnored;
                }
            }

            // The cross-user check compares users; one the table does not give is taken as this user.
            if (decision.Success && bucket is not null && request.Port != 0 && !privileged)
            {
                IndexedSocket proposed = decision.Proposed;
                IndexedSocket? nearest = proposed.Class == AddressClass.V4
                    ? BsdPcb.BestFitV4(bucket, proposed.Local.V4, freeBsd ? BsdPcb.FreeBsdMappedCost : 0, freeBsd ? 3 + BsdPcb.FreeBsdMappedCost : 3)
                    : BsdPcb.BestFitV6(bucket, proposed.Local);
                if (nearest is not null && !nearest.UidKnown)
                {
                    caveats |= BindCaveats.UserUnknown;
                }
            }

            return caveats;
        }

        /// <summary>Whether another user's socket on the port overlaps the new one (for the [derived] sharing caveats).</summary>
        public static bool SharesWithOtherUser(List<IndexedSocket> bucket, IndexedSocket proposed)
        {
            foreach (IndexedSocket holder in bucket)
            {
                if (holder.Uid != proposed.Uid && !BsdPcb.Connected(holder) && Overlaps(proposed, holder))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Whether two bindings cover a common address: IPv4 sides (a dual-stack [::] has one) or IPv6 sides.</summary>
        public static bool Overlaps(IndexedSocket a, IndexedSocket b)
        {
            if (BsdPcb.IPv4Capable(a) && BsdPcb.IPv4Capable(b))
            {
                uint x = BsdPcb.Inet4(a);
                uint y = BsdPcb.Inet4(b);
                if (x == 0 || y == 0 || x == y)
                {
                    return true;
                }
            }

            return BsdPcb.IPv6Capable(a) && BsdPcb.IPv6Capable(b) && (a.Class == AddressClass.Any6 || b.Class == AddressClass.Any6 || a.Local.Equals(b.Local));
        }
    }
}
