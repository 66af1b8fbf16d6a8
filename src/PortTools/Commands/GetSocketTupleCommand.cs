using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Get-SocketTuple: the live socket table (TCP and UDP, IPv4 and IPv6) with owning processes; with
    /// -Protocol Unix (or -Path) the UNIX domain sockets instead, with their peers; with
    /// -AllNetworkNamespaces every network namespace of the host at once.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SocketTuple", DefaultParameterSetName = WithProcessSet)]
    [OutputType(typeof(SocketTuple), ParameterSetName = new[] { WithProcessSet, SkipProcessSet })]
    [OutputType(typeof(UnixSocket), ParameterSetName = new[] { UnixSet, UnixSkipProcessSet })]
    public sealed class GetSocketTupleCommand : PortToolsCmdlet
    {
        private const string WithProcessSet = "WithProcess";
        private const string SkipProcessSet = "SkipProcess";
        private const string UnixSet = "Unix";
        private const string UnixSkipProcessSet = "UnixSkipProcess";

        /// <summary>The type name whose view adds the namespace and container columns, for reads that span several namespaces.</summary>
        internal const string NamespacedSocketTypeName = "PortTools.SocketTuple#NetworkNamespace";

        /// <summary>The same for UNIX sockets.</summary>
        internal const string NamespacedUnixSocketTypeName = "PortTools.UnixSocket#NetworkNamespace";

        private static readonly string[] s_inetOnly = { nameof(LocalAddress), nameof(RemoteAddress), nameof(LocalPort), nameof(RemotePort), nameof(Exposure) };

        private readonly List<int> _pipelineProcessIds = new List<int>();
        private readonly PipelineRows _rows = new PipelineRows();

        /// <summary>TCP, UDP or both (the default); or Unix, for UNIX domain sockets (UnixSocket objects, in a call of their own).</summary>
        [Parameter]
        public SocketProtocol[]? Protocol { get; set; }

        /// <summary>States to keep, as enum names or ss/netstat spellings.</summary>
        [Parameter]
        [SocketStateTransformation]
        public SocketState[]? State { get; set; }

        /// <summary>Only listening TCP sockets and unconnected UDP sockets; with -Protocol Unix, listening UNIX sockets.</summary>
        [Parameter]
        public SwitchParameter Listening { get; set; }

        /// <summary>UNIX sockets whose address matches: a path, or @name for an abstract one; wildcards allowed. Implies -Protocol Unix.</summary>
        [Parameter(ParameterSetName = UnixSet, Mandatory = true)]
        [Parameter(ParameterSetName = UnixSkipProcessSet, Mandatory = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Path { get; set; }

        /// <summary>Local addresses or CIDR prefixes.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = SkipProcessSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        public AddressPrefix[]? LocalAddress { get; set; }

        /// <summary>Remote addresses or CIDR prefixes.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = SkipProcessSet)]
        public AddressPrefix[]? RemoteAddress { get; set; }

        /// <summary>Local ports or ranges such as 8000-8100.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = SkipProcessSet)]
        public PortRange[]? LocalPort { get; set; }

        /// <summary>Remote ports or ranges.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = SkipProcessSet)]
        public PortRange[]? RemotePort { get; set; }

        /// <summary>Owning process ids.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = UnixSet)]
        [Alias("Id", "OwningProcess", "Pid")]
        [ValidateRange(0, int.MaxValue)]
        public int[]? ProcessId { get; set; }

        /// <summary>
        /// Processes from the pipeline: process ids, Process objects (Get-Process), sockets (their
        /// owners), or objects with a ProcessId, OwningProcess or Pid property (Get-NetTCPConnection,
        /// Win32_Process, CSV rows), or an Id where the object is a process, a socket or a plain row.
        /// Read whole, so that an Id that is not a process id (a job's, a session's) is an error for
        /// that item instead of a process id nobody meant.
        /// </summary>
        [Parameter(ParameterSetName = WithProcessSet, ValueFromPipeline = true)]
        [Parameter(ParameterSetName = UnixSet, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>Owning process names; wildcards allowed.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = UnixSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ProcessNameCompleter))]
        public string[]? ProcessName { get; set; }

        /// <summary>Do not map sockets to processes: the fastest listing.</summary>
        [Parameter(ParameterSetName = SkipProcessSet, Mandatory = true)]
        [Parameter(ParameterSetName = UnixSkipProcessSet, Mandatory = true)]
        public SwitchParameter SkipProcess { get; set; }

        /// <summary>
        /// Do not read SO_REUSEADDR and SO_REUSEPORT of listening and unconnected sockets from their
        /// owners (Linux, pidfd_getfd): they stay unknown ($null). -SkipProcess implies it.
        /// </summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        public SwitchParameter SkipSocketOptions { get; set; }

        /// <summary>Only listening and unconnected sockets with this exposure: AllInterfaces, Public, Private, LinkLocal, Loopback.</summary>
        [Parameter(ParameterSetName = WithProcessSet)]
        [Parameter(ParameterSetName = SkipProcessSet)]
        public Exposure[]? Exposure { get; set; }

        /// <summary>Read another network namespace (Linux): a name, a namespace file path, or a process id.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <summary>Read every network namespace of the host (Linux, as root), each socket marked with its namespace and container.</summary>
        [Parameter]
        public SwitchParameter AllNetworkNamespaces { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            // Pipeline input only gathers process ids: the table is read once, at the end.
            if (MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                ReadProcessRow();
            }
        }

        /// <summary>The process ids of one pipeline item, or an error for it (which then adds none).</summary>
        private void ReadProcessRow()
        {
            _rows.Next(InputObject);
            if (ProcessId is not null)
            {
                WriteError(_rows.NotUsed("'" + _rows.Item + "' was not used: -ProcessId is given on the command line. Give the processes either way, not both."));
                return;
            }

            object? value = _rows.Value;
            string property = "The input";
            switch (value)
            {
                case System.Diagnostics.Process process:
                    _pipelineProcessIds.Add(process.Id);
                    return;
                case SocketTuple socket:
                    AddOwners(socket.Processes, socket.ToString());
                    return;
                case UnixSocket unix:
                    AddOwners(unix.Processes, unix.ToString());
                    return;
            }

            if (!_rows.IsScalar)
            {
                if (_rows.TryGet("ProcessId", out value))
                {
                    property = "ProcessId";
                }
                else if (_rows.TryGet("OwningProcess", out value))
                {
                    property = "OwningProcess";
                }
                else if (_rows.TryGet("Pid", out value))
                {
                    property = "Pid";
                }
                else if (_rows.TryGet("Id", out value))
                {
                    if (!IdIsProcessId(_rows.Item))
                    {
                        string type = _rows.Item is PSObject shell && shell.TypeNames.Count > 0 ? shell.TypeNames[0] : _rows.Value?.GetType().FullName ?? "object";
                        WriteError(_rows.NotUsed("the Id of a " + type + " is not a process id, so it was not used. Pipe processes (Get-Process), sockets, or objects with a ProcessId, OwningProcess or Pid property, or give -ProcessId."));
                        return;
                    }

                    property = "Id";
                }
                else
                {
                    WriteError(_rows.Missing("ProcessId, OwningProcess, Pid or Id", "a process id"));
                    return;
                }
            }

            if (value is System.Collections.IEnumerable list and not string)
            {
                // Items of a list come in their PSObject wrappers.
                var items = new List<object?>();
                foreach (object? item in list)
                {
                    items.Add(PowerShellObjects.Unwrap(item));
                }

                if (items.Count == 0)
                {
                    WriteError(_rows.Missing(property, "a process id"));
                    return;
                }

                value = items;
            }

            if (!RowValue.TryProcessIds(value, out List<int> ids, out object? bad))
            {
                WriteError(_rows.NotValid(property, bad, "a process id (a whole number from 0 up)"));
                return;
            }

            _pipelineProcessIds.AddRange(ids);
        }

        private void AddOwners(IReadOnlyList<SocketOwner> owners, string socket)
        {
            if (owners.Count == 0)
            {
                WriteError(_rows.NotUsed("the socket '" + socket + "' has no known owner, so it names no process (owners of other users' sockets need root; -SkipProcess leaves them out)."));
                return;
            }

            foreach (SocketOwner owner in owners)
            {
                _pipelineProcessIds.Add(owner.ProcessId);
            }
        }

        /// <summary>
        /// Whether an object's Id is a process id: a process or socket (also deserialized), a plain row
        /// (a [pscustomobject], Import-Csv, ConvertFrom-Json) or a hashtable. Another type's Id (a job,
        /// a session, a history entry) numbers something else.
        /// </summary>
        private static bool IdIsProcessId(object? item)
        {
            if (item is not PSObject shell)
            {
                return item is System.Collections.IDictionary;
            }

            if (shell.BaseObject is PSCustomObject or System.Collections.IDictionary)
            {
                bool deserialized = false;
                foreach (string name in shell.TypeNames)
                {
                    if (name.StartsWith("Deserialized.", StringComparison.Ordinal))
                    {
                        deserialized = true;
                        if (name is "Deserialized.System.Diagnostics.Process" || name.StartsWith("Deserialized.PortTools.SocketTuple", StringComparison.Ordinal) || name.StartsWith("Deserialized.PortTools.UnixSocket", StringComparison.Ordinal))
                        {
                            return true;
                        }
                    }
                }

                return !deserialized; // a deserialized object of another type keeps that type's meaning of Id
            }

            return false;
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            IReadOnlyCollection<int>? processIds = ProcessId;
            if (MyInvocation.ExpectingInput && ProcessId is null)
            {
                if (_pipelineProcessIds.Count == 0)
                {
                    return; // piped, but nothing arrived: no process, so no sockets
                }

                processIds = new HashSet<int>(_pipelineProcessIds);
            }

            if (AllNetworkNamespaces.IsPresent && NetworkNamespace is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-AllNetworkNamespaces reads every namespace; -NetworkNamespace reads one. Give one or the other."),
                    "AllAndOneNetworkNamespace",
                    ErrorCategory.InvalidArgument,
                    NetworkNamespace));
            }

            bool unix = Path is not null || (Protocol is not null && Protocol.Contains(SocketProtocol.Unix));
            if (unix)
            {
                CheckUnixParameters();
                WriteUnixSockets(processIds);
                return;
            }

            var query = new SocketQuery
            {
                Protocols = Protocol?.Select(p => (TransportProtocol)p).ToArray(),
                States = State,
                ListeningOnly = Listening.IsPresent,
                LocalAddresses = LocalAddress,
                RemoteAddresses = RemoteAddress,
                LocalPorts = LocalPort,
                RemotePorts = RemotePort,
                ProcessIds = processIds is null ? null : new HashSet<int>(processIds),
                ProcessNameMatch = NameMatcher(ProcessName),
                IncludeProcesses = !SkipProcess.IsPresent,
                ReadSocketOptions = !SkipSocketOptions.IsPresent,
                Exposures = Exposure,
                NetworkNamespace = NetworkNamespace,
                AllNetworkNamespaces = AllNetworkNamespaces.IsPresent,
            };

            SocketTableReadResult result;
            int handedOver = 0;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                // A one-namespace Linux read hands its sockets over as they are built, and they are
                // written meanwhile: the pipeline downstream works while the rest are built.
                result = System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) && !AllNetworkNamespaces.IsPresent
                    ? ReadWhileWriting(query, out handedOver)
                    : ReadLiveTable(query);
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

            WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture, "Read {0} sockets through {1} in {2} ms.", handedOver + result.Sockets.Count, result.Method, watch.ElapsedMilliseconds));
            foreach (string warning in result.Warnings)
            {
                WriteWarning(warning);
            }

            // What was handed over is written; the result holds the rest (all of them for a read that hands over none).
            for (int i = 0; i < result.Sockets.Count; i++)
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                SocketTuple socket = result.Sockets[i];
                WriteObject(result.NetworkNamespaceCount > 1 ? Decorate(socket, NamespacedSocketTypeName) : socket);
            }
        }

        /// <summary>
        /// Reads the live table on a worker thread and writes each socket the read hands over as soon as
        /// it is built, in the order of the result, showing progress once the read has taken a second.
        /// </summary>
        /// <param name="query">What to read.</param>
        /// <param name="written">How many sockets were handed over and written (the result holds the rest).</param>
        /// <returns>The read.</returns>
        private SocketTableReadResult ReadWhileWriting(SocketQuery query, out int written)
        {
            using var wake = new System.Threading.ManualResetEventSlim(false);
            using var abandon = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
            var progress = new SocketReadProgress { HandOverSockets = true, SocketsHandedOver = wake.Set };
            System.Threading.Tasks.Task<SocketTableReadResult> read = System.Threading.Tasks.Task.Run(() => LiveSocketTable.Read(query, abandon.Token, progress));
            _ = read.ContinueWith(_ => wake.Set(), System.Threading.CancellationToken.None, System.Threading.Tasks.TaskContinuationOptions.ExecuteSynchronously, System.Threading.Tasks.TaskScheduler.Default);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long shownAt = 0;
            ProgressRecord? record = null;
            written = 0;
            try
            {
                while (true)
                {
                    // Reset before looking: a batch or the end that comes after the look sets it again.
                    wake.Reset();
                    bool done = read.IsCompleted;
                    int ready = progress.SocketsReady;
                    for (; written < ready && !CancellationToken.IsCancellationRequested; written++)
                    {
                        WriteObject(progress.TakeReadySocket(written));
                    }

                    if (done || CancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    long elapsed = clock.ElapsedMilliseconds;
                    if (elapsed >= ProgressDelay.TotalMilliseconds && elapsed - shownAt >= ProgressInterval)
                    {
                        shownAt = elapsed;
                        record ??= new ProgressRecord(ProgressActivityId, MyInvocation.MyCommand.Name, "Reading the socket table");
                        record.StatusDescription = progress.Describe();
                        record.PercentComplete = progress.PercentComplete;
                        WriteProgress(record);
                    }

                    wake.Wait(ProgressInterval);
                }
            }
            finally
            {
                if (!read.IsCompleted)
                {
                    // Stopped downstream (Select-Object -First) or by Ctrl+C: the rest of the read is not
                    // wanted, so it is cancelled, and it ends before its wake-up is disposed.
                    abandon.Cancel();
                    read.ContinueWith(t => _ = t.Exception, System.Threading.Tasks.TaskScheduler.Default).Wait();
                }

                if (record is not null)
                {
                    record.RecordType = ProgressRecordType.Completed;
                    WriteProgress(record);
                }
            }

            return read.GetAwaiter().GetResult(); // the reader's own exception, not an AggregateException
        }

        private void CheckUnixParameters()
        {
            if (Protocol is not null && Protocol.Any(p => p != SocketProtocol.Unix))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("UNIX domain sockets are listed on their own (they are UnixSocket objects, not SocketTuples): use -Protocol Unix alone, and list TCP and UDP in another call. -Path implies -Protocol Unix."),
                    "UnixWithOtherProtocols",
                    ErrorCategory.InvalidArgument,
                    Protocol));
            }

            foreach (string parameter in s_inetOnly)
            {
                if (MyInvocation.BoundParameters.ContainsKey(parameter))
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("-" + parameter + " applies to TCP and UDP sockets; UNIX sockets have no addresses or ports. Filter UNIX sockets with -Path, -State, -Listening, -ProcessId or -ProcessName."),
                        "ParameterNotForUnixSockets",
                        ErrorCategory.InvalidArgument,
                        MyInvocation.BoundParameters[parameter]));
                }
            }

            foreach (SocketState state in State ?? Array.Empty<SocketState>())
            {
                if (!UnixSocketQuery.IsUnixState(state))
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("UNIX sockets are Listen, Established (Connected) or Unconnected; no UNIX socket is ever " + state + "."),
                        "StateNotForUnixSockets",
                        ErrorCategory.InvalidArgument,
                        state));
                }
            }
        }

        private void WriteUnixSockets(IReadOnlyCollection<int>? processIds)
        {
            Func<string, bool>? pathMatch = null;
            if (Path is { Length: > 0 })
            {
                WildcardPattern[] patterns = Path.Select(p => WildcardPattern.Get(p, WildcardOptions.CultureInvariant)).ToArray();
                pathMatch = path => patterns.Any(p => p.IsMatch(path));
            }

            var query = new UnixSocketQuery
            {
                PathMatch = pathMatch,
                States = State,
                ListeningOnly = Listening.IsPresent,
                ProcessIds = processIds is null ? null : new HashSet<int>(processIds),
                ProcessNameMatch = NameMatcher(ProcessName),
                IncludeProcesses = !SkipProcess.IsPresent,
                NetworkNamespace = NetworkNamespace,
                AllNetworkNamespaces = AllNetworkNamespaces.IsPresent,
            };

            UnixSocketReadResult result;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                result = RunWithProgress(progress => LiveUnixSocketTable.Read(query, CancellationToken, progress));
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

            WriteVerbose(string.Format(System.Globalization.CultureInfo.InvariantCulture, "Read {0} UNIX sockets through {1} in {2} ms.", result.Sockets.Count, result.Method, watch.ElapsedMilliseconds));
            foreach (string warning in result.Warnings)
            {
                WriteWarning(warning);
            }

            foreach (UnixSocket socket in result.Sockets)
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                WriteObject(result.NetworkNamespaceCount > 1 ? Decorate(socket, NamespacedUnixSocketTypeName) : socket);
            }
        }

        /// <summary>The socket with a type name first whose view shows its namespace and container.</summary>
        private static PSObject Decorate(object socket, string typeName)
        {
            var wrapped = new PSObject(socket);
            wrapped.TypeNames.Insert(0, typeName);
            return wrapped;
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
