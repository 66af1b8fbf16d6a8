using System;
using System.Collections.Generic;
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

        private IReadOnlyList<SocketIndex>? _indexes;
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

        /// <summary>Whose rules to follow with -SocketTable: Linux, Windows, FreeBSD or MacOS (default: this host's OS).</summary>
        [Parameter]
        public TargetOS? TargetOS { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            HostFactsReading host = LiveHost.ReadFacts();
            if (SocketTable is not null)
            {
                List<SocketTuple> table = SocketTableInput.Convert(SocketTable, WriteError);
                _computerName = SocketTableInput.CommonComputerName(table);
                // A table of several network namespaces is answered namespace by namespace: a packet arrives in one.
                _indexes = SocketIndex.BuildPerNetworkNamespace(table, TargetOS is TargetOS os ? host.Facts.With(os: os) : host.Facts, SocketTableOrder.BindOrder);
                return;
            }

            if (TargetOS is TargetOS other && other != host.Facts.OS)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-TargetOS " + other + " needs -SocketTable: the live table of this " + host.Facts.OS + " host follows " + host.Facts.OS + "'s rules."),
                    "TargetOSNeedsSocketTable",
                    ErrorCategory.InvalidArgument,
                    other));
            }

            // The live table is read once for the whole pipeline, not per packet.
            try
            {
                SocketTableReadResult live = ReadLiveTable(new SocketQuery());
                foreach (string warning in live.Warnings)
                {
                    WriteWarning(warning);
                }

                _indexes = new[] { SocketIndex.Build(live.Sockets, host.Facts, SocketTableOrder.KernelOrder) };
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
            if (_indexes is null || CancellationToken.IsCancellationRequested)
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

            try
            {
                foreach (SocketIndex index in _indexes)
                {
                    WriteObject(RuleEngine.DecideDelivery(index, request, _computerName));
                }

                CountItemProgress("packets resolved");
            }
            catch (ArgumentException exception)
            {
                WriteCoreError(exception, "InvalidPacket", request);
            }
            catch (PlatformNotSupportedException exception)
            {
                ThrowCoreError(exception, "PlatformNotSupported", request);
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing() => CompleteItemProgress();
    }
}
