using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using PortTools.Text;

namespace PortTools
{
    /// <summary>
    /// The typed mapping: a bag of the usual kind (PortTools' properties, each null, a string, a whole number,
    /// a bool, or one of a few known types) converts from its values as they are, where the text mapping
    /// (<see cref="ExportRecords"/>) would first write each value as JSON text and then parse it back, which
    /// cost more than reading the bag. It follows ExportRecords.TryMapPortTools rule for rule and only ever
    /// says yes: a bag it is unsure of (another kind, a value of another type, anything the text mapping
    /// would reject) goes to the text mapping, which then gives the socket or the error it always gave.
    /// A property added to ExportRecords must be added here too (the SocketPropertyBag tests compare both).
    /// </summary>
    public sealed partial class SocketPropertyBag
    {
        // Digits.TryParse reads at most 18 digits: a whole number beyond it is the text mapping's to refuse.
        private const long MaxDigitsValue = 999_999_999_999_999_999;

        // SocketState by name (case-insensitive), as Enum.TryParse reads a bare name; other texts go to the text mapping.
        private static readonly Dictionary<string, SocketState> s_stateNames = StateNames();

        /// <summary>The names the mapping asks for; a name's slot is its number.</summary>
        private enum Field
        {
            Protocol,
            Local,
            LocalAddress,
            LocalPort,
            Remote,
            RemoteAddress,
            RemotePort,
            State,
            Processes,
            ProcessId,
            ProcessName,
            UserId,
            Inode,
            ReceiveQueue,
            SendQueue,
            IPv6Only,
            ReuseAddress,
            ReusePort,
            ReusePortLoadBalance,
            ExclusiveAddressUse,
            Timer,
            TimerExpiresIn,
            Retransmits,
            BoundInterface,
            NetworkNamespace,
            Container,
            Source,
            PSComputerName,
            ComputerName,
            CimClass,
            OwningProcess,
        }

        /// <summary>Whether the typed mapping converts the bag (false: leave it to the text mapping).</summary>
        /// <param name="socket">The socket, the same as the text mapping would give.</param>
        /// <returns>Whether it did.</returns>
        internal bool TryMapTyped([NotNullWhen(true)] out SocketTuple? socket)
        {
            socket = null;

            // ExportRecords.Classify: only Get-SocketTuple's kind here.
            if (!Has(Field.Protocol) || !(Has(Field.Local) || (Has(Field.LocalAddress) && Has(Field.LocalPort))))
            {
                return false;
            }

            ParseContext context = SocketTupleConverter.Context();
            if (!TryText(Field.Source, out string? source, allowEmpty: true)
                || !TryProtocol(out TransportProtocol protocol)
                || !TryEndpoint(context, Field.LocalAddress, Field.LocalPort, Field.Local, required: true, out IPAddress? local, out int localPort, out bool dualStack)
                || !TryEndpoint(context, Field.RemoteAddress, Field.RemotePort, Field.Remote, required: false, out IPAddress? remote, out int remotePort, out _)
                || !TryState(protocol, out SocketState state)
                || !TryOwners(context, out IReadOnlyList<SocketOwner> owners)
                || !TryWhole(Field.UserId, uint.MaxValue, out long? userId)
                || !TryUnsigned(Field.Inode, out ulong? inode)
                || !TryWhole(Field.ReceiveQueue, long.MaxValue, out long? receiveQueue)
                || !TryWhole(Field.SendQueue, long.MaxValue, out long? sendQueue)
                || !TryBoolean(Field.IPv6Only, out bool? v6Only)
                || !TryBoolean(Field.ReuseAddress, out bool? reuseAddress)
                || !TryBoolean(Field.ReusePort, out bool? reusePort)
                || !TryBoolean(Field.ReusePortLoadBalance, out bool? reusePortLoadBalance)
                || !TryBoolean(Field.ExclusiveAddressUse, out bool? exclusiveAddressUse)
                || !TryTimer(out SocketTimer? timer)
                || !TryDuration(Field.TimerExpiresIn, out TimeSpan? timerExpiresIn)
                || !TryWhole(Field.Retransmits, int.MaxValue, out long? retransmits)
                || !TryText(Field.BoundInterface, out string? device, allowEmpty: false)
                || !TryNetworkNamespace(context, out NetworkNamespaceInfo? space)
                || !TryContainer(out ContainerInfo? container)
                || !TryText(Field.PSComputerName, out string? remoting, allowEmpty: false)
                || !TryText(Field.ComputerName, out string? named, allowEmpty: false))
            {
                return false;
            }

            // The local endpoint "*:*" leaves no local address: the text mapping's case.
            if (local is null || (remote is not null && remote.AddressFamily != local.AddressFamily && !IPAddressText.IsWildcard(remote)))
            {
                return false;
            }

            string? computer = remoting ?? named;
            var mapped = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = local,
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
                BoundInterface = device,
                IPv6Only = v6Only ?? (dualStack ? false : null),
                ReuseAddress = reuseAddress,
                ReusePort = reusePort,
                ReusePortLoadBalance = reusePortLoadBalance,
                ExclusiveAddressUse = exclusiveAddressUse,
                Source = source ?? "Object",
                ComputerName = context.ComputerName ?? computer,
                NetworkNamespace = space,
                Container = container,
            };

            // SocketTupleConverter.TryConvertRecord: PSComputerName (or ComputerName) names the computer.
            socket = computer is null || string.Equals(mapped.ComputerName, computer, StringComparison.Ordinal) ? mapped : mapped.Copy(computerName: computer);
            return true;
        }

        private static Dictionary<string, SocketState> StateNames()
        {
            var names = new Dictionary<string, SocketState>(StringComparer.OrdinalIgnoreCase);
            foreach (SocketState state in Enum.GetValues(typeof(SocketState)))
            {
                names[state.ToString()] = state;
            }

            return names;
        }

        /// <summary>A whole number of any integer type, as the text mapping writes its digits (false: another type, or beyond long).</summary>
        private static bool TryWholeNumber(object value, out long number)
        {
            switch (value)
            {
                case int i:
                    number = i;
                    return true;
                case long l:
                    number = l;
                    return true;
                case ushort us:
                    number = us;
                    return true;
                case uint ui:
                    number = ui;
                    return true;
                case short s:
                    number = s;
                    return true;
                case byte b:
                    number = b;
                    return true;
                case sbyte sb:
                    number = sb;
                    return true;
                case ulong ul when ul <= long.MaxValue:
                    number = (long)ul;
                    return true;
                default:
                    number = 0;
                    return false;
            }
        }

        private bool Has(Field field) => _present[(int)field];

        // The value of a field, or null when the bag lacks it (the text mapping reads both alike).
        private object? Value(Field field) => _values[(int)field];

        /// <summary>A text field (ExportRecords' String kind) or nothing; false for a value of another type.</summary>
        private bool TryText(Field field, out string? text, bool allowEmpty)
        {
            text = null;
            switch (Value(field))
            {
                case null:
                    return true;
                case string value:
                    text = allowEmpty || value.Length > 0 ? value : null;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryProtocol.
        private bool TryProtocol(out TransportProtocol protocol)
        {
            protocol = TransportProtocol.Tcp;
            switch (Value(Field.Protocol))
            {
                case string text:
                    if (string.Equals(text, "Tcp", StringComparison.OrdinalIgnoreCase) || text == "6")
                    {
                        return true;
                    }

                    protocol = TransportProtocol.Udp;
                    return string.Equals(text, "Udp", StringComparison.OrdinalIgnoreCase) || text == "17";
                case TransportProtocol known when known is TransportProtocol.Tcp or TransportProtocol.Udp:
                    protocol = known;
                    return true;
                case object value when TryWholeNumber(value, out long number) && number is 6 or 17:
                    protocol = (TransportProtocol)number;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryEndpoint, for an address as text (or an IPAddress, which it writes as text) or the endpoint text.
        private bool TryEndpoint(ParseContext context, Field addressField, Field portField, Field endpointField, bool required, out IPAddress? address, out int port, out bool dualStack)
        {
            address = null;
            port = 0;
            dualStack = false;
            string? addressText = Value(addressField) switch
            {
                string text => text,
                IPAddress given => given.ToString(),
                _ => null,
            };
            if (addressText is { Length: > 0 })
            {
                return context.TryAddress(addressText, out address) && TryPort(Value(portField), out port);
            }

            if (Value(addressField) is not null and not string)
            {
                return false; // an address object (ConvertTo-Json) or a value of another type
            }

            switch (Value(endpointField))
            {
                case null:
                case string { Length: 0 }:
                    return !required;
                case string endpoint:
                    return endpoint == "*:*"
                        || IPAddressText.TryParseEndpoint(endpoint, allowWildcardPort: true, out address, out port, out dualStack, out _);
                default:
                    return false;
            }
        }

        private static bool TryPort(object? value, out int port)
        {
            port = 0;
            switch (value)
            {
                case string text:
                    return PortRange.TryParsePort(text, out port);
                case object whole when TryWholeNumber(whole, out long number) && number is >= 0 and <= PortRange.MaxPort:
                    port = (int)number;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryState.
        private bool TryState(TransportProtocol protocol, out SocketState state)
        {
            state = SocketState.Unknown;
            switch (Value(Field.State))
            {
                case null:
                    return true;
                case string text when s_stateNames.TryGetValue(text, out state):
                    return true;
                case string text when text.Length > 0 && !Digits.IsAll(text.AsSpan()) && SocketStateNames.TryParse(text, protocol, out state, out _):
                    // Not a name Enum.TryParse would take (those are all in s_stateNames, and it takes nothing else that is no number), so ss's word.
                    return !IsEnumText(text);
                case SocketState given when Enum.IsDefined(typeof(SocketState), given):
                    state = given;
                    return true;
                case object value when TryWholeNumber(value, out long number) && number >= 0 && Enum.IsDefined(typeof(SocketState), number):
                    state = (SocketState)number;
                    return true;
                default:
                    return false;
            }
        }

        // Whether Enum.TryParse might read the text (a number with a sign or blanks, a list of names): the text mapping decides those.
        private static bool IsEnumText(string text)
        {
            foreach (char c in text)
            {
                if (c is ',' or '+' or '-' || char.IsWhiteSpace(c) || (c >= '0' && c <= '9'))
                {
                    return true;
                }
            }

            return false;
        }

        // ExportRecords.TryOwners: the owners' text, a list of owner texts, or the first owner's ProcessId and ProcessName.
        private bool TryOwners(ParseContext context, out IReadOnlyList<SocketOwner> owners)
        {
            owners = SocketOwnerList.Empty;
            switch (Value(Field.Processes))
            {
                case string { Length: > 0 } text:
                    if (!context.TryOwners(text, out SocketOwnerList? list))
                    {
                        return false;
                    }

                    owners = list;
                    return true;
                case IList { Count: > 0 } items:
                    var each = new List<SocketOwner>(items.Count);
                    foreach (object? item in items)
                    {
                        if (item is not string text || !context.TryOwners(text, out SocketOwnerList? one) || one.Count != 1)
                        {
                            return false;
                        }

                        each.Add(one[0]);
                    }

                    owners = each;
                    return true;
                case null:
                case string:
                case IList:
                    break;
                default:
                    return false;
            }

            if (!TryWhole(Field.ProcessId, int.MaxValue, out long? processId))
            {
                return false;
            }

            if (processId is long id)
            {
                if (!TryText(Field.ProcessName, out string? name, allowEmpty: false))
                {
                    return false;
                }

                owners = new[] { new SocketOwner((int)id, name) };
            }

            return true;
        }

        // ExportRecords.TryInteger: nothing, an empty text, or a whole number from 0 to max (as digits, or of an integer type).
        private bool TryWhole(Field field, long max, out long? value)
        {
            value = null;
            switch (Value(field))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text:
                    if (Digits.TryParse(text.AsSpan(), out long parsed) && parsed <= max)
                    {
                        value = parsed;
                        return true;
                    }

                    return false;
                case object whole when TryWholeNumber(whole, out long number) && number >= 0 && number <= max && number <= MaxDigitsValue:
                    value = number;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryUnsigned.
        private bool TryUnsigned(Field field, out ulong? value)
        {
            value = null;
            switch (Value(field))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text:
                    if (Digits.TryParseUInt64(text.AsSpan(), out ulong parsed))
                    {
                        value = parsed;
                        return true;
                    }

                    return false;
                case ulong large:
                    value = large;
                    return true;
                case object whole when TryWholeNumber(whole, out long number) && number >= 0:
                    value = (ulong)number;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryBoolean.
        private bool TryBoolean(Field field, out bool? value)
        {
            value = null;
            switch (Value(field))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case bool flag:
                    value = flag;
                    return true;
                case string text when string.Equals(text, "True", StringComparison.OrdinalIgnoreCase):
                    value = true;
                    return true;
                case string text when string.Equals(text, "False", StringComparison.OrdinalIgnoreCase):
                    value = false;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryTimer.
        private bool TryTimer(out SocketTimer? value)
        {
            value = null;
            switch (Value(Field.Timer))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text when SocketTimerNames.TryParse(text, out SocketTimer named):
                    value = named;
                    return true;
                case object whole when TryWholeNumber(whole, out long number) && number is >= 0 and <= int.MaxValue
                    && SocketTimerNames.FromKernel((int)number) is SocketTimer numbered:
                    value = numbered;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryDuration: a TimeSpan it writes as "c" text and reads back unchanged.
        private bool TryDuration(Field field, out TimeSpan? value)
        {
            value = null;
            switch (Value(field))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan parsed) && parsed >= TimeSpan.Zero:
                    value = parsed;
                    return true;
                case TimeSpan span when span >= TimeSpan.Zero:
                    value = span;
                    return true;
                default:
                    return false;
            }
        }

        // ExportRecords.TryNetworkNamespace, for its text.
        private bool TryNetworkNamespace(ParseContext context, out NetworkNamespaceInfo? space)
        {
            space = null;
            switch (Value(Field.NetworkNamespace))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text:
                    return context.TryNetworkNamespace(text, out space);
                default:
                    return false;
            }
        }

        // ExportRecords.TryContainer, for its text.
        private bool TryContainer(out ContainerInfo? container)
        {
            container = null;
            switch (Value(Field.Container))
            {
                case null:
                case string { Length: 0 }:
                    return true;
                case string text:
                    return ContainerInfo.TryParse(text, out container);
                default:
                    return false;
            }
        }
    }
}
