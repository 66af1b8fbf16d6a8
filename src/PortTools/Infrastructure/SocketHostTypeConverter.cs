using System;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// Rehydrates host facts that remoting, jobs and Import-Clixml deserialized: PortTools.types.ps1xml
    /// names PortTools.SocketHost as the TargetTypeForDeserialization of Deserialized.PortTools.SocketHost,
    /// and PowerShell converts the property bag through this converter, so that
    /// <c>Invoke-Command web02 { Get-SocketHost }</c> gives a real SocketHost of web02. Where the module
    /// is not loaded, the bag stays a bag, which -SocketHost also reads.
    /// </summary>
    public sealed class SocketHostTypeConverter : PSTypeConverter
    {
        /// <inheritdoc/>
        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            destinationType == typeof(SocketHost) && sourceValue is PSObject bag && !(bag.BaseObject is SocketHost) && bag.TypeNames.Contains("Deserialized.PortTools.SocketHost");

        /// <inheritdoc/>
        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            if (destinationType != typeof(SocketHost))
            {
                throw new InvalidCastException("SocketHostTypeConverter makes SocketHosts only, not " + destinationType + ".");
            }

            return SocketHostConverter.TryConvert(PowerShellObjects.Unwrap(sourceValue), PowerShellObjects.Properties, out SocketHost? host, out _, out string? error)
                ? host
                : throw new InvalidCastException("Cannot convert the object to a SocketHost: " + error);
        }

        /// <inheritdoc/>
        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        /// <inheritdoc/>
        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new InvalidCastException("A SocketHost converts to other types through its properties.");
    }
}
