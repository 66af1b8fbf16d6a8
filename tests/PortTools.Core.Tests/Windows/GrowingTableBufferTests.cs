using System;
using System.Collections.Generic;
using System.IO;
using PortTools.Windows;
using Xunit;

namespace PortTools.Tests.Windows
{
    /// <summary>
    /// The grow-and-retry loop around GetExtendedTcpTable and GetExtendedUdpTable: when the buffer is
    /// too small they return ERROR_INSUFFICIENT_BUFFER (122) and "this field will contain the correct
    /// size of the structure" (GetExtendedTcpTable, Microsoft Learn), and the table may have grown
    /// again by the next call.
    /// </summary>
    public class GrowingTableBufferTests
    {
        /// <summary>A fake table call that needs the given sizes, one per call, and records what it was offered.</summary>
        private sealed class FakeTable
        {
            private readonly Queue<uint> _needs;

            public FakeTable(params uint[] needs) => _needs = new Queue<uint>(needs);

            public List<int> Offered { get; } = new List<int>();

            public uint Call(byte[] buffer, ref uint size)
            {
                Offered.Add(buffer.Length);
                Assert.Equal((uint)buffer.Length, size);
                uint need = _needs.Count > 1 ? _needs.Dequeue() : _needs.Peek();
                if (buffer.Length < need)
                {
                    size = need;
                    return GrowingTableBuffer.ErrorInsufficientBuffer;
                }

                buffer[0] = 0x42;
                return GrowingTableBuffer.NoError;
            }
        }

        [Fact]
        public void A_table_that_fits_takes_one_call()
        {
            var table = new FakeTable(100);
            byte[] buffer = GrowingTableBuffer.Read(table.Call, "test table");
            Assert.Single(table.Offered);
            Assert.Equal(0x42, buffer[0]);
        }

        [Fact]
        public void Grows_to_the_size_the_call_asks_for_and_retries()
        {
            var table = new FakeTable(40_000);
            byte[] buffer = GrowingTableBuffer.Read(table.Call, "test table");
            Assert.Equal(2, table.Offered.Count);
            Assert.True(table.Offered[1] >= 40_000);
            Assert.Equal(0x42, buffer[0]);
        }

        [Fact]
        public void Retries_again_when_the_table_grows_between_calls()
        {
            var table = new FakeTable(40_000, 200_000, 200_000);
            GrowingTableBuffer.Read(table.Call, "test table");
            Assert.Equal(3, table.Offered.Count);
            Assert.True(table.Offered[2] >= 200_000);
        }

        [Fact]
        public void Grows_even_when_the_call_reports_a_size_that_already_fits()
        {
            int calls = 0;
            uint Inconsistent(byte[] buffer, ref uint size)
            {
                calls++;
                if (calls == 1)
                {
                    size = 10; // smaller than the buffer, yet "insufficient"
                    return GrowingTableBuffer.ErrorInsufficientBuffer;
                }

                return GrowingTableBuffer.NoError;
            }

            byte[] buffer = GrowingTableBuffer.Read(Inconsistent, "test table", new byte[64]);
            Assert.Equal(2, calls);
            Assert.True(buffer.Length > 64);
        }

        [Fact]
        public void Reuses_the_buffer_it_is_given_when_the_table_fits()
        {
            var reuse = new byte[50_000];
            Assert.Same(reuse, GrowingTableBuffer.Read(new FakeTable(100).Call, "test table", reuse));
        }

        [Fact]
        public void Gives_up_after_a_bounded_number_of_attempts()
        {
            uint need = 1000;
            uint AlwaysGrowing(byte[] buffer, ref uint size)
            {
                need = (uint)buffer.Length * 4;
                size = need;
                return GrowingTableBuffer.ErrorInsufficientBuffer;
            }

            int calls = 0;
            IOException error = Assert.Throws<IOException>(() => GrowingTableBuffer.Read(
                (byte[] b, ref uint s) =>
                {
                    calls++;
                    return AlwaysGrowing(b, ref s);
                },
                "MIB_TCPTABLE_OWNER_PID"));
            Assert.Equal(GrowingTableBuffer.MaxAttempts, calls);
            Assert.Contains("MIB_TCPTABLE_OWNER_PID", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Another_error_is_reported_with_its_number()
        {
            IOException error = Assert.Throws<IOException>(() => GrowingTableBuffer.Read((byte[] b, ref uint s) => 87u, "MIB_UDP6TABLE_OWNER_PID")); // ERROR_INVALID_PARAMETER
            Assert.Contains("87", error.Message, StringComparison.Ordinal);
            Assert.Contains("MIB_UDP6TABLE_OWNER_PID", error.Message, StringComparison.Ordinal);
            Assert.IsType<System.ComponentModel.Win32Exception>(error.InnerException);
        }
    }
}
