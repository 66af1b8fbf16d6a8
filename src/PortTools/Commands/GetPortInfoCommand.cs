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

        private PortCatalog? _catalog;

        /// <summary>Ports or ranges, such as 443 or 8000-8010.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PortSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("LocalPort")]
        public PortRange[] Port { get; set; } = Array.Empty<PortRange>();

        /// <summary>Service names to look up, with wildcards, such as https or postgres*.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ServiceSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ServiceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Service { get; set; } = Array.Empty<string>();

        /// <summary>TCP or UDP; both when omitted.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
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

            foreach (PortRange range in Port)
            {
                foreach (PortInfo info in _catalog!.Describe(range, Protocol))
                {
                    if (CancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    WriteObject(info);
                }
            }
        }
    }
}
