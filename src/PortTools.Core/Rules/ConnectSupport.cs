using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace PortTools
{
    /// <summary>What the connect() rule sets share: the bind() before connect(), the source address, the range.</summary>
    internal static class ConnectSupport
    {
        private static readonly Ip16 s_loopback4 = Ip16.From(IPAddress.Loopback);
        private static readonly Ip16 s_loopback6 = Ip16.From(IPAddress.IPv6Loopback);

        /// <summary>
        /// The range the source port comes from (inet_sk_get_local_port_range): the system's, with
        /// each bound of IP_LOCAL_PORT_RANGE taken only when it lies inside it. Setting the option at
        /// all makes connect() step by 1 instead of scanning one parity first.
        /// </summary>
        public static PortRange EffectiveRange(PortRange system, PortRange? perSocket, out bool narrowed)
        {
            narrowed = perSocket is not null;
            if (perSocket is not PortRange range)
            {
                return system;
            }

            int low = system.Start;
            int high = system.End;
            if (low <= range.Start && range.Start <= high)
            {
                low = range.Start;
            }

            if (low <= range.End && range.End <= high)
            {
                high = range.End;
            }

            return new PortRange(low, high);
        }

        /// <summary>
        /// A new decision with what it must say of an unknown range: an unknown ephemeral range is a
        /// dependency of every answer that picks a port (the OS default stands in); unknown reserved
        /// ports in a known range are counted as none, with a note, as bind(0) counts them.
        /// </summary>
        public static ConnectDecision NewDecision(ConnectRequest request, SocketIndex index) => new ConnectDecision(request, index.Facts.OS)
        {
            RangeUnknown = !index.Facts.Knows(KnownHostFacts.EphemeralPortRange),
            ReservedUnknown = !index.Facts.Knows(KnownHostFacts.ReservedPorts),
            Tables = index.ConnectTables,
            TcpTwReuse = index.Facts.TcpTwReuse,
        };

        /// <summary>Adds the dependency or the note an unknown range or unknown reserved ports call for, to a decision that picked from the range.</summary>
        public static void AddRangeCaveat(ConnectDecision decision)
        {
            if (decision.RangeUnknown)
            {
                decision.AddDependency(ConnectExplanation.RangeUnknownPhrase(decision));
            }
            else if (decision.ReservedUnknown)
            {
                decision.AddNote("the ports are counted with none reserved, as that host's " + (decision.OS == TargetOS.Linux ? "net.ipv4.ip_local_reserved_ports are" : decision.OS == TargetOS.Windows ? "excluded port ranges are" : "reserved ports are") + " not known");
            }
        }

        /// <summary>The bind() before connect() as a bind request.</summary>
        public static BindRequest BindRequestFor(ConnectRequest request, IPAddress address) => new BindRequest
        {
            Protocol = request.Protocol,
            Address = address,
            Port = request.Port,
            ReuseAddress = request.ReuseAddress,
            ReusePort = request.ReusePort,
            UserId = request.UserId,
            Privileged = request.Privileged,
        };

        /// <summary>
        /// The bind() before connect(), with the host facts it turns on that are not known weighed
        /// as for any bind (UnknownHostFacts). Null when connect() goes on: the bind succeeds, or
        /// succeeds when those facts go its way, and then each of them is pending on
        /// <paramref name="decision"/>: it joins DependsOn only when the connect() answer would
        /// otherwise be yes. Otherwise the failing bind, whose DependsOn the answer inherits.
        /// </summary>
        public static BindDecision? Bind(SocketIndex index, BindRequest request, Func<SocketIndex, BindRequest, BindDecision> decide, ConnectDecision decision)
        {
            BindDecision bind = UnknownHostFacts.WeighBind(index, request, decide);
            if (bind.Success)
            {
                foreach (string phrase in bind.DependsOn)
                {
                    decision.AddDependency(phrase);
                }

                return null;
            }

            if (bind.Otherwise is { Success: true })
            {
                foreach (string phrase in bind.DependsOn)
                {
                    decision.AddPending(phrase, bind.Error);
                }

                return null;
            }

            return bind;
        }

        /// <summary>
        /// The source addresses the connection may get: the specific bound address; the one given
        /// (a live check asks the kernel's route); 127.0.0.1 or ::1 toward loopback; the destination
        /// itself when it is an address of the host; else what the table's connections to the
        /// destination use (one: that one; several: any of them; none: it cannot matter, since no
        /// 4-tuple toward the destination exists).
        /// </summary>
        public static (Ip16 Address, IPAddress? Text)[] Sources(ConnectTables tables, ConnectRequest request, IPAddress? bound, ConnectDecision decision) =>
            KnownSource(tables, request, bound, decision) is { } known ? new[] { known } : TableSources(tables, request, decision);

        /// <summary>The source address when it is known without the table (bound, given, loopback, the host's own); null otherwise.</summary>
        public static (Ip16 Address, IPAddress? Text)? KnownSource(ConnectTables tables, ConnectRequest request, IPAddress? bound, ConnectDecision decision)
        {
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            if (bound is not null && !IsAnyAddress(bound))
            {
                decision.SourceKind = SourceKind.Bound;
                decision.Source = bound;
                return (Ip16.From(bound), bound);
            }

            if (request.SourceAddress is IPAddress given)
            {
                IPAddress asSocket = inet6 && given.AddressFamily == AddressFamily.InterNetwork ? given.MapToIPv6() : given;
                decision.SourceKind = SourceKind.Given;
                decision.Source = asSocket;
                return (Ip16.From(asSocket), asSocket);
            }

            Ip16 destination = Ip16.From(request.Destination.Address);
            if (destination.IsV4Mapped ? (destination.V4 & 0xFF) == 127 : destination.IsLoopbackV6)
            {
                IPAddress loopback = destination.IsV4Mapped ? (inet6 ? IPAddress.Loopback.MapToIPv6() : IPAddress.Loopback) : IPAddress.IPv6Loopback;
                decision.SourceKind = SourceKind.Loopback;
                decision.Source = loopback;
                return (destination.IsV4Mapped ? s_loopback4 : s_loopback6, loopback);
            }

            HostFacts facts = tables.Index.Facts;
            IPAddress plainDestination = request.Destination.Address;
            if (facts.Knows(KnownHostFacts.Addresses) && facts.IsLocal(plainDestination))
            {
                IPAddress self = request.SocketDestination;
                decision.SourceKind = SourceKind.LocalDestination;
                decision.Source = self;
                return (destination, self);
            }

            return null;
        }

        /// <summary>The source addresses the table's connections to the destination use (none: it cannot matter).</summary>
        private static (Ip16 Address, IPAddress? Text)[] TableSources(ConnectTables tables, ConnectRequest request, ConnectDecision decision)
        {
            Ip16 destination = Ip16.From(request.Destination.Address);

            var seen = new List<(Ip16, IPAddress?)>(1);
            foreach (IndexedSocket connection in tables.ConnectionsTo(request.Protocol, destination, request.Destination.Port))
            {
                if (!seen.Exists(s => s.Item1.Equals(connection.Local)))
                {
                    seen.Add((connection.Local, connection.Socket.LocalAddress));
                }
            }

            if (seen.Count == 0)
            {
                decision.SourceKind = SourceKind.Irrelevant;
                return new[] { (default(Ip16), (IPAddress?)null) };
            }

            if (seen.Count == 1)
            {
                decision.SourceKind = SourceKind.Inferred;
                decision.Source = seen[0].Item2;
                return seen.ToArray();
            }

            decision.SourceKind = SourceKind.Ambiguous;
            var choices = new List<IPAddress>(seen.Count);
            foreach ((Ip16 _, IPAddress? text) in seen)
            {
                choices.Add(text!);
            }

            decision.SourceChoices = choices;
            return seen.ToArray();
        }

        /// <summary>0.0.0.0, :: or ::ffff:0.0.0.0.</summary>
        public static bool IsAnyAddress(IPAddress address) =>
            IPAddressText.IsWildcard(address) || (IPAddressText.IsV4Mapped(address) && IPAddressText.IsWildcard(address.MapToIPv4()));

        /// <summary>127.0.0.0/8 (v4-mapped too) or ::1.</summary>
        public static bool IsLoopback(Ip16 address) => address.IsV4Mapped ? (address.V4 & 0xFF) == 127 : address.IsLoopbackV6;

        /// <summary>The socket connect() would make, as the bind rules see it: bound to the address, of the request's family and options.</summary>
        public static IndexedSocket Proposed(ConnectRequest request, IPAddress address, HostFacts facts) => RuleSupport.Propose(
            new BindRequest
            {
                Protocol = request.Protocol,
                Address = address,
                ReuseAddress = request.ReuseAddress,
                ReusePort = request.ReusePort,
                UserId = request.UserId,
            },
            facts);
    }
}
