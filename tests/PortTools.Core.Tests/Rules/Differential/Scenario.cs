using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortTools.Rules.Linux;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>A socket of a scenario: its options, who owns it, and what the engine's table says of it.</summary>
    public sealed class LabSocket
    {
        public LabSocket(string id, TransportProtocol protocol, bool inet6, bool reuseAddress, bool reusePort, bool? v6Only, string? device, bool otherUser)
        {
            Id = id;
            Protocol = protocol;
            Inet6 = inet6;
            ReuseAddress = reuseAddress;
            ReusePort = reusePort;
            V6Only = v6Only;
            Device = device;
            OtherUser = otherUser;
        }

        public string Id { get; }

        public TransportProtocol Protocol { get; }

        public bool Inet6 { get; }

        public bool ReuseAddress { get; }

        public bool ReusePort { get; }

        public bool? V6Only { get; }

        public string? Device { get; }

        public bool OtherUser { get; }

        /// <summary>The socket as the engine's table holds it, once bound.</summary>
        public SocketTuple? Tuple { get; set; }

        public string Describe() =>
            $"{Id}({(Protocol == TransportProtocol.Tcp ? "tcp" : "udp")}/{(Inet6 ? "inet6" : "inet")}{(ReuseAddress ? " reuseaddr" : string.Empty)}{(ReusePort ? " reuseport" : string.Empty)}" +
            $"{(V6Only is bool v ? " v6only=" + (v ? 1 : 0) : string.Empty)}{(Device is null ? string.Empty : " dev=" + Device)}{(OtherUser ? " uid=nobody" : string.Empty)})";
    }

    /// <summary>
    /// One scenario: operations on real sockets, each first predicted by the engine against the table
    /// as it stands, then done by the kernel; every comparison is recorded in the report. The engine's
    /// table follows what the kernel actually did, so one disagreement does not cascade.
    /// </summary>
    public sealed class Scenario : IDisposable
    {
        private readonly KernelLab _lab;
        private readonly DifferentialReport _report;
        private readonly List<LabSocket> _sockets = new();
        private readonly List<SocketTuple> _table = new();
        private readonly List<BindEvent> _history = new();
        private readonly StringBuilder _script = new();
        private int _probe;

        public Scenario(KernelLab lab, DifferentialReport report, string category, string description)
        {
            _lab = lab;
            _report = report;
            Category = category;
            Description = description;
        }

        public string Category { get; }

        public string Description { get; }

        public IReadOnlyList<SocketTuple> Table => _table;

        public LabSocket Open(TransportProtocol protocol, bool inet6, bool reuseAddress = false, bool reusePort = false, bool? v6Only = null, string? device = null, bool otherUser = false)
        {
            var socket = new LabSocket(_lab.NextId("s"), protocol, inet6, reuseAddress, reusePort, v6Only, device, otherUser);
            var command = new StringBuilder("open " + socket.Id + (protocol == TransportProtocol.Tcp ? " tcp" : " udp") + (inet6 ? " inet6" : " inet"));
            command.Append(reuseAddress ? " reuseaddr" : string.Empty).Append(reusePort ? " reuseport" : string.Empty);
            command.Append(v6Only is bool v ? " v6only=" + (v ? "1" : "0") : string.Empty).Append(device is null ? string.Empty : " dev=" + device);
            string reply = Lab(socket).Do(command.ToString());
            if (LabProcess.Errno(reply) != 0)
            {
                throw new InvalidOperationException("open failed: " + command + " -> " + reply);
            }

            _sockets.Add(socket);
            _script.Append(socket.Describe()).Append("; ");
            return socket;
        }

        /// <summary>bind(): the engine predicts, the kernel answers, the report compares.</summary>
        public BindErrorKind Bind(LabSocket socket, string address, int port)
        {
            IPAddress ip = IPAddress.Parse(address);
            if (socket.Inet6 && ip.AddressFamily == AddressFamily.InterNetwork)
            {
                ip = ip.MapToIPv6();
            }

            var request = new BindRequest
            {
                Protocol = socket.Protocol,
                Address = ip,
                Port = port,
                ReuseAddress = socket.ReuseAddress,
                ReusePort = socket.ReusePort,
                IPv6Only = socket.Inet6 ? socket.V6Only : null,
                Interface = socket.Device,
                UserId = socket.OtherUser ? KernelLab.NobodyUid : _lab.RootUid,
                Privileged = socket.OtherUser ? false : null,
            };
            BindDecision predicted = RuleEngine.DecideBindCore(Index(), request);
            string reply = Lab(socket).Do("bind " + socket.Id + " " + ip + " " + port.ToString(CultureInfo.InvariantCulture));
            int errno = LabProcess.Errno(reply);
            BindErrorKind kernel = Kind(errno);
            string step = "bind " + socket.Id + " " + IPAddressText.FormatEndpoint(ip, port);
            _report.Compare(this, step, Name(kernel, errno), Name(predicted.Error, 0), () => BindExplanation.Reason(predicted, request, predicted.Error.ToString()));
            _script.Append(step).Append(" => ").Append(Name(kernel, errno)).Append("; ");
            if (kernel == BindErrorKind.None)
            {
                int bound = int.Parse(reply.Substring(3), CultureInfo.InvariantCulture);
                socket.Tuple = new SocketTuple
                {
                    Protocol = socket.Protocol,
                    State = socket.Protocol == TransportProtocol.Tcp ? SocketState.Bound : SocketState.Unconnected,
                    LocalAddress = ip,
                    LocalPort = bound,
                    ReuseAddress = socket.ReuseAddress,
                    ReusePort = socket.ReusePort,
                    IPv6Only = socket.Inet6 ? socket.V6Only ?? _lab.Facts.BindV6Only : null,
                    BoundInterface = socket.Device,
                    UserId = socket.OtherUser ? KernelLab.NobodyUid : _lab.RootUid,
                    Processes = new[] { new SocketOwner(1, socket.Id) },
                };
                _table.Add(socket.Tuple);
                _history.Add(new BindEvent(socket.Tuple, BindEventKind.Bind));
            }

            return kernel;
        }

        /// <summary>listen(): predicted from the table (the conflict check again), then done.</summary>
        public BindErrorKind Listen(LabSocket socket)
        {
            SocketTuple tuple = socket.Tuple ?? throw new InvalidOperationException(socket.Id + " is not bound");
            SocketIndex index = Index();
            IndexedSocket entry = index.Entries.Single(e => ReferenceEquals(e.Socket, tuple));
            BindDecision predicted = LinuxBindRules.DecideListen(index, entry);
            string reply = Lab(socket).Do("listen " + socket.Id);
            int errno = LabProcess.Errno(reply);
            BindErrorKind kernel = Kind(errno);
            string step = "listen " + socket.Id;
            _report.Compare(this, step, Name(kernel, errno), Name(predicted.Error, 0), () => BindExplanation.Reason(predicted, new BindRequest { Protocol = tuple.Protocol, Address = tuple.LocalAddress, Port = tuple.LocalPort, Listen = true }, predicted.Error.ToString()));
            _script.Append(step).Append(" => ").Append(Name(kernel, errno)).Append("; ");
            if (kernel == BindErrorKind.None)
            {
                Replace(tuple, tuple.Copy(state: SocketState.Listen));
                socket.Tuple = _table[_table.FindIndex(t => LabName(t) == socket.Id)];
                _history.Add(new BindEvent(socket.Tuple, BindEventKind.Listen));
            }

            return kernel;
        }

        /// <summary>
        /// A TCP SYN from source to destination: the kernel either refuses it or one listener accepts
        /// it; the engine must name that listener, or a SO_REUSEPORT group that contains it.
        /// </summary>
        public void ProbeTcp(string source, string destination, int port)
        {
            string id = _lab.NextId("p");
            IPAddress destinationIp = IPAddress.Parse(destination);
            bool inet6 = destinationIp.AddressFamily == AddressFamily.InterNetworkV6;
            _lab.Root.Do("open " + id + " tcp " + (inet6 ? "inet6" : "inet"));
            _lab.Root.Do("linger0 " + id);
            string bound = _lab.Root.Do("bind " + id + " " + source + " 0");
            int sourcePort = int.Parse(bound.Substring(3), CultureInfo.InvariantCulture);
            string reply = _lab.Root.Do("connect " + id + " " + destination + " " + port.ToString(CultureInfo.InvariantCulture));
            string kernel;
            if (LabProcess.Errno(reply) == 111)
            {
                kernel = "Refused";
            }
            else if (LabProcess.Errno(reply) != 0)
            {
                kernel = "connect error " + reply;
            }
            else
            {
                kernel = AcceptingListener() ?? "connected, but no listener had it";
            }

            _lab.Root.Do("close " + id);
            var request = new DemuxRequest
            {
                Protocol = TransportProtocol.Tcp,
                Source = new IPEndPoint(IPAddress.Parse(source), sourcePort),
                Destination = new IPEndPoint(destinationIp, port),
            };
            ComparePrediction("syn " + IPAddressText.FormatEndpoint(IPAddress.Parse(source), sourcePort) + " -> " + IPAddressText.FormatEndpoint(destinationIp, port), request, kernel);
        }

        /// <summary>A UDP datagram from source to destination: which socket(s) received it, or ICMP port unreachable.</summary>
        public void ProbeUdp(string source, string destination, int port, bool broadcast = false, int sourcePort = 0)
        {
            string id = _lab.NextId("p");
            string payload = "m" + (++_probe).ToString(CultureInfo.InvariantCulture) + id;
            IPAddress destinationIp = IPAddress.Parse(destination);
            bool inet6 = destinationIp.AddressFamily == AddressFamily.InterNetworkV6;
            _lab.Root.Do("open " + id + " udp " + (inet6 ? "inet6" : "inet") + (broadcast ? " broadcast" : string.Empty));
            string bound = _lab.Root.Do("bind " + id + " " + source + " " + sourcePort.ToString(CultureInfo.InvariantCulture));
            if (LabProcess.Errno(bound) != 0)
            {
                throw new InvalidOperationException("probe bind failed: " + bound);
            }

            sourcePort = int.Parse(bound.Substring(3), CultureInfo.InvariantCulture);
            if (!broadcast)
            {
                _lab.Root.Do("connect " + id + " " + destination + " " + port.ToString(CultureInfo.InvariantCulture));
                _lab.Root.Do("send " + id + " " + payload);
            }
            else
            {
                _lab.Root.Do("sendto " + id + " " + destination + " " + port.ToString(CultureInfo.InvariantCulture) + " " + payload);
            }

            var receivers = new List<string>();
            for (int attempt = 0; attempt < 10 && receivers.Count == 0; attempt++)
            {
                if (attempt > 0)
                {
                    _lab.Root.Do("sleep 5");
                }

                foreach (LabSocket socket in _sockets.Where(s => s.Protocol == TransportProtocol.Udp && s.Tuple is not null))
                {
                    string got;
                    while ((got = Lab(socket).Do("recv " + socket.Id)).StartsWith("got ", StringComparison.Ordinal))
                    {
                        if (got.Substring(4) == payload && !receivers.Contains(socket.Id))
                        {
                            receivers.Add(socket.Id);
                        }
                    }
                }

                if (receivers.Count == 0 && !broadcast && LabProcess.Errno(_lab.Root.Do("recv " + id)) == 111)
                {
                    break;
                }
            }

            string kernel = receivers.Count == 0
                ? (broadcast || IPAddress.Parse(destination).IsIPv6Multicast ? "Dropped" : "PortUnreachable")
                : string.Join(",", receivers.OrderBy(r => r, StringComparer.Ordinal));
            _lab.Root.Do("close " + id);
            var request = new DemuxRequest
            {
                Protocol = TransportProtocol.Udp,
                Source = new IPEndPoint(IPAddress.Parse(source), sourcePort),
                Destination = new IPEndPoint(destinationIp, port),
            };
            ComparePrediction("datagram " + IPAddressText.FormatEndpoint(IPAddress.Parse(source), sourcePort) + " -> " + IPAddressText.FormatEndpoint(destinationIp, port), request, kernel);
        }

        /// <summary>
        /// Leaves a TIME-WAIT entry on the listener's address and port: a client connects, the server
        /// side closes first (so it is the one in TIME-WAIT), then the client closes too; the
        /// listener is closed last. The entry keeps the listener's SO_REUSEADDR and SO_REUSEPORT.
        /// </summary>
        public void LeaveTimeWait(LabSocket listener, string clientAddress)
        {
            SocketTuple tuple = listener.Tuple!;
            string client = _lab.NextId("c");
            bool inet6 = listener.Inet6;
            _lab.Root.Do("open " + client + " tcp " + (inet6 ? "inet6" : "inet"));
            string bound = _lab.Root.Do("bind " + client + " " + clientAddress + " 0");
            int clientPort = int.Parse(bound.Substring(3), CultureInfo.InvariantCulture);
            IPAddress target = IPAddressText.IsWildcard(tuple.LocalAddress) ? IPAddress.Parse(clientAddress) : tuple.LocalAddress;
            _lab.Root.Do("connect " + client + " " + target + " " + tuple.LocalPort.ToString(CultureInfo.InvariantCulture));
            string accepted = Accept(listener) ?? throw new InvalidOperationException("no connection to accept for TIME-WAIT");
            Lab(listener).Do("close " + accepted);
            _lab.Root.Do("sleep 20");
            _lab.Root.Do("close " + client);
            _lab.Root.Do("sleep 20");
            Lab(listener).Do("close " + listener.Id);
            _sockets.Remove(listener);
            _table.Remove(tuple);
            listener.Tuple = null;
            _table.Add(new SocketTuple
            {
                Protocol = TransportProtocol.Tcp,
                State = SocketState.TimeWait,
                LocalAddress = target,
                LocalPort = tuple.LocalPort,
                RemoteAddress = IPAddress.Parse(clientAddress) is var c && inet6 && c.AddressFamily == AddressFamily.InterNetwork ? c.MapToIPv6() : IPAddress.Parse(clientAddress),
                RemotePort = clientPort,
                ReuseAddress = tuple.ReuseAddress,
                ReusePort = tuple.ReusePort,
                UserId = tuple.UserId,
            });
            _script.Append("TIME-WAIT left on ").Append(IPAddressText.FormatEndpoint(target, tuple.LocalPort)).Append("; ");
        }

        /// <summary>connect() on a bound UDP socket: the table takes the peer and the local address the kernel chose.</summary>
        public void ConnectUdp(LabSocket socket, string address, int port)
        {
            SocketTuple tuple = socket.Tuple ?? throw new InvalidOperationException(socket.Id + " is not bound");
            string reply = Lab(socket).Do("connect " + socket.Id + " " + address + " " + port.ToString(CultureInfo.InvariantCulture));
            if (LabProcess.Errno(reply) != 0)
            {
                throw new InvalidOperationException("connect failed: " + reply);
            }

            IPAddress local = IPAddress.Parse(reply.Split(' ')[2]);
            IPAddress remote = IPAddress.Parse(address);
            SocketTuple connected = tuple.Copy(state: SocketState.Connected, localAddress: local, remoteAddress: socket.Inet6 && remote.AddressFamily == AddressFamily.InterNetwork ? remote.MapToIPv6() : remote, remotePort: port);
            Replace(tuple, connected);
            socket.Tuple = connected;
            _script.Append("connect ").Append(socket.Id).Append(' ').Append(address).Append(':').Append(port).Append("; ");
        }

        /// <summary>setsockopt(SO_BINDTODEVICE) with a device that does not exist: the kernel's errno against the engine's prediction.</summary>
        public void OpenWithMissingDevice(TransportProtocol protocol, string address, int port, string device)
        {
            string id = _lab.NextId("s");
            IPAddress ip = IPAddress.Parse(address);
            string reply = _lab.Root.Do("open " + id + (protocol == TransportProtocol.Tcp ? " tcp" : " udp") + (ip.AddressFamily == AddressFamily.InterNetworkV6 ? " inet6" : " inet") + " dev=" + device);
            var request = new BindRequest { Protocol = protocol, Address = ip, Port = port, Interface = device, UserId = _lab.RootUid };
            BindDecision predicted = RuleEngine.DecideBindCore(Index(), request);
            int errno = LabProcess.Errno(reply);
            _report.Compare(this, "setsockopt(SO_BINDTODEVICE, " + device + ")", Name(Kind(errno), errno), Name(predicted.Error, 0), () => BindExplanation.Reason(predicted, request, predicted.Error.ToString()));
            if (errno == 0)
            {
                _lab.Root.Do("close " + id);
            }
        }

        public void Close(LabSocket socket)
        {
            Lab(socket).Do("close " + socket.Id);
            if (socket.Tuple is not null)
            {
                _table.Remove(socket.Tuple);
                socket.Tuple = null;
            }

            _sockets.Remove(socket);
        }

        public string Script => _script.ToString();

        private void ComparePrediction(string step, DemuxRequest request, string kernel)
        {
            DemuxDecision decision = RuleEngine.DecideDeliveryCore(Index(), request);
            string predicted;
            bool agrees;
            if (decision.Outcome != DemuxOutcome.Delivered)
            {
                predicted = decision.Outcome.ToString();
                agrees = predicted == kernel;
            }
            else if (decision.Sockets is { Count: > 1 } && decision.Stage != DemuxStage.Multicast)
            {
                // A SO_REUSEPORT group: the kernel's hash picks one member; the engine names the group.
                string[] members = decision.Sockets.Select(s => LabName(s.Socket)).OrderBy(s => s, StringComparer.Ordinal).ToArray();
                predicted = "one of {" + string.Join(",", members) + "}";
                agrees = members.Contains(kernel);
            }
            else
            {
                IEnumerable<IndexedSocket> receivers = decision.Sockets ?? (IEnumerable<IndexedSocket>)new[] { decision.Socket! };
                predicted = string.Join(",", receivers.Select(s => LabName(s.Socket)).OrderBy(s => s, StringComparer.Ordinal));
                agrees = predicted == kernel;
            }

            _report.Compare(this, step, kernel, predicted, () => DemuxExplanation.ToResult(decision, TargetOS.Linux).Reason, agrees);
            _script.Append(step).Append(" => ").Append(kernel).Append("; ");
        }

        private string? AcceptingListener()
        {
            for (int attempt = 0; attempt < 10; attempt++)
            {
                foreach (LabSocket socket in _sockets.Where(s => s.Tuple?.State == SocketState.Listen))
                {
                    string? accepted = Accept(socket);
                    if (accepted is not null)
                    {
                        Lab(socket).Do("linger0 " + accepted);
                        Lab(socket).Do("close " + accepted);
                        return socket.Id;
                    }
                }

                _lab.Root.Do("sleep 5");
            }

            return null;
        }

        private string? Accept(LabSocket listener)
        {
            string reply = Lab(listener).Do("accept " + listener.Id);
            return reply.StartsWith("ok ", StringComparison.Ordinal) ? reply.Split(' ')[1] : null;
        }

        /// <summary>The lab id a table socket carries as its owner's name; entries without one (TIME-WAIT) print whole.</summary>
        private static string LabName(SocketTuple socket) => socket.Processes.Count > 0 ? socket.Processes[0].ProcessName! : socket.ToString();

        /// <summary>The table with its exact bind()/listen() history, so the engine replays the kernel's bind-bucket caches.</summary>
        private SocketIndex Index() => SocketIndex.Build(_table, _lab.Facts, _history);

        private void Replace(SocketTuple old, SocketTuple replacement) => _table[_table.IndexOf(old)] = replacement;

        private LabProcess Lab(LabSocket socket) => socket.OtherUser ? _lab.Other ?? throw new InvalidOperationException("no other-user lab without root") : _lab.Root;

        private static BindErrorKind Kind(int errno) => BindErrors.FromLinuxErrno(errno) ?? (BindErrorKind)(-errno);

        private static string Name(BindErrorKind kind, int errno) => kind switch
        {
            BindErrorKind.None => "ok",
            _ when (int)kind < 0 => "errno " + errno,
            _ => BindErrors.Describe(TargetOS.Linux, kind)!.Value.Name,
        };

        public void Dispose()
        {
            foreach (LabSocket socket in _sockets.ToArray())
            {
                Lab(socket).Do("close " + socket.Id);
            }
        }
    }
}
