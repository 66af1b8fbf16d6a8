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

        internal void AddSocketsRead(long count) => Interlocked.Add(ref _socketsRead, count);

        internal void AddProcessWalked() => Interlocked.Increment(ref _processesWalked);

        internal void StartBuilding(long total) => Volatile.Write(ref _socketsToBuild, total);

        internal void SetSocketsBuilt(long built) => Volatile.Write(ref _socketsBuilt, built);
    }
}
