using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq;
using PortTools.Text;

namespace PortTools
{
    /// <summary>Why a value did not convert to a <see cref="SocketHost"/>.</summary>
    public enum SocketHostError
    {
        /// <summary>It converted.</summary>
        None,

        /// <summary>The value does not describe a SocketHost at all.</summary>
        NotASocketHost,

        /// <summary>It is a SocketHost of another schema version (another PortTools), or of none.</summary>
        OtherSchemaVersion,

        /// <summary>It is a SocketHost, but one of its facts is not valid.</summary>
        InvalidFact,
    }

    /// <summary>
    /// Turns whatever stands for a SocketHost into one: the object itself, its JSON text, or an
    /// object whose properties carry it: a Deserialized.PortTools.SocketHost (remoting, jobs,
    /// Import-Clixml, where nested values arrive as their text), a ConvertFrom-Json object (where
    /// they arrive as objects and enums as numbers) or a hashtable. The caller supplies how to read
    /// an object's properties, so this stays free of PowerShell.
    /// </summary>
    public static class SocketHostConverter
    {
        private static readonly string[] s_knownProperties =
        {
            "SchemaVersion", "ComputerName", "OS", "NetworkNamespace", "Addresses", "Interfaces", "EphemeralPortRange", "UnprivilegedPortStart", "ReservedPorts",
            "NonLocalBind", "NonLocalBindV6", "BindV6Only", "TcpTwReuse", "TcpTwReuseDelay", "AutobindReuse", "TcpTimestamps", "TcpTimeWaitSeconds", "UserId", "Privileged",
        };

        /// <summary>Converts one value.</summary>
        /// <param name="value">A SocketHost, its JSON text, or a property bag.</param>
        /// <param name="properties">Reads an object's properties as name/value pairs, or returns null when it is not a property bag.</param>
        /// <param name="host">The SocketHost.</param>
        /// <param name="problem">What kind of problem the value has.</param>
        /// <param name="error">What was wrong, naming the value or fact.</param>
        /// <returns>Whether the value converted.</returns>
        public static bool TryConvert(object? value, Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties, [NotNullWhen(true)] out SocketHost? host, out SocketHostError problem, [NotNullWhen(false)] out string? error)
        {
            host = null;
            JsonValue? fields;
            switch (value)
            {
                case null:
                    return Fail(SocketHostError.NotASocketHost, "A SocketHost was expected, but the value is empty (null).", out problem, out error);
                case SocketHost given:
                    host = given;
                    problem = SocketHostError.None;
                    error = null;
                    return true;
                case string text:
                    if (!JsonValue.TryParse(text, out fields, out string? jsonError, out _) || fields is null || fields.Kind != JsonKind.Object)
                    {
                        return Fail(SocketHostError.NotASocketHost, "'" + Shorten(text) + "' is not a SocketHost: a text must be one in JSON (Get-SocketHost | ConvertTo-Json)" + (jsonError is null ? "." : " (" + jsonError + ")."), out problem, out error);
                    }

                    break;
                default:
                    IEnumerable<KeyValuePair<string, object?>>? bag = properties(value);
                    if (bag is null)
                    {
                        return Fail(SocketHostError.NotASocketHost, "'" + Shorten(Convert.ToString(value, CultureInfo.InvariantCulture)) + "' is not a SocketHost: expected one from Get-SocketHost, or an object or JSON text with its properties.", out problem, out error);
                    }

                    var fieldValues = new Dictionary<string, JsonValue>(StringComparer.OrdinalIgnoreCase);
                    foreach (KeyValuePair<string, object?> pair in bag)
                    {
                        fieldValues[pair.Key] = SocketTupleConverter.ToJson(pair.Value, properties, 1);
                    }

                    fields = JsonValue.Object(fieldValues);
                    break;
            }

            return TryRead(fields, out host, out problem, out error);
        }

        private static bool TryRead(JsonValue fields, [NotNullWhen(true)] out SocketHost? host, out SocketHostError problem, [NotNullWhen(false)] out string? error)
        {
            host = null;
            JsonValue? version = fields["SchemaVersion"];
            if (version is null || version.Kind == JsonKind.Null)
            {
                bool looksLikeOne = s_knownProperties.Count(name => fields[name] is not null) >= 3;
                return looksLikeOne
                    ? Fail(SocketHostError.OtherSchemaVersion, "The SocketHost has no SchemaVersion: it was not written by Get-SocketHost of this PortTools (schema version " + SocketHost.CurrentSchemaVersion.ToString(CultureInfo.InvariantCulture) + "). Read the host again with Get-SocketHost.", out problem, out error)
                    : Fail(SocketHostError.NotASocketHost, "An object with the properties " + Names(fields) + " is not a SocketHost: expected one from Get-SocketHost (with SchemaVersion, OS, Addresses, ...).", out problem, out error);
            }

            if (!TryInteger(version, out long schema) || schema != SocketHost.CurrentSchemaVersion)
            {
                string given = version.Text ?? version.Kind.ToString();
                return Fail(SocketHostError.OtherSchemaVersion, "The SocketHost has schema version " + given + ", but this PortTools reads version " + SocketHost.CurrentSchemaVersion.ToString(CultureInfo.InvariantCulture) + " only: it was written by " + (schema < SocketHost.CurrentSchemaVersion ? "an older" : "a newer") + " PortTools. Read the host again with Get-SocketHost from this version.", out problem, out error);
            }

            problem = SocketHostError.InvalidFact;
            if (!TryOS(fields["OS"], out TargetOS? os, out error)
                || !TryNamespace(fields["NetworkNamespace"], out NetworkNamespaceInfo? space, out error)
                || !TryList(fields["Addresses"], "Addresses", TryAddress, out IReadOnlyList<HostAddress>? addresses, out error)
                || !TryList(fields["Interfaces"], "Interfaces", TryInterface, out IReadOnlyList<string>? interfaces, out error)
                || !TryRange(fields["EphemeralPortRange"], "EphemeralPortRange", out PortRange? range, out error)
                || !TryNumber(fields["UnprivilegedPortStart"], "UnprivilegedPortStart", 0, 65536, out long? start, out error)
                || !TryList(fields["ReservedPorts"], "ReservedPorts", (JsonValue item, out PortRange ports, out string? itemError) => TryPorts(item, "ReservedPorts", out ports, out itemError), out IReadOnlyList<PortRange>? reserved, out error)
                || !TryFlag(fields["NonLocalBind"], "NonLocalBind", out bool? nonLocal, out error)
                || !TryFlag(fields["NonLocalBindV6"], "NonLocalBindV6", out bool? nonLocal6, out error)
                || !TryFlag(fields["BindV6Only"], "BindV6Only", out bool? v6Only, out error)
                || !TryNumber(fields["TcpTwReuse"], "TcpTwReuse", 0, 2, out long? twReuse, out error)
                || !TryNumber(fields["TcpTwReuseDelay"], "TcpTwReuseDelay", 0, int.MaxValue, out long? twDelay, out error)
                || !TryFlag(fields["AutobindReuse"], "AutobindReuse", out bool? autobind, out error)
                || !TryNumber(fields["TcpTimestamps"], "TcpTimestamps", 0, 2, out long? timestamps, out error)
                || !TryNumber(fields["TcpTimeWaitSeconds"], "TcpTimeWaitSeconds", 0, int.MaxValue, out long? timeWait, out error)
                || !TryNumber(fields["UserId"], "UserId", 0, uint.MaxValue, out long? uid, out error)
                || !TryFlag(fields["Privileged"], "Privileged", out bool? privileged, out error))
            {
                return false;
            }

            host = new SocketHost
            {
                ComputerName = Text(fields["ComputerName"]) ?? Text(fields["PSComputerName"]),
                OS = os,
                NetworkNamespace = space,
                Addresses = addresses,
                Interfaces = interfaces,
                EphemeralPortRange = range,
                UnprivilegedPortStart = (int?)start,
                ReservedPorts = reserved,
                NonLocalBind = nonLocal,
                NonLocalBindV6 = nonLocal6,
                BindV6Only = v6Only,
                TcpTwReuse = (int?)twReuse,
                TcpTwReuseDelay = (int?)twDelay,
                AutobindReuse = autobind,
                TcpTimestamps = (int?)timestamps,
                TcpTimeWaitSeconds = (int?)timeWait,
                UserId = uid,
                Privileged = privileged,
            };
            problem = SocketHostError.None;
            error = null;
            return true;
        }

        private delegate bool ItemReader<T>(JsonValue item, out T value, out string? error);

        private static bool Fail(SocketHostError kind, string message, out SocketHostError problem, out string error)
        {
            problem = kind;
            error = message;
            return false;
        }

        private static bool IsAbsent(JsonValue? value) => value is null || value.Kind == JsonKind.Null || (value.Kind == JsonKind.String && value.Text!.Length == 0);

        private static string? Text(JsonValue? value) => value?.Kind == JsonKind.String && value.Text!.Length > 0 ? value.Text : null;

        private static string Names(JsonValue fields) => fields.Properties is null || fields.Properties.Count == 0 ? "(none)" : string.Join(", ", fields.Properties.Keys);

        private static string Shorten(string? text)
        {
            string value = (text ?? string.Empty).Trim();
            return value.Length > 60 ? value.Substring(0, 60) + "..." : value;
        }

        private static string Describe(JsonValue value) => value.Kind switch
        {
            JsonKind.String => "'" + Shorten(value.Text) + "'",
            JsonKind.Number => value.Text!,
            JsonKind.True => "true",
            JsonKind.False => "false",
            JsonKind.Array => "a list",
            JsonKind.Object => "an object",
            _ => "null",
        };

        private static bool TryInteger(JsonValue value, out long number) =>
            long.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number) && value.Kind is JsonKind.Number or JsonKind.String;

        private static bool TryOS(JsonValue? value, out TargetOS? os, [NotNullWhen(false)] out string? error)
        {
            os = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            // By name (remoting, -EnumsAsStrings) or by number (ConvertTo-Json's default).
            if (value!.Kind == JsonKind.String && Enum.TryParse(value.Text, ignoreCase: true, out TargetOS named) && Enum.IsDefined(typeof(TargetOS), named) && !char.IsDigit(value.Text![0]))
            {
                os = named;
                return true;
            }

            if (value.Kind == JsonKind.Number && TryInteger(value, out long number) && Enum.IsDefined(typeof(TargetOS), number))
            {
                os = (TargetOS)number;
                return true;
            }

            error = "The SocketHost's OS is " + Describe(value) + ": expected Linux, Windows, FreeBSD or MacOS.";
            return false;
        }

        private static bool TryNamespace(JsonValue? value, out NetworkNamespaceInfo? space, [NotNullWhen(false)] out string? error)
        {
            space = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            if (value!.Kind == JsonKind.String && NetworkNamespaceInfo.TryParse(value.Text, out space))
            {
                return true;
            }

            // ConvertTo-Json writes the object: Inode, Name, ProcessId.
            if (value.Kind == JsonKind.Object && value["Inode"] is JsonValue inode && ulong.TryParse(inode.Text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number) && number != 0)
            {
                long? pid = value["ProcessId"] is JsonValue p && TryInteger(p, out long id) ? id : null;
                space = new NetworkNamespaceInfo(number, Text(value["Name"]), pid is long process and > 0 and <= int.MaxValue ? (int)process : null);
                return true;
            }

            error = "The SocketHost's NetworkNamespace is " + Describe(value) + ": expected its inode (4026532301), name:inode (red:4026532301), or an object with an Inode.";
            return false;
        }

        private static bool TryList<T>(JsonValue? value, string name, ItemReader<T> read, out IReadOnlyList<T>? list, [NotNullWhen(false)] out string? error)
        {
            list = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            // One item arrives bare where PowerShell unrolled a list of one.
            List<JsonValue> items = value!.Kind == JsonKind.Array ? value.Items! : new List<JsonValue> { value };
            var result = new List<T>(items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                if (!read(items[i], out T item, out string? itemError))
                {
                    error = "The SocketHost's " + name + " entry " + (i + 1).ToString(CultureInfo.InvariantCulture) + " is not valid: " + itemError;
                    return false;
                }

                result.Add(item);
            }

            list = result;
            return true;
        }

        private static bool TryAddress(JsonValue item, out HostAddress address, out string? error)
        {
            address = null!;
            if (item.Kind == JsonKind.String)
            {
                if (HostAddress.TryParse(item.Text, out HostAddress? parsed, out error))
                {
                    address = parsed;
                    return true;
                }

                return false;
            }

            // ConvertTo-Json writes the object: Address, PrefixLength, Interface, Broadcast.
            if (item.Kind == JsonKind.Object && Text(item["Address"]) is string text)
            {
                string line = text
                    + (item["PrefixLength"] is JsonValue prefix && prefix.Kind == JsonKind.Number ? "/" + prefix.Text : string.Empty)
                    + (Text(item["Broadcast"]) is string broadcast ? " brd " + broadcast : string.Empty)
                    + (Text(item["Interface"]) is string device ? " dev " + device : string.Empty);
                if (HostAddress.TryParse(line, out HostAddress? parsed, out error))
                {
                    address = parsed;
                    return true;
                }

                return false;
            }

            error = Describe(item) + " is not an address: expected text such as '10.0.0.5/24 brd 10.0.0.255 dev eth0', or an object with an Address.";
            return false;
        }

        private static bool TryInterface(JsonValue item, out string name, out string? error)
        {
            name = Text(item) ?? string.Empty;
            error = name.Length == 0 ? Describe(item) + " is not an interface name." : null;
            return name.Length > 0;
        }

        private static bool TryRange(JsonValue? value, string name, out PortRange? range, [NotNullWhen(false)] out string? error)
        {
            range = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            if (!TryPorts(value!, name, out PortRange ports, out error))
            {
                error = "The SocketHost's " + error;
                return false;
            }

            range = ports;
            return true;
        }

        private static bool TryPorts(JsonValue value, string name, out PortRange ports, out string? error)
        {
            ports = default;
            error = null;
            if (value.Kind is JsonKind.String or JsonKind.Number && PortRange.TryParse(value.Text, out ports))
            {
                return true;
            }

            // ConvertTo-Json writes the object: Start, End, Count.
            if (value.Kind == JsonKind.Object && value["Start"] is JsonValue start && value["End"] is JsonValue end
                && int.TryParse(start.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int first) && int.TryParse(end.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int last)
                && first >= PortRange.MinPort && last <= PortRange.MaxPort && first <= last)
            {
                ports = new PortRange(first, last);
                return true;
            }

            error = name + " " + Describe(value) + " is not a port range: expected such as '32768-60999', or an object with Start and End.";
            return false;
        }

        private static bool TryNumber(JsonValue? value, string name, long min, long max, out long? number, [NotNullWhen(false)] out string? error)
        {
            number = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            if (value!.Kind is JsonKind.Number or JsonKind.String && TryInteger(value, out long parsed) && parsed >= min && parsed <= max)
            {
                number = parsed;
                return true;
            }

            error = "The SocketHost's " + name + " is " + Describe(value) + ": expected a whole number from " + min.ToString(CultureInfo.InvariantCulture) + " to " + max.ToString(CultureInfo.InvariantCulture) + ", or null for unknown.";
            return false;
        }

        private static bool TryFlag(JsonValue? value, string name, out bool? flag, [NotNullWhen(false)] out string? error)
        {
            flag = null;
            error = null;
            if (IsAbsent(value))
            {
                return true;
            }

            switch (value!.Kind)
            {
                case JsonKind.True:
                    flag = true;
                    return true;
                case JsonKind.False:
                    flag = false;
                    return true;
                case JsonKind.String when bool.TryParse(value.Text, out bool parsed):
                    flag = parsed;
                    return true;
            }

            error = "The SocketHost's " + name + " is " + Describe(value) + ": expected true, false, or null for unknown.";
            return false;
        }
    }
}
