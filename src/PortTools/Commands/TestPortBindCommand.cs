using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Commands
{
    /// <summary>
    /// Test-PortBind: would bind() (and listen()) succeed? On the live host by a real trial bind
    /// explained by the rule engine; with -SocketTable by the rule engine alone. With -Path, the same
    /// question for a UNIX domain socket: what is at the path, and who holds it.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "PortBind", DefaultParameterSetName = ProbeSet)]
    [OutputType(typeof(PortBindResult), ParameterSetName = new[] { ProbeSet, SimulateSet })]
    [OutputType(typeof(UnixBindResult), ParameterSetName = new[] { PathSet, PathSimulateSet })]
    [OutputType(typeof(bool))]
    public sealed class TestPortBindCommand : PortToolsCmdlet
    {
        private const string ProbeSet = "Probe";
        private const string SimulateSet = "Simulate";
        private const string PathSet = "Path";
        private const string PathSimulateSet = "PathSimulate";

        private readonly PipelineRows _rows = new PipelineRows();
        private readonly HashSet<string> _warnedComputers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private IReadOnlyList<(SocketIndex Index, string? ComputerName)>? _indexes;
        private List<UnixSocket>? _unixTable;

        /// <summary>The ports to check; 0 asks whether the kernel can pick one. Needed unless ports come from the pipeline.</summary>
        [Parameter(Position = 0, ParameterSetName = ProbeSet)]
        [Parameter(Position = 0, ParameterSetName = SimulateSet)]
        [Alias("LocalPort")]
        [ValidateRange(0, 65535)]
        public int[] Port { get; set; } = Array.Empty<int>();

        /// <summary>
        /// Ports from the pipeline, each read whole: numbers (or their text), or objects with Port (or
        /// LocalPort, as sockets have), and optionally Address and Protocol, such as CSV rows. A value
        /// given on the command line stands for every row. A value that does not convert, or a
        /// missing port, is an error for that row alone. Objects with a FullName (files from
        /// Get-ChildItem) and no port are UNIX socket paths, checked as -Path checks them.
        /// </summary>
        [Parameter(ValueFromPipeline = true, ParameterSetName = ProbeSet)]
        [Parameter(ValueFromPipeline = true, ParameterSetName = SimulateSet)]
        public PSObject? InputObject { get; set; }

        /// <summary>The address to bind; 0.0.0.0 by default. An IPv6 address makes an IPv6 socket.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        [ValidateNotNull]
        public IPAddress Address { get; set; } = IPAddress.Any;

        /// <summary>TCP (the default) or UDP.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public TransportProtocol Protocol { get; set; } = TransportProtocol.Tcp;

        /// <summary>Set SO_REUSEADDR.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>Set SO_REUSEPORT.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter ReusePort { get; set; }

        /// <summary>SO_REUSEPORT_LB: join a load-balancing group (FreeBSD 12 and later; elsewhere ENOPROTOOPT).</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter ReusePortLoadBalance { get; set; }

        /// <summary>SO_EXCLUSIVEADDRUSE: no later socket may share the port (Windows; elsewhere ENOPROTOOPT).</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter ExclusiveAddressUse { get; set; }

        /// <summary>SO_BROADCAST, which Windows needs to bind a broadcast address.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter Broadcast { get; set; }

        /// <summary>IP_FREEBIND (Linux) or IP_BINDANY (FreeBSD): allow an address this host does not have.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter FreeBind { get; set; }

        /// <summary>IPV6_V6ONLY for an IPv6 address: -IPv6Only sets it, -IPv6Only:$false clears it, omitted leaves the OS default.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter IPv6Only { get; set; }

        /// <summary>Bind to this device (SO_BINDTODEVICE).</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        [ArgumentCompleter(typeof(InterfaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Interface { get; set; }

        /// <summary>Also call listen() (TCP), which checks conflicts again.</summary>
        [Parameter(ParameterSetName = ProbeSet)]
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter Listen { get; set; }

        /// <summary>Write only $true or $false per port or path.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>
        /// A UNIX domain socket address to check instead of a port: a file system path (relative paths
        /// resolve against the current location), or @name for an abstract name. Binds the FullName of
        /// Get-ChildItem output, so socket files can be piped in.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSimulateSet)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>With -Path: the type of the socket to bind (Stream by default). An abstract name is taken only by a socket of the same type.</summary>
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = PathSimulateSet)]
        public UnixSocketType SocketType { get; set; } = UnixSocketType.Stream;

        /// <summary>Simulate against this table instead of binding on this host: SocketTuples (UnixSockets with -Path), their text form, or objects that carry them.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SimulateSet)]
        [Parameter(Mandatory = true, ParameterSetName = PathSimulateSet)]
        [AllowEmptyCollection]
        public object[] SocketTable { get; set; } = Array.Empty<object>();

        /// <summary>
        /// The facts of the host the table belongs to: a SocketHost from Get-SocketHost (run there, or
        /// with -NetworkNamespace), an object that carries one (remoting, Import-Clixml,
        /// ConvertFrom-Json) or its JSON text. Without it, the facts are those of the namespace this
        /// session read the table from, or else unknown.
        /// </summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateNotNull]
        public PSObject? SocketHost { get; set; }

        /// <summary>
        /// A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id.
        /// The trial bind happens inside it, against its table and facts; with -SocketTable, its facts are
        /// used (and of a table of several namespaces, only its sockets); with an abstract -Path, its names are checked.
        /// </summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <summary>The simulated host's addresses (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        public IPAddress[]? LocalAddress { get; set; }

        /// <summary>The simulated net.ipv4.ip_unprivileged_port_start (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0, 65536)]
        public int UnprivilegedPortStart { get; set; }

        /// <summary>The simulated ephemeral port range, such as 32768-60999 (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public PortRange EphemeralPortRange { get; set; }

        /// <summary>The simulated user id that binds (default: the SocketHost's; unknown without one). Any uid but 0 is unprivileged unless -Privileged says otherwise. With -Path, the user whose permissions on the directories are evaluated (default: the caller).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = PathSimulateSet)]
        [ValidateRange(0L, 4294967295L)]
        public long UserId { get; set; }

        /// <summary>Whether the simulated user may bind privileged ports (default: the SocketHost's, or as -UserId implies; unknown without either).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter Privileged { get; set; }

        /// <summary>Whose rules to simulate: Linux, Windows, FreeBSD or MacOS (default: the SocketHost's OS, else this host's).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public TargetOS TargetOS { get; set; }

        /// <summary>The simulated net.ipv4.ip_nonlocal_bind (and net.ipv6.ip_nonlocal_bind): an address the host does not have may be bound (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter NonLocalBind { get; set; }

        /// <summary>The simulated net.ipv4.ip_autobind_reuse: bind(0) with SO_REUSEADDR may share a port once none is free (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter AutobindReuse { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (ParameterSetName == PathSet)
            {
                return; // each path is checked on its own, against the file system and the sockets of the moment
            }

            if (ParameterSetName == PathSimulateSet)
            {
                _unixTable = ConvertUnixTable(SocketTable);
                if (NetworkNamespace is not null && NetworkNamespacePartition.Count(_unixTable, s => s.NetworkNamespace) > 1)
                {
                    // Of a table of several namespaces, only the one asked for.
                    ulong wanted = 0;
                    try
                    {
                        wanted = LiveNetworkNamespace.InodeOf(NetworkNamespace);
                    }
                    catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException)
                    {
                        ThrowCoreError(exception, "NetworkNamespaceNotFound", NetworkNamespace);
                    }

                    List<UnixSocket> chosen = _unixTable.Where(s => s.NetworkNamespace?.Inode == wanted).ToList();
                    if (chosen.Count == 0)
                    {
                        ThrowTerminatingError(new ErrorRecord(
                            new ArgumentException("The socket table holds no socket of network namespace '" + NetworkNamespace + "'."),
                            "NetworkNamespaceNotInSocketTable",
                            ErrorCategory.InvalidArgument,
                            NetworkNamespace));
                    }

                    _unixTable = chosen;
                }

                return;
            }

            if (!Bound(nameof(Port)) && !Bound(nameof(InputObject)) && !MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give the ports to check, as in Test-PortBind 8080, or pipe them in (numbers, or objects with a Port or LocalPort)."),
                    "PortMissing",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            if (ParameterSetName == SimulateSet)
            {
                List<SocketTuple> table = SocketTableInput.Convert(SocketTable, WriteError);
                TargetOS? os = Bound(nameof(TargetOS)) ? TargetOS : null;

                // Sockets of different computers or network namespaces never conflict: a table that holds
                // several is answered computer by computer and namespace by namespace, each with its own facts.
                _indexes = SimulationIndexes(table, SocketHost, NetworkNamespace, os, host => host.With(
                    LocalAddress,
                    Bound(nameof(UnprivilegedPortStart)) ? UnprivilegedPortStart : null,
                    Bound(nameof(EphemeralPortRange)) ? EphemeralPortRange : null,
                    Bound(nameof(UserId)) ? UserId : null,
                    Bound(nameof(Privileged)) ? Privileged.IsPresent : null,
                    nonLocalBind: Bound(nameof(NonLocalBind)) ? NonLocalBind.IsPresent : null,
                    autobindReuse: Bound(nameof(AutobindReuse)) ? AutobindReuse.IsPresent : null))
                    .ConvertAll(i => (i.Index, i.ComputerName));
                return;
            }

            try
            {
                SocketHost host = ReadSocketHost(NetworkNamespace);
                SocketTableReadResult live = ReadLiveTable(new SocketQuery { NetworkNamespace = NetworkNamespace });
                foreach (string warning in live.Warnings)
                {
                    // Answers name the unknown options they turn on (DependsOn); the others are not this question's.
                    if (!SocketTableReadResult.IsSocketOptionsWarning(warning))
                    {
                        WriteWarning(warning);
                    }
                }

                _indexes = new[] { (SocketIndex.Build(live.Sockets, HostFacts.From(host), SocketTableOrder.KernelOrder), (string?)null) };
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception exception) when (exception is not PipelineStoppedException)
            {
                ThrowCoreError(exception, "SocketTableReadFailed", null);
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (ParameterSetName is PathSet or PathSimulateSet)
            {
                foreach (string path in Path)
                {
                    if (CancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    CheckPath(path);
                    CountItemProgress("paths checked");
                }

                return;
            }

            if (_indexes is null)
            {
                return;
            }

            IReadOnlyList<int> ports = Port;
            IPAddress address = Address;
            TransportProtocol protocol = Protocol;
            if (Bound(nameof(InputObject)) && !ReadRow(ref ports, ref address, ref protocol))
            {
                return;
            }

            if (IPv6Only.IsPresent && address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                WriteError(new ErrorRecord(new ArgumentException("-IPv6Only applies to IPv6 addresses, but " + address + " is IPv4."), "IPv6OnlyNeedsIPv6Address", ErrorCategory.InvalidArgument, address));
                return;
            }

            var requests = new List<BindRequest>(ports.Count);
            foreach (int port in ports)
            {
                requests.Add(new BindRequest
                {
                    Protocol = protocol,
                    Address = address,
                    Port = port,
                    ReuseAddress = ReuseAddress.IsPresent,
                    ReusePort = ReusePort.IsPresent,
                    ReusePortLoadBalance = ReusePortLoadBalance.IsPresent,
                    ExclusiveAddressUse = ExclusiveAddressUse.IsPresent,
                    Broadcast = Broadcast.IsPresent,
                    FreeBind = FreeBind.IsPresent,
                    IPv6Only = address.AddressFamily == AddressFamily.InterNetworkV6 && Bound(nameof(IPv6Only)) ? IPv6Only.IsPresent : null,
                    Interface = Interface,
                    Listen = Listen.IsPresent,
                });
            }

            // Computer by computer, so that each one's answers stand together under its view's
            // ComputerName header; a request that is not valid is said once, not once per computer.
            HashSet<int>? invalid = null;
            for (int i = 0; i < _indexes.Count; i++)
            {
                (SocketIndex index, string? computer) = _indexes[i];
                foreach (BindRequest request in requests)
                {
                    if (CancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    if (invalid is not null && invalid.Contains(request.Port))
                    {
                        continue;
                    }

                    PortBindResult result;
                    try
                    {
                        result = ParameterSetName == SimulateSet ? RuleEngine.DecideBind(index, request, computer) : LiveBindCheck.Probe(index, request, NetworkNamespace);
                    }
                    catch (Exception exception) when (exception is PlatformNotSupportedException or NetworkNamespaceException)
                    {
                        ThrowCoreError(exception, "PlatformNotSupported", request.Port);
                        return;
                    }
                    catch (Exception exception) when (exception is ArgumentException or FormatException)
                    {
                        WriteCoreError(exception, "InvalidBindRequest", request.Port);
                        (invalid ??= new HashSet<int>()).Add(request.Port);
                        continue;
                    }

                    WriteAnswer(result, result.CanBind, result.ToString());
                    if (i == 0)
                    {
                        CountItemProgress("ports checked");
                    }
                }
            }
        }

        private void CheckPath(string path)
        {
            IReadOnlyList<UnixBindResult> results;
            try
            {
                UnixAddressKind kind = UnixBindRules.Classify(path);
                if (ParameterSetName == PathSimulateSet)
                {
                    results = UnixBindRules.Simulate(path, _unixTable!, Bound(nameof(UserId)) ? UserId : null, null, SocketType);
                }
                else
                {
                    if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
                    {
                        throw new PlatformNotSupportedException("Test-PortBind -Path checks this host on Linux only in this version; give -SocketTable to simulate.");
                    }

                    string? fullPath = kind == UnixAddressKind.Path ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(path) : null;
                    results = new[] { LiveUnixBindCheck.Probe(path, fullPath, Bound(nameof(UserId)) ? UserId : null, NetworkNamespace, SocketType, CancellationToken) };
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (PlatformNotSupportedException exception)
            {
                ThrowCoreError(exception, "PlatformNotSupported", path);
                return;
            }
            catch (Exception exception) when (exception is ArgumentException or NetworkNamespaceException or System.IO.IOException or UnauthorizedAccessException)
            {
                WriteCoreError(exception, exception is ArgumentException ? "InvalidUnixSocketPath" : "UnixPathCheckFailed", path);
                return;
            }

            foreach (UnixBindResult result in results)
            {
                WriteAnswer(result, result.CanBind, result.ToString());
            }
        }

        private void WriteAnswer(object result, bool? canBind, string text)
        {
            if (Quiet.IsPresent)
            {
                // -Quiet promises a bool: an answer that turns on unknown facts is not a yes.
                if (canBind is null)
                {
                    WriteWarning(text + ": the answer depends on what is not known; $false is written. Run without -Quiet for the reason.");
                }

                WriteObject(canBind == true);
            }
            else
            {
                WriteObject(result);
            }
        }

        private List<UnixSocket> ConvertUnixTable(IEnumerable<object?> entries)
        {
            var table = new List<UnixSocket>();
            int position = 0;
            foreach (object? entry in entries)
            {
                position++;
                if (PowerShellObjects.TryConvertUnixSocket(entry, out UnixSocket? socket, out string? error))
                {
                    table.Add(socket);
                    continue;
                }

                var exception = new ArgumentException("Socket table entry " + position + " is not a UNIX socket and was left out: " + error.TrimEnd('.') + ".");
                WriteError(new ErrorRecord(exception, SocketTableInput.ErrorId, ErrorCategory.InvalidArgument, entry));
            }

            return table;
        }

        /// <inheritdoc/>
        protected override void EndProcessing() => CompleteItemProgress();

        /// <summary>
        /// Reads the pipeline row into the question: its ports, address and protocol, each from the
        /// command line when given there. False (after writing the row's error, or checking the
        /// path it names) when the row asks no port question.
        /// </summary>
        private bool ReadRow(ref IReadOnlyList<int> ports, ref IPAddress address, ref TransportProtocol protocol)
        {
            _rows.Next(InputObject);
            if (_rows.IsScalar)
            {
                if (Bound(nameof(Port)))
                {
                    WriteError(_rows.NotUsed("'" + _rows.Value + "' was not used: -Port is given on the command line. Give the ports either way, not both."));
                    return false;
                }

                if (!RowValue.TryPort(_rows.Value, out int port, out string? expected))
                {
                    WriteError(_rows.NotValid("The port", _rows.Value, expected));
                    return false;
                }

                ports = new[] { port };
                return true;
            }

            if (!Bound(nameof(Port)))
            {
                string? name = _rows.TryGet(nameof(Port), out object? value) ? nameof(Port) : _rows.TryGet("LocalPort", out value) ? "LocalPort" : null;
                if (name is null)
                {
                    if (!_rows.IsSocket && (_rows.TryGet("FullName", out object? file) || _rows.TryGet(nameof(Path), out file)) && file is string path)
                    {
                        if (ParameterSetName == ProbeSet)
                        {
                            CheckPath(path);
                        }
                        else
                        {
                            WriteError(_rows.NotUsed("'" + path + "' is a path, which is checked against a table of UNIX sockets: give -Path with -SocketTable of UnixSockets, as in Test-PortBind -Path $file.FullName -SocketTable $unixSockets."));
                        }

                        return false;
                    }

                    WriteError(_rows.Missing("Port (or LocalPort)", RowValue.PortExpected));
                    return false;
                }

                var list = new List<int>();
                foreach (object? one in value is System.Collections.IEnumerable many and not string ? many.Cast<object?>().Select(PowerShellObjects.Unwrap) : new[] { value })
                {
                    if (!RowValue.TryPort(one, out int port, out string? expected))
                    {
                        WriteError(_rows.NotValid(name, one, expected));
                        return false;
                    }

                    list.Add(port);
                }

                ports = list;
            }

            if (!Bound(nameof(Address)) && _rows.TryGet(nameof(Address), out object? given))
            {
                if (!RowValue.TryAddress(given, out IPAddress? parsed, out string? expected))
                {
                    WriteError(_rows.NotValid(nameof(Address), given, expected));
                    return false;
                }

                address = parsed;
            }

            if (!Bound(nameof(Protocol)) && _rows.TryGet(nameof(Protocol), out object? named) && !RowValue.TryEnum(named, out protocol, out string? protocolExpected))
            {
                WriteError(_rows.NotValid(nameof(Protocol), named, protocolExpected));
                return false;
            }

            if (ParameterSetName == ProbeSet && _rows.ComputerName() is string computer && !ComputerNames.IsThisHost(computer) && _warnedComputers.Add(computer))
            {
                WriteWarning("Sockets of " + computer + " were piped in, but the trial bind ran on this host (" + Environment.MachineName + "), not on " + computer
                    + ". To ask about " + computer + ", give its sockets as the table: Test-PortBind <port> -SocketTable $sockets, or run Test-PortBind there (Invoke-Command).");
            }

            return true;
        }

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}
