using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace PortTools.Text
{
    /// <summary>A CSV row or JSON object whose values are looked up by property name.</summary>
    internal interface IFieldRecord
    {
        /// <summary>The value, or null when the record has no such property; empty CSV fields are JSON null.</summary>
        JsonValue? Get(string name);
    }

    /// <summary>Which cmdlet's objects a CSV header or JSON object holds.</summary>
    internal enum ExportKind
    {
        Unknown,

        /// <summary>Get-SocketTuple: Protocol, LocalAddress, LocalPort, ..., Processes, Local, Remote.</summary>
        PortTools,

        /// <summary>Get-NetTCPConnection or Get-NetUDPEndpoint: LocalAddress, LocalPort, [RemoteAddress, RemotePort, State,] OwningProcess.</summary>
        NetTcpIp,
    }

    /// <summary>
    /// Turns exported objects back into sockets. Get-SocketTuple exports: Export-Csv writes every
    /// property's ToString() (State as its name, Processes as "nginx (pid 812), nginx (pid 813)");
    /// ConvertTo-Json (depth 2) writes enums as numbers, IPAddress as an object without the address text
    /// (hence the endpoints come from the "Local" and "Remote" strings) and Processes as strings, or as
    /// {ProcessId, ProcessName} objects with a larger -Depth. Unknown properties are ignored and
    /// optional ones may be missing. Windows NetTCPIP exports (MSFT_NetTCPConnection, MSFT_NetUDPEndpoint)
    /// carry State as a name, or as a number in JSON.
    /// </summary>
    internal static class ExportRecords
    {
        public static ExportKind Classify(Func<string, bool> has)
        {
            if (has("Protocol") && (has("Local") || (has("LocalAddress") && has("LocalPort"))))
            {
                return ExportKind.PortTools;
            }

            if (has("LocalAddress") && has("LocalPort"))
            {
                return ExportKind.NetTcpIp;
            }

            return ExportKind.Unknown;
        }

        public static bool TryMap(IFieldRecord record, ExportKind kind, TransportProtocol? protocolHint, ParseContext context, string source, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error) =>
            kind == ExportKind.PortTools
                ? TryMapPortTools(record, context, source, out socket, out error)
                : TryMapNetTcpIp(record, protocolHint, context, source, out socket, out error);

        private static bool TryMapPortTools(IFieldRecord record, ParseContext context, string source, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            if (!TryProtocol(record.Get("Protocol"), out TransportProtocol protocol, out error)
                || !TryEndpoint(record, context, "Local", required: true, out IPAddress? local, out int localPort, out bool dualStack, out error)
                || !TryEndpoint(record, context, "Remote", required: false, out IPAddress? remote, out int remotePort, out _, out error)
                || !TryState(record.Get("State"), protocol, out SocketState state, out error)
                || !TryOwners(record, context, out IReadOnlyList<SocketOwner> owners, out error)
                || !TryInteger(record, "UserId", uint.MaxValue, out long? userId, out error)
                || !TryUnsigned(record, "Inode", out ulong? inode, out error)
                || !TryInteger(record, "ReceiveQueue", long.MaxValue, out long? receiveQueue, out error)
                || !TryInteger(record, "SendQueue", long.MaxValue, out long? sendQueue, out error)
                || !TryBoolean(record, "IPv6Only", out bool? v6Only, out error)
                || !TryBoolean(record, "ReuseAddress", out bool? reuseAddress, out error)
                || !TryBoolean(record, "ReusePort", out bool? reusePort, out error)
                || !TryBoolean(record, "ReusePortLoadBalance", out bool? reusePortLoadBalance, out error)
                || !TryBoolean(record, "ExclusiveAddressUse", out bool? exclusiveAddressUse, out error)
                || !TryTimer(record, out SocketTimer? timer, out error)
                || !TryDuration(record, "TimerExpiresIn", out TimeSpan? timerExpiresIn, out error)
                || !TryInteger(record, "Retransmits", int.MaxValue, out long? retransmits, out error))
            {
                return false;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily && !IPAddressText.IsWildcard(remote))
            {
                error = "the remote address " + remote + " is not of the local address's family";
                return false;
            }

            JsonValue? device = record.Get("BoundInterface");
            if (!TryNetworkNamespace(record, context, out NetworkNamespaceInfo? space, out error) || !TryContainer(record, out ContainerInfo? container, out error))
            {
                return false;
            }

            socket = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local!,
                LocalPort = localPort,
                RemoteAddress = remote!,
                RemotePort = remotePort,
                Processes = owners,
                UserId = userId,
                Inode = inode,
                ReceiveQueue = receiveQueue,
                SendQueue = sendQueue,
                Timer = timer,
                TimerExpiresIn = timer is null or SocketTimer.None ? null : timerExpiresIn,
                Retransmits = timer is null or SocketTimer.None ? null : (int?)retransmits,
                BoundInterface = device?.Kind == JsonKind.String && device.Text!.Length > 0 ? device.Text : null,
                IPv6Only = v6Only ?? (dualStack ? false : null),
                ReuseAddress = reuseAddress,
                ReusePort = reusePort,
                ReusePortLoadBalance = reusePortLoadBalance,
                ExclusiveAddressUse = exclusiveAddressUse,
                Source = source,
                ComputerName = context.ComputerName ?? ComputerNameOf(record),
                NetworkNamespace = space,
                Container = container,
            };
            return true;
        }

        /// <summary>Container as PortTools writes it: its text form (CSV), or an object with Runtime, Id and PodUid (JSON). Absent or empty means none.</summary>
        private static bool TryContainer(IFieldRecord record, out ContainerInfo? container, [NotNullWhen(false)] out string? error)
        {
            container = null;
            error = null;
            JsonValue? value = record.Get("Container");
            if (value is null || value.Kind == JsonKind.Null || (value.Kind == JsonKind.String && value.Text!.Length == 0))
            {
                return true;
            }

            if (value.Kind == JsonKind.String && ContainerInfo.TryParse(value.Text, out container))
            {
                return true;
            }

            if (value.Kind == JsonKind.Object && (value["Id"] is { Kind: JsonKind.String } || value["PodUid"] is { Kind: JsonKind.String }))
            {
                container = new ContainerInfo(value["Runtime"]?.Text, value["Id"]?.Text, value["PodUid"]?.Text);
                return true;
            }

            error = "Container '" + (value.Text ?? value.Kind.ToString()) + "' is not a container: expected runtime:id (docker:3f2a...), runtime:id pod:uid, or pod:uid";
            return false;
        }

        /// <summary>
        /// NetworkNamespace as PortTools writes it: its text form (CSV, Clixml at depth 1), or an object
        /// with Inode and Name (JSON at depth 2 and more). Absent or empty means unknown.
        /// </summary>
        private static bool TryNetworkNamespace(IFieldRecord record, ParseContext context, out NetworkNamespaceInfo? space, [NotNullWhen(false)] out string? error)
        {
            space = null;
            error = null;
            JsonValue? value = record.Get("NetworkNamespace");
            if (value is null || value.Kind == JsonKind.Null || (value.Kind == JsonKind.String && value.Text!.Length == 0))
            {
                return true;
            }

            if (value.Kind == JsonKind.String && context.TryNetworkNamespace(value.Text!, out space))
            {
                return true;
            }

            if (value.Kind == JsonKind.Object && value["Inode"] is { } inode && ulong.TryParse(inode.Text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number) && number != 0)
            {
                string? name = value["Name"] is { Kind: JsonKind.String } named ? named.Text : null;
                space = new NetworkNamespaceInfo(number, name);
                return true;
            }

            error = "NetworkNamespace '" + (value.Text ?? value.Kind.ToString()) + "' is not a network namespace: expected its inode number, as in 4026532301 or red:4026532301";
            return false;
        }

        /// <summary>PSComputerName, which remoting adds, or the ComputerName a PortTools export carries.</summary>
        private static string? ComputerNameOf(IFieldRecord record) =>
            record.Get("PSComputerName") is { Kind: JsonKind.String, Text: { Length: > 0 } remoting } ? remoting
            : record.Get("ComputerName") is { Kind: JsonKind.String, Text: { Length: > 0 } name } ? name
            : null;

        private static bool TryMapNetTcpIp(IFieldRecord record, TransportProtocol? protocolHint, ParseContext context, string source, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            JsonValue? cimClass = record.Get("CimClass");
            TransportProtocol protocol = protocolHint
                ?? (cimClass?.Text is string name && name.IndexOf("MSFT_NetUDPEndpoint", StringComparison.OrdinalIgnoreCase) >= 0 ? TransportProtocol.Udp
                : record.Get("State") is not null || record.Get("RemotePort") is not null ? TransportProtocol.Tcp : TransportProtocol.Udp);
            if (!TryEndpoint(record, context, "Local", required: true, out IPAddress? local, out int localPort, out _, out error)
                || !TryEndpoint(record, context, "Remote", required: false, out IPAddress? remote, out int remotePort, out _, out error)
                || !TryInteger(record, "OwningProcess", int.MaxValue, out long? pid, out error))
            {
                return false;
            }

            SocketState state = SocketState.Unconnected;
            if (protocol == TransportProtocol.Tcp && !TryNetTcpState(record.Get("State"), out state, out error))
            {
                return false;
            }

            if (remote is not null && remote.AddressFamily != local!.AddressFamily && !IPAddressText.IsWildcard(remote))
            {
                error = "the remote address " + remote + " is not of the local address's family";
                return false;
            }

            socket = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local!,
                LocalPort = localPort,
                RemoteAddress = remote!,
                RemotePort = remotePort,
                Processes = pid is long id && id > 0 ? context.SingleOwner(context.Owner((int)id, null)) : SocketOwnerList.Empty,
                Source = source,
                ComputerName = context.ComputerName ?? ComputerNameOf(record),
            };
            return true;
        }

        /// <summary>
        /// MSFT_NetTCPConnection.State: Closed 1, Listen 2, SynSent 3, SynReceived 4, Established 5,
        /// FinWait1 6, FinWait2 7, CloseWait 8, Closing 9, LastAck 10, TimeWait 11, DeleteTCB 12
        /// ("MSFT_NetTCPConnection class", property State, Microsoft TCP/IP WMI v2 provider:
        /// https://learn.microsoft.com/windows/win32/fwp/wmi/nettcpipprov/msft-nettcpconnection), and
        /// Bound 100: Get-NetTCPConnection -State accepts Bound (its help page lists it), but the class
        /// page does not give its number; 100 is the value the NetTCPIP module reports.
        /// </summary>
        private static bool TryNetTcpState(JsonValue? value, out SocketState state, [NotNullWhen(false)] out string? error)
        {
            state = SocketState.Unknown;
            error = null;
            if (value is null || value.Kind == JsonKind.Null)
            {
                return true;
            }

            if (value.Kind == JsonKind.Number || (value.Kind == JsonKind.String && Digits.IsAll(value.Text.AsSpan())))
            {
                state = value.Text switch
                {
                    "1" => SocketState.Closed,
                    "2" => SocketState.Listen,
                    "3" => SocketState.SynSent,
                    "4" => SocketState.SynReceived,
                    "5" => SocketState.Established,
                    "6" => SocketState.FinWait1,
                    "7" => SocketState.FinWait2,
                    "8" => SocketState.CloseWait,
                    "9" => SocketState.Closing,
                    "10" => SocketState.LastAck,
                    "11" => SocketState.TimeWait,
                    "12" => SocketState.DeleteTcb,
                    "100" => SocketState.Bound,
                    _ => SocketState.Unknown,
                };
                if (state == SocketState.Unknown)
                {
                    error = "State: expected an MSFT_NetTCPConnection state number (1 to 12, or 100 for Bound), found " + value.Text;
                    return false;
                }

                return true;
            }

            if (value.Kind != JsonKind.String || !SocketStateNames.TryParse(value.Text, TransportProtocol.Tcp, out state, out _))
            {
                error = "State: expected a TCP state such as Listen or Established, found " + Describe(value);
                return false;
            }

            return true;
        }

        private static bool TryProtocol(JsonValue? value, out TransportProtocol protocol, [NotNullWhen(false)] out string? error)
        {
            protocol = TransportProtocol.Tcp;
            error = null;
            string? text = value?.Text;
            if (string.Equals(text, "Tcp", StringComparison.OrdinalIgnoreCase) || text == "6")
            {
                return true;
            }

            if (string.Equals(text, "Udp", StringComparison.OrdinalIgnoreCase) || text == "17")
            {
                protocol = TransportProtocol.Udp;
                return true;
            }

            error = "Protocol: expected Tcp or Udp (or 6 or 17), found " + Describe(value);
            return false;
        }

        private static bool TryState(JsonValue? value, TransportProtocol protocol, out SocketState state, [NotNullWhen(false)] out string? error)
        {
            state = SocketState.Unknown;
            error = null;
            if (value is null || value.Kind == JsonKind.Null)
            {
                return true;
            }

            if (value.Kind == JsonKind.Number || (value.Kind == JsonKind.String && Digits.IsAll(value.Text.AsSpan())))
            {
                if (long.TryParse(value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long number) && Enum.IsDefined(typeof(SocketState), number))
                {
                    state = (SocketState)number;
                    return true;
                }

                error = "State: " + value.Text + " is not a SocketState value";
                return false;
            }

            if (value.Kind == JsonKind.String && Enum.TryParse(value.Text, true, out state) && Enum.IsDefined(typeof(SocketState), state))
            {
                return true;
            }

            if (value.Kind == JsonKind.String && SocketStateNames.TryParse(value.Text, protocol, out state, out _))
            {
                return true;
            }

            error = "State: expected a SocketState name such as Listen or Established, found " + Describe(value);
            return false;
        }

        /// <summary>
        /// An endpoint from "XAddress" (a string) and "XPort", or from the "X" endpoint string
        /// ("127.0.0.1:80", "[::1]:53", "*:*") when the address is missing or an object (ConvertTo-Json).
        /// </summary>
        private static bool TryEndpoint(IFieldRecord record, ParseContext context, string which, bool required, out IPAddress? address, out int port, out bool dualStack, [NotNullWhen(false)] out string? error)
        {
            address = null;
            port = 0;
            dualStack = false;
            error = null;
            // The names as constants, not concatenated per row: a record looks them up for every socket.
            bool isLocal = which == "Local";
            JsonValue? addressValue = record.Get(isLocal ? "LocalAddress" : which == "Remote" ? "RemoteAddress" : which + "Address");
            JsonValue? portValue = record.Get(isLocal ? "LocalPort" : which == "Remote" ? "RemotePort" : which + "Port");
            if (addressValue?.Kind == JsonKind.String && addressValue.Text!.Length > 0)
            {
                if (!context.TryAddress(addressValue.Text, out address))
                {
                    error = which + "Address: expected an IPv4 or IPv6 address, found " + Describe(addressValue);
                    return false;
                }

                if (portValue is null || portValue.Kind == JsonKind.Null)
                {
                    error = which + "Port: missing, but " + which + "Address is given";
                    address = null;
                    return false;
                }

                if (!PortRange.TryParsePort(portValue.Text ?? string.Empty, out port))
                {
                    error = which + "Port: expected a port from 0 to 65535, found " + Describe(portValue);
                    address = null;
                    return false;
                }

                return true;
            }

            // Selected properties without the endpoint string: an IPAddress object as ConvertTo-Json writes
            // it, with IPAddressToString (Windows PowerShell 5.1) or, for IPv4, the Address number.
            if (addressValue?.Kind == JsonKind.Object && record.Get(which) is null && TryAddressObject(addressValue, out address))
            {
                if (portValue is null || !PortRange.TryParsePort(portValue.Text ?? string.Empty, out port))
                {
                    error = which + "Port: expected a port from 0 to 65535, found " + Describe(portValue);
                    address = null;
                    return false;
                }

                return true;
            }

            JsonValue? endpoint = record.Get(which);
            if (endpoint?.Kind == JsonKind.String && endpoint.Text!.Length > 0)
            {
                if (endpoint.Text == "*:*")
                {
                    return true;
                }

                if (!IPAddressText.TryParseEndpoint(endpoint.Text, allowWildcardPort: true, out address, out port, out dualStack, out string? endpointError))
                {
                    error = which + ": " + endpointError + ", found " + Describe(endpoint);
                    return false;
                }

                return true;
            }

            if (required)
            {
                error = "expected the local endpoint: a LocalAddress and LocalPort, or Local (as in 127.0.0.1:80)";
                return false;
            }

            return true;
        }

        private static bool TryAddressObject(JsonValue value, [NotNullWhen(true)] out IPAddress? address)
        {
            address = null;
            if (value["IPAddressToString"]?.Text is string text && IPAddressText.TryParse(text, out address))
            {
                return true;
            }

            if (value["AddressFamily"]?.Text is "2" or "InterNetwork" && value["Address"]?.Kind == JsonKind.Number
                && long.TryParse(value["Address"]!.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long number) && number <= uint.MaxValue)
            {
                address = new IPAddress(number); // IPAddress.Address: the first octet in the lowest byte
                return true;
            }

            return false;
        }

        private static bool TryOwners(IFieldRecord record, ParseContext context, out IReadOnlyList<SocketOwner> owners, [NotNullWhen(false)] out string? error)
        {
            owners = SocketOwnerList.Empty;
            error = null;
            JsonValue? processes = record.Get("Processes");
            if (processes?.Kind == JsonKind.String && processes.Text!.Length > 0)
            {
                if (!context.TryOwners(processes.Text, out SocketOwnerList? list))
                {
                    error = "Processes: expected owners such as \"nginx (pid 812), nginx (pid 813)\", found " + Describe(processes);
                    return false;
                }

                owners = list;
                return true;
            }

            if (processes?.Kind == JsonKind.Array && processes.Items!.Count > 0)
            {
                var list = new List<SocketOwner>(processes.Items.Count);
                foreach (JsonValue item in processes.Items)
                {
                    if (item.Kind == JsonKind.String && context.TryOwners(item.Text!, out SocketOwnerList? one) && one.Count == 1)
                    {
                        list.Add(one[0]);
                    }
                    else if (item.Kind == JsonKind.Object && item["ProcessId"]?.Text is string pidText
                        && int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    {
                        JsonValue? name = item["ProcessName"];
                        list.Add(new SocketOwner(pid, name?.Kind == JsonKind.String ? name.Text : null));
                    }
                    else
                    {
                        error = "Processes: expected each owner as \"name (pid N)\" or {\"ProcessId\": N, \"ProcessName\": \"name\"}, found " + Describe(item);
                        return false;
                    }
                }

                owners = list;
                return true;
            }

            // Older or trimmed exports: the first owner's columns alone.
            if (!TryInteger(record, "ProcessId", int.MaxValue, out long? processId, out error))
            {
                return false;
            }

            if (processId is long id)
            {
                JsonValue? name = record.Get("ProcessName");
                owners = new[] { new SocketOwner((int)id, name?.Kind == JsonKind.String && name.Text!.Length > 0 ? name.Text : null) };
            }

            return true;
        }

        private static bool TryInteger(IFieldRecord record, string name, long max, out long? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            JsonValue? field = record.Get(name);
            if (field is null || field.Kind == JsonKind.Null || (field.Kind == JsonKind.String && field.Text!.Length == 0))
            {
                return true;
            }

            if ((field.Kind == JsonKind.Number || field.Kind == JsonKind.String) && Digits.TryParse(field.Text.AsSpan(), out long number) && number <= max)
            {
                value = number;
                return true;
            }

            error = name + ": expected a whole number from 0 to " + max.ToString(CultureInfo.InvariantCulture) + ", found " + Describe(field);
            return false;
        }

        /// <summary>Timer as its enum name or number (JSON, Clixml) or ss's word (off, on, keepalive, timewait, persist). Absent or empty means unknown.</summary>
        private static bool TryTimer(IFieldRecord record, out SocketTimer? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            JsonValue? field = record.Get("Timer");
            if (field is null || field.Kind == JsonKind.Null || (field.Kind == JsonKind.String && field.Text!.Length == 0))
            {
                return true;
            }

            if (field.Kind == JsonKind.String && SocketTimerNames.TryParse(field.Text!, out SocketTimer named))
            {
                value = named;
                return true;
            }

            if (field.Kind == JsonKind.Number && int.TryParse(field.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && SocketTimerNames.FromKernel(number) is SocketTimer numbered)
            {
                value = numbered;
                return true;
            }

            error = "Timer: expected None, Retransmit, KeepAlive, TimeWait or Probe, found " + Describe(field);
            return false;
        }

        /// <summary>
        /// A TimeSpan as PowerShell writes one: its text ("00:00:52.3000000", Export-Csv), or an object
        /// with Ticks or TotalMilliseconds (ConvertTo-Json). Absent or empty means unknown.
        /// </summary>
        private static bool TryDuration(IFieldRecord record, string name, out TimeSpan? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            JsonValue? field = record.Get(name);
            if (field is null || field.Kind == JsonKind.Null || (field.Kind == JsonKind.String && field.Text!.Length == 0))
            {
                return true;
            }

            if (field.Kind == JsonKind.String && TimeSpan.TryParse(field.Text, CultureInfo.InvariantCulture, out TimeSpan parsed) && parsed >= TimeSpan.Zero)
            {
                value = parsed;
                return true;
            }

            if (field.Kind == JsonKind.Object)
            {
                if (field["Ticks"] is { Kind: JsonKind.Number } ticks && long.TryParse(ticks.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long tickCount))
                {
                    value = TimeSpan.FromTicks(tickCount);
                    return true;
                }

                if (field["TotalMilliseconds"] is { Kind: JsonKind.Number } total && double.TryParse(total.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
                {
                    value = TimeSpan.FromMilliseconds(milliseconds);
                    return true;
                }
            }

            error = name + ": expected a duration such as 00:00:52.3000000, found " + Describe(field);
            return false;
        }

        private static bool TryUnsigned(IFieldRecord record, string name, out ulong? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            JsonValue? field = record.Get(name);
            if (field is null || field.Kind == JsonKind.Null || (field.Kind == JsonKind.String && field.Text!.Length == 0))
            {
                return true;
            }

            if ((field.Kind == JsonKind.Number || field.Kind == JsonKind.String) && Digits.TryParseUInt64(field.Text.AsSpan(), out ulong number))
            {
                value = number;
                return true;
            }

            error = name + ": expected a whole number, found " + Describe(field);
            return false;
        }

        private static bool TryBoolean(IFieldRecord record, string name, out bool? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            JsonValue? field = record.Get(name);
            if (field is null || field.Kind == JsonKind.Null || (field.Kind == JsonKind.String && field.Text!.Length == 0))
            {
                return true;
            }

            if (field.Kind == JsonKind.True || (field.Kind == JsonKind.String && string.Equals(field.Text, "True", StringComparison.OrdinalIgnoreCase)))
            {
                value = true;
                return true;
            }

            if (field.Kind == JsonKind.False || (field.Kind == JsonKind.String && string.Equals(field.Text, "False", StringComparison.OrdinalIgnoreCase)))
            {
                value = false;
                return true;
            }

            error = name + ": expected True, False or nothing, found " + Describe(field);
            return false;
        }

        private static string Describe(JsonValue? value) => value is null ? "nothing"
            : value.Kind switch
            {
                JsonKind.String => "'" + value.Text + "'",
                JsonKind.Number => value.Text!,
                JsonKind.Null => "null",
                JsonKind.True => "true",
                JsonKind.False => "false",
                JsonKind.Array => "an array",
                _ => "an object",
            };
    }
}
