using System.Collections.Generic;
using System.Globalization;

namespace PortTools
{
    /// <summary>
    /// The sentences of answers that turn on a socket option nobody could read: which option of
    /// which socket decides, and why it is not known. Kept apart from BindExplanation so the wording
    /// of certain causes and of unknown ones can change independently.
    /// </summary>
    internal static class UnknownOptionText
    {
        /// <summary>The unknown options of <paramref name="holder"/> that decide whether <paramref name="proposed"/> shares its port.</summary>
        public static string Deciding(IndexedSocket proposed, IndexedSocket holder)
        {
            var options = new List<string>(2);
            bool tcp = proposed.Protocol == TransportProtocol.Tcp;
            if (proposed.ReuseAddress && !holder.ReuseAddressKnown && !(tcp && holder.State == SocketState.Listen))
            {
                options.Add("SO_REUSEADDR");
            }

            if (proposed.ReusePort && !holder.ReusePortKnown && (proposed.Uid == holder.Uid || (tcp && holder.State == SocketState.TimeWait)))
            {
                options.Add("SO_REUSEPORT");
            }

            return options.Count == 0 ? "SO_REUSEADDR and SO_REUSEPORT" : string.Join(" or ", options);
        }

        /// <summary>A DependsOn entry: "SO_REUSEPORT of tcp LISTEN 127.0.0.1:9100 of python3 (pid 42), which could not be read".</summary>
        public static string Fact(IndexedSocket proposed, IndexedSocket holder) =>
            Deciding(proposed, holder) + " of " + DemuxExplanation.Describe(holder) + ", " + WhyUnknown(holder);

        /// <summary>The conflict sentence for a holder whose unknown options decide.</summary>
        public static string Why(IndexedSocket proposed, IndexedSocket holder)
        {
            string who = holder.State == SocketState.TimeWait ? "the socket that closed into this TIME-WAIT entry" : "the holder";
            string text = "can bind if " + who + " set " + Deciding(proposed, holder).Replace(" and ", " or ") + " (" + WhyUnknown(holder) + ")";
            if (proposed.ReusePort && holder.State != SocketState.TimeWait && proposed.Uid != holder.Uid)
            {
                // The certain part leads: SO_REUSEPORT cannot share across users whatever the holder set.
                text = "SO_REUSEPORT does not share a port between users (uid " + proposed.Uid.ToString(CultureInfo.InvariantCulture) + " here, uid "
                    + holder.Uid.ToString(CultureInfo.InvariantCulture) + " there), so the bind " + text;
            }

            return text;
        }

        /// <summary>Appended where a certain cause does not depend on an option that was not read.</summary>
        public static string Irrelevant(IndexedSocket holder) => holder.ReusePortKnown || holder.Inference is not null
            ? string.Empty
            : " (the holder's SO_REUSEPORT " + (holder.Socket.Source == "Live" ? "could not be read" : "is not in the socket table") + ", and does not change this)";

        /// <summary>Why an option of <paramref name="holder"/> is not known.</summary>
        public static string WhyUnknown(IndexedSocket holder) =>
            holder.State == SocketState.TimeWait ? "a TIME-WAIT entry keeps the options of the socket that closed, which no socket table shows"
            : holder.Socket.Source == "Live" ? "its options could not be read" + (holder.Socket.Processes.Count == 0 ? ", as this user sees no process holding it" : string.Empty)
            : "the socket table does not show its options";

        /// <summary>A DemuxResult.DependsOn entry: whether the sockets tied in a lookup form one SO_REUSEPORT group.</summary>
        public static string GroupFact(IReadOnlyList<IndexedSocket> tied) =>
            "SO_REUSEPORT of " + string.Join(" and ", Describe(tied)) + " (" + WhyUnknownAll(tied) + "): with it on all of them the kernel hashes over them; otherwise the first one it walks receives every packet";

        /// <summary>A delivery that turns on SO_REUSEPORT nobody could read: every socket that may receive it, and what decides.</summary>
        public static string MayReceive(DemuxDecision decision)
        {
            var text = new System.Text.StringBuilder();
            text.Append(decision.Sockets!.Count.ToString(CultureInfo.InvariantCulture)).Append(" sockets may receive it (")
                .Append(DemuxExplanation.StageName(decision.Stage)).Append("): ").Append(string.Join("; ", Describe(decision.Sockets!)))
                .Append(". Which one depends on ").Append(string.Join("; ", decision.DependsOn));
            return text.ToString();
        }

        private static IEnumerable<string> Describe(IReadOnlyList<IndexedSocket> sockets)
        {
            foreach (IndexedSocket socket in sockets)
            {
                yield return DemuxExplanation.Describe(socket);
            }
        }

        private static string WhyUnknownAll(IReadOnlyList<IndexedSocket> sockets)
        {
            foreach (IndexedSocket socket in sockets)
            {
                if (socket.Socket.Source != "Live")
                {
                    return "the socket table does not show it";
                }
            }

            return "it could not be read";
        }
    }
}
