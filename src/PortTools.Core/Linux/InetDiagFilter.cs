using System;
using System.Collections.Generic;

namespace PortTools.Linux
{
    /// <summary>
    /// A query's port filters as inet_diag bytecode (the INET_DIAG_REQ_BYTECODE attribute of a dump
    /// request), so that the kernel fills and sends only the sockets they keep, as ss does for
    /// "sport = :8080". The reader still applies every filter itself: the bytecode spares the copying,
    /// never decides what is kept.
    /// </summary>
    /// <remarks>
    /// Layout and rules from include/uapi/linux/inet_diag.h and inet_diag_bc_run/inet_diag_bc_audit in
    /// net/ipv4/inet_diag.c. An operation is { u8 code; u8 yes; u16 no } in host order; a port
    /// comparison carries its port in the "no" of a second operation. Running moves "yes" or "no" bytes
    /// on from the operation; a program that ends exactly at its length keeps the socket, one that jumps
    /// 4 bytes past it drops it. The audit wants every jump target on the chain of "yes" moves, so each
    /// operation's "yes" is its own length and alternatives are joined by an unconditional jump (which
    /// always takes "no"). The kernel compares local ports as inet_num and remote ports as
    /// ntohs(inet_dport), the same fields inet_diag reports as idiag_sport and idiag_dport.
    /// </remarks>
    internal static class InetDiagFilter
    {
        private const byte Jump = 1;
        private const byte LocalAtLeast = 2;
        private const byte LocalAtMost = 3;
        private const byte RemoteAtLeast = 4;
        private const byte RemoteAtMost = 5;
        private const int PortOperationLength = 8;
        private const int JumpLength = 4;
        private const int Reject = -1;

        /// <summary>Past this many bytes (about 200 port ranges) the filter is left to this process.</summary>
        internal const int MaximumLength = 4096;

        /// <summary>The bytecode of the query's port filters, or null when it has none worth sending.</summary>
        public static byte[]? Compile(SocketQuery query)
        {
            var operations = new List<Operation>();
            var labels = new List<int>();
            AddClause(operations, labels, query.LocalPorts, LocalAtLeast, LocalAtMost);
            AddClause(operations, labels, query.RemotePorts, RemoteAtLeast, RemoteAtMost);
            if (operations.Count == 0)
            {
                return null;
            }

            var positions = new int[operations.Count + 1];
            for (int i = 0; i < operations.Count; i++)
            {
                positions[i + 1] = positions[i] + operations[i].Length;
            }

            int length = positions[operations.Count];
            if (length > MaximumLength)
            {
                return null;
            }

            var bytecode = new byte[length];
            for (int i = 0; i < operations.Count; i++)
            {
                Operation operation = operations[i];
                int target = operation.NoLabel == Reject ? length + 4 : positions[labels[operation.NoLabel]];
                Span<byte> at = bytecode.AsSpan(positions[i]);
                at[0] = operation.Code;
                at[1] = (byte)operation.Length;
                WriteNative16(at.Slice(2), (ushort)(target - positions[i]));
                if (operation.Code != Jump)
                {
                    WriteNative16(at.Slice(6), (ushort)operation.Port); // the second operation: code 0, yes 0, no = port
                }
            }

            return bytecode;
        }

        /// <summary>
        /// One clause: the port is in any of the ranges. Each range is "at least its start" then "at most
        /// its end", either failing to the next range (or dropping the socket after the last); a range
        /// that matches jumps past the rest. A clause that any port passes adds nothing.
        /// </summary>
        private static void AddClause(List<Operation> operations, List<int> labels, IReadOnlyList<PortRange>? ranges, byte atLeast, byte atMost)
        {
            if (ranges is not { Count: > 0 })
            {
                return;
            }

            foreach (PortRange range in ranges)
            {
                if (range.Start == PortRange.MinPort && range.End == PortRange.MaxPort)
                {
                    return;
                }
            }

            int clauseEnd = NewLabel(labels);
            for (int i = 0; i < ranges.Count; i++)
            {
                bool last = i == ranges.Count - 1;
                int next = last ? Reject : NewLabel(labels);
                if (ranges[i].Start > PortRange.MinPort)
                {
                    operations.Add(new Operation(atLeast, ranges[i].Start, next));
                }

                if (ranges[i].End < PortRange.MaxPort)
                {
                    operations.Add(new Operation(atMost, ranges[i].End, next));
                }

                if (!last)
                {
                    operations.Add(new Operation(Jump, 0, clauseEnd));
                    labels[next] = operations.Count;
                }
            }

            labels[clauseEnd] = operations.Count;
        }

        private static int NewLabel(List<int> labels)
        {
            labels.Add(0);
            return labels.Count - 1;
        }

        private static void WriteNative16(Span<byte> at, ushort value) => System.Runtime.InteropServices.MemoryMarshal.Write(at, ref value);

        private readonly struct Operation
        {
            public Operation(byte code, int port, int noLabel)
            {
                Code = code;
                Port = port;
                NoLabel = noLabel;
            }

            public byte Code { get; }

            /// <summary>The port compared with (none for a jump).</summary>
            public int Port { get; }

            /// <summary>Where a failed comparison, or a jump, goes: a label, or <see cref="Reject"/>.</summary>
            public int NoLabel { get; }

            public int Length => Code == Jump ? JumpLength : PortOperationLength;
        }
    }
}
