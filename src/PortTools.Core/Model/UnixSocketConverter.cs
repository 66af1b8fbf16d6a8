using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq;

namespace PortTools
{
    /// <summary>
    /// Turns whatever stands for a UNIX socket into a UnixSocket: the object itself, its canonical text
    /// (u_str LISTEN /run/app.sock pid=812), or an object whose properties carry one (a deserialized
    /// UnixSocket, an Import-Csv row of Export-Csv output, a ConvertFrom-Json object). The caller
    /// supplies how to read an object's properties, so this stays free of PowerShell.
    /// </summary>
    public static class UnixSocketConverter
    {
        /// <summary>Converts one value.</summary>
        /// <param name="value">A UnixSocket, its text, or a property bag.</param>
        /// <param name="properties">Reads an object's properties, or returns null when it is not a property bag.</param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">What was wrong with the value.</param>
        /// <returns>Whether the value converted.</returns>
        public static bool TryConvert(object? value, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties, [NotNullWhen(true)] out UnixSocket? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            switch (value)
            {
                case null:
                    error = "a socket table entry is empty (null)";
                    return false;
                case UnixSocket unix:
                    socket = unix;
                    error = null;
                    return true;
                case string text:
                    return UnixSocketText.TryParse(text, out socket, out error);
            }

            IEnumerable<KeyValuePair<string, object?>>? bag = properties(value);
            if (bag is null)
            {
                string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
                if (UnixSocketText.TryParse(text, out socket, out _))
                {
                    error = null;
                    return true;
                }

                error = "'" + text + "' is neither a UnixSocket, its text form (such as 'u_str LISTEN /run/app.sock'), nor an object with the properties of one";
                return false;
            }

            var fields = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, object?> pair in bag)
            {
                fields[pair.Key] = pair.Value;
            }

            if (!fields.TryGetValue("Type", out object? typeValue) || !fields.ContainsKey("State") || !fields.ContainsKey("Path"))
            {
                error = "an object with the properties " + string.Join(", ", fields.Keys) + " does not describe a UNIX socket: expected Type, State and Path";
                return false;
            }

            if (!TryType(typeValue, out UnixSocketType type))
            {
                error = "Type '" + typeValue + "' is not a UNIX socket type: expected Stream, Datagram or SeqPacket";
                return false;
            }

            if (!UnixSocketText.TryParseState(Text(fields, "State") ?? string.Empty, out SocketState state))
            {
                error = "State '" + Text(fields, "State") + "' is not a UNIX socket state: expected Listen, Established or Unconnected";
                return false;
            }

            string? path = Text(fields, "Path");
            UnixAddressKind? kind = Enum.TryParse(Text(fields, "AddressKind") ?? string.Empty, true, out UnixAddressKind parsedKind) ? parsedKind : null;
            NetworkNamespaceInfo? space = null;
            if (fields.TryGetValue("NetworkNamespace", out object? spaceValue) && spaceValue is not null)
            {
                IEnumerable<KeyValuePair<string, object?>>? spaceBag = spaceValue is string ? null : properties(spaceValue);
                string? inode = spaceBag?.FirstOrDefault(p => string.Equals(p.Key, "Inode", StringComparison.OrdinalIgnoreCase)).Value?.ToString();
                string? name = spaceBag?.FirstOrDefault(p => string.Equals(p.Key, "Name", StringComparison.OrdinalIgnoreCase)).Value?.ToString();
                string text = inode is not null ? (string.IsNullOrEmpty(name) ? inode : name + ":" + inode) : Convert.ToString(spaceValue, CultureInfo.InvariantCulture) ?? string.Empty;
                if (text.Length > 0 && !NetworkNamespaceInfo.TryParse(text, out space))
                {
                    error = "NetworkNamespace '" + text + "' is not a network namespace: expected its inode number, as in 4026532301 or red:4026532301";
                    return false;
                }
            }

            socket = new UnixSocket
            {
                Type = type,
                State = state,
                Path = path,
                AddressKind = kind ?? (string.IsNullOrEmpty(path) ? UnixAddressKind.Unnamed : path![0] == '@' ? UnixAddressKind.Abstract : UnixAddressKind.Path),
                Inode = Number(fields, "Inode"),
                PeerInode = Number(fields, "PeerInode"),
                FileInode = Number(fields, "FileInode"),
                FileDevice = Text(fields, "FileDevice"),
                PeerPath = Text(fields, "PeerPath"),
                UserId = (long?)Number(fields, "UserId"),
                Processes = Owners(fields, "Processes", "ProcessId", "ProcessName", properties),
                PeerProcesses = Owners(fields, "PeerProcesses", "PeerProcessId", "PeerProcessName", properties),
                NetworkNamespace = space,
                Source = Text(fields, "Source") ?? "Object",
                ComputerName = Text(fields, "PSComputerName") ?? Text(fields, "ComputerName"),
            };
            error = null;
            return true;
        }

        private static bool TryType(object? value, out UnixSocketType type)
        {
            type = default;
            if (value is UnixSocketType known)
            {
                type = known;
                return true;
            }

            string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
            if (UnixSocketText.TryParseNetId(text, out type))
            {
                return true;
            }

            return Enum.TryParse(text, true, out type) && Enum.IsDefined(typeof(UnixSocketType), type);
        }

        private static string? Text(Dictionary<string, object?> fields, string name) =>
            fields.TryGetValue(name, out object? value) && value is not null && Convert.ToString(value, CultureInfo.InvariantCulture) is { Length: > 0 } text ? text : null;

        private static ulong? Number(Dictionary<string, object?> fields, string name) =>
            Text(fields, name) is string text && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number) ? number : null;

        /// <summary>Owners from a list (objects or their "name (pid N)" text), or from a single id and name.</summary>
        private static IReadOnlyList<SocketOwner> Owners(Dictionary<string, object?> fields, string listName, string idName, string nameName, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties)
        {
            var owners = new List<SocketOwner>();
            if (fields.TryGetValue(listName, out object? list) && list is not null)
            {
                if (list is string text)
                {
                    if (SocketOwnerList.TryParse(text, out SocketOwnerList? parsed))
                    {
                        return parsed;
                    }
                }
                else if (list is IEnumerable items)
                {
                    foreach (object? item in items)
                    {
                        if (item is SocketOwner owner)
                        {
                            owners.Add(owner);
                        }
                        else if (item is not null && properties(item) is { } bag)
                        {
                            var map = bag.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
                            if (map.TryGetValue("ProcessId", out object? id) && int.TryParse(Convert.ToString(id, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                            {
                                owners.Add(new SocketOwner(pid, map.TryGetValue("ProcessName", out object? name) ? name?.ToString() : null));
                            }
                        }
                        else if (item is not null && SocketOwnerList.TryParse(item.ToString(), out SocketOwnerList? one))
                        {
                            owners.AddRange(one);
                        }
                    }

                    if (owners.Count > 0)
                    {
                        return owners;
                    }
                }
            }

            if (Text(fields, idName) is string idText && int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out int processId))
            {
                owners.Add(new SocketOwner(processId, Text(fields, nameName)));
            }

            return owners;
        }
    }
}
