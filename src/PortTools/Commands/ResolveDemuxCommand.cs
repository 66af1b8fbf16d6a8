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

        private List<(SocketIndex Index, SocketHost Host)>? _targets;
        private string? _computerName;

        /// <summary>TCP or UDP.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        public TransportProtocol Protocol { get; set; }

        /// <summary>The sender, as 198.51.100.7:40000 or [2001:db8::7]:40000.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = EndpointSet, ValueFromPipelineByPropertyName = true)]
        [EndpointTransformation]
        [ValidateNotNull]
        public IPEndPoint? Source { get; set; }

        /// <summary>The destination on this host, as 192.168.1.10:8080.</summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = EndpointSet, ValueFromPipelineByPropertyName = true)]
        [EndpointTransformation]
        [ValidateNotNull]
        public IPEndPoint? Destination { get; set; }

        /// <summary>The sender's address (for objects with separate address and port properties, such as CSV rows).</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNull]
        public IPAddress? SourceAddress { get; set; }

        /// <summary>The sender's port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(0, 65535)]
        public int SourcePort { get; set; }

        /// <summary>The destination address.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        [ValidateNotNull]
        public IPAddress? DestinationAddress { get; set; }

        /// <summary>The destination port.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(0, 65535)]
        public int DestinationPort { get; set; }

        /// <summary>The interface the packet arrives on (default: the one that holds the destination address).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceCompleter))]
        public string? Interface { get; set; }

        /// <summary>TCP: a SYN (the default) or another segment of a connection.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public TcpSegmentKind Segment { get; set; } = TcpSegmentKind.Syn;

        /// <summary>The socket table to resolve against (default: this host's live table): SocketTuples, their text form, or objects that carry them.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public PSObject[]? SocketTable { get; set; }

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
                _computerName = SocketTableInput.CommonComputerName(table);
                // A table of several network namespaces is answered namespace by namespace (a packet
                // arrives in one), each against that namespace's own facts.
                _targets = new List<(SocketIndex, SocketHost)>();
                foreach (IReadOnlyList<SocketTuple> partition in NamespacePartitions(table, NetworkNamespace))
                {
                    SocketHost given = SimulationHost(SocketHost, NetworkNamespace, partition, TargetOS);
                    SocketHost host = given.With(os: TargetOS ?? given.OS ?? TargetOSInfo.Current);
                    _targets.Add((SocketIndex.Build(partition, HostFacts.From(host), SocketTableOrder.BindOrder), host));
                }

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
                    WriteWarning(warning);
                }

                _targets = new List<(SocketIndex, SocketHost)> { (SocketIndex.Build(live.Sockets, HostFacts.From(host), SocketTableOrder.KernelOrder), host) };
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

            IPEndPoint source = ParameterSetName == AddressSet ? new IPEndPoint(SourceAddress!, SourcePort) : Source!;
            IPEndPoint destination = ParameterSetName == AddressSet ? new IPEndPoint(DestinationAddress!, DestinationPort) : Destination!;
            var request = new DemuxRequest
            {
                Protocol = Protocol,
                Source = source,
                Destination = destination,
                Interface = string.IsNullOrEmpty(Interface) ? null : Interface,
                Segment = Segment,
            };

            foreach ((SocketIndex index, SocketHost host) in _targets)
            {
                // A packet cannot arrive on an interface the host does not have.
                if (!string.IsNullOrEmpty(Interface) && host.Interfaces is { } interfaces && !interfaces.Contains(Interface!))
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException("-Interface " + Interface + ": " + host + " has no interface named '" + Interface + "' (its interfaces: " + string.Join(", ", interfaces) + "), so no packet arrives on it."),
                        "InterfaceNotFound",
                        ErrorCategory.ObjectNotFound,
                        Interface));
                    continue;
                }

                try
                {
                    WriteObject(RuleEngine.DecideDelivery(index, request, _computerName));
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
    }
}
