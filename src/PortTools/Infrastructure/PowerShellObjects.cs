using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>Reads PowerShell objects as property bags for the core's converters.</summary>
    internal static class PowerShellObjects
    {
        // One dictionary per thread for the properties of the bag being converted, reused from row to row.
        [ThreadStatic]
        private static Dictionary<string, object?>? s_bagValues;

        // The same for bags read from the engine's member collections.
        [ThreadStatic]
        private static SocketPropertyBag? s_bag;

        /// <summary>
        /// The properties of an object, or null for primitives and strings. Deserialized objects,
        /// [pscustomobject]s (Import-Csv, ConvertFrom-Json), hashtables and ordinary .NET objects all qualify.
        /// </summary>
        public static IEnumerable<KeyValuePair<string, object?>>? Properties(object value)
        {
            object target = value is PSObject wrapped ? wrapped.BaseObject : value;
            if (target is string || target.GetType().IsPrimitive || target is decimal)
            {
                return null;
            }

            if (target is IDictionary dictionary)
            {
                return Entries(dictionary);
            }

            PSObject shell = value as PSObject ?? PSObject.AsPSObject(value);
            return Members(shell);
        }

        /// <summary>
        /// A socket from a pipeline or -SocketTable entry: a SocketTuple, its text, or an object that carries
        /// one. The PSComputerName that remoting and jobs add to the wrapper of a SocketTuple they rehydrated
        /// becomes its ComputerName. A SocketTuple, wrapped or not, is taken as it is; a property bag
        /// (deserialized, Import-Csv, ConvertFrom-Json) is read property by property, once.
        /// </summary>
        /// <param name="item">The entry as PowerShell passed it.</param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">Why the entry is not a socket.</param>
        /// <param name="bags">
        /// Reads property bags from the engine's member collections (see <see cref="PropertyBagReader"/>), for
        /// a caller that converts many; null reads each the public way. A bag that does not convert is read
        /// the public way again, so that its error is the public way's.
        /// </param>
        /// <returns>Whether the entry converted.</returns>
        public static bool TryConvertSocket(object? item, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error, PropertyBagReader? bags = null)
        {
            object? value = item is PSObject wrapper ? wrapper.BaseObject : item;
            if (value is SocketTuple tuple)
            {
                error = null;
                socket = tuple.ComputerName is null && RemoteComputerName(item!) is string computer ? tuple.WithComputerName(computer) : tuple;
                return true;
            }

            if (value is PSCustomObject && item is PSObject bag)
            {
                if (bags is not null)
                {
                    SocketPropertyBag read = s_bag ??= new SocketPropertyBag(Properties);
                    try
                    {
                        // The mapping sets ComputerName from PSComputerName itself (SocketTupleConverter).
                        if (bags.TryRead(bag, read) && read.TryConvert(out socket, out error))
                        {
                            return true;
                        }
                    }
                    finally
                    {
                        read.Clear(); // holds no row's values beyond its conversion
                    }
                }

                Dictionary<string, object?> values = s_bagValues ??= new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                values.Clear();
                foreach (KeyValuePair<string, object?> pair in Members(bag))
                {
                    values[pair.Key] = pair.Value;
                }

                try
                {
                    if (!SocketTupleConverter.TryConvertProperties(values, Properties, out socket, out error))
                    {
                        return false;
                    }

                    if (socket.ComputerName is null && values.TryGetValue("PSComputerName", out object? named) && named is string remote && remote.Length > 0)
                    {
                        socket = socket.WithComputerName(remote);
                    }

                    return true;
                }
                finally
                {
                    values.Clear(); // holds no row's values beyond its conversion
                }
            }

            if (!SocketTupleConverter.TryConvert(Unwrap(item), Properties, out socket, out error))
            {
                return false;
            }

            if (socket.ComputerName is null && item is PSObject shell && RemoteComputerName(shell) is string name)
            {
                socket = socket.WithComputerName(name);
            }

            return true;
        }

        /// <summary>A UNIX socket from a -SocketTable entry: a UnixSocket, its text, or an object that carries one.</summary>
        /// <param name="item">The entry as PowerShell passed it.</param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">Why the entry is not a UNIX socket.</param>
        /// <returns>Whether the entry converted.</returns>
        public static bool TryConvertUnixSocket(object? item, [NotNullWhen(true)] out UnixSocket? socket, [NotNullWhen(false)] out string? error)
        {
            if (!UnixSocketConverter.TryConvert(Unwrap(item), Properties, out socket, out error))
            {
                return false;
            }

            if (socket.ComputerName is null && item is not null && RemoteComputerName(item) is string computer)
            {
                socket = socket.WithComputerName(computer);
            }

            return true;
        }

        /// <summary>
        /// The PSComputerName note that remoting and jobs add to what they return, or null. Only an object
        /// with instance members can carry one: asking any other wrapper for it would give each object an
        /// (empty) member table of its own, which on a table of a million sockets costs more than the rest.
        /// </summary>
        /// <param name="item">The object, wrapped or not.</param>
        /// <returns>The computer name, or null.</returns>
        private static string? RemoteComputerName(object item)
        {
            if (!InstanceMembers.MayHave(item))
            {
                return null;
            }

            PSObject shell = item as PSObject ?? PSObject.AsPSObject(item);
            return shell.Properties["PSComputerName"]?.Value is string computer && computer.Length > 0 ? computer : null;
        }

        /// <summary>The object under a PSObject wrapper (what a cmdlet should look at).</summary>
        public static object? Unwrap(object? value) => value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;

        private static IEnumerable<KeyValuePair<string, object?>> Entries(IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                yield return new KeyValuePair<string, object?>(Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, Unwrap(entry.Value));
            }
        }

        private static IEnumerable<KeyValuePair<string, object?>> Members(PSObject shell)
        {
            foreach (PSPropertyInfo property in shell.Properties)
            {
                object? value;
                try
                {
                    value = property.Value;
                }
                catch (GetValueException)
                {
                    continue; // a property whose getter throws says nothing about the socket
                }

                yield return new KeyValuePair<string, object?>(property.Name, Unwrap(value));
            }
        }
    }
}
