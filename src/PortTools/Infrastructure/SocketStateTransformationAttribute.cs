using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Lets a SocketState parameter take the spellings people already type: ss's ESTAB, TIME-WAIT,
    /// UNCONN and netstat's TIME_WAIT, LISTENING, besides the enum names.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class SocketStateTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            if (value is string || value is SocketState || value is not IEnumerable)
            {
                return new[] { Convert(value) };
            }

            var states = new List<SocketState>();
            foreach (object item in (IEnumerable)value)
            {
                states.Add(Convert(item is PSObject inner ? inner.BaseObject : item));
            }

            return states.ToArray();
        }

        private static SocketState Convert(object? value)
        {
            switch (value)
            {
                case SocketState state:
                    return state;
                case string text when SocketStateNames.TryParse(text, out SocketState parsed):
                    return parsed;
                case int number when Enum.IsDefined(typeof(SocketState), (long)number):
                    return (SocketState)number;
                default:
                    throw new ArgumentTransformationMetadataException(
                        "'" + value + "' is not a socket state. Expected one of: " + string.Join(", ", Enum.GetNames(typeof(SocketState))) +
                        ", or an ss/netstat spelling such as ESTAB, TIME-WAIT, UNCONN.");
            }
        }
    }
}
