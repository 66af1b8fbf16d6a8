using System;
using PortTools.Rules.Linux;

namespace PortTools
{
    /// <summary>
    /// The entry point of the rule engines: pure functions of a socket index, its host facts and the
    /// question. No I/O: the same code serves live checks, what-if tables and offline text.
    /// </summary>
    public static class RuleEngine
    {
        /// <summary>Decides whether a bind (and listen) would succeed, following the index's OS.</summary>
        /// <param name="index">The socket table and host facts.</param>
        /// <param name="request">The socket to bind.</param>
        /// <param name="computerName">Where the table came from, carried into the result.</param>
        /// <returns>The decision with its conflicts and reason.</returns>
        public static PortBindResult DecideBind(SocketIndex index, BindRequest request, string? computerName = null)
        {
            Check(index, request);
            BindDecision decision = DecideBindCore(index, request);
            return BindExplanation.ToResult(decision, request, index.Facts.OS, BindCheckMethod.Simulated, computerName);
        }

        /// <summary>Decides which socket an incoming packet reaches, following the index's OS.</summary>
        /// <param name="index">The socket table and host facts.</param>
        /// <param name="request">The packet.</param>
        /// <param name="computerName">Where the table came from, carried into the result.</param>
        /// <returns>The outcome, the receiving socket(s), the candidates and the reason.</returns>
        /// <exception cref="ArgumentException">The source and destination families differ, or the destination port is 0.</exception>
        public static DemuxResult DecideDelivery(SocketIndex index, DemuxRequest request, string? computerName = null)
        {
            Check(index, request);
            string? invalid = request.Validate();
            if (invalid is not null)
            {
                throw new ArgumentException(invalid);
            }

            return DemuxExplanation.ToResult(DecideDeliveryCore(index, request), index.Facts.OS, computerName);
        }

        internal static BindDecision DecideBindCore(SocketIndex index, BindRequest request) => index.Facts.OS switch
        {
            TargetOS.Linux => LinuxBindRules.Decide(index, request),
            _ => throw new PlatformNotSupportedException("The " + index.Facts.OS + " rule set is not available in this version; Linux is."),
        };

        internal static DemuxDecision DecideDeliveryCore(SocketIndex index, DemuxRequest request) => index.Facts.OS switch
        {
            TargetOS.Linux => LinuxDemuxRules.Decide(index, request),
            _ => throw new PlatformNotSupportedException("The " + index.Facts.OS + " rule set is not available in this version; Linux is."),
        };

        private static void Check(SocketIndex index, object request)
        {
            if (index is null)
            {
                throw new ArgumentNullException(nameof(index));
            }

            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }
        }
    }
}
