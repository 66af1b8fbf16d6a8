using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Threading;

namespace PortTools.MacOS
{
    /// <summary>
    /// Reads the live socket table on macOS through libproc, as lsof does: every pid
    /// (proc_listpids), each pid's descriptors (PROC_PIDLISTFDS), and for each socket descriptor its
    /// struct socket_fdinfo (PROC_PIDFDSOCKETINFO), filtered as it is decoded. A socket held by
    /// several descriptors or processes is one SocketTuple with every owner.
    /// </summary>
    /// <remarks>
    /// libproc sees sockets only through descriptors, so three kinds are missing: sockets of
    /// processes the caller may not inspect (another user's, without root; one warning counts them),
    /// TIME_WAIT connections (closed, so held by no descriptor), and connections not yet accepted.
    /// UserId is the owning process's effective uid: socket_info carries no uid (pid_socketinfo in
    /// bsd/kern/proc_info.c leaves soi_stat zeroed). BoundInterface (IP_BOUND_IF) is not reported.
    /// </remarks>
    internal static class MacSocketReader
    {
        private const string Method = "libproc proc_pidfdinfo";

        public static SocketTableReadResult Read(SocketQuery query, CancellationToken cancellation, SocketReadProgress? progress = null)
        {
            var table = new MacSocketTable();
            int hiddenProcesses = Walk(query, table, cancellation, progress);
            Dictionary<int, ProcessRecord> processes = ReadProcesses(table);
            List<SocketTuple> sockets = Build(table, processes, query, cancellation);
            return new SocketTableReadResult(sockets, Warnings(query, hiddenProcesses), Method);
        }

        /// <summary>Decodes every socket of every process the caller may inspect; returns how many it may not.</summary>
        private static int Walk(SocketQuery query, MacSocketTable table, CancellationToken cancellation, SocketReadProgress? progress)
        {
            byte[] pidList = new byte[16 * 1024];
            int length = GrowingListBuffer.Fill(ref pidList, LibProc.ListPids, out int errno);
            if (length < 0)
            {
                throw new IOException("proc_listpids failed: " + new Win32Exception(errno).Message);
            }

            int hidden = 0;
            byte[] fdList = new byte[4 * 1024];
            byte[] info = new byte[SocketFdInfoDecoder.Length];
            var descriptors = new List<int>();
            foreach (int pid in ProcessListDecoder.Pids(new ReadOnlySpan<byte>(pidList, 0, length)))
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.AddProcessWalked();
                int bytes = GrowingListBuffer.Fill(ref fdList, (byte[] buffer, out int e) => LibProc.ListDescriptors(pid, buffer, out e), out errno);
                if (bytes < 0)
                {
                    // EPERM: another user's process. ESRCH: it exited; nothing was missed.
                    hidden += errno == LibProc.EPERM ? 1 : 0;
                    continue;
                }

                ProcessListDecoder.SocketDescriptors(new ReadOnlySpan<byte>(fdList, 0, bytes), descriptors);
                foreach (int fd in descriptors)
                {
                    // A descriptor closed since the list was taken returns an error: skip it.
                    if (LibProc.SocketInfo(pid, fd, info, out _) >= SocketFdInfoDecoder.Length)
                    {
                        SocketFdInfoDecoder.Decode(info, pid, query, table);
                    }
                }
            }

            return hidden;
        }

        /// <summary>Name and effective uid of every process that holds a kept socket, one call each.</summary>
        private static Dictionary<int, ProcessRecord> ReadProcesses(MacSocketTable table)
        {
            var processes = new Dictionary<int, ProcessRecord>();
            var owners = new List<int>(4);
            byte[] info = new byte[ProcessListDecoder.BsdInfoLength];
            for (int i = 0; i < table.Count; i++)
            {
                table.Owners(i, owners);
                foreach (int pid in owners)
                {
                    if (processes.ContainsKey(pid))
                    {
                        continue;
                    }

                    var process = new ProcessRecord(null, null);
                    if (LibProc.BsdInfo(pid, info, out _) >= ProcessListDecoder.BsdInfoLength
                        && ProcessListDecoder.TryReadBsdInfo(info, out string name, out uint uid))
                    {
                        process = new ProcessRecord(name.Length > 0 ? name : null, uid);
                    }

                    processes[pid] = process;
                }
            }

            return processes;
        }

        /// <summary>Builds the sockets from decoded records; the process filters run here, once owners are known.</summary>
        internal static List<SocketTuple> Build(MacSocketTable table, IReadOnlyDictionary<int, ProcessRecord> processes, SocketQuery query, CancellationToken cancellation)
        {
            var sockets = new List<SocketTuple>(table.Count);
            var addresses = new Linux.AddressCache();
            var ownerCache = new Dictionary<int, SocketOwner>();
            var pids = new List<int>(4);
            for (int i = 0; i < table.Count; i++)
            {
                if ((i & 0xFFF) == 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                }

                ref MacSocketTable.Record record = ref table[i];
                table.Owners(i, pids);
                processes.TryGetValue(pids[0], out ProcessRecord? first);
                IReadOnlyList<SocketOwner> owners = Array.Empty<SocketOwner>();
                if (query.NeedsProcesses)
                {
                    var list = new SocketOwner[pids.Count];
                    for (int k = 0; k < list.Length; k++)
                    {
                        int pid = pids[k];
                        if (!ownerCache.TryGetValue(pid, out SocketOwner? owner))
                        {
                            owner = new SocketOwner(pid, processes.TryGetValue(pid, out ProcessRecord? process) ? process.Name : null);
                            ownerCache[pid] = owner;
                        }

                        list[k] = owner;
                    }

                    owners = SocketOwnerList.Wrap(list);
                }

                if (query.HasProcessFilter && !query.WantsOwners(owners))
                {
                    continue;
                }

                sockets.Add(new SocketTuple
                {
                    Protocol = record.Protocol,
                    State = record.State,
                    LocalAddress = addresses.Get(table.LocalAddress(i), record.LocalScopeId),
                    LocalPort = record.LocalPort,
                    RemoteAddress = addresses.Get(table.RemoteAddress(i), record.RemoteScopeId),
                    RemotePort = record.RemotePort,
                    Processes = owners,
                    UserId = first?.UserId,
                    ReceiveQueue = record.ReceiveQueue,
                    SendQueue = record.SendQueue,
                    IPv6Only = record.V6Only == 0 ? null : record.V6Only == 2,
                    ReuseAddress = record.ReuseAddress,
                    ReusePort = record.ReusePort,
                    Source = "Live",
                    ReadHere = true,
                });
            }

            return sockets;
        }

        /// <summary>At most one warning per cause, never one per socket.</summary>
        internal static List<string> Warnings(SocketQuery query, int hiddenProcesses)
        {
            var warnings = new List<string>();
            if (hiddenProcesses > 0)
            {
                warnings.Add(string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} processes could not be inspected: macOS shows a process's file descriptors only to its own user and to root, so the sockets those processes hold are not listed. Run with sudo to see every socket.",
                    hiddenProcesses));
            }

            if (query.States is { Count: > 0 } states && Contains(states, SocketState.TimeWait))
            {
                warnings.Add("TIME_WAIT sockets are not listed on macOS: libproc finds sockets through the file descriptors that hold them, and a connection in TIME_WAIT is held by none.");
            }

            return warnings;
        }

        private static bool Contains(IReadOnlyCollection<SocketState> states, SocketState state)
        {
            foreach (SocketState candidate in states)
            {
                if (candidate == state)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>What proc_bsdinfo says of an owning process; nulls when it exited before it was read.</summary>
        internal sealed class ProcessRecord
        {
            public ProcessRecord(string? name, uint? userId)
            {
                Name = name;
                UserId = userId;
            }

            public string? Name { get; }

            public uint? UserId { get; }
        }
    }
}
