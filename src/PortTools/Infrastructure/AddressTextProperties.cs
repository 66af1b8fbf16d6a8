using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Commands
{
    /// <summary>
    /// The getters of the ETS CodeProperties module/PortTools.types.ps1xml puts over the output types'
    /// IPAddress, IPEndPoint and AddressFamily properties: their text ("127.0.0.1", "[::1]:53",
    /// "InterNetworkV6"). The .NET properties are hidden from ConvertTo-Json (Core's Internal/JsonHidden.cs),
    /// which then writes these; PowerShell shows, exports, serializes and binds the same text.
    /// </summary>
    public static class AddressTextProperties
    {
        /// <summary>LocalAddress of a SocketTuple or EphemeralPortUsage.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The address as text.</returns>
        public static object? LocalAddress(PSObject instance) => instance?.BaseObject switch
        {
            SocketTuple socket => Text(socket.LocalAddress),
            EphemeralPortUsage usage => Text(usage.LocalAddress),
            _ => null,
        };

        /// <summary>RemoteAddress of a SocketTuple or EphemeralPortUsage.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The address as text.</returns>
        public static object? RemoteAddress(PSObject instance) => instance?.BaseObject switch
        {
            SocketTuple socket => Text(socket.RemoteAddress),
            EphemeralPortUsage usage => Text(usage.RemoteAddress),
            _ => null,
        };

        /// <summary>AddressFamily of a SocketTuple, EphemeralPortRange or EphemeralPortUsage, by name.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>InterNetwork or InterNetworkV6.</returns>
        public static object? AddressFamily(PSObject instance) => instance?.BaseObject switch
        {
            SocketTuple socket => Text(socket.AddressFamily),
            EphemeralPortRange range => Text(range.AddressFamily),
            EphemeralPortUsage usage => Text(usage.AddressFamily),
            _ => null,
        };

        /// <summary>Address of a PortBindResult or PortConnectResult.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The address as text; null when there is none.</returns>
        public static object? Address(PSObject instance) => instance?.BaseObject switch
        {
            PortBindResult bind => Text(bind.Address),
            PortConnectResult connect => Text(connect.Address),
            _ => null,
        };

        /// <summary>SourceAddress of a PortConnectResult.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The address as text; null when there is none.</returns>
        public static object? SourceAddress(PSObject instance) => instance?.BaseObject is PortConnectResult connect ? Text(connect.SourceAddress) : null;

        /// <summary>DestinationAddress of a PortConnectResult.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The address as text.</returns>
        public static object? DestinationAddress(PSObject instance) => instance?.BaseObject is PortConnectResult connect ? Text(connect.DestinationAddress) : null;

        /// <summary>Source of a DemuxResult: "198.51.100.7:40000" or "[2001:db8::7]:40000".</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The endpoint as text.</returns>
        public static object? Source(PSObject instance) => instance?.BaseObject is DemuxResult demux ? Text(demux.Source) : null;

        /// <summary>Destination of a DemuxResult.</summary>
        /// <param name="instance">The object.</param>
        /// <returns>The endpoint as text.</returns>
        public static object? Destination(PSObject instance) => instance?.BaseObject is DemuxResult demux ? Text(demux.Destination) : null;

        /// <summary>
        /// The setter of each of these CodeProperties whose .NET property has one (an init accessor), so
        /// that [PortTools.SocketTuple]@{ LocalAddress = '127.0.0.1'; ... } still sets it: the value is
        /// converted to the .NET type as PowerShell converts any value (a string, an IPAddress).
        /// </summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The value.</param>
        /// <param name="name">The property.</param>
        private static void Set(PSObject instance, object? value, string name)
        {
            object target = instance.BaseObject;
            System.Reflection.PropertyInfo property = target.GetType().GetProperty(name)!;
            property.SetValue(target, value is null ? null : LanguagePrimitives.ConvertTo(value, property.PropertyType, CultureInfo.InvariantCulture));
        }

        /// <summary>Sets LocalAddress.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The address.</param>
        public static void SetLocalAddress(PSObject instance, object? value) => Set(instance, value, nameof(LocalAddress));

        /// <summary>Sets RemoteAddress.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The address.</param>
        public static void SetRemoteAddress(PSObject instance, object? value) => Set(instance, value, nameof(RemoteAddress));

        /// <summary>Sets Address.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The address.</param>
        public static void SetAddress(PSObject instance, object? value) => Set(instance, value, nameof(Address));

        /// <summary>Sets SourceAddress.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The address.</param>
        public static void SetSourceAddress(PSObject instance, object? value) => Set(instance, value, nameof(SourceAddress));

        /// <summary>Sets DestinationAddress.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The address.</param>
        public static void SetDestinationAddress(PSObject instance, object? value) => Set(instance, value, nameof(DestinationAddress));

        /// <summary>Sets Source.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The endpoint.</param>
        public static void SetSource(PSObject instance, object? value) => Set(instance, value, nameof(Source));

        /// <summary>Sets Destination.</summary>
        /// <param name="instance">The object.</param>
        /// <param name="value">The endpoint.</param>
        public static void SetDestination(PSObject instance, object? value) => Set(instance, value, nameof(Destination));

        private static string? Text(IPAddress? address) => address?.ToString();

        private static string Text(AddressFamily family) => family.ToString();

        private static string Text(IPEndPoint endpoint) =>
            (endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + endpoint.Address + "]" : endpoint.Address.ToString()) + ":" + endpoint.Port.ToString(CultureInfo.InvariantCulture);
    }
}
