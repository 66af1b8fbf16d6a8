using System;
using System.Net;
using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Linux
{
    public class RawSocketTableTests
    {
        private static int AddListener(RawSocketTable table, string address, int port)
        {
            int index = table.Add();
            table[index].Protocol = TransportProtocol.Tcp;
            table[index].LocalPort = (ushort)port;
            IPAddress.Parse(address).GetAddressBytes().AsSpan().CopyTo(table.LocalSlot(index));
            return index;
        }

        [Fact]
        public void Released_records_keep_their_indexes_counted_and_later_records_read_back_whole()
        {
            var table = new RawSocketTable(capacity: 2);
            AddListener(table, "10.0.0.1", 1);
            AddListener(table, "10.0.0.2", 2);
            table.Release();

            // Past the first capacity, without growing: the released records' room is used again.
            for (int i = 0; i < 5; i++)
            {
                int index = AddListener(table, "10.0.1." + i, 100 + i);
                Assert.Equal(2 + i, index);
                Assert.Equal(100 + i, table[index].LocalPort);
                Assert.Equal(new byte[] { 10, 0, 1, (byte)i }, table.LocalAddress(index).ToArray());
                Assert.True(table.RemoveLast());
                Assert.Equal(2 + i, table.Count);
                AddListener(table, "10.0.1." + i, 100 + i);
                table.Release();
            }

            Assert.Equal(7, table.Count);
        }

        [Fact]
        public void A_released_record_cannot_be_removed_so_a_failed_dump_cannot_unwind_sockets_already_built()
        {
            var table = new RawSocketTable();
            AddListener(table, "10.0.0.1", 1);
            AddListener(table, "10.0.0.2", 2);
            table.Release();
            int kept = AddListener(table, "10.0.0.3", 3);

            Assert.True(table.RemoveLast());
            Assert.False(table.RemoveLast());
            Assert.Equal(2, table.Count);
            Assert.Equal(kept, table.Add());
        }
    }
}
