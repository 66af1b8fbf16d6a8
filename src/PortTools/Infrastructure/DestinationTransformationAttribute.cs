using System;
using System.Management.Automation;
using System.Net;

namespace PortTools.Commands
{
    /// <summary>
    /// Lets a destination parameter take "10.0.0.5:5432", "[2001:db8::5]:443", an IPEndPoint, or a
    /// socket (its peer: "another connection like this one"). An address without a port is an error
    /// that says so, since connect() needs one.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class DestinationTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case IPEndPoint endpoint:
                    return endpoint;
                case SocketTuple socket:
                    return socket.RemotePort != 0 && !socket.RemoteAddress.Equals(IPAddress.Any) && !socket.RemoteAddress.Equals(IPAddress.IPv6Any)
                        ? new IPEndPoint(socket.RemoteAddress, socket.RemotePort)
                        : throw new ArgumentTransformationMetadataException("The socket '" + socket + "' has no peer to take as the destination: expected an endpoint such as 10.0.0.5:5432.");
                case string text:
                    string trimmed = text.Trim();
                    if (EndpointText.TryParse(trimmed, out IPEndPoint? parsed, out string? reason))
                    {
                        return parsed;
                    }

                    if ((trimmed.IndexOf('.') > 0 || trimmed.IndexOf(':') >= 0) && IPAddress.TryParse(trimmed.Trim('[', ']'), out IPAddress? bare))
                    {
                        throw new ArgumentTransformationMetadataException("The destination '" + text + "' has no port: connect() needs one, as in " + EndpointText.Format(bare, 5432) + ".");
                    }

                    throw new ArgumentTransformationMetadataException("'" + text + "' is not a destination: " + reason + ".");
                case int or long or IPAddress:
                    throw new ArgumentTransformationMetadataException("'" + value + "' is not a destination: expected an address and a port, such as 10.0.0.5:5432 or [2001:db8::5]:443.");
                default:
                    // Other objects are left to the binder: piped by value they fail to convert, and then
                    // bind by property name (their Destination or Remote), as Measure-EphemeralPortUsage rows do.
                    return inputData;
            }
        }
    }
}
