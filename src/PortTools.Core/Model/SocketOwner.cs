using System;
using System.Globalization;

namespace PortTools
{
    /// <summary>A process that holds a socket open. After fork() several processes can hold the same socket.</summary>
    public sealed class SocketOwner : IEquatable<SocketOwner>
    {
        /// <summary>Creates an owner.</summary>
        /// <param name="processId">The process id.</param>
        /// <param name="processName">The process name, or null when it could not be read.</param>
        public SocketOwner(int processId, string? processName)
        {
            if (processId < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id cannot be negative.");
            }

            ProcessId = processId;
            ProcessName = processName;
        }

        /// <summary>The process id.</summary>
        public int ProcessId { get; }

        /// <summary>The process name (Linux: the command name, as ps and Get-Process show it).</summary>
        public string? ProcessName { get; }

        /// <inheritdoc/>
        public bool Equals(SocketOwner? other) =>
            other is not null && other.ProcessId == ProcessId && string.Equals(other.ProcessName, ProcessName, StringComparison.Ordinal);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as SocketOwner);

        /// <inheritdoc/>
        public override int GetHashCode() => ProcessId;

        /// <summary>"nginx (pid 812)", or "pid 812" when the name is unknown.</summary>
        public override string ToString() => ProcessName is null
            ? "pid " + ProcessId.ToString(CultureInfo.InvariantCulture)
            : ProcessName + " (pid " + ProcessId.ToString(CultureInfo.InvariantCulture) + ")";
    }
}
