using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Linq;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Members PortTools.types.ps1xml adds to SocketTuple for other cmdlets. Id is every owning process id,
    /// so that `Get-SocketTuple -LocalPort 8000 | Stop-Process` binds -Id (Stop-Process's default set) and
    /// targets the owners, never -Name, which would target every process of that name.
    /// </summary>
    public static class SocketTupleMembers
    {
        /// <summary>The ids of every process that owns the socket (several share a listener after fork()); empty when no owner is known.</summary>
        /// <param name="instance">The socket as PowerShell wraps it.</param>
        /// <returns>The ids, in the order of Processes.</returns>
        public static ProcessIdList OwnerIds(PSObject instance) =>
            new ProcessIdList(instance?.BaseObject is SocketTuple socket ? socket.Processes.Select(p => p.ProcessId).Distinct().ToList() : new List<int>());
    }

    /// <summary>Process ids, written as "812,813" where text is needed (Export-Csv, string conversion).</summary>
    public sealed class ProcessIdList : ReadOnlyCollection<int>
    {
        /// <summary>Wraps the ids.</summary>
        /// <param name="ids">The ids.</param>
        public ProcessIdList(IList<int> ids)
            : base(ids)
        {
        }

        /// <inheritdoc/>
        public override string ToString() => string.Join(",", this.Select(id => id.ToString(CultureInfo.InvariantCulture)));
    }
}
