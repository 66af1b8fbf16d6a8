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

        /// <summary>Measure against another OS's documented defaults (for tables read on other hosts).</summary>
        [Parameter]
        public TargetOS? TargetOS { get; set; }

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
        protected override void EndProcessing()
        {
            // The live table only when no table was given, neither piped nor by -InputObject.
            LiveConnectHost? host = null;
            if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                try
                {
                    SocketTableReadResult live = ReadLiveTable(new SocketQuery { IncludeProcesses = false });
                    _sockets.AddRange(live.Sockets);

                    // This host's own facts (tcp_tw_reuse, TIME-WAIT ages) decide what remains; a piped table's are not known.
                    host = TargetOS is null ? LiveConnectHost.Read(null) : null;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception exception) when (exception is not PipelineStoppedException)
                {
                    ThrowCoreError(exception, "SocketTableReadFailed", null);
                    return;
                }
            }

            HostPortSettings settings = TargetOS is TargetOS os ? HostPortSettings.Defaults(os) : HostPortSettings.ReadCurrent();
            foreach (string note in settings.Notes)
            {
                WriteVerbose(note);
            }

            IReadOnlyList<EphemeralPortUsage> usage = EphemeralPortUsageAnalyzer.Analyze(_sockets, settings, host?.Reading.Facts, host?.TimeWaitAges, Threshold);
            foreach (string warning in EphemeralPortUsageAnalyzer.Warnings(usage))
            {
                WriteWarning(warning);
            }

            WriteObject(usage, enumerateCollection: true);
        }
    }
}
