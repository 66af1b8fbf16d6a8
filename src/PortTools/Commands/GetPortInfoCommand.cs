using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Get-PortInfo: what a port is (service names, class), whether binding it needs privilege on
    /// this host, and whether it lies in the ephemeral range or is reserved; or the ports of a service.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PortInfo", DefaultParameterSetName = PortSet)]
    [OutputType(typeof(PortInfo))]
    public sealed class GetPortInfoCommand : PortToolsCmdlet
    {
        private const string PortSet = "Port";
        private const string ServiceSet = "Service";

        private readonly PipelineRows _rows = new PipelineRows();
        private PortCatalog? _catalog;

        /// <summary>Ports or ranges, such as 443 or 8000-8010. Needed unless ports come from the pipeline.</summary>
        [Parameter(Position = 0, ParameterSetName = PortSet)]
        [Alias("LocalPort")]
        public PortRange[] Port { get; set; } = Array.Empty<PortRange>();

        /// <summary>
        /// Ports from the pipeline, each read whole: numbers, ranges or their text, or objects with
        /// Port (or LocalPort, as sockets have) and optionally Protocol, such as CSV rows. A value that
        /// does not convert, or a missing port, is an error for that row alone.
        /// </summary>
        [Parameter(ValueFromPipeline = true, ParameterSetName = PortSet)]
        public PSObject? InputObject { get; set; }

        /// <summary>Service names to look up, with wildcards, such as https or postgres*.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ServiceSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Service { get; set; } = Array.Empty<string>();

        /// <summary>TCP or UDP; both when omitted.</summary>
        [Parameter]
        public TransportProtocol? Protocol { get; set; }

        /// <summary>A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id. Its port settings (ephemeral range, reserved ports, unprivileged port start) are used.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <summary>The user whose privilege CallerMayBind is judged for (0 is root; any other user is taken as unprivileged); this process when omitted.</summary>
        [Parameter]
        [ValidateRange(0, uint.MaxValue)]
        public long UserId { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (ParameterSetName == PortSet && !Bound(nameof(Port)) && !Bound(nameof(InputObject)) && !MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give the ports to describe, as in Get-PortInfo 443, or pipe them in; or give -Service."),
                    "PortMissing",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            try
            {
                _catalog = NetworkNamespace is null ? PortCatalog.ForThisHost() : PortCatalog.ForHost(HostPortSettings.Read(NetworkNamespace));
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException)
            {
                ThrowCoreError(exception, "PortSettingsReadFailed", NetworkNamespace);
                return;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(UserId)))
            {
                _catalog.UserId = UserId;
            }

            foreach (string note in _catalog.Notes)
            {
                WriteVerbose(note);
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (ParameterSetName == ServiceSet)
            {
                foreach (string name in Service)
                {
                    WildcardPattern pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
                    Func<string, bool>? matcher = WildcardPattern.ContainsWildcardCharacters(name) ? pattern.IsMatch : null;
                    if (matcher is not null)
                    {
                        // As Get-Process -Name: a pattern that matches nothing is no error, an exact name is.
                        if (_catalog!.TryFindService(name, matcher, Protocol, out IReadOnlyList<PortInfo>? matches))
                        {
                            WriteObject(matches, enumerateCollection: true);
                        }
                        else
                        {
                            WriteVerbose("No service name or alias matches '" + name + "'.");
                        }

                        continue;
                    }

                    try
                    {
                        foreach (PortInfo info in _catalog!.FindService(name, matcher, Protocol))
                        {
                            WriteObject(info);
                        }
                    }
                    catch (UnknownServiceException exception)
                    {
                        WriteError(new ErrorRecord(exception, "UnknownService", ErrorCategory.ObjectNotFound, name));
                    }
                }

                return;
            }

            IReadOnlyList<PortRange> ranges = Port;
            TransportProtocol? protocol = Protocol;
            if (Bound(nameof(InputObject)) && !ReadRow(ref ranges, ref protocol))
            {
                return;
            }

            foreach (PortRange range in ranges)
            {
                foreach (PortInfo info in _catalog!.Describe(range, protocol))
                {
                    if (CancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    WriteObject(info);
                }
            }
        }

        /// <summary>Reads the pipeline row: its ports and protocol, each from the command line when given there. False after writing the row's error.</summary>
        private bool ReadRow(ref IReadOnlyList<PortRange> ranges, ref TransportProtocol? protocol)
        {
            _rows.Next(InputObject);
            object? value = _rows.Value;
            string name = "The port";
            if (!_rows.IsScalar)
            {
                name = _rows.TryGet(nameof(Port), out value) ? nameof(Port) : _rows.TryGet("LocalPort", out value) ? "LocalPort" : string.Empty;
                if (name.Length == 0 && !Bound(nameof(Port)))
                {
                    WriteError(_rows.Missing("Port (or LocalPort)", "a port from 0 to 65535 or a range such as 8000-8010"));
                    return false;
                }
            }
            else if (Bound(nameof(Port)))
            {
                WriteError(_rows.NotUsed("'" + _rows.Value + "' was not used: -Port is given on the command line. Give the ports either way, not both."));
                return false;
            }

            if (!Bound(nameof(Port)))
            {
                var list = new List<PortRange>();
                foreach (object? one in value is System.Collections.IEnumerable many and not string ? many.Cast<object?>().Select(PowerShellObjects.Unwrap) : new[] { value })
                {
                    if (!RowValue.TryPortRange(one, out PortRange range, out string? expected))
                    {
                        WriteError(_rows.NotValid(name, one, expected));
                        return false;
                    }

                    list.Add(range);
                }

                ranges = list;
            }

            if (!Bound(nameof(Protocol)) && _rows.TryGet(nameof(Protocol), out object? named))
            {
                if (!RowValue.TryEnum(named, out TransportProtocol parsed, out string? expected))
                {
                    WriteError(_rows.NotValid(nameof(Protocol), named, expected));
                    return false;
                }

                protocol = parsed;
            }

            return true;
        }

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}
