using System;
using System.Collections.Generic;

namespace PortTools.Rules.Bsd
{
    /// <summary>
    /// The reuse options and users of sockets on the port that the table does not show, weighed for
    /// the FreeBSD and macOS bind rules: never taken as off or as this user. The rules decide once
    /// per possibility, over a small index of the port's own sockets (a bind looks at no other port);
    /// when every possibility agrees, that is the answer, else it depends on those sockets.
    /// </summary>
    internal static class BsdUnknownOptions
    {
        // Each unknown option or user doubles the possibilities (each a decision over the port's few
        // sockets); past this, only the four corners are decided (options all off or all on, users
        // all this one or all another), and an answer they agree on keeps its caveats, which say what
        // was taken as given: it is not proven for every mix.
        private const int MaxUnknowns = 10;

        private enum Unknown
        {
            ReuseAddress,
            ReusePort,
            ReusePortLoadBalance,
            User,
        }

        /// <summary>Decides a bind, weighing what the table does not show of the sockets on the port.</summary>
        public static BindDecision Decide(SocketIndex index, BindRequest request, Func<SocketIndex, BindRequest, BindDecision> decide, bool freeBsd)
        {
            BindDecision given = decide(index, request);
            if (request.Port == 0 || (given.Caveats & (BindCaveats.OptionsUnknown | BindCaveats.UserUnknown)) == 0)
            {
                return given;
            }

            List<IndexedSocket>? bucket = index.BindBucket(request.Protocol, request.Port);
            if (bucket is null)
            {
                return given;
            }

            var unknowns = new List<(int Socket, Unknown What)>();
            for (int i = 0; i < bucket.Count; i++)
            {
                SocketTuple socket = bucket[i].Socket;
                if (socket.ReuseAddress is null)
                {
                    unknowns.Add((i, Unknown.ReuseAddress));
                }

                if (socket.ReusePort is null)
                {
                    unknowns.Add((i, Unknown.ReusePort));
                }

                if (freeBsd && socket.ReusePortLoadBalance is null)
                {
                    unknowns.Add((i, Unknown.ReusePortLoadBalance));
                }

                if (!bucket[i].UidKnown)
                {
                    unknowns.Add((i, Unknown.User));
                }
            }

            long proposedUid = given.Proposed.Uid;
            long otherUid = proposedUid == 65534 ? 65533 : 65534;
            var outcomes = new List<(BindDecision Decision, List<SocketTuple> Copies)>();
            if (unknowns.Count <= MaxUnknowns)
            {
                for (int mask = 0; mask < 1 << unknowns.Count; mask++)
                {
                    int bits = mask;
                    outcomes.Add(Decide(index, bucket, unknowns, u => (bits & (1 << u)) != 0, proposedUid, otherUid, request, decide));
                }
            }
            else
            {
                foreach ((bool options, bool users) in new[] { (false, false), (true, false), (false, true), (true, true) })
                {
                    outcomes.Add(Decide(index, bucket, unknowns, u => unknowns[u].What == Unknown.User ? users : options, proposedUid, otherUid, request, decide));
                }
            }

            (BindDecision Decision, List<SocketTuple> Copies) failing = outcomes.Find(d => !d.Decision.Success);
            if (outcomes.TrueForAll(d => d.Decision.Success == given.Success && d.Decision.Error == given.Error))
            {
                // Certain whatever they are (the first possibility is the table as given): the caveat
                // that they were taken as off or as this user no longer applies. Only the corners
                // were decided past MaxUnknowns, and then the caveats stay.
                if (unknowns.Count <= MaxUnknowns)
                {
                    given.Caveats &= ~(BindCaveats.OptionsUnknown | BindCaveats.UserUnknown);
                }

                return given;
            }

            // The sockets whose unknowns decide: those a failing possibility names, or else every unknown one.
            BindDecision against = given.Success ? failing.Decision : given;
            List<SocketTuple>? copies = given.Success ? failing.Copies : null;
            var result = new BindDecision(given.Proposed, against.Error, (freeBsd ? "freebsd" : "macos") + ".unknown-options");
            var holders = new List<int>();
            foreach ((IndexedSocket socket, ConflictCause _) in against.Conflicts)
            {
                int position = Position(bucket, socket, copies);
                if (position >= 0 && unknowns.Exists(u => u.Socket == position) && !holders.Contains(position))
                {
                    holders.Add(position);
                }
            }

            if (holders.Count == 0)
            {
                foreach ((int socket, Unknown _) in unknowns)
                {
                    if (!holders.Contains(socket))
                    {
                        holders.Add(socket);
                    }
                }
            }

            foreach (int position in holders)
            {
                result.Conflicts.Add((bucket[position], ConflictCause.BsdOptionsUnknown));
                result.DependsOn.Add(BsdText.UnknownFact(bucket[position], freeBsd));
            }

            result.Caveats = given.Caveats & ~(BindCaveats.OptionsUnknown | BindCaveats.UserUnknown);
            return result;
        }

        /// <summary>Decides over the port's sockets with each unknown set as <paramref name="on"/> says (true: option on, or another user).</summary>
        private static (BindDecision Decision, List<SocketTuple> Copies) Decide(SocketIndex index, List<IndexedSocket> bucket, List<(int Socket, Unknown What)> unknowns, Func<int, bool> on, long proposedUid, long otherUid, BindRequest request, Func<SocketIndex, BindRequest, BindDecision> decide)
        {
            var sockets = new List<SocketTuple>(bucket.Count);
            int next = 0; // unknowns are listed in bucket order
            for (int i = 0; i < bucket.Count; i++)
            {
                SocketTuple socket = bucket[i].Socket;
                if (next == unknowns.Count || unknowns[next].Socket != i)
                {
                    sockets.Add(socket);
                    continue;
                }

                bool? reuseAddress = socket.ReuseAddress, reusePort = socket.ReusePort, loadBalance = socket.ReusePortLoadBalance;
                long? uid = socket.UserId;
                for (; next < unknowns.Count && unknowns[next].Socket == i; next++)
                {
                    bool set = on(next);
                    switch (unknowns[next].What)
                    {
                        case Unknown.ReuseAddress:
                            reuseAddress = set;
                            break;
                        case Unknown.ReusePort:
                            reusePort = set;
                            break;
                        case Unknown.ReusePortLoadBalance:
                            loadBalance = set;
                            break;
                        default:
                            uid = set ? otherUid : proposedUid;
                            break;
                    }
                }

                sockets.Add(socket.WithOptions(reuseAddress, reusePort, loadBalance, uid));
            }

            return (decide(SocketIndex.Build(sockets, index.Facts, index.Order), request), sockets);
        }

        /// <summary>Where a socket stands in the port's bucket: itself, or a variant's copy (<paramref name="copies"/>, in bucket order); -1 if nowhere.</summary>
        private static int Position(List<IndexedSocket> bucket, IndexedSocket socket, List<SocketTuple>? copies)
        {
            for (int i = 0; i < bucket.Count; i++)
            {
                if (ReferenceEquals(bucket[i], socket) || (copies is not null && ReferenceEquals(copies[i], socket.Socket)))
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
