using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;

namespace PortTools.Commands
{
    /// <summary>
    /// Test-PortConnect: would connect() to a destination get a source port, which one, how many
    /// remain, and what holds the others? A simulation against the live table and host facts (this
    /// host, or a network namespace) or a given table: nothing is sent.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "PortConnect", DefaultParameterSetName = LiveSet)]
    [OutputType(typeof(PortConnectResult))]
    [OutputType(typeof(bool))]
    public sealed class TestPortConnectCommand : PortToolsCmdlet
    {
        private const string LiveSet = "Live";
        private const string SimulateSet = "Simulate";

        private readonly PipelineRows _rows = new PipelineRows();
        private IReadOnlyList<(SocketIndex Index, string? ComputerName)>? _indexes;
        private LiveConnectProbe? _probe;

        /// <summary>Where to connect: 10.0.0.5:5432 or [2001:db8::5]:443. Needed unless destinations come from the pipeline.</summary>
        [Parameter(Position = 0)]
        [Alias("Remote")]
        [DestinationTransformation]
        [ValidateNotNull]
        public IPEndPoint? Destination { get; set; }

        /// <summary>
        /// Destinations from the pipeline, each read whole: endpoints or their text, sockets (their
        /// peer), or objects with Destination (or Remote) and optionally Protocol and SourceAddress,
        /// such as CSV rows. A value given on the command line stands for every row. A value that does
        /// not convert, or a missing destination, is an error for that row alone.
        /// </summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>TCP (the default) or UDP.</summary>
        [Parameter]
        public TransportProtocol Protocol { get; set; } = TransportProtocol.Tcp;

        /// <summary>bind() to this address before connect(); without it (and without -Port) connect() binds by itself.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        [ValidateNotNull]
        public IPAddress? Address { get; set; }

        /// <summary>bind() to this port before connect(); 0 lets the kernel pick one at bind().</summary>
        [Parameter]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>The source address the route gives, when it is not to be asked of the host or read from the table (no bind()).</summary>
        [Parameter]
        [ValidateNotNull]
        public IPAddress? SourceAddress { get; set; }

        /// <summary>Set SO_REUSEADDR on the connecting socket.</summary>
        [Parameter]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>Set SO_REUSEPORT on the connecting socket.</summary>
        [Parameter]
        public SwitchParameter ReusePort { get; set; }

        /// <summary>IP_BIND_ADDRESS_NO_PORT: bind() records only the address, and connect() picks the port (Linux).</summary>
        [Parameter]
        public SwitchParameter BindAddressNoPort { get; set; }

        /// <summary>IP_LOCAL_PORT_RANGE: the socket's own range inside the system's (Linux 6.3+).</summary>
        [Parameter]
        public PortRange? LocalPortRange { get; set; }

        /// <summary>How many connect() calls of this kind, one after another, must succeed (default 1).</summary>
        [Parameter]
        [ValidateRange(1, 65536)]
        public int Count { get; set; } = 1;

        /// <summary>Write only $true or $false per destination.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>
        /// A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id.
        /// The question is asked of its table, facts and routes; with -SocketTable, its facts are used.
        /// </summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <summary>Simulate against this table instead of the live one: SocketTuples, their text form, or objects that carry them.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SimulateSet)]
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

        /// <summary>Whose rules to simulate: Linux, Windows, FreeBSD or MacOS (default: the SocketHost's OS, else this host's).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public TargetOS TargetOS { get; set; }

        /// <summary>The simulated host's addresses (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        public IPAddress[]? LocalAddress { get; set; }

        /// <summary>The simulated ephemeral port range, such as 32768-60999 (default: the SocketHost's; unknown without one, when the OS default stands in).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public PortRange EphemeralPortRange { get; set; }

        /// <summary>The simulated reserved ports (Linux ip_local_reserved_ports; Windows excluded port ranges; default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public PortRange[]? ReservedPorts { get; set; }

        /// <summary>The simulated net.ipv4.ip_unprivileged_port_start (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0, 65536)]
        public int UnprivilegedPortStart { get; set; }

        /// <summary>The simulated user id that connects (default: the SocketHost's; unknown without one). Any uid but 0 is unprivileged unless -Privileged says otherwise.</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0L, 4294967295L)]
        public long UserId { get; set; }

        /// <summary>Whether the simulated user may bind privileged ports (default: the SocketHost's, or as -UserId implies; unknown without either).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter Privileged { get; set; }

        /// <summary>The simulated net.ipv4.ip_nonlocal_bind and net.ipv6.ip_nonlocal_bind (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter NonLocalBind { get; set; }

        /// <summary>The simulated net.ipv4.ip_autobind_reuse (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter AutobindReuse { get; set; }

        /// <summary>The simulated net.ipv4.tcp_tw_reuse: 0, 1 or 2 (TCP only; default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0, 2)]
        public int TcpTwReuse { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (!Bound(nameof(Destination)) && !Bound(nameof(InputObject)) && !MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give the destination, as in Test-PortConnect 10.0.0.5:5432, or pipe destinations in."),
                    "DestinationMissing",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            if (ParameterSetName == SimulateSet)
            {
                List<SocketTuple> table = SocketTableInput.Convert(SocketTable, WriteError);
                TargetOS? os = Bound(nameof(TargetOS)) ? TargetOS : null;

                // Each computer and network namespace has its own ports: a table that holds several is
                // answered computer by computer and namespace by namespace, each with its own facts.
                _indexes = SimulationIndexes(table, SocketHost, NetworkNamespace, os, host => host.With(
                    LocalAddress,
                    Bound(nameof(UnprivilegedPortStart)) ? UnprivilegedPortStart : null,
                    Bound(nameof(EphemeralPortRange)) ? EphemeralPortRange : null,
                    Bound(nameof(UserId)) ? UserId : null,
                    Bound(nameof(Privileged)) ? Privileged.IsPresent : null,
                    nonLocalBind: Bound(nameof(NonLocalBind)) ? NonLocalBind.IsPresent : null,
                    autobindReuse: Bound(nameof(AutobindReuse)) ? AutobindReuse.IsPresent : null,
                    tcpTwReuse: Bound(nameof(TcpTwReuse)) ? TcpTwReuse : null,
                    reservedPorts: ReservedPorts))
                    .ConvertAll(i => (i.Index, i.ComputerName));
                return;
            }

            try
            {
                SocketHost host = ReadSocketHost(NetworkNamespace);
                _probe = LiveConnectProbe.Open(NetworkNamespace);
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
                ThrowCoreError(exception, "SocketTableReadFailed", NetworkNamespace);
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (_indexes is null || CancellationToken.IsCancellationRequested)
            {
                return;
            }

            IPEndPoint? destination = Destination;
            TransportProtocol protocol = Protocol;
            IPAddress? sourceAddress = SourceAddress;
            if (Bound(nameof(InputObject)) && !ReadRow(ref destination, ref protocol, ref sourceAddress))
            {
                return;
            }

            if (destination is null)
            {
                return;
            }

            if (Bound(nameof(TcpTwReuse)) && protocol == TransportProtocol.Udp)
            {
                WriteError(new ErrorRecord(
                    new ArgumentException("-TcpTwReuse is a TCP setting (net.ipv4.tcp_tw_reuse: when connect() may take over a TIME-WAIT entry), and UDP has no TIME-WAIT: leave it out for the UDP destination " + EndpointText.Format(destination.Address, destination.Port) + "."),
                    "TcpOptionForUdp",
                    ErrorCategory.InvalidArgument,
                    destination));
                return;
            }

            var request = new ConnectRequest
            {
                Protocol = protocol,
                Destination = destination,
                Address = Address,
                Port = Port,
                SourceAddress = sourceAddress,
                ReuseAddress = ReuseAddress.IsPresent,
                ReusePort = ReusePort.IsPresent,
                BindAddressNoPort = BindAddressNoPort.IsPresent,
                LocalPortRange = LocalPortRange,
                Count = Count,
            };

            try
            {
                string? invalid = request.Validate();
                if (invalid is not null)
                {
                    throw new ArgumentException(invalid);
                }

                if (_probe is not null)
                {
                    request = _probe.Complete(request);
                }
            }
            catch (Exception exception) when (exception is PlatformNotSupportedException)
            {
                ThrowCoreError(exception, "PlatformNotSupported", destination);
                return;
            }
            catch (NetworkNamespaceException exception)
            {
                WriteCoreError(exception, "NetworkNamespaceFailed", NetworkNamespace);
                return;
            }
            catch (ArgumentException exception)
            {
                WriteCoreError(exception, "InvalidConnectRequest", destination);
                return;
            }

            foreach ((SocketIndex index, string? computer) in _indexes)
            {
                HostFacts facts = index.Facts;
                if (LocalPortRange is PortRange own && facts.Knows(KnownHostFacts.EphemeralPortRange) && facts.OS == PortTools.TargetOS.Linux
                    && (own.Start < facts.EphemeralPortRange.Start || own.End > facts.EphemeralPortRange.End))
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException("-LocalPortRange " + own + " reaches outside the system range " + facts.EphemeralPortRange + " (net.ipv4.ip_local_port_range" + (index.NetworkNamespace is null ? string.Empty : " of network namespace " + index.NetworkNamespace) + "): IP_LOCAL_PORT_RANGE cannot widen it, and the kernel ignores a bound outside it. Give a range inside " + facts.EphemeralPortRange + "."),
                        "LocalPortRangeOutsideSystemRange",
                        ErrorCategory.InvalidArgument,
                        own));
                    continue;
                }

                PortConnectResult? result = null;
                bool? canConnect;
                try
                {
                    // -Quiet wants only the yes or no: the answer is put into words only when it is written or unknown.
                    canConnect = Quiet.IsPresent ? RuleEngine.CanConnect(index, request) : null;
                    if (!Quiet.IsPresent || canConnect is null)
                    {
                        result = RuleEngine.DecideConnect(index, request, computer);
                        canConnect = result.CanConnect;
                    }
                }
                catch (Exception exception) when (exception is PlatformNotSupportedException)
                {
                    ThrowCoreError(exception, "PlatformNotSupported", destination);
                    return;
                }
                catch (ArgumentException exception)
                {
                    WriteCoreError(exception, "InvalidConnectRequest", destination);
                    return;
                }

                if (Quiet.IsPresent)
                {
                    // -Quiet promises a bool: an answer that turns on unknown facts is not a yes.
                    if (canConnect is null)
                    {
                        WriteWarning(result + ": the answer depends on what is not known; $false is written. Run without -Quiet for the reason.");
                    }

                    WriteObject(canConnect == true);
                }
                else
                {
                    WriteObject(result);
                }
            }

            CountItemProgress("destinations checked");
        }

        /// <inheritdoc/>
        protected override void EndProcessing() => CompleteItemProgress();

        /// <summary>
        /// Reads the pipeline row into the question: its destination, protocol and source address,
        /// each from the command line when given there. False after writing the row's error.
        /// </summary>
        private bool ReadRow(ref IPEndPoint? destination, ref TransportProtocol protocol, ref IPAddress? sourceAddress)
        {
            _rows.Next(InputObject);
            object? given = _rows.Value;
            string property = "The destination";
            if (!_rows.IsScalar && _rows.Value is not SocketTuple)
            {
                property = _rows.TryGet(nameof(Destination), out given) ? nameof(Destination) : _rows.TryGet("Remote", out given) ? "Remote" : string.Empty;
                if (property.Length == 0 && !Bound(nameof(Destination)))
                {
                    WriteError(_rows.Missing("Destination (or Remote)", RowValue.EndpointExpected));
                    return false;
                }
            }
            else if (Bound(nameof(Destination)))
            {
                WriteError(_rows.NotUsed("'" + _rows.Value + "' was not used: -Destination is given on the command line. Give the destinations either way, not both."));
                return false;
            }

            if (!Bound(nameof(Destination)))
            {
                try
                {
                    destination = (IPEndPoint)new DestinationTransformationAttribute().Transform(null!, given!);
                }
                catch (Exception exception) when (exception is ArgumentTransformationMetadataException or InvalidCastException)
                {
                    WriteError(exception is ArgumentTransformationMetadataException ? _rows.NotValidBecause(property, given, exception.Message) : _rows.NotValid(property, given, RowValue.EndpointExpected));
                    return false;
                }
            }

            if (!Bound(nameof(Protocol)) && _rows.TryGet(nameof(Protocol), out object? named) && !RowValue.TryEnum(named, out protocol, out string? expected))
            {
                WriteError(_rows.NotValid(nameof(Protocol), named, expected));
                return false;
            }

            if (!Bound(nameof(SourceAddress)) && _rows.TryGet(nameof(SourceAddress), out object? source))
            {
                if (!RowValue.TryAddress(source, out IPAddress? parsed, out string? addressExpected))
                {
                    WriteError(_rows.NotValid(nameof(SourceAddress), source, addressExpected));
                    return false;
                }

                sourceAddress = parsed;
            }

            return true;
        }

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}
