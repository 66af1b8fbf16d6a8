using System;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// The -SocketHost argument: a SocketHost, an object that carries one (deserialized from
    /// remoting, jobs or Import-Clixml; ConvertFrom-Json output; a hashtable), or its JSON text.
    /// </summary>
    internal static class SocketHostInput
    {
        /// <summary>Converts the argument, or builds the ErrorRecord that says why it is not a SocketHost.</summary>
        /// <param name="value">The argument as PowerShell bound it.</param>
        /// <param name="parameter">The parameter's name, for the message.</param>
        /// <param name="host">The SocketHost.</param>
        /// <param name="error">The error: InvalidSocketHost, or SocketHostSchemaMismatch for one of another PortTools.</param>
        /// <returns>Whether it converted.</returns>
        public static bool TryConvert(object? value, string parameter, out SocketHost? host, out ErrorRecord? error)
        {
            if (SocketHostConverter.TryConvert(PowerShellObjects.Unwrap(value), PowerShellObjects.Properties, out host, out SocketHostError problem, out string? message))
            {
                error = null;
                return true;
            }

            string id = problem == SocketHostError.OtherSchemaVersion ? "SocketHostSchemaMismatch" : "InvalidSocketHost";
            error = new ErrorRecord(new ArgumentException("-" + parameter + ": " + message), id, ErrorCategory.InvalidData, value);
            return false;
        }
    }
}
