using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Measure-EphemeralPortUsage: outbound connections grouped by destination, against the source
    /// ports the OS can use for each, with utilization and the rate of new connections it sustains.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Measure, "EphemeralPortUsage")]
    [OutputType(typeof(EphemeralPortUsage))]
    public sealed class MeasureEphemeralPortUsageCommand : PortToolsCmdlet
    {
        private readonly List<SocketTuple> _sockets = new List<SocketTuple>();
        private int _entries;

        /// <summary>Sockets to measure (from Get-SocketTuple, ConvertFrom-SocketTable, remoting, Import-Csv); this host's live table when nothing is piped.</summary>
        [Parameter(ValueFromPipeline = true)]
        [AllowNull]
        public PSObject?[]? InputObject { get; set; }

        /// <summary>The utilization in percent from which a destination is flagged and a warning written (default 80).</summary>
        [Parameter]
        [ValidateRange(1, 100)]
        public double Threshold { get; set; } = EphemeralPortUsageAnalyzer.DefaultNearExhaustionPercent;

        /// <summary>Measure against another OS's documented defaults (for what-if tables, and tables of hosts whose settings are not at hand).</summary>
        [Parameter]
        public TargetOS? TargetOS { get; set; }

        /// <summary>Measure against the ephemeral range, reserved ports and TIME_WAIT of this host's facts: a SocketHost from Get-SocketHost run where the table was read, an object that carries one, or its JSON text.</summary>
        [Parameter]
        [ValidateNotNull]
        public PSObject? SocketHost { get; set; }

        /// <summary>A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id. Its live table is read when nothing is piped, and its settings are used.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                _sockets.AddRange(SocketTableInput.Convert(InputObject, WriteError, _entries));
                _entries += InputObject.Length;
            }
        }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (SocketHost is not null && NetworkNamespace is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give -SocketHost or -NetworkNamespace, not both: each says whose port settings to measure against."),
                    "SocketHostWithNetworkNamespace",
                    ErrorCategory.InvalidArgument,
                    NetworkNamespace));
            }

            if (NetworkNamespace is not null && TargetOS is TargetOS os && os != PortTools.TargetOS.Linux)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-TargetOS " + os + " cannot be measured in network namespace " + NetworkNamespace + ", which follows Linux's rules: leave out -TargetOS."),
                    "TargetOSWithNetworkNamespace",
                    ErrorCategory.InvalidArgument,
                    os));
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            // The live table only when no table was given, neither piped nor by -InputObject.
            if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                try
                {
                    SocketTableReadResult live = ReadLiveTable(new SocketQuery { IncludeProcesses = false, NetworkNamespace = NetworkNamespace });
                    _sockets.AddRange(live.Sockets);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception exception) when (exception is not PipelineStoppedException)
                {
                    ThrowCoreError(exception, "SocketTableReadFailed", NetworkNamespace);
                    return;
                }
            }

            Func<SocketTuple, HostPortSettings>? hostOf = Settings();
            if (hostOf is null)
            {
                return;
            }

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(_sockets, hostOf, Threshold);
            foreach (string warning in EphemeralPortUsageAnalyzer.Warnings(usage))
            {
                WriteWarning(warning);
            }

            WriteObject(usage, enumerateCollection: true);
        }

        /// <summary>
        /// The settings to measure each socket against: -SocketHost's, -NetworkNamespace's, -TargetOS's
        /// defaults, or those of the host or namespace this session read the socket from. Sockets read
        /// elsewhere get the OS's defaults, with a warning: this host's own would be a guess.
        /// </summary>
        private Func<SocketTuple, HostPortSettings>? Settings()
        {
            var notes = new List<string>();
            HostPortSettings? all = null;
            try
            {
                if (SocketHost is not null)
                {
                    if (!SocketHostInput.TryConvert(SocketHost, nameof(SocketHost), out SocketHost? host, out ErrorRecord? error))
                    {
                        ThrowTerminatingError(error!);
                        return null;
                    }

                    if (TargetOS is TargetOS os && host!.OS is TargetOS own && own != os)
                    {
                        ThrowTerminatingError(new ErrorRecord(
                            new ArgumentException("-SocketHost describes " + host + ", a " + own + " host, but -TargetOS asks for " + os + "'s rules: give a SocketHost of a " + os + " host, or leave out -TargetOS."),
                            "SocketHostOSMismatch",
                            ErrorCategory.InvalidArgument,
                            SocketHost));
                    }

                    all = HostPortSettings.From(host!.With(os: TargetOS ?? host.OS ?? TargetOSInfo.Current));
                }
                else if (NetworkNamespace is not null)
                {
                    all = HostPortSettings.Read(NetworkNamespace);
                }
                else if (TargetOS is TargetOS os)
                {
                    all = HostPortSettings.Defaults(os);
                }
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException or ArgumentException)
            {
                ThrowCoreError(exception, "PortSettingsReadFailed", (object?)NetworkNamespace ?? SocketHost);
                return null;
            }

            if (all is not null)
            {
                foreach (string note in all.Notes)
                {
                    WriteVerbose(note);
                }

                return _ => all;
            }

            Func<SocketTuple, HostPortSettings> hostOf = HostPortSettings.ReadForSockets(_sockets, unread =>
            {
                TargetOS os = TargetOSInfo.Current;
                HostPortSettings defaults = HostPortSettings.Defaults(os);
                WriteWarning(string.Format(
                    System.Globalization.CultureInfo.InvariantCulture,
                    "{0} socket(s) were not read by this session (text, a file or remoting), so the ephemeral range of their host is not known: {1}'s documented default, {2}, is used for them. Give -SocketHost (Get-SocketHost, run on that host) to measure against its own, or -TargetOS for another OS's defaults.",
                    unread,
                    os,
                    defaults.EphemeralRanges[0].Ports));
                return defaults;
            }, notes);
            foreach (string note in notes)
            {
                WriteVerbose(note);
            }

            return hostOf;
        }
    }
}
