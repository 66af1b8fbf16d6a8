using System;
using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// FreeBSD delivery where the table does not show SO_REUSEPORT_LB (sockstat and netstat text
    /// never do): a socket with it joins a load-balancing group that the lookup tries first and
    /// hashes over; without it, the wildcard list's order decides. Never taken as off: the rules
    /// decide once per possibility, over a small index of the destination port's own sockets, and
    /// where the receivers differ the answer names every socket that may receive the packet.
    /// </summary>
    internal static class BsdUnknownDelivery
    {
        // Each unknown doubles the possibilities; past this, the two corners (all off, all on).
        private const int MaxUnknowns = 8;

        /// <summary>Decides a FreeBSD delivery, weighing SO_REUSEPORT_LB the table does not show.</summary>
        public static DemuxDecision Decide(SocketIndex index, DemuxRequest request)
        {
            DemuxDecision given = BsdDemuxRules.Decide(index, request, freeBsd: true);
            if (given.Outcome != DemuxOutcome.Delivered || given.Stage is DemuxStage.Established or DemuxStage.Multicast)
            {
                return given;
            }

            List<IndexedSocket>? bucket = index.BindBucket(request.Protocol, request.Destination.Port);
            if (bucket is null)
            {
                return given;
            }

            var unknown = new List<int>();
            for (int i = 0; i < bucket.Count; i++)
            {
                SocketTuple socket = bucket[i].Socket;
                if (socket.ReusePortLoadBalance is null && socket.State is SocketState.Listen or SocketState.Unconnected)
                {
                    unknown.Add(i);
                }
            }

            if (unknown.Count == 0)
            {
                return given;
            }

            var masks = new List<int>();
            if (unknown.Count <= MaxUnknowns)
            {
                for (int mask = 1; mask < 1 << unknown.Count; mask++)
                {
                    masks.Add(mask);
                }
            }
            else
            {
                masks.Add(-1);
            }

            var receivers = new List<IndexedSocket>(Receivers(given, bucket, null));
            bool differ = false;
            foreach (int mask in masks)
            {
                var sockets = new List<SocketTuple>(bucket.Count);
                for (int i = 0; i < bucket.Count; i++)
                {
                    SocketTuple socket = bucket[i].Socket;
                    int u = unknown.IndexOf(i);
                    sockets.Add(u < 0 ? socket : socket.WithOptions(socket.ReuseAddress, socket.ReusePort, (mask & (1 << u)) != 0, socket.UserId));
                }

                DemuxDecision possible = BsdDemuxRules.Decide(SocketIndex.Build(sockets, index.Facts, index.Order), request, freeBsd: true);
                if (possible.Outcome != given.Outcome)
                {
                    differ = true;
                    continue;
                }

                foreach (IndexedSocket socket in Receivers(possible, bucket, sockets))
                {
                    if (!receivers.Contains(socket))
                    {
                        receivers.Add(socket);
                        differ = true;
                    }
                }
            }

            if (!differ)
            {
                return given;
            }

            var result = new DemuxDecision(request) { Outcome = DemuxOutcome.Delivered, Stage = given.Stage, Sockets = receivers, Caveats = given.Caveats };
            foreach (int i in unknown)
            {
                if (receivers.Contains(bucket[i]))
                {
                    result.DependsOn.Add("SO_REUSEPORT_LB of " + DemuxExplanation.Describe(bucket[i]) + ", " + (bucket[i].Socket.Source == "Live" ? "which could not be read" : "which the socket table does not show"));
                }
            }

            return result;
        }

        /// <summary>The sockets of <paramref name="bucket"/> a decision delivers to; a variant's copies (<paramref name="copies"/>, in bucket order) are mapped back by position.</summary>
        private static List<IndexedSocket> Receivers(DemuxDecision decision, List<IndexedSocket> bucket, List<SocketTuple>? copies)
        {
            var found = new List<IndexedSocket>();
            if (decision.Sockets is not null)
            {
                foreach (IndexedSocket socket in decision.Sockets)
                {
                    found.Add(Original(socket, bucket, copies));
                }
            }
            else if (decision.Socket is not null)
            {
                found.Add(Original(decision.Socket, bucket, copies));
            }

            return found;
        }

        private static IndexedSocket Original(IndexedSocket socket, List<IndexedSocket> bucket, List<SocketTuple>? copies)
        {
            for (int i = 0; copies is not null && i < copies.Count; i++)
            {
                if (ReferenceEquals(copies[i], socket.Socket))
                {
                    return bucket[i];
                }
            }

            return socket;
        }
    }
}
