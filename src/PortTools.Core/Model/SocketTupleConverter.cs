using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Threading;
using PortTools.Text;

namespace PortTools
{
    /// <summary>
    /// Turns whatever stands for a socket into a SocketTuple: the object itself, its canonical text,
    /// or an object whose properties carry one. The last covers a Deserialized.PortTools.SocketTuple
    /// (from Invoke-Command, Start-Job or Import-Clixml), an Import-Csv row of Export-Csv output and a
    /// ConvertFrom-Json object, which all hold the same property names. The caller supplies how to read
    /// an object's properties, so this stays free of PowerShell.
    /// </summary>
    public static class SocketTupleConverter
    {
        private const int MaxDepth = 4;

        /// <summary>Converts one value.</summary>
        /// <param name="value">A SocketTuple, a string in the canonical form, or a property bag.</param>
        /// <param name="properties">
        /// Reads an object's properties as name/value pairs, or returns null when the object is not a
        /// property bag (a primitive or an unknown type). Values may be strings, numbers, booleans,
        /// enums, IP addresses, collections, or further property bags.
        /// </param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">What was wrong with the value, naming it.</param>
        /// <returns>Whether the value converted.</returns>
        public static bool TryConvert(object? value, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            switch (value)
            {
                case null:
                    error = "a socket table entry is empty (null)";
                    return false;
                case SocketTuple tuple:
                    socket = tuple;
                    error = null;
                    return true;
                case string text:
                    return SocketTupleText.TryParse(text, out socket, out error);
            }

            IEnumerable<KeyValuePair<string, object?>>? bag = properties(value);
            if (bag is null)
            {
                // Anything else: its text may be the canonical form (a deserialized object keeps its ToString()).
                string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
                if (SocketTupleText.TryParse(text, out socket, out error))
                {
                    return true;
                }

                error = "'" + text + "' is neither a SocketTuple, its text form (such as 'tcp LISTEN 0.0.0.0:8080'), nor an object with the properties of one";
                return false;
            }

            var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, object?> pair in bag)
            {
                values[pair.Key] = pair.Value;
            }

            return TryConvertProperties(values, properties, out socket, out error);
        }

        /// <summary>
        /// Converts an object whose properties the caller has already read, by name: what
        /// <see cref="TryConvert"/> does with a property bag. Each value is turned into the mapper's
        /// terms only when the mapping asks for its name, so a bag's other properties cost nothing.
        /// </summary>
        /// <param name="values">The properties by name, compared case-insensitively (its comparer must be), values without wrappers.</param>
        /// <param name="properties">Reads nested objects' properties, as for <see cref="TryConvert"/>.</param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">What was wrong with the object, naming it.</param>
        /// <returns>Whether the object converted.</returns>
        public static bool TryConvertProperties(IReadOnlyDictionary<string, object?> values, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error) =>
            TryConvertRecord(new Record(values, properties), values.ContainsKey, values.Keys, out socket, out error);

        /// <summary>Converts a bag's properties, however the bag holds them (a dictionary, a <see cref="SocketPropertyBag"/>).</summary>
        /// <param name="record">Reads a property by name, case-insensitively.</param>
        /// <param name="has">Whether the bag has a property of that name.</param>
        /// <param name="names">The bag's property names, for the error that says it is no socket.</param>
        /// <param name="socket">The socket.</param>
        /// <param name="error">What was wrong with the object, naming it.</param>
        /// <returns>Whether the object converted.</returns>
        internal static bool TryConvertRecord(IFieldRecord record, Func<string, bool> has, IEnumerable<string> names, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            ExportKind kind = ExportRecords.Classify(has);
            if (kind == ExportKind.Unknown)
            {
                error = "an object with the properties " + string.Join(", ", names) + " does not describe a socket: expected Protocol and Local (or LocalAddress and LocalPort)";
                return false;
            }

            string source = Text(record, "Source", allowEmpty: true) ?? "Object";
            if (!ExportRecords.TryMap(record, kind, null, Context(), source, out SocketTuple? mapped, out error))
            {
                return false;
            }

            // The mapping names the computer the same way already (ExportRecords.ComputerNameOf): no copy for that.
            string? computer = Text(record, "PSComputerName") ?? Text(record, "ComputerName");
            socket = computer is null || string.Equals(mapped.ComputerName, computer, StringComparison.Ordinal) ? mapped : mapped.Copy(computerName: computer);
            return true;
        }

        // One context per thread, reused from row to row: a row of a million-row table then costs no
        // caches of its own, and equal addresses, names and owners are shared (the caches are bounded).
        [ThreadStatic]
        private static ParseContext? s_context;

        internal static ParseContext Context() => s_context ??= new ParseContext(new SocketTableParserOptions(), CancellationToken.None);

        private static string? Text(IFieldRecord record, string name, bool allowEmpty = false) =>
            record.Get(name) is JsonValue value && value.Kind == JsonKind.String && (allowEmpty || value.Text!.Length > 0) ? value.Text : null;

        internal static JsonValue ToJson(object? value, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties, int depth)
        {
            switch (value)
            {
                case null:
                    return JsonValue.Null;
                case string text:
                    return JsonValue.String(text);
                case bool flag:
                    return flag ? JsonValue.True : JsonValue.False;
                case Enum name:
                    return JsonValue.String(name.ToString());
                case IPAddress address:
                    return JsonValue.String(address.ToString());
                case TimeSpan span:
                    return JsonValue.String(span.ToString("c", CultureInfo.InvariantCulture));
                case sbyte or byte or short or ushort or int or uint or long or ulong:
                    return JsonValue.Number(Convert.ToString(value, CultureInfo.InvariantCulture)!);
                case IEnumerable items when depth < MaxDepth:
                    var list = new List<JsonValue>();
                    foreach (object? item in items)
                    {
                        list.Add(ToJson(item, properties, depth + 1));
                    }

                    return JsonValue.Array(list);
            }

            IEnumerable<KeyValuePair<string, object?>>? bag = depth < MaxDepth ? properties(value) : null;
            if (bag is null)
            {
                return JsonValue.String(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
            }

            var fields = new Dictionary<string, JsonValue>(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, object?> pair in bag)
            {
                fields[pair.Key] = ToJson(pair.Value, properties, depth + 1);
            }

            return JsonValue.Object(fields);
        }

        /// <summary>A bag's properties, each put into the mapper's terms when asked for.</summary>
        private sealed class Record : IFieldRecord
        {
            private readonly IReadOnlyDictionary<string, object?> _values;
            private readonly Func<object, IEnumerable<KeyValuePair<string, object?>>?> _properties;

            public Record(IReadOnlyDictionary<string, object?> values, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties)
            {
                _values = values;
                _properties = properties;
            }

            public JsonValue? Get(string name) => _values.TryGetValue(name, out object? value) ? ToJson(value, _properties, 1) : null;
        }
    }
}
