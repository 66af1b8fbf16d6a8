using System;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Rehydrates sockets that remoting, jobs and Import-Clixml deserialized: PortTools.types.ps1xml names
    /// PortTools.SocketTuple as the TargetTypeForDeserialization of Deserialized.PortTools.SocketTuple,
    /// and PowerShell converts the property bag through this converter. What comes back is a real
    /// SocketTuple: its enums compare by name, its owners are objects, ToString gives the canonical text.
    /// Where the module is not loaded, the bag stays a bag, which every PortTools cmdlet also reads.
    /// </summary>
    public sealed class SocketTupleTypeConverter : PSTypeConverter
    {
        /// <inheritdoc/>
        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            destinationType == typeof(SocketTuple) && sourceValue is PSObject bag && !(bag.BaseObject is SocketTuple) && IsDeserializedSocket(bag);

        /// <inheritdoc/>
        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            if (destinationType != typeof(SocketTuple))
            {
                throw new InvalidCastException("SocketTupleTypeConverter makes SocketTuples only, not " + destinationType + ".");
            }

            if (!PowerShellObjects.TryConvertSocket(sourceValue, out SocketTuple? socket, out string? error))
            {
                throw new InvalidCastException("Cannot convert the object to a SocketTuple: " + error + ".");
            }

            // The PSComputerName that remoting added before the object was saved (Export-Clixml) stays on
            // the object, as remoting leaves it: Group-Object PSComputerName works on a saved fleet too.
            if (sourceValue is PSObject bag && bag.Properties["PSComputerName"]?.Value is string computer && computer.Length > 0)
            {
                var shell = PSObject.AsPSObject(socket);
                shell.Properties.Add(new PSNoteProperty("PSComputerName", computer));
                return shell;
            }

            return socket;
        }

        /// <inheritdoc/>
        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        /// <inheritdoc/>
        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new InvalidCastException("A SocketTuple converts to other types through its properties or its text (ToString).");

        private static bool IsDeserializedSocket(PSObject bag)
        {
            foreach (string name in bag.TypeNames)
            {
                if (string.Equals(name, "Deserialized.PortTools.SocketTuple", StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
