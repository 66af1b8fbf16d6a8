using System;
using System.Collections.Generic;
using System.Globalization;

namespace PortTools
{
    /// <summary>The short name of who holds a port or path, for a table's Holder column.</summary>
    internal static class HolderNames
    {
        /// <summary>
        /// The first owner as "python3 (7865)", with "+2" when two more processes (or sockets without a
        /// known owner, one each) hold it too; a socket without an owner names itself through
        /// <paramref name="unowned"/>; null when there is no socket.
        /// </summary>
        public static string? Short<T>(IReadOnlyList<T> sockets, Func<T, IReadOnlyList<SocketOwner>> owners, Func<T, string> unowned)
        {
            if (sockets.Count == 0)
            {
                return null;
            }

            T named = sockets[0];
            foreach (T socket in sockets)
            {
                if (owners(socket).Count > 0)
                {
                    named = socket;
                    break;
                }
            }

            var processes = new HashSet<int>();
            int holders = 0;
            foreach (T socket in sockets)
            {
                IReadOnlyList<SocketOwner> list = owners(socket);
                if (list.Count == 0)
                {
                    holders++;
                    continue;
                }

                foreach (SocketOwner owner in list)
                {
                    if (processes.Add(owner.ProcessId))
                    {
                        holders++;
                    }
                }
            }

            IReadOnlyList<SocketOwner> first = owners(named);
            string name = first.Count > 0
                ? (first[0].ProcessName ?? "pid") + " (" + first[0].ProcessId.ToString(CultureInfo.InvariantCulture) + ")"
                : unowned(named);
            return holders > 1 ? name + " +" + (holders - 1).ToString(CultureInfo.InvariantCulture) : name;
        }

        /// <summary>"uid 1000" when only the user is known, "?" when nothing is.</summary>
        public static string User(long? uid) => uid is long known ? "uid " + known.ToString(CultureInfo.InvariantCulture) : "?";
    }
}
