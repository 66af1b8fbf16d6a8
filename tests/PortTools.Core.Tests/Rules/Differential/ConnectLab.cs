using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Tests.Support;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>
    /// connect() against the live kernel: before every real connect() inside a namespace the test
    /// created, the engine answers from that namespace's live table and facts, as Test-PortConnect
    /// -NetworkNamespace does; then the kernel answers. The answer, the error and, where the engine
    /// names it, the port must be the kernel's; an answer that depends on what is not known must
    /// name the kernel's among its possibilities.
    /// </summary>
    public sealed class ConnectLab : IDisposable
    {
        private readonly List<NamespaceSockets> _spaces = new List<NamespaceSockets>();
        private readonly Dictionary<(TransportProtocol, int), (bool ReuseAddress, bool ReusePort)> _knownFlags = new Dictionary<(TransportProtocol, int), (bool, bool)>();
        private readonly Dictionary<int, List<int>> _accepted = new Dictionary<int, List<int>>();

        public ConnectLab(ConnectReport report)
        {
            Report = report;
            Client = NamespaceSockets.Create("pt-conn");
            _spaces.Add(Client);
        }

        public ConnectReport Report { get; }

        /// <summary>The namespace connect() runs in.</summary>
        public NamespaceSockets Client { get; }

        /// <summary>A second namespace joined to the first by a veth pair: 192.0.2.1 and 2001:db8::1 here, 192.0.2.2 and 2001:db8::2 there.</summary>
        public NamespaceSockets AddPeer()
        {
            NamespaceSockets server = NamespaceSockets.Create("pt-peer");
            _spaces.Add(server);
            string a = "vc" + Guid.NewGuid().ToString("N").Substring(0, 8);
            string b = "vs" + Guid.NewGuid().ToString("N").Substring(0, 8);
            TestNetworkNamespace.Ip("-n", Client.Name, "link", "add", a, "type", "veth", "peer", "name", b, "netns", server.Name);
            TestNetworkNamespace.Ip("-n", Client.Name, "addr", "add", "192.0.2.1/24", "dev", a);
            TestNetworkNamespace.Ip("-n", Client.Name, "addr", "add", "2001:db8::1/64", "dev", a, "nodad");
            TestNetworkNamespace.Ip("-n", Client.Name, "link", "set", a, "up");
            TestNetworkNamespace.Ip("-n", server.Name, "addr", "add", "192.0.2.2/24", "dev", b);
            TestNetworkNamespace.Ip("-n", server.Name, "addr", "add", "2001:db8::2/64", "dev", b, "nodad");
            TestNetworkNamespace.Ip("-n", server.Name, "link", "set", b, "up");
            return server;
        }

        /// <summary>Tells the engine the SO_REUSEADDR and SO_REUSEPORT of the test's sockets on a port, which a live Linux table does not show.</summary>
        public void KnowFlags(TransportProtocol protocol, int port, bool reuseAddress, bool reusePort) => _knownFlags[(protocol, port)] = (reuseAddress, reusePort);

        public void ForgetFlags() => _knownFlags.Clear();

        /// <summary>The server sides a listener accepted since the last call (the test closes them to leave TIME-WAIT on the client).</summary>
        public List<int> TakeAccepted(int listener)
        {
            if (!_accepted.TryGetValue(listener, out List<int>? list))
            {
                return new List<int>();
            }

            _accepted.Remove(listener);
            return list;
        }

        /// <summary>A listener on the namespace's address and port (outside any ephemeral range the tests set).</summary>
        public int Listen(NamespaceSockets space, IPAddress address, int port)
        {
            int fd = space.Open(tcp: true, inet6: address.AddressFamily == AddressFamily.InterNetworkV6, reuseAddress: true, nonBlocking: true);
            if (space.Bind(fd, address, port) != 0 || space.Listen(fd) != 0)
            {
                throw new InvalidOperationException("listener " + address + ":" + port + " failed");
            }

            return fd;
        }

        /// <summary>The engine's answer, as Test-PortConnect -NetworkNamespace gives it, and the core decision behind it.</summary>
        internal (PortConnectResult Result, ConnectDecision Decision) Predict(ConnectRequest request)
        {
            SocketTableReadResult table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = Client.Name, IncludeProcesses = false });
            SocketHost host = SocketHost.Read(Client.Name);
            IReadOnlyList<SocketTuple> sockets = table.Sockets;
            if (_knownFlags.Count > 0)
            {
                sockets = sockets.Select(s => _knownFlags.TryGetValue((s.Protocol, s.LocalPort), out var flags) ? With(s, flags.ReuseAddress, flags.ReusePort) : s).ToList();
            }

            SocketIndex index = SocketIndex.Build(sockets, HostFacts.From(host), SocketTableOrder.KernelOrder);
            ConnectRequest complete = LiveConnectProbe.Open(Client.Name).Complete(request);
            return (RuleEngine.DecideConnect(index, complete), RuleEngine.DecideConnectCore(index, complete));
        }

        /// <summary>
        /// One connect() (with its bind() when asked): predicted, then done by the kernel, then
        /// compared. Returns the socket when the kernel connected it (kept open), or -1.
        /// </summary>
        public int Step(string category, string description, ConnectRequest request, int? listener = null, NamespaceSockets? server = null, TimeSpan? validFor = null)
        {
            // A step whose truth changes with time (a TIME-WAIT entry's age) is compared only if the kernel ran it in time.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            PortConnectResult predicted = Predict(request).Result;
            bool tcp = request.Protocol == TransportProtocol.Tcp;
            bool inet6 = request.AddressFamily == AddressFamily.InterNetworkV6;
            int fd = Client.Open(tcp, inet6, request.ReuseAddress, request.ReusePort, request.BindAddressNoPort, request.LocalPortRange);
            int errno = 0;
            if (request.Binds)
            {
                errno = Client.Bind(fd, request.Address ?? (inet6 ? IPAddress.IPv6Any : IPAddress.Any), request.Port);
            }

            if (errno == 0)
            {
                errno = Client.Connect(fd, request.SocketDestination, request.Destination.Port);
            }

            int port = errno == 0 ? Client.LocalEndPoint(fd).Port : 0;
            if (listener is int l)
            {
                if (!_accepted.TryGetValue(l, out List<int>? list))
                {
                    list = new List<int>();
                    _accepted.Add(l, list);
                }

                list.AddRange((server ?? Client).AcceptAll(l));
            }

            string kernel = errno == 0 ? "ok " + port.ToString(CultureInfo.InvariantCulture) : Name(errno);
            bool agrees = errno == 0
                ? predicted.CanConnect != false && (predicted.SourcePort == port || (predicted.SourcePort is null && predicted.SourcePorts.Contains(port)))
                : predicted.CanConnect != true && predicted.Error == Name(errno);
            string engine = predicted.CanConnect == true ? "ok " + (predicted.SourcePort?.ToString(CultureInfo.InvariantCulture) ?? "one of {" + string.Join(",", predicted.SourcePorts) + "}")
                : predicted.CanConnect == false ? predicted.Error!
                : "ok (one of {" + string.Join(",", predicted.SourcePorts) + "}) or " + predicted.Error;
            if (validFor is TimeSpan limit && clock.Elapsed > limit)
            {
                Report.Inconclusive(category, description + ": the prediction and the kernel's call took " + clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture) + " ms, longer than the " + limit.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + " ms it holds for");
            }
            else
            {
                Report.Compare(category, description + " | " + ConnectExplanation.Options(request) + " -> " + predicted.Destination, kernel, engine, agrees, predicted.Reason);
            }
            if (errno != 0)
            {
                Client.Abort(fd);
                return -1;
            }

            return fd;
        }

        /// <summary>bind(address, 0) as Test-PortBind answers it (CanBind, or DependsOn), against the kernel's bind(); the socket stays open when bound.</summary>
        public int StepBind0(string category, string description, TransportProtocol protocol, IPAddress address, bool reuseAddress)
        {
            SocketTableReadResult table = LiveSocketTable.Read(new SocketQuery { NetworkNamespace = Client.Name, IncludeProcesses = false });
            SocketHost host = SocketHost.Read(Client.Name);
            IReadOnlyList<SocketTuple> sockets = table.Sockets;
            if (_knownFlags.Count > 0)
            {
                sockets = sockets.Select(s => _knownFlags.TryGetValue((s.Protocol, s.LocalPort), out var flags) ? With(s, flags.ReuseAddress, flags.ReusePort) : s).ToList();
            }

            SocketIndex index = SocketIndex.Build(sockets, HostFacts.From(host), SocketTableOrder.KernelOrder);
            PortBindResult predicted = RuleEngine.DecideBind(index, new BindRequest { Protocol = protocol, Address = address, Port = 0, ReuseAddress = reuseAddress });
            int fd = Client.Open(protocol == TransportProtocol.Tcp, address.AddressFamily == AddressFamily.InterNetworkV6, reuseAddress);
            int errno = Client.Bind(fd, address, 0);
            bool agrees = errno == 0 ? predicted.CanBind != false : predicted.CanBind != true && predicted.Error == Name(errno);
            string engine = predicted.CanBind is bool can ? (can ? "ok" : predicted.Error!) : "ok or " + predicted.Error;
            Report.Compare(category, description + " | bind(" + address + ", 0)" + (reuseAddress ? " reuseaddr" : string.Empty), errno == 0 ? "ok " + Client.LocalEndPoint(fd).Port : Name(errno), engine, agrees, predicted.Reason);
            if (errno != 0)
            {
                Client.Abort(fd);
                return -1;
            }

            return fd;
        }

        /// <summary>
        /// How many further connect() calls of this kind succeed: the engine's Available (at least,
        /// at most) against the kernel's count, connecting until the first failure (at most
        /// <paramref name="bound"/> times). The sockets stay open and are returned.
        /// </summary>
        public List<int> Exhaust(string category, string description, ConnectRequest request, int bound, int? listener = null, NamespaceSockets? server = null)
        {
            ConnectDecision decision = Predict(request).Decision;
            string before = TableText();
            var sockets = new List<int>();
            for (int i = 0; i < bound; i++)
            {
                int fd = Step(category, description + " (call " + (i + 1).ToString(CultureInfo.InvariantCulture) + ")", request, listener, server);
                if (fd < 0)
                {
                    break;
                }

                sockets.Add(fd);
            }

            // No limit: every call up to the bound succeeds.
            int min = decision.AvailableMin ?? bound;
            int max = decision.AvailableMax ?? bound;
            bool agrees = sockets.Count >= Math.Min(min, bound) && sockets.Count <= max;
            string engine = decision.AvailableMin is null ? "no limit" : min == max ? min.ToString(CultureInfo.InvariantCulture) : min + " to " + max;
            // A disagreement keeps the table the engine counted from, so that a rare one can be read afterwards.
            Report.Compare(category, description + " | how many further calls succeed", sockets.Count.ToString(CultureInfo.InvariantCulture), engine, agrees, agrees ? string.Empty : "Rule " + decision.Rule + "; table: " + before);
            return sockets;
        }

        private string TableText() => string.Join("; ", LiveSocketTable.Read(new SocketQuery { NetworkNamespace = Client.Name, IncludeProcesses = false }).Sockets.Select(s => s.ToString()));

        public static string Name(int errno) => errno switch
        {
            NamespaceSockets.EAGAIN => "EAGAIN",
            NamespaceSockets.EADDRINUSE => "EADDRINUSE",
            NamespaceSockets.EADDRNOTAVAIL => "EADDRNOTAVAIL",
            NamespaceSockets.ENETUNREACH => "ENETUNREACH",
            _ => "errno " + errno.ToString(CultureInfo.InvariantCulture),
        };

        private static SocketTuple With(SocketTuple socket, bool reuseAddress, bool reusePort) => new SocketTuple
        {
            Protocol = socket.Protocol,
            State = socket.State,
            LocalAddress = socket.LocalAddress,
            LocalPort = socket.LocalPort,
            RemoteAddress = socket.RemoteAddress,
            RemotePort = socket.RemotePort,
            UserId = socket.UserId,
            Inode = socket.Inode,
            BoundInterface = socket.BoundInterface,
            IPv6Only = socket.IPv6Only,
            ReuseAddress = reuseAddress,
            ReusePort = reusePort,
            NetworkNamespace = socket.NetworkNamespace,
        };

        public void Dispose()
        {
            for (int i = _spaces.Count - 1; i >= 0; i--)
            {
                _spaces[i].Dispose();
            }
        }
    }

    /// <summary>Every comparison of the connect() suite, counted per category, with each disagreement kept whole.</summary>
    public sealed class ConnectReport
    {
        private readonly object _gate = new object();
        private readonly SortedDictionary<string, (int Checks, int Disagreements)> _categories = new SortedDictionary<string, (int, int)>(StringComparer.Ordinal);
        private readonly List<string> _disagreements = new List<string>();
        private readonly List<string> _all = new List<string>();

        public IReadOnlyList<string> Disagreements => _disagreements;

        public int Checks => _categories.Values.Sum(c => c.Checks);

        /// <summary>A step not compared because the machine was too slow for the time it depends on; listed, not counted.</summary>
        public void Inconclusive(string category, string step)
        {
            lock (_gate)
            {
                _all.Add("[" + category + "] " + step + ": not compared");
            }
        }

        public void Compare(string category, string step, string kernel, string engine, bool agrees, string reason)
        {
            lock (_gate)
            {
                _categories.TryGetValue(category, out (int Checks, int Disagreements) counts);
                _categories[category] = (counts.Checks + 1, counts.Disagreements + (agrees ? 0 : 1));
                _all.Add("[" + category + "] " + step + ": kernel " + kernel + ", engine " + engine);
                if (!agrees)
                {
                    _disagreements.Add("[" + category + "] " + step + "\n    kernel: " + kernel + "\n    engine: " + engine + "\n    reason: " + reason);
                }
            }
        }

        public string Render()
        {
            var text = new StringBuilder();
            text.AppendLine("| category | checks | agree | disagree |").AppendLine("|---|---|---|---|");
            foreach (KeyValuePair<string, (int Checks, int Disagreements)> category in _categories)
            {
                text.AppendLine(string.Format(CultureInfo.InvariantCulture, "| {0} | {1} | {2} | {3} |", category.Key, category.Value.Checks, category.Value.Checks - category.Value.Disagreements, category.Value.Disagreements));
            }

            foreach (string disagreement in _disagreements.Take(30))
            {
                text.AppendLine().AppendLine(disagreement);
            }

            // PORTTOOLS_CONNECT_TRACE=1 lists every comparison, agreeing or not.
            if (Environment.GetEnvironmentVariable("PORTTOOLS_CONNECT_TRACE") == "1")
            {
                text.AppendLine();
                _all.ForEach(line => text.AppendLine(line));
            }

            return text.ToString();
        }
    }
}
