using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using PortTools.Rules.Linux;

namespace PortTools
{
    /// <summary>The errors connect()'s choice of a source port ends in, independent of how an OS names them.</summary>
    internal enum ConnectError : byte
    {
        None,

        /// <summary>No source port left toward the destination, or the 4-tuple of a bound port is taken (EADDRNOTAVAIL).</summary>
        AddressNotAvailable,

        /// <summary>A UDP socket's automatic bind in connect() found no port (EAGAIN, from inet_autobind).</summary>
        TryAgain,

        /// <summary>bind(0) found no port, or (BSD) the 4-tuple of a bound port is taken (EADDRINUSE).</summary>
        AddressInUse,

        /// <summary>Windows: no ephemeral port left (WSAENOBUFS, KB 196271).</summary>
        NoBufferSpace,

        /// <summary>The bind() before connect() failed; its own error stands.</summary>
        Bind,

        /// <summary>No route to the destination (ENETUNREACH).</summary>
        NetworkUnreachable,
    }

    /// <summary>Where the answer was decided.</summary>
    internal enum ConnectStage : byte
    {
        /// <summary>The bind() before connect().</summary>
        Bind,

        /// <summary>connect() from a port bound before it: only the 4-tuple is checked.</summary>
        Prebound,

        /// <summary>connect() picks the port (no bind(), or IP_BIND_ADDRESS_NO_PORT).</summary>
        ConnectPicks,

        /// <summary>bind(address, 0) picks the port, then connect() checks the 4-tuple.</summary>
        BindPicks,

        /// <summary>No route to the destination.</summary>
        Route,
    }

    /// <summary>Unknown facts a connect() answer may turn on.</summary>
    [Flags]
    internal enum ConnectUnknowns
    {
        None = 0,
        TcpTwReuse = 1,
        Timestamps = 2,
        TimeWaitAge = 4,
        Offset = 8,
        BindRandom = 16,
        AutobindReuse = 32,
        HolderOptions = 64,
        Source = 128,
        EphemeralPorts = 256,
        TcpTimestamps = 512,
        TcpTwReuseDelay = 1024,
    }

    /// <summary>Where the source address of the connection comes from.</summary>
    internal enum SourceKind : byte
    {
        /// <summary>The specific address bound before connect().</summary>
        Bound,

        /// <summary>Given by the caller (a live check asks the kernel for the route's source).</summary>
        Given,

        /// <summary>A loopback destination: the route to it gives 127.0.0.1 (::1 for IPv6).</summary>
        Loopback,

        /// <summary>A destination that is an address of this host: the route gives that address.</summary>
        LocalDestination,

        /// <summary>The table's connections to the destination all use it.</summary>
        Inferred,

        /// <summary>The table's connections to the destination use several; the route picks one of them.</summary>
        Ambiguous,

        /// <summary>Not known, and no connection to the destination exists, so no 4-tuple can be taken.</summary>
        Irrelevant,
    }

    /// <summary>A rule engine's answer to a connect() question, before it is put into words.</summary>
    internal sealed class ConnectDecision
    {
        private List<string>? _dependsOn;
        private List<(string Phrase, BindErrorKind Error)>? _pending;

        public ConnectDecision(ConnectRequest request, TargetOS os)
        {
            Request = request;
            OS = os;
        }

        public ConnectRequest Request { get; }

        public TargetOS OS { get; }

        public ConnectStage Stage { get; set; } = ConnectStage.ConnectPicks;

        public ConnectError Error { get; set; }

        /// <summary>The bind() before connect(), when it failed (<see cref="ConnectError.Bind"/>).</summary>
        public BindDecision? Bind { get; set; }

        /// <summary>The error of the bind() step when <see cref="Error"/> is <see cref="ConnectError.Bind"/>.</summary>
        public BindErrorKind BindError { get; set; }

        public BindRequest? BindRequest { get; set; }

        public string Rule { get; set; } = string.Empty;

        /// <summary>Calls in a row that surely succeed; null when ports set no limit.</summary>
        public int? AvailableMin { get; set; }

        /// <summary>Calls in a row that may succeed; null when ports set no limit.</summary>
        public int? AvailableMax { get; set; }

        public int? SourcePort { get; set; }

        private IReadOnlyList<int>? _sourcePorts;

        /// <summary>The ports the first call may take: set, or read from <see cref="CandidateScan"/> when first asked.</summary>
        public IReadOnlyList<int> SourcePorts
        {
            get => _sourcePorts ??= CandidateScan?.Candidates() ?? Array.Empty<int>();
            set => _sourcePorts = value;
        }

        /// <summary>The scan whose candidates are the first call's ports, listed only when someone asks.</summary>
        public ScanAnalysis? CandidateScan { get; set; }

        public PortRange? Range { get; set; }

        /// <summary>The host's ephemeral range is not known: the OS's default stands in, and the answer depends on it.</summary>
        public bool RangeUnknown { get; set; }

        /// <summary>The host's reserved ports are not known: none are counted as reserved, and the Reason says so.</summary>
        public bool ReservedUnknown { get; set; }

        /// <summary>IP_LOCAL_PORT_RANGE narrowed the range (connect() then steps by 1, with no parity).</summary>
        public bool PerSocketRange { get; set; }

        public IPAddress? Source { get; set; }

        public SourceKind SourceKind { get; set; }

        /// <summary>The addresses the table's connections to the destination come from, when the source is ambiguous.</summary>
        public IReadOnlyList<IPAddress> SourceChoices { get; set; } = Array.Empty<IPAddress>();

        /// <summary>The port scan that decided (for the words: what holds the range's ports).</summary>
        public ScanAnalysis? Scan { get; set; }

        /// <summary>The classifier of the scan, which can count what holds the ports.</summary>
        public PortClassifier? Classifier { get; set; }

        /// <summary>The index's connect() lookups, for the words.</summary>
        public ConnectTables? Tables { get; set; }

        /// <summary>net.ipv4.tcp_tw_reuse as the decision took it (for the words).</summary>
        public int TcpTwReuse { get; set; }

        /// <summary>The second round of bind(0) with ip_autobind_reuse: ports shared with SO_REUSEADDR sockets, and how many of them have a free 4-tuple.</summary>
        public (int Shared, int Unique, int Taken, int Uncertain)? Relax { get; set; }

        public ConnectUnknowns Unknowns { get; set; }

        private List<IndexedSocket>? _conflicts;

        /// <summary>The socket that holds the 4-tuple, or the bind() conflicts (made on first use: most decisions have none).</summary>
        public List<IndexedSocket> Conflicts => _conflicts ??= new List<IndexedSocket>(1);

        public bool HasConflicts => _conflicts is { Count: > 0 };

        public IReadOnlyList<string> DependsOn => (IReadOnlyList<string>?)_dependsOn ?? Array.Empty<string>();

        public bool? CanConnect { get; set; }

        /// <summary>Notes in words, for what no field holds.</summary>
        public List<string>? Notes { get; set; }

        public void AddDependency(string phrase) => (_dependsOn ??= new List<string>(2)).Add(phrase);

        /// <summary>
        /// An unknown fact the bind() step was given the benefit of (an address taken as local, a
        /// privilege taken as held): it joins DependsOn only when the answer would otherwise be yes,
        /// with the error it gives when it goes the other way.
        /// </summary>
        public void AddPending(string phrase, BindErrorKind error) => (_pending ??= new List<(string, BindErrorKind)>(1)).Add((phrase, error));

        public void AddNote(string note) => (Notes ??= new List<string>(1)).Add(note);

        /// <summary>No route: connect() fails with ENETUNREACH whatever the ports say.</summary>
        public ConnectDecision Unreachable(string rule)
        {
            Stage = ConnectStage.Route;
            Error = ConnectError.NetworkUnreachable;
            Rule = rule;
            AvailableMin = 0;
            AvailableMax = 0;
            CanConnect = false;
            SourcePort = null;
            SourcePorts = Array.Empty<int>();
            return this;
        }

        /// <summary>Sets CanConnect from the calls that surely and possibly succeed, and settles pending unknowns.</summary>
        public ConnectDecision Settle(ConnectError failure)
        {
            int count = Request.Count;
            if (Error == ConnectError.Bind)
            {
                CanConnect = false;
            }
            else if (AvailableMin is null || AvailableMin >= count)
            {
                CanConnect = true;
                Error = ConnectError.None;
            }
            else if (AvailableMax is int max && max < count)
            {
                CanConnect = false;
                Error = failure;
            }
            else
            {
                CanConnect = null;
                Error = failure;
            }

            if (CanConnect != false && _pending is not null)
            {
                foreach ((string phrase, BindErrorKind error) in _pending)
                {
                    AddDependency(phrase);
                    if (CanConnect == true && Error == ConnectError.None)
                    {
                        Error = ConnectError.Bind;
                        BindError = error;
                    }
                }

                CanConnect = null;
            }

            if (_dependsOn is { Count: > 0 })
            {
                CanConnect = null;
            }

            return this;
        }
    }

    /// <summary>Error names and numbers of connect() per OS.</summary>
    internal static class ConnectErrors
    {
        public static (string Name, int Code)? Describe(TargetOS os, ConnectError error, BindErrorKind bindError)
        {
            if (error == ConnectError.Bind)
            {
                return BindErrors.Describe(os, bindError);
            }

            if (error == ConnectError.None)
            {
                return null;
            }

            if (os == TargetOS.Windows)
            {
                return error switch
                {
                    ConnectError.NetworkUnreachable => ("WSAENETUNREACH", 10051),
                    ConnectError.AddressNotAvailable => ("WSAEADDRNOTAVAIL", 10049),
                    ConnectError.TryAgain => ("WSAEWOULDBLOCK", 10035),
                    ConnectError.AddressInUse => ("WSAEADDRINUSE", 10048),
                    _ => ("WSAENOBUFS", 10055),
                };
            }

            bool bsd = os is TargetOS.FreeBSD or TargetOS.MacOS;
            return error switch
            {
                ConnectError.NetworkUnreachable => ("ENETUNREACH", bsd ? 51 : 101),
                ConnectError.AddressNotAvailable => ("EADDRNOTAVAIL", bsd ? 49 : 99),
                ConnectError.TryAgain => ("EAGAIN", bsd ? 35 : 11),
                ConnectError.AddressInUse => ("EADDRINUSE", bsd ? 48 : 98),
                _ => ("ENOBUFS", bsd ? 55 : 105),
            };
        }
    }
}
