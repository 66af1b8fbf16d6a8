using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace PortTools.Commands
{
    /// <summary>
    /// What every PortTools cmdlet shares: a cancellation token that Ctrl+C (StopProcessing) cancels,
    /// and one mapping from core exceptions to ErrorRecords with a specific id, category and target.
    /// </summary>
    public abstract class PortToolsCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancellation = new CancellationTokenSource();
        private Stopwatch? _itemClock;
        private ProgressRecord? _itemRecord;
        private long _items;
        private long _itemShownAt;

        /// <summary>Cancelled when the pipeline stops.</summary>
        protected CancellationToken CancellationToken => _cancellation.Token;

        /// <inheritdoc/>
        protected override void StopProcessing() => _cancellation.Cancel();

        /// <summary>Builds the ErrorRecord for a core exception.</summary>
        /// <param name="exception">What the core threw.</param>
        /// <param name="errorId">The id for failures that have no more specific one.</param>
        /// <param name="target">The input that failed.</param>
        /// <returns>The record.</returns>
        internal static ErrorRecord ToErrorRecord(Exception exception, string errorId, object? target)
        {
            switch (exception)
            {
                case NetworkNamespaceException space:
                    return new ErrorRecord(
                        exception,
                        "NetworkNamespace" + space.Error.ToString(),
                        space.Error switch
                        {
                            NetworkNamespaceError.NotFound => ErrorCategory.ObjectNotFound,
                            NetworkNamespaceError.AccessDenied => ErrorCategory.PermissionDenied,
                            _ => ErrorCategory.InvalidArgument,
                        },
                        space.Specification);
                case PlatformNotSupportedException:
                    return new ErrorRecord(exception, "PlatformNotSupported", ErrorCategory.NotImplemented, target);
                case ArgumentException argument when !string.IsNullOrEmpty(argument.ParamName):
                    return new ErrorRecord(exception, errorId, ErrorCategory.InvalidArgument, target) { ErrorDetails = new ErrorDetails(WithoutParameterName(argument)) };
                case FormatException:
                case ArgumentException:
                    return new ErrorRecord(exception, errorId, ErrorCategory.InvalidArgument, target);
                case UnauthorizedAccessException:
                    return new ErrorRecord(exception, errorId, ErrorCategory.PermissionDenied, target);
                case IOException:
                    return new ErrorRecord(exception, errorId, ErrorCategory.ReadError, target);
                default:
                    return new ErrorRecord(exception, errorId, ErrorCategory.NotSpecified, target);
            }
        }

        /// <summary>
        /// The message of an ArgumentException as the core worded it, without the " (Parameter 'start')" and
        /// "Actual value was ..." lines that .NET appends: the user never typed a parameter named start.
        /// </summary>
        /// <param name="exception">The exception.</param>
        /// <returns>The first line, without the parameter-name suffix.</returns>
        internal static string WithoutParameterName(ArgumentException exception)
        {
            string message = exception.Message;
            int lineEnd = message.IndexOf('\n');
            if (lineEnd >= 0)
            {
                message = message.Substring(0, lineEnd).TrimEnd('\r');
            }

            // .NET Core appends " (Parameter 'name')", in the runtime's language; .NET Framework puts it on the next line.
            string quotedName = "'" + exception.ParamName + "')";
            int suffix = message.LastIndexOf(" (", StringComparison.Ordinal);
            return suffix > 0 && message.EndsWith(quotedName, StringComparison.Ordinal) ? message.Substring(0, suffix) : message;
        }

        /// <summary>Writes a non-terminating error for one input; the pipeline goes on.</summary>
        /// <param name="exception">What failed.</param>
        /// <param name="errorId">The error id.</param>
        /// <param name="target">The input that failed.</param>
        protected void WriteCoreError(Exception exception, string errorId, object? target) =>
            WriteError(ToErrorRecord(exception, errorId, target));

        /// <summary>Stops the command: for failures after which nothing can proceed.</summary>
        /// <param name="exception">What failed.</param>
        /// <param name="errorId">The error id.</param>
        /// <param name="target">The input that failed.</param>
        protected void ThrowCoreError(Exception exception, string errorId, object? target) =>
            ThrowTerminatingError(ToErrorRecord(exception, errorId, target));

        /// <summary>
        /// The host facts a simulation of <paramref name="table"/> starts from, by precedence: the
        /// -SocketHost argument; the facts of -NetworkNamespace; the facts of the namespace this
        /// session read the table from; otherwise nothing (all unknown): a simulation never borrows
        /// this process's facts. A -TargetOS that the facts contradict is an error for a given
        /// SocketHost, and drops the facts the table brought. Stops the command on bad input.
        /// </summary>
        /// <param name="socketHost">The -SocketHost argument, or null.</param>
        /// <param name="networkNamespace">The -NetworkNamespace argument, or null.</param>
        /// <param name="table">The socket table.</param>
        /// <param name="targetOS">The -TargetOS argument, or null.</param>
        /// <returns>The facts; their OS is null when nothing says it.</returns>
        internal SocketHost SimulationHost(PSObject? socketHost, string? networkNamespace, IReadOnlyList<SocketTuple> table, TargetOS? targetOS)
        {
            if (socketHost is not null && networkNamespace is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Give -SocketHost or -NetworkNamespace, not both: each says whose host facts to use."),
                    "SocketHostWithNetworkNamespace",
                    ErrorCategory.InvalidArgument,
                    networkNamespace));
            }

            SocketHost host;
            if (socketHost is not null)
            {
                if (!SocketHostInput.TryConvert(socketHost, "SocketHost", out SocketHost? given, out ErrorRecord? error))
                {
                    ThrowTerminatingError(error!);
                }

                host = given!;
                if (targetOS is TargetOS os && host.OS is TargetOS own && own != os)
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("-SocketHost describes " + host + ", a " + own + " host, but -TargetOS asks for " + os + "'s rules: give a SocketHost of a " + os + " host, or leave out -TargetOS."),
                        "SocketHostOSMismatch",
                        ErrorCategory.InvalidArgument,
                        socketHost));
                }

                WriteVerbose("Host facts: those of -SocketHost, " + host + ".");
                return host;
            }

            var notes = new List<string>();
            if (networkNamespace is not null)
            {
                host = ReadSocketHost(networkNamespace);
                WriteVerbose("Host facts: those of network namespace " + host.NetworkNamespace + ", read now.");
                return host;
            }

            SocketHost? origin = null;
            try
            {
                origin = SocketHost.ReadForTable(table, notes, CancellationToken);
            }
            catch (Exception exception) when (exception is System.IO.IOException or UnauthorizedAccessException)
            {
                notes.Add("The host facts of the socket table's namespace could not be read (" + exception.Message + "); they are taken as unknown.");
            }

            foreach (string note in notes)
            {
                WriteVerbose(note);
            }

            if (origin is not null && (targetOS is null || targetOS == origin.OS))
            {
                WriteVerbose("Host facts: those of network namespace " + origin.NetworkNamespace + ", which this session read the socket table from.");
                return origin;
            }

            WriteVerbose("Host facts: unknown (give -SocketHost, or -NetworkNamespace for a namespace of this host); the answers say what they depend on.");
            return SocketHost.Unknown();
        }

        /// <summary>
        /// The table's computers, each on its own, in order of first appearance (one partition, named
        /// or not, for a table of one computer): sockets of different computers never meet in one
        /// answer. Sockets that name no computer form a partition of their own. Stops the command when
        /// one -SocketHost is given for several computers, whose facts differ.
        /// </summary>
        /// <param name="table">The socket table.</param>
        /// <param name="socketHost">The -SocketHost argument, or null.</param>
        /// <returns>The computer name (null for sockets that name none) and its sockets.</returns>
        internal List<(string? ComputerName, List<SocketTuple> Sockets)> ComputerPartitions(List<SocketTuple> table, PSObject? socketHost)
        {
            var partitions = new List<(string?, List<SocketTuple>)>();
            var byName = new Dictionary<string, List<SocketTuple>>(StringComparer.OrdinalIgnoreCase);
            List<SocketTuple>? unnamed = null;
            foreach (SocketTuple socket in table)
            {
                List<SocketTuple>? sockets;
                if (socket.ComputerName is null)
                {
                    if (unnamed is null)
                    {
                        unnamed = new List<SocketTuple>();
                        partitions.Add((null, unnamed));
                    }

                    sockets = unnamed;
                }
                else if (!byName.TryGetValue(socket.ComputerName, out sockets))
                {
                    sockets = new List<SocketTuple>();
                    byName.Add(socket.ComputerName, sockets);
                    partitions.Add((socket.ComputerName, sockets));
                }

                sockets.Add(socket);
            }

            if (partitions.Count == 0)
            {
                partitions.Add((null, table));
            }

            if (partitions.Count > 1)
            {
                string names = string.Join(", ", partitions.Select(p => p.Item1 ?? "(no computer name)"));
                if (socketHost is not null)
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("The socket table holds the sockets of several computers (" + names + "), but -SocketHost gives the facts of one: split the table by computer, as in "
                            + "$table | Group-Object ComputerName | ForEach-Object { " + MyInvocation.MyCommand.Name + " ... -SocketTable $_.Group -SocketHost $hosts[$_.Name] }."),
                        "SocketTableOfSeveralComputers",
                        ErrorCategory.InvalidArgument,
                        socketHost));
                }

                WriteVerbose("The socket table holds the sockets of " + partitions.Count + " computers (" + names + "): each is answered on its own, and each answer names its computer.");
            }

            return partitions;
        }

        /// <summary>
        /// The indexes a simulation answers against: one per computer and network namespace of the table
        /// (their sockets never conflict), each with the facts of its own host, then the caller's
        /// single-fact parameters (<paramref name="overrides"/>), then the OS.
        /// </summary>
        /// <param name="table">The converted -SocketTable.</param>
        /// <param name="socketHost">-SocketHost, or null.</param>
        /// <param name="networkNamespace">-NetworkNamespace, or null.</param>
        /// <param name="targetOS">-TargetOS, or null.</param>
        /// <param name="overrides">Applies the cmdlet's single-fact parameters to a host's facts.</param>
        /// <returns>The indexes with their host and computer, in order of first appearance.</returns>
        internal List<(SocketIndex Index, SocketHost Host, string? ComputerName)> SimulationIndexes(
            List<SocketTuple> table, PSObject? socketHost, string? networkNamespace, TargetOS? targetOS, Func<SocketHost, SocketHost> overrides)
        {
            var indexes = new List<(SocketIndex, SocketHost, string?)>();
            bool uniform = networkNamespace is null && (table is SocketTableEntries { WasOneComputerAndNamespace: true } || IsOneComputerAndNamespace(table));
            IEnumerable<(string? ComputerName, List<SocketTuple> Sockets)> partitions = uniform
                ? new[] { (table.Count > 0 ? table[0].ComputerName : null, table) }
                : ComputerPartitions(table, socketHost);
            foreach ((string? computer, List<SocketTuple> sockets) in partitions)
            {
                foreach (IReadOnlyList<SocketTuple> partition in uniform ? new[] { sockets } : NamespacePartitions(sockets, networkNamespace))
                {
                    SocketHost host = overrides(SimulationHost(socketHost, networkNamespace, partition, targetOS));
                    host = host.With(os: targetOS ?? host.OS ?? TargetOSInfo.Current);
                    indexes.Add((SocketIndex.Build(partition, HostFacts.From(host), SocketTableOrder.BindOrder), host, computer));
                }
            }

            return indexes;
        }

        /// <summary>
        /// Whether every socket names the same computer (or none) and the same namespace object (or
        /// none): the common table, one computer's live read or one file, which is then indexed as it
        /// is, in one pass over it rather than one to partition by computer and another by namespace.
        /// </summary>
        /// <param name="table">The socket table.</param>
        /// <returns>False when they may differ (the partitions then decide).</returns>
        private static bool IsOneComputerAndNamespace(List<SocketTuple> table)
        {
            if (table.Count == 0)
            {
                return true;
            }

            foreach (SocketTuple socket in table)
            {
                if (!SocketTableEntries.SameComputerAndNamespace(table[0], socket))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// The table's network namespaces, each on its own (one partition for a table without them);
        /// with -NetworkNamespace and a table of several, only that namespace's sockets.
        /// </summary>
        /// <param name="table">The socket table.</param>
        /// <param name="networkNamespace">The -NetworkNamespace given, or null.</param>
        /// <returns>The partitions, in order of first appearance.</returns>
        internal IEnumerable<IReadOnlyList<SocketTuple>> NamespacePartitions(List<SocketTuple> table, string? networkNamespace)
        {
            // The common case, one namespace (or none known): the table itself, without grouping and copying a million sockets.
            if (networkNamespace is null && NetworkNamespacePartition.Count(table, s => s.NetworkNamespace) <= 1)
            {
                return new[] { (IReadOnlyList<SocketTuple>)table };
            }

            var partitions = NetworkNamespacePartition.Split(table, s => s.NetworkNamespace).Select(p => (p.Key, (IReadOnlyList<SocketTuple>)p.ToList())).ToList();
            if (partitions.Count == 0)
            {
                return new[] { (IReadOnlyList<SocketTuple>)table };
            }

            if (networkNamespace is null || partitions.Count == 1)
            {
                return partitions.Select(p => p.Item2);
            }

            ulong? wanted = null;
            try
            {
                wanted = LiveNetworkNamespace.InodeOf(networkNamespace);
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException)
            {
                ThrowCoreError(exception, "NetworkNamespaceNotFound", networkNamespace);
            }

            var chosen = partitions.Where(p => p.Key is not null && p.Key.Inode == wanted).Select(p => p.Item2).ToList();
            if (chosen.Count == 0)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("The socket table holds no socket of network namespace '" + networkNamespace + "': its namespaces are " + string.Join(", ", partitions.Select(p => p.Key?.ToString() ?? "(unknown)")) + "."),
                    "NetworkNamespaceNotInSocketTable",
                    ErrorCategory.InvalidArgument,
                    networkNamespace));
            }

            return chosen;
        }

        /// <summary>Reads the facts of this host or a namespace of it, writing what could not be read as verbose lines; stops the command when the namespace cannot be read.</summary>
        /// <param name="networkNamespace">The namespace, or null for this host.</param>
        /// <returns>The facts.</returns>
        internal SocketHost ReadSocketHost(string? networkNamespace)
        {
            var notes = new List<string>();
            SocketHost host = null!;
            try
            {
                host = SocketHost.Read(networkNamespace, notes, CancellationToken);
            }
            catch (Exception exception) when (exception is NetworkNamespaceException or PlatformNotSupportedException or System.IO.IOException or UnauthorizedAccessException)
            {
                ThrowCoreError(exception, "SocketHostReadFailed", networkNamespace);
            }

            foreach (string note in notes)
            {
                WriteVerbose(note);
            }

            return host;
        }

        /// <summary>
        /// Reads this host's socket table on a worker thread while this (the pipeline) thread shows
        /// progress once the read has taken a second: on a host with a million sockets it takes several.
        /// Ctrl+C cancels the read through <see cref="CancellationToken"/>.
        /// </summary>
        /// <param name="query">What to read.</param>
        /// <returns>The read.</returns>
        /// <exception cref="OperationCanceledException">The pipeline was stopped.</exception>
        protected SocketTableReadResult ReadLiveTable(SocketQuery query) =>
            RunWithProgress(progress => LiveSocketTable.Read(query, CancellationToken, progress));

        /// <summary>
        /// Runs a live read on a worker thread while this (the pipeline) thread shows its progress once
        /// it has taken a second. The read polls <see cref="CancellationToken"/>, which Ctrl+C cancels.
        /// </summary>
        /// <typeparam name="T">What the read returns.</typeparam>
        /// <param name="readWithProgress">The read, counting into the progress it is given.</param>
        /// <returns>The read's result.</returns>
        /// <exception cref="OperationCanceledException">The pipeline was stopped.</exception>
        protected T RunWithProgress<T>(Func<SocketReadProgress, T> readWithProgress)
        {
            var progress = new SocketReadProgress();
            Task<T> read = Task.Run(() => readWithProgress(progress));
            var clock = Stopwatch.StartNew();
            ProgressRecord? record = null;
            while (!((IAsyncResult)read).AsyncWaitHandle.WaitOne(ProgressInterval))
            {
                if (clock.Elapsed >= ProgressDelay)
                {
                    record ??= new ProgressRecord(ProgressActivityId, MyInvocation.MyCommand.Name, "Reading the socket table");
                    record.StatusDescription = progress.Describe();
                    record.PercentComplete = progress.PercentComplete;
                    WriteProgress(record);
                }
            }

            if (record is not null)
            {
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
            }

            return read.GetAwaiter().GetResult(); // the reader's own exception, not an AggregateException
        }

        /// <summary>
        /// Counts one pipeline item done and, once the pipeline has run for a second, shows how many
        /// (at most every <see cref="ProgressInterval"/> ms): the length of a pipeline is not known ahead.
        /// </summary>
        /// <param name="what">What the count counts, such as "packets resolved".</param>
        protected void CountItemProgress(string what)
        {
            _items++;
            _itemClock ??= Stopwatch.StartNew();
            long elapsed = _itemClock.ElapsedMilliseconds;
            if (elapsed < ProgressDelay.TotalMilliseconds || elapsed - _itemShownAt < ProgressInterval)
            {
                return;
            }

            _itemShownAt = elapsed;
            _itemRecord ??= new ProgressRecord(ProgressActivityId, MyInvocation.MyCommand.Name, "Working");
            _itemRecord.StatusDescription = _items.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " " + what;
            WriteProgress(_itemRecord);
        }

        /// <summary>Closes the bar <see cref="CountItemProgress"/> opened, if it opened one.</summary>
        protected void CompleteItemProgress()
        {
            if (_itemRecord is not null)
            {
                _itemRecord.RecordType = ProgressRecordType.Completed;
                WriteProgress(_itemRecord);
                _itemRecord = null;
            }
        }

        /// <summary>Work shorter than this shows no progress bar.</summary>
        internal static readonly TimeSpan ProgressDelay = TimeSpan.FromSeconds(1);

        /// <summary>How often a progress bar is refreshed: often enough to look alive, rarely enough to cost nothing.</summary>
        internal const int ProgressInterval = 250;

        /// <summary>The activity id of every PortTools progress bar.</summary>
        internal const int ProgressActivityId = 1;

        /// <inheritdoc/>
        public void Dispose()
        {
            _cancellation.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
