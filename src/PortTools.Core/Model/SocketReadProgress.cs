using System;
using System.Globalization;
using System.Threading;

namespace PortTools
{
    /// <summary>
    /// How far a live read has come, for a progress bar on hosts where it takes seconds. The reader's
    /// threads count; any thread may read the counts at any time.
    /// </summary>
    public sealed class SocketReadProgress
    {
        // Sockets handed over while the rest are built: a chunk is published at a time, so that the
        // consumer is woken once per chunk, not once per socket. Chunks are never copied, and a socket
        // taken leaves its slot: nothing keeps a socket the consumer has written, so that at 100,000s
        // of sockets the collector finds them dead young instead of copying them into older generations.
        private const int HandOverChunkBits = 9;
        private const int HandOverChunk = 1 << HandOverChunkBits;
        private SocketTuple?[]?[]? _handOver;
        private int _handOverBuilt;
        private int _handOverPublished;
        private long _socketsRead;
        private int _processesWalked;
        private long _socketsBuilt;
        private long _socketsToBuild;

        /// <summary>Sockets the kernel has reported so far (before filters that need owners).</summary>
        public long SocketsRead => Volatile.Read(ref _socketsRead);

        /// <summary>Processes whose descriptors have been walked for owners.</summary>
        public int ProcessesWalked => Volatile.Read(ref _processesWalked);

        /// <summary>Sockets made into objects so far.</summary>
        public long SocketsBuilt => Volatile.Read(ref _socketsBuilt);

        /// <summary>Sockets to make into objects, once the kernel's tables are read; 0 before.</summary>
        public long SocketsToBuild => Volatile.Read(ref _socketsToBuild);

        /// <summary>The share done, 0 to 100, once objects are being built; -1 while the total is unknown.</summary>
        public int PercentComplete
        {
            get
            {
                long total = SocketsToBuild;
                return total <= 0 ? -1 : (int)(SocketsBuilt * 100 / total);
            }
        }

        /// <summary>"412,000 sockets read; owners from 1,204 processes; 300,000 of 412,000 objects built".</summary>
        public string Describe()
        {
            string text = string.Format(CultureInfo.InvariantCulture, "{0:N0} sockets read", SocketsRead);
            if (ProcessesWalked > 0)
            {
                text += string.Format(CultureInfo.InvariantCulture, "; owners from {0:N0} processes", ProcessesWalked);
            }

            if (SocketsToBuild > 0)
            {
                text += string.Format(CultureInfo.InvariantCulture, "; {0:N0} of {1:N0} objects built", SocketsBuilt, SocketsToBuild);
            }

            return text;
        }

        /// <summary>
        /// Set before the read to have the sockets of a one-namespace live read of TCP and UDP handed over
        /// as they are built (<see cref="SocketsReady"/>, <see cref="TakeReadySocket"/>), in the order of
        /// the result, so that a consumer can write them while the rest are built. A socket handed over is
        /// not also kept in the result: its <see cref="SocketTableReadResult.Sockets"/> holds only the
        /// sockets that were not handed over, which follow them. Other reads hand over none: the result
        /// holds them all.
        /// </summary>
        public bool HandOverSockets { get; set; }

        /// <summary>How many sockets have been handed over so far (<see cref="TakeReadySocket"/> 0 to this less one).</summary>
        public int SocketsReady => Volatile.Read(ref _handOverPublished);

        /// <summary>
        /// Takes a socket handed over, in the order of the result. Each is taken once: the hand-over lets
        /// go of it, so that a consumer that writes and drops sockets keeps none.
        /// </summary>
        /// <param name="index">From 0 to <see cref="SocketsReady"/> less one.</param>
        /// <returns>The socket.</returns>
        /// <exception cref="ArgumentOutOfRangeException">Not handed over (yet).</exception>
        /// <exception cref="InvalidOperationException">Taken before.</exception>
        public SocketTuple TakeReadySocket(int index)
        {
            if (index < 0 || index >= SocketsReady)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, "Only the sockets handed over so far can be taken: 0 to SocketsReady less one.");
            }

            SocketTuple?[] chunk = Volatile.Read(ref _handOver)![index >> HandOverChunkBits]!;
            int slot = index & (HandOverChunk - 1);
            SocketTuple socket = chunk[slot] ?? throw new InvalidOperationException("The socket handed over at " + index.ToString(CultureInfo.InvariantCulture) + " was taken before: each is taken once.");
            chunk[slot] = null;
            return socket;
        }

        /// <summary>Called on the reading thread each time more sockets are handed over (a consumer's wake-up).</summary>
        public Action? SocketsHandedOver { get; set; }

        /// <summary>Whether sockets built now are handed over (asked for, and a read that can).</summary>
        internal bool IsHandingOver => _handOver is not null;

        internal void StartHandOver()
        {
            if (HandOverSockets)
            {
                _handOver = new SocketTuple?[]?[2]; // grows by doubling, copying chunk references only
            }
        }

        /// <summary>Hands a socket over; false when this read hands over none (the caller keeps it).</summary>
        internal bool HandOver(SocketTuple socket)
        {
            SocketTuple?[]?[]? chunks = _handOver;
            if (chunks is null)
            {
                return false;
            }

            int chunk = _handOverBuilt >> HandOverChunkBits;
            if (chunk == chunks.Length)
            {
                // A read that builds while the kernel dumps does not know the count: the table of chunks
                // grows, and a consumer reading the old one still finds every chunk published in it.
                var larger = new SocketTuple?[]?[chunks.Length * 2];
                Array.Copy(chunks, larger, chunks.Length);
                Volatile.Write(ref _handOver, larger);
                chunks = larger;
            }

            (chunks[chunk] ??= new SocketTuple?[HandOverChunk])[_handOverBuilt & (HandOverChunk - 1)] = socket;
            _handOverBuilt++;
            if ((_handOverBuilt & (HandOverChunk - 1)) == 0)
            {
                PublishHandOver();
            }

            return true;
        }

        internal void PublishHandOver()
        {
            if (_handOver is null)
            {
                return;
            }

            Volatile.Write(ref _handOverPublished, _handOverBuilt);
            SocketsHandedOver?.Invoke();
        }

        internal void AddSocketsRead(long count) => Interlocked.Add(ref _socketsRead, count);

        internal void AddProcessWalked() => Interlocked.Increment(ref _processesWalked);

        internal void StartBuilding(long total) => Volatile.Write(ref _socketsToBuild, total);

        internal void SetSocketsBuilt(long built) => Volatile.Write(ref _socketsBuilt, built);
    }
}
