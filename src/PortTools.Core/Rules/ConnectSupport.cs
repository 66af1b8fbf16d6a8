using System;
using System.Collections.Generic;
using System.Globalization;
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
        /// The bind() before connect() as a bind request. Facts a simulation does not know are given
        /// the benefit of the doubt here (the address taken as local, the privilege as held), each
        /// recorded as pending: it becomes a dependency when the answer would otherwise be yes.
        /// </summary>
        public static BindRequest BindRequestFor(ConnectRequest request, IPAddress address, HostFacts facts, ConnectDecision decision)
        {
            bool freeBind = false;
            bool? privileged = request.Privileged;
            bool specific = !IPAddressText.IsWildcard(address) && !(IPAddressText.IsV4Mapped(address) && IPAddressText.IsWildcard(address.MapToIPv4()));
            IPAddress plain = IPAddressText.IsV4Mapped(address) ? address.MapToIPv4() : address;
            if (specific && !facts.IsLocal(plain) && !IsMulticastOrBroadcast(plain, facts))
            {
                if (!facts.Knows(HostFactKinds.LocalAddresses))
                {
                    freeBind = true;
                    decision.AddPending("whether " + plain + " is an address of that host (its addresses were not given)", BindErrorKind.AddressNotAvailable);
                }
                else if (!facts.Knows(HostFactKinds.NonLocalBind))
                {
                    freeBind = true;
                    decision.AddPending("net.ipv4.ip_nonlocal_bind of that host, which would let it bind " + plain + ", not one of its addresses", BindErrorKind.AddressNotAvailable);
                }
            }

            if (privileged is null && !facts.Knows(HostFactKinds.Privilege) && request.Port != 0 && request.Port < facts.UnprivilegedPortStart)
            {
                privileged = true;
                decision.AddPending("whether the connecting process may bind port " + request.Port.ToString(CultureInfo.InvariantCulture) + " (root, or CAP_NET_BIND_SERVICE; ports below ip_unprivileged_port_start)", BindErrorKind.AccessDenied);
            }

            return new BindRequest
            {
                Protocol = request.Protocol,
                Address = address,
                Port = request.Port,
                ReuseAddress = request.ReuseAddress,
                ReusePort = request.ReusePort,
                UserId = request.UserId,
                Privileged = privileged,
                FreeBind = freeBind,
            };
        }

        private static bool IsMulticastOrBroadcast(IPAddress address, HostFacts facts) =>
            address.AddressFamily == AddressFamily.InterNetwork ? ((address.GetAddressBytes()[0] & 0xF0) == 0xE0 || facts.IsBroadcast(address)) : address.IsIPv6Multicast;

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
            if (facts.Knows(HostFactKinds.LocalAddresses) && facts.IsLocal(plainDestination))
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
