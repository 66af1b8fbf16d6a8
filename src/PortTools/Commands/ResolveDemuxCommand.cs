using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;

namespace PortTools.Commands
{
    /// <summary>
    /// Resolve-Demux: which socket the kernel delivers an incoming TCP segment or UDP datagram to,
    /// following the OS's lookup rules, against the live table (read once per pipeline) or a given one.
    /// </summary>
    // No default parameter set on purpose: PowerShell coerces pipeline values (CSV strings) only
    // within the default set, so with one, Import-Csv rows could never reach the Address set.
    [Cmdlet(VerbsDiagnostic.Resolve, "Demux")]
    [OutputType(typeof(DemuxResult))]
    public sealed class ResolveDemuxCommand : PortToolsCmdlet
    {
        private const string EndpointSet = "Endpoint";
        private const string AddressSet = "Address";
        private const string InputSet = "InputObject";

        private readonly PipelineRows _rows = new PipelineRows();

        private List<(SocketIndex Index, SocketHost Host, string? ComputerName)>? _targets;

        /// <summary>
        /// Packets from the pipeline, each read whole: objects with Protocol, Source and Destination
        /// (endpoint text), or Protocol, SourceAddress, SourcePort, DestinationAddress and
        /// DestinationPort (CSV rows), and optionally Interface and Segment. A value given on the
        /// command line stands for every packet. A value that does not convert, or a missing one, is
        /// an error for that packet alone. A socket is not a packet: one piped here is an error.
        /// </summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
        public PSObject? InputObject { get; set; }

        /// <summary>TCP or UDP.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = EndpointSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = AddressSet)]
        [Parameter(Position = 0, ParameterSetName = InputSet)]
        public TransportProtocol Protocol { get; set; }

        /// <summary>The sender, as 198.51.100.7:40000 or [2001:db8::7]:40000.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = EndpointSet)]
        [Parameter(ParameterSetName = InputSet)]
        [EndpointTransformation]
        [ValidateNotNull]
        public IPEndPoint? Source { get; set; }

        /// <summary>The destination on this host, as 192.168.1.10:8080.</summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = EndpointSet)]
        [Parameter(ParameterSetName = InputSet)]
        [EndpointTransformation]
        [ValidateNotNull]
        public IPEndPoint? Destination { get; set; }

        /// <summary>The sender's address (for objects with separate address and port properties, such as CSV rows).</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet)]
        [Parameter(ParameterSetName = InputSet)]
        [ValidateNotNull]
        public IPAddress? SourceAddress { get; set; }

        /// <summary>The sender's port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet)]
        [Parameter(ParameterSetName = InputSet)]
        [ValidateRange(0, 65535)]
        public int SourcePort { get; set; }

        /// <summary>The destination address.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet)]
        [Parameter(ParameterSetName = InputSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        [ValidateNotNull]
        public IPAddress? DestinationAddress { get; set; }

        /// <summary>The destination port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet)]
        [Parameter(ParameterSetName = InputSet)]
        [ValidateRange(0, 65535)]
        public int DestinationPort { get; set; }

        /// <summary>The interface the packet arrives on (default: the one that holds the destination address).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(InterfaceCompleter))]
        public string? Interface { get; set; }

        /// <summary>TCP: a SYN (the default) or another segment of a connection.</summary>
        [Parameter]
        public TcpSegmentKind Segment { get; set; } = TcpSegmentKind.Syn;

        /// <summary>The socket table to resolve against (default: this host's live table): SocketTuples, their text form, or objects that carry them.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public object[]? SocketTable { get; set; }

        /// <summary>Whose rules to follow with -SocketTable: Linux, Windows, FreeBSD or MacOS (default: the SocketHost's OS, else this host's).</summary>
        [Parameter]
        public TargetOS? TargetOS { get; set; }

        /// <summary>
        /// With -SocketTable, the facts of the host the table belongs to (its addresses tell which
        /// interface a packet arrives on): a SocketHost from Get-SocketHost, an object that carries
        /// one, or its JSON text. Without it, the facts are those of the namespace this session read
        /// the table from, or else unknown.
        /// </summary>
        [Parameter]
        [ValidateNotNull]
        public PSObject? SocketHost { get; set; }

        /// <summary>A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id. Its live table and facts are used; with -SocketTable, its facts.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (SocketTable is not null)
            {
                List<SocketTuple> table = SocketTableInput.Convert(SocketTable, WriteError);
                // A table of several computers, or of several network namespaces, is answered computer by
                // computer and namespace by namespace (a packet arrives in one), each against its own facts.
                _targets = SimulationIndexes(table, SocketHost, NetworkNamespace, TargetOS, host => host);

                return;
            }

            if (SocketHost is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-SocketHost describes the host of a socket table: give the table with -SocketTable, or leave out -SocketHost to resolve against this host's live table."),
                    "SocketHostNeedsSocketTable",
                    ErrorCategory.InvalidArgument,
                    SocketHost));
            }

            TargetOS here = TargetOSInfo.Current;
            if (TargetOS is TargetOS other && other != here)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-TargetOS " + other + " needs -SocketTable: the live table of this " + here + " host follows " + here + "'s rules."),
                    "TargetOSNeedsSocketTable",
                    ErrorCategory.InvalidArgument,
                    other));
            }

            // The live table is read once for the whole pipeline, not per packet.
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

                _targets = new List<(SocketIndex, SocketHost, string?)> { (SocketIndex.Build(live.Sockets, HostFacts.From(host), SocketTableOrder.KernelOrder), host, null) };
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
            if (_targets is null || CancellationToken.IsCancellationRequested)
            {
                return;
            }

            DemuxRequest? request = ParameterSetName == InputSet ? ReadPacket(InputObject) : new DemuxRequest
            {
                Protocol = Protocol,
                Source = ParameterSetName == AddressSet ? new IPEndPoint(SourceAddress!, SourcePort) : Source!,
                Destination = ParameterSetName == AddressSet ? new IPEndPoint(DestinationAddress!, DestinationPort) : Destination!,
                Interface = string.IsNullOrEmpty(Interface) ? null : Interface,
                Segment = Segment,
            };
            if (request is null)
            {
                return;
            }

            string? arrivesOn = request.Interface;
            foreach ((SocketIndex index, SocketHost host, string? computer) in _targets)
            {
                // A packet cannot arrive on an interface the host does not have.
                if (arrivesOn is not null && host.Interfaces is { } interfaces && !interfaces.Contains(arrivesOn))
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException("-Interface " + arrivesOn + ": " + host + " has no interface named '" + arrivesOn + "' (its interfaces: " + string.Join(", ", interfaces) + "), so no packet arrives on it."),
                        "InterfaceNotFound",
                        ErrorCategory.ObjectNotFound,
                        arrivesOn));
                    continue;
                }

                try
                {
                    WriteObject(RuleEngine.DecideDelivery(index, request, computer));
                }
                catch (ArgumentException exception)
                {
                    WriteCoreError(exception, "InvalidPacket", request);
                    return;
                }
                catch (PlatformNotSupportedException exception)
                {
                    ThrowCoreError(exception, "PlatformNotSupported", request);
                }
            }

            CountItemProgress("packets resolved");
        }

        /// <inheritdoc/>
        protected override void EndProcessing() => CompleteItemProgress();

        /// <summary>
        /// The packet a pipeline row describes, each value from the command line when given there, else
        /// from the row; null (after writing the row's error) when a value is missing or does not convert.
        /// </summary>
        private DemuxRequest? ReadPacket(PSObject? item)
        {
            _rows.Next(item);
            if (_rows.IsSocket)
            {
                WriteError(_rows.NotUsed("a socket is not a packet. Resolve-Demux asks which socket receives a packet; to ask it for the packets of a connection, give its peer as the source: "
                    + "ForEach-Object { Resolve-Demux $_.Protocol $_.Remote $_.Local -Segment Other -SocketTable $table }."));
                return null;
            }

            if (_rows.IsScalar)
            {
                WriteError(_rows.NotValid("The input", _rows.Value, "an object with Protocol, Source and Destination (or SourceAddress, SourcePort, DestinationAddress and DestinationPort)"));
                return null;
            }

            TransportProtocol protocol = Protocol;
            if (!Bound(nameof(Protocol)))
            {
                if (!_rows.TryGet(nameof(Protocol), out object? value))
                {
                    WriteError(_rows.Missing(nameof(Protocol), "Tcp or Udp"));
                    return null;
                }

                if (!RowValue.TryEnum(value, out protocol, out string? expected))
                {
                    WriteError(_rows.NotValid(nameof(Protocol), value, expected));
                    return null;
                }
            }

            IPEndPoint? source = ReadEndpoint(nameof(Source), Source, nameof(SourceAddress), SourceAddress, nameof(SourcePort), SourcePort);
            IPEndPoint? destination = source is null ? null : ReadEndpoint(nameof(Destination), Destination, nameof(DestinationAddress), DestinationAddress, nameof(DestinationPort), DestinationPort);
            if (destination is null)
            {
                return null;
            }

            string? arrivesOn = Interface;
            if (!Bound(nameof(Interface)) && _rows.TryGet(nameof(Interface), out object? name))
            {
                arrivesOn = name as string ?? System.Convert.ToString(name, System.Globalization.CultureInfo.InvariantCulture);
            }

            TcpSegmentKind segment = Segment;
            if (!Bound(nameof(Segment)) && _rows.TryGet(nameof(Segment), out object? kind) && !RowValue.TryEnum(kind, out segment, out string? segmentExpected))
            {
                WriteError(_rows.NotValid(nameof(Segment), kind, segmentExpected));
                return null;
            }

            return new DemuxRequest
            {
                Protocol = protocol,
                Source = source!,
                Destination = destination,
                Interface = string.IsNullOrEmpty(arrivesOn) ? null : arrivesOn,
                Segment = segment,
            };
        }

        /// <summary>One end of a row's packet: the endpoint given (command line, then row), else its address and port.</summary>
        private IPEndPoint? ReadEndpoint(string endpointName, IPEndPoint? endpointGiven, string addressName, IPAddress? addressGiven, string portName, int portGiven)
        {
            if (Bound(endpointName))
            {
                return endpointGiven;
            }

            object? addressValue = null;
            bool hasAddress = Bound(addressName) || _rows.TryGet(addressName, out addressValue);
            if (!hasAddress && _rows.TryGet(endpointName, out object? text))
            {
                if (RowValue.TryEndpoint(text, out IPEndPoint? endpoint, out string? expected))
                {
                    return endpoint;
                }

                WriteError(_rows.NotValid(endpointName, text, expected));
                return null;
            }

            IPAddress? address = addressGiven;
            if (!Bound(addressName))
            {
                if (!hasAddress)
                {
                    WriteError(_rows.Missing(endpointName + " (or " + addressName + " and " + portName + ")", RowValue.EndpointExpected));
                    return null;
                }

                if (!RowValue.TryAddress(addressValue, out address, out string? expected))
                {
                    WriteError(_rows.NotValid(addressName, addressValue, expected));
                    return null;
                }
            }

            int port = portGiven;
            if (!Bound(portName))
            {
                if (!_rows.TryGet(portName, out object? value))
                {
                    WriteError(_rows.Missing(portName, RowValue.PortExpected));
                    return null;
                }

                if (!RowValue.TryPort(value, out port, out string? expected))
                {
                    WriteError(_rows.NotValid(portName, value, expected));
                    return null;
                }
            }

            return new IPEndPoint(address!, port);
        }

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}
