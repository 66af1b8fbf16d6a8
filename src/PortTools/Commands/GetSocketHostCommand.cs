using System;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Get-SocketHost: the facts of this host, or of one of its network namespaces, that bind and
    /// delivery simulations need, as one object that travels with a socket table.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SocketHost")]
    [OutputType(typeof(SocketHost))]
    public sealed class GetSocketHostCommand : PortToolsCmdlet
    {
        /// <summary>Network namespaces to read (Linux): names, /proc/[pid]/ns/net paths, or process ids. This host's own when omitted.</summary>
        [Parameter(Position = 0)]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? NetworkNamespace { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            foreach (string? space in NetworkNamespace ?? new string?[] { null })
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var notes = new System.Collections.Generic.List<string>();
                try
                {
                    SocketHost host = SocketHost.Read(space, notes, CancellationToken);
                    foreach (string note in notes)
                    {
                        WriteWarning(note);
                    }

                    WriteObject(host);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception exception) when (exception is NetworkNamespaceException or System.IO.IOException or UnauthorizedAccessException)
                {
                    // One namespace that cannot be read: the others still are.
                    WriteCoreError(exception, "SocketHostReadFailed", space);
                }
                catch (PlatformNotSupportedException exception)
                {
                    ThrowCoreError(exception, "PlatformNotSupported", space);
                }
            }
        }
    }
}
