using System;
using System.Management.Automation;
using System.Net;

namespace PortTools.Commands
{
    /// <summary>
    /// Lets an IPEndPoint parameter take "192.0.2.1:80" and "[2001:db8::1]:443" on both PowerShell
    /// editions (.NET Framework has no IPEndPoint.Parse for PowerShell to find).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class EndpointTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case IPEndPoint endpoint:
                    return endpoint;
                case string text:
                    return EndpointText.TryParse(text, out IPEndPoint? parsed, out string? reason)
                        ? parsed
                        : throw new ArgumentTransformationMetadataException("'" + text + "' is not an endpoint: " + reason + ".");
                default:
                    throw new ArgumentTransformationMetadataException("'" + value + "' is not an endpoint: expected text such as 192.0.2.1:80 or [2001:db8::1]:443.");
            }
        }
    }
}
