using System;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;

namespace PortTools.Commands
{
    /// <summary>Get-EphemeralPortRange: the source ports the OS picks from, per protocol and address family, with reserved ports and TIME-WAIT.</summary>
    [Cmdlet(VerbsCommon.Get, "EphemeralPortRange")]
    [OutputType(typeof(EphemeralPortRange))]
    public sealed class GetEphemeralPortRangeCommand : PortToolsCmdlet
    {
        /// <summary>TCP, UDP, or both (the default).</summary>
        [Parameter(Position = 0)]
        public TransportProtocol[]? Protocol { get; set; }

        /// <summary>InterNetwork (IPv4), InterNetworkV6, or both (the default).</summary>
        [Parameter]
        [ValidateSet("InterNetwork", "InterNetworkV6")]
        public AddressFamily[]? AddressFamily { get; set; }

        /// <summary>Another OS's documented defaults instead of this host's settings.</summary>
        [Parameter]
        public TargetOS? TargetOS { get; set; }

        /// <summary>A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id. Its sysctls are read from inside it.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            if (TargetOS is not null && NetworkNamespace is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give -TargetOS or -NetworkNamespace, not both: -TargetOS shows an OS's documented defaults, -NetworkNamespace a namespace's own settings."),
                    "TargetOSWithNetworkNamespace",
                    ErrorCategory.InvalidArgument,
                    NetworkNamespace));
            }

            HostPortSettings settings = null!;
            try
            {
                settings = TargetOS is TargetOS os ? HostPortSettings.Defaults(os) : HostPortSettings.Read(NetworkNamespace);
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException)
            {
                ThrowCoreError(exception, "PortSettingsReadFailed", NetworkNamespace);
            }

            foreach (string note in settings.Notes)
            {
                if (TargetOS is null)
                {
                    WriteWarning(note);
                }
                else
                {
                    WriteVerbose(note);
                }
            }

            foreach (EphemeralPortRange range in settings.EphemeralRanges)
            {
                if ((Protocol is not { Length: > 0 } || Protocol.Contains(range.Protocol)) && (AddressFamily is not { Length: > 0 } || AddressFamily.Contains(range.AddressFamily)))
                {
                    WriteObject(range);
                }
            }
        }
    }
}
