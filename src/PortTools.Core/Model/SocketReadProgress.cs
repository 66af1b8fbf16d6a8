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
        // Sockets handed over while the rest are built: a batch is published at a time, so that the
        // consumer is woken once per batch, not once per socket.
        private const int HandOverBatch = 512;
        private SocketTuple[]? _handOver;
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
        /// as they are built (<see cref="SocketsReady"/>, <see cref="ReadySocket"/>), in the order of the
        /// result, so that a consumer can write them while the rest are built. Other reads hand over none:
        /// the result holds them all.
        /// </summary>
        public bool HandOverSockets { get; set; }

        /// <summary>How many sockets have been handed over so far (<see cref="ReadySocket"/> 0 to this less one).</summary>
        public int SocketsReady => Volatile.Read(ref _handOverPublished);

        /// <summary>A socket handed over, in the order of the result.</summary>
        /// <param name="index">From 0 to <see cref="SocketsReady"/> less one.</param>
        /// <returns>The socket.</returns>
        public SocketTuple ReadySocket(int index) => index < SocketsReady ? Volatile.Read(ref _handOver)![index] : throw new ArgumentOutOfRangeException(nameof(index));

        /// <summary>Called on the reading thread each time more sockets are handed over (a consumer's wake-up).</summary>
        public Action? SocketsHandedOver { get; set; }

        internal void StartHandOver(int capacity)
        {
            if (HandOverSockets)
            {
                _handOver = new SocketTuple[Math.Max(capacity, HandOverBatch)];
            }
        }

        internal void HandOver(SocketTuple socket)
        {
            if (_handOver is null)
            {
                return;
            }

            if (_handOverBuilt == _handOver.Length)
            {
                // A read that builds while the kernel dumps does not know the count: the array grows, and
                // a consumer reading the old one still finds every socket published in it.
                var larger = new SocketTuple[_handOver.Length * 2];
                Array.Copy(_handOver, larger, _handOverBuilt);
                Volatile.Write(ref _handOver, larger);
            }

            _handOver[_handOverBuilt++] = socket;
            if (_handOverBuilt % HandOverBatch == 0)
            {
                PublishHandOver();
            }
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
