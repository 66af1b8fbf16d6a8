using System;
using System.Net.Sockets;
using PortTools.Rules.Bsd;
using PortTools.Rules.Linux;
using PortTools.Rules.Windows;

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
            // The result puts the decision into words at once: it is made with its record, not replayed for it.
            BindDecision decision = UnknownHostFacts.DecideBind(index, request, (i, r) => DecideBindCore(i, r, recording: true));
            PortBindResult result = BindExplanation.ToResult(decision, request, index.Facts.OS, BindCheckMethod.Simulated, computerName);
            result.NetworkNamespace = index.NetworkNamespace;
            return result;
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

            // The result puts the decision into words at once: it is made with its record, not replayed for it.
            DemuxResult result = DemuxExplanation.ToResult(UnknownHostFacts.DecideDelivery(index, request, (i, r) => DecideDeliveryCore(i, r, recording: true)), index.Facts.OS, computerName);
            result.NetworkNamespace = index.NetworkNamespace;
            return result;
        }

        /// <summary>
        /// Decides whether connect() to a destination gets a source port (and the bind() before it,
        /// when one is asked for, succeeds), following the index's OS: which port, how many remain,
        /// and what holds the others. Nothing is sent.
        /// </summary>
        /// <param name="index">The socket table and host facts.</param>
        /// <param name="request">The connect() and what comes before it.</param>
        /// <param name="computerName">Where the table came from, carried into the result.</param>
        /// <returns>The answer with its reason.</returns>
        /// <exception cref="ArgumentException">The request is invalid: a destination without a port, a wildcard destination, families that cannot meet, IP_BIND_ADDRESS_NO_PORT with a port.</exception>
        public static PortConnectResult DecideConnect(SocketIndex index, ConnectRequest request, string? computerName = null)
        {
            Check(index, request);
            string? invalid = request.Validate();
            if (invalid is not null)
            {
                throw new ArgumentException(invalid);
            }

            PortConnectResult result = ConnectExplanation.ToResult(DecideConnectCore(index, request), computerName);
            result.NetworkNamespace = index.NetworkNamespace;
            return result;
        }

        /// <summary>
        /// Whether a connect() of <paramref name="request"/> succeeds, as <see cref="DecideConnect"/> answers it
        /// (null when it turns on what is not known), without putting the answer into words: for callers that
        /// want only the yes or no, such as -Quiet over many destinations.
        /// </summary>
        /// <param name="index">The socket table and the facts of its host.</param>
        /// <param name="request">The connect() to decide.</param>
        /// <returns>True, false, or null when unknown facts decide.</returns>
        public static bool? CanConnect(SocketIndex index, ConnectRequest request)
        {
            Check(index, request);
            string? invalid = request.Validate();
            if (invalid is not null)
            {
                throw new ArgumentException(invalid);
            }

            return DecideConnectCore(index, request).CanConnect;
        }

        internal static ConnectDecision DecideConnectCore(SocketIndex index, ConnectRequest request) => index.Facts.OS switch
        {
            TargetOS.Linux => LinuxConnectRules.Decide(index, request),
            TargetOS.Windows or TargetOS.FreeBSD or TargetOS.MacOS => OtherConnectRules.Decide(index, request),
            _ => throw new PlatformNotSupportedException("There is no rule set for " + index.Facts.OS + "."),
        };

        /// <summary>
        /// The bind decision. Unrecorded (the default), the Linux rules keep no conflict list, note or
        /// dependency while they decide; those are made by a recorded replay when first read, so a caller
        /// that wants only the answer pays for no words and no lists.
        /// </summary>
        internal static BindDecision DecideBindCore(SocketIndex index, BindRequest request, bool recording = false) => index.Facts.OS switch
        {
            TargetOS.Linux => RuleSupport.ForeignOption(index.Facts, request) ?? LinuxBindRules.Decide(index, request, recording),
            TargetOS.Windows => WindowsBindRules.Decide(index, request),
            TargetOS.FreeBSD => BsdUnknownOptions.Decide(index, request, FreeBsdBindRules.Decide, freeBsd: true),
            TargetOS.MacOS => BsdUnknownOptions.Decide(index, request, MacOsBindRules.Decide, freeBsd: false),
            _ => throw new PlatformNotSupportedException("There is no rule set for " + index.Facts.OS + "."),
        };

        /// <summary>
        /// The delivery decision. Unrecorded (the default), the Linux rules keep no candidate list,
        /// note or dependency while they decide; those are made by a recorded replay when first read.
        /// </summary>
        internal static DemuxDecision DecideDeliveryCore(SocketIndex index, DemuxRequest request, bool recording = false) => index.Facts.OS switch
        {
            TargetOS.Linux => LinuxDemuxRules.Decide(index, request, recording),
            TargetOS.Windows => WindowsDemuxRules.Decide(index, request),
            TargetOS.FreeBSD => BsdUnknownDelivery.Decide(index, request),
            TargetOS.MacOS => BsdDemuxRules.Decide(index, request, freeBsd: false),
            _ => throw new PlatformNotSupportedException("There is no rule set for " + index.Facts.OS + "."),
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

    /// <summary>What the rule sets share: the proposed socket, failures without a holder, options an OS lacks.</summary>
    internal static class RuleSupport
    {
        /// <summary>The socket being bound, normalized like the table's (IPV6_V6ONLY takes the OS's default when not given).</summary>
        public static IndexedSocket Propose(BindRequest request, HostFacts facts)
        {
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            var socket = new SocketTuple
            {
                Protocol = request.Protocol,
                State = request.Protocol == TransportProtocol.Udp ? SocketState.Unconnected : request.Listen ? SocketState.Listen : SocketState.Bound,
                LocalAddress = request.Address,
                LocalPort = request.Port,
                ReuseAddress = request.ReuseAddress,
                ReusePort = request.ReusePort,
                ReusePortLoadBalance = request.ReusePortLoadBalance,
                ExclusiveAddressUse = request.ExclusiveAddressUse,
                IPv6Only = inet6 ? request.IPv6Only ?? IndexedSocket.DefaultV6Only(facts) : null,
                BoundInterface = request.Interface,
                UserId = request.UserId ?? facts.UserId,
            };
            return new IndexedSocket(socket, -1, facts);
        }

        /// <summary>A decision without a conflicting socket; its words come from <paramref name="detail"/> when the result is built.</summary>
        public static BindDecision Fail(IndexedSocket proposed, BindErrorKind error, string rule, BindDetail detail) =>
            new BindDecision(proposed, error, rule) { DetailKind = detail };

        /// <summary>Whether the binding process is privileged (root, or CAP_NET_BIND_SERVICE on Linux).</summary>
        public static bool Privileged(BindRequest request, HostFacts facts) => request.Privileged ?? facts.Privileged;

        /// <summary>0.0.0.0 or :: (a v4-mapped ::ffff:0.0.0.0 too).</summary>
        public static bool IsWildcard(IndexedSocket socket) => socket.Class == AddressClass.Any6 || (socket.Class == AddressClass.V4 && socket.Local.V4 == 0);

        /// <summary>
        /// Options that exist only on another OS, asked of Linux: SO_REUSEPORT_LB (FreeBSD) and
        /// SO_EXCLUSIVEADDRUSE (Windows). setsockopt() fails with ENOPROTOOPT before bind() runs. The
        /// Linux rules themselves are untouched by this check.
        /// </summary>
        public static BindDecision? ForeignOption(HostFacts facts, BindRequest request)
        {
            if (request.ReusePortLoadBalance)
            {
                return Fail(Propose(request, facts), BindErrorKind.OptionNotSupported, "linux.enoprotoopt.reuseport-lb", BindDetail.ReusePortLoadBalanceNotSupported);
            }

            if (request.ExclusiveAddressUse)
            {
                return Fail(Propose(request, facts), BindErrorKind.OptionNotSupported, "linux.enoprotoopt.exclusiveaddruse", BindDetail.ExclusiveAddressUseNotSupported);
            }

            return null;
        }
    }
}
