using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Get-SocketTuple: the live socket table (TCP and UDP, IPv4 and IPv6) with owning processes.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SocketTuple", DefaultParameterSetName = WithProcessSet)]
    [OutputType(typeof(SocketTuple))]
    public sealed class GetSocketTupleCommand : PortToolsCmdlet
    {
        private const string WithProcessSet = "WithProcess";
        private const string SkipProcessSet = "SkipProcess";

        private readonly List<int> _pipelineProcessIds = new List<int>();

        /// <summary>TCP, UDP or both (the default).</summary>
        [Parameter]
        public TransportProtocol[]? Protocol { get; set; }

        /// <summary>States to keep, as enum names or ss/netstat spellings.</summary>
        [Parameter]
        [SocketStateTransformation]
        public SocketState[]? State { get; set; }

        /// <summary>Only listening TCP sockets and unconnected UDP sockets.</summary>
        [Parameter]
        public SwitchParameter Listening { get; set; }

        /// <summary>Local addresses or CIDR prefixes.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        public AddressPrefix[]? LocalAddress { get; set; }

        /// <summary>Remote addresses or CIDR prefixes.</summary>
        [Parameter]
        public AddressPrefix[]? RemoteAddress { get; set; }

        /// <summary>Local ports or ranges such as 8000-8100.</summary>
        [Parameter]
        public PortRange[]? LocalPort { get; set; }

        /// <summary>Remote ports or ranges.</summary>
        [Parameter]
        public PortRange[]? RemotePort { get; set; }

        /// <summary>Owning process ids; binds numbers and the Id of Get-Process objects from the pipeline.</summary>
        [Parameter(ParameterSetName = WithProcessSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Id", "OwningProcess", "Pid")]
        [ValidateRange(0, int.MaxValue)]
        public int[]? ProcessId { get; set; }

        /// <summary>Owning process names; wildcards allowed.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ProcessNameCompleter))]
        public string[]? ProcessName { get; set; }

        /// <summary>Do not map sockets to processes: the fastest listing.</summary>
        [Parameter(ParameterSetName = SkipProcessSet, Mandatory = true)]
        public SwitchParameter SkipProcess { get; set; }

        /// <summary>Only listening and unconnected sockets with this exposure: AllInterfaces, Public, Private, LinkLocal, Loopback.</summary>
        [Parameter]
        public Exposure[]? Exposure { get; set; }

        /// <summary>Read another network namespace (Linux): a name, a namespace file path, or a process id.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            // Pipeline input only gathers process ids: the table is read once, at the end.
            if (MyInvocation.ExpectingInput && ProcessId is not null)
            {
                _pipelineProcessIds.AddRange(ProcessId);
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            IReadOnlyCollection<int>? processIds = ProcessId;
            if (MyInvocation.ExpectingInput)
            {
                if (_pipelineProcessIds.Count == 0)
                {
                    return; // piped, but nothing arrived: no process, so no sockets
                }

                processIds = new HashSet<int>(_pipelineProcessIds);
            }

            var query = new SocketQuery
            {
                Protocols = Protocol,
                States = State,
                ListeningOnly = Listening.IsPresent,
                LocalAddresses = LocalAddress,
                RemoteAddresses = RemoteAddress,
                LocalPorts = LocalPort,
                RemotePorts = RemotePort,
                ProcessIds = processIds is null ? null : new HashSet<int>(processIds),
                ProcessNameMatch = NameMatcher(ProcessName),
                IncludeProcesses = !SkipProcess.IsPresent,
                Exposures = Exposure,
                NetworkNamespace = NetworkNamespace,
            };

            SocketTableReadResult result;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                result = ReadLiveTable(query);
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

            WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture, "Read {0} sockets through {1} in {2} ms.", result.Sockets.Count, result.Method, watch.ElapsedMilliseconds));
            foreach (string warning in result.Warnings)
            {
                WriteWarning(warning);
            }

            foreach (SocketTuple socket in result.Sockets)
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                WriteObject(socket);
            }
        }

        private static Func<string, bool>? NameMatcher(string[]? names)
        {
            if (names is not { Length: > 0 })
            {
                return null;
            }

            WildcardPattern[] patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant)).ToArray();
            return name => patterns.Any(p => p.IsMatch(name));
        }
    }
}
