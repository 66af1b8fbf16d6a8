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

        // One for the whole pipeline: it learns each kind of property bag once (see PropertyBagReader).
        private readonly PropertyBagReader? _bags = PropertyBagReader.IsAvailable ? new PropertyBagReader() : null;

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
                _sockets.AddRange(SocketTableInput.Convert(InputObject, WriteError, _entries, _bags));
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

            Func<SocketTuple, PortUsageHost>? hostOf = Hosts();
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
        /// What to measure each socket against: -SocketHost's settings and facts, -NetworkNamespace's,
        /// -TargetOS's defaults (its facts unknown), or those of the host or namespace this session
        /// read the socket from (with its TIME-WAIT timers). Sockets read elsewhere get the OS's
        /// default settings, with a warning, and unknown facts: this host's own would be a guess.
        /// </summary>
        private Func<SocketTuple, PortUsageHost>? Hosts()
        {
            var notes = new List<string>();
            PortUsageHost? all = null;
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

                    SocketHost facts = host!.With(os: TargetOS ?? host.OS ?? TargetOSInfo.Current);
                    all = new PortUsageHost(HostPortSettings.From(facts), facts);
                }
                else if (NetworkNamespace is not null)
                {
                    all = new PortUsageHost(HostPortSettings.Read(NetworkNamespace), ReadSocketHost(NetworkNamespace), LiveConnectProbe.Open(NetworkNamespace).TimeWaitAges);
                }
                else if (TargetOS is TargetOS os)
                {
                    all = new PortUsageHost(HostPortSettings.Defaults(os), PortTools.SocketHost.Unknown(os));
                }
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException or ArgumentException)
            {
                ThrowCoreError(exception, "PortSettingsReadFailed", (object?)NetworkNamespace ?? SocketHost);
                return null;
            }

            if (all is not null)
            {
                foreach (string note in all.Settings.Notes)
                {
                    WriteVerbose(note);
                }

                return _ => all;
            }

            Func<SocketTuple, PortUsageHost> hostOf = PortUsageHost.ReadForSockets(
                _sockets,
                unread =>
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
                },
                notes,
                CancellationToken);
            foreach (string note in notes)
            {
                WriteVerbose(note);
            }

            return hostOf;
        }
    }
}
