using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace PortTools.Commands
{
    /// <summary>
    /// The rows a cmdlet takes whole from the pipeline (its -InputObject), read property by property.
    /// PowerShell leaves a by-property-name parameter unbound when the value does not convert, and the
    /// parameter's default then answers a question nobody asked; reading the row here sees every value:
    /// one that does not convert, or a missing one, is an error for that row, which gets no result.
    /// One reader per cmdlet invocation: it counts the rows, so errors say which one.
    /// </summary>
    internal sealed class PipelineRows
    {
        /// <summary>The ErrorId of a row value that does not convert.</summary>
        public const string NotValidId = "PipelineValueNotValid";

        /// <summary>The ErrorId of a row that lacks a value the question needs.</summary>
        public const string MissingId = "PipelineValueMissing";

        /// <summary>The ErrorId of a row that is not what the cmdlet takes (a socket piped where a packet is asked for).</summary>
        public const string NotUsedId = "PipelineInputNotUsed";

        private PSObject? _shell;
        private IDictionary? _dictionary;

        /// <summary>The row's position in the pipeline, from 1.</summary>
        public long Position { get; private set; }

        /// <summary>The row as it came (the TargetObject of its errors).</summary>
        public object? Item { get; private set; }

        /// <summary>The object under the row's PSObject wrapper.</summary>
        public object? Value { get; private set; }

        /// <summary>Whether the row is a single value (a number, text, an address) rather than an object with properties.</summary>
        public bool IsScalar { get; private set; }

        /// <summary>Takes the next row.</summary>
        /// <param name="item">The row as PowerShell bound it.</param>
        public void Next(PSObject? item)
        {
            Position++;
            Item = item;
            Value = PowerShellObjects.Unwrap(item);
            _dictionary = Value as IDictionary;
            _shell = _dictionary is null && Value is not null ? item ?? PSObject.AsPSObject(Value) : null;
            IsScalar = Value is null or string or decimal or Enum or PortRange or System.Net.IPAddress or System.Net.IPEndPoint || Value.GetType().IsPrimitive;
        }

        /// <summary>Whether the row is a socket: a SocketTuple, or one deserialized (remoting, jobs, Import-Clixml).</summary>
        public bool IsSocket => Value is SocketTuple || (Item is not null && IsDeserializedSocket(Item));

        /// <summary>
        /// A property of the row that has a value: null, empty and white-space text (an empty CSV cell)
        /// count as absent. Values come without their PSObject wrapper.
        /// </summary>
        /// <param name="name">The property name (case-insensitive).</param>
        /// <param name="value">Its value.</param>
        /// <returns>Whether the row has the property with a value.</returns>
        public bool TryGet(string name, out object? value)
        {
            value = null;
            if (IsScalar)
            {
                return false;
            }

            if (_dictionary is not null)
            {
                foreach (DictionaryEntry entry in _dictionary)
                {
                    if (string.Equals(Convert.ToString(entry.Key, CultureInfo.InvariantCulture), name, StringComparison.OrdinalIgnoreCase))
                    {
                        value = PowerShellObjects.Unwrap(entry.Value);
                        break;
                    }
                }
            }
            else if (_shell is not null)
            {
                PSPropertyInfo? property = _shell.Properties[name];
                if (property is null)
                {
                    return false;
                }

                try
                {
                    value = PowerShellObjects.Unwrap(property.Value);
                }
                catch (GetValueException)
                {
                    return false; // a property whose getter throws holds no value
                }
            }

            return !RowValue.IsEmpty(value);
        }

        /// <summary>The computer a row came from: the PSComputerName remoting adds, or a socket's ComputerName.</summary>
        /// <returns>The name, or null.</returns>
        public string? ComputerName()
        {
            if (Value is SocketTuple socket && socket.ComputerName is not null)
            {
                return socket.ComputerName;
            }

            return TryGet("PSComputerName", out object? remote) && remote is string name ? name
                : IsSocket && TryGet("ComputerName", out object? own) && own is string computer ? computer
                : null;
        }

        /// <summary>The error for a row value that does not convert.</summary>
        /// <param name="property">The property (or "the input" for a scalar row).</param>
        /// <param name="value">Its value.</param>
        /// <param name="expected">What was expected.</param>
        /// <returns>The record, with the row as its target.</returns>
        public ErrorRecord NotValid(string property, object? value, string expected) =>
            new ErrorRecord(
                new ArgumentException(string.Format(CultureInfo.InvariantCulture, "Pipeline item {0}: {1} '{2}' is not valid: expected {3}. The item was skipped.", Position, property, Text(value), expected.TrimEnd('.'))),
                NotValidId,
                ErrorCategory.InvalidData,
                Item);

        /// <summary>The error for a row value that does not convert, with the converter's own sentence.</summary>
        /// <param name="property">The property (or "The input" for a scalar row).</param>
        /// <param name="value">Its value.</param>
        /// <param name="reason">Why, as a sentence.</param>
        /// <returns>The record, with the row as its target.</returns>
        public ErrorRecord NotValidBecause(string property, object? value, string reason) =>
            new ErrorRecord(
                new ArgumentException(string.Format(CultureInfo.InvariantCulture, "Pipeline item {0}: {1} '{2}' is not valid. {3} The item was skipped.", Position, property, Text(value), reason)),
                NotValidId,
                ErrorCategory.InvalidData,
                Item);

        /// <summary>The error for a row without a value the question needs.</summary>
        /// <param name="property">The property or properties.</param>
        /// <param name="expected">What was expected.</param>
        /// <returns>The record, with the row as its target.</returns>
        public ErrorRecord Missing(string property, string expected) =>
            new ErrorRecord(
                new ArgumentException(string.Format(CultureInfo.InvariantCulture, "Pipeline item {0} has no {1}: expected {2}. The item was skipped.", Position, property, expected.TrimEnd('.'))),
                MissingId,
                ErrorCategory.InvalidArgument,
                Item);

        /// <summary>The error for a row that is not what the cmdlet takes.</summary>
        /// <param name="message">Why, and what to do instead.</param>
        /// <returns>The record, with the row as its target.</returns>
        public ErrorRecord NotUsed(string message) =>
            new ErrorRecord(
                new ArgumentException(string.Format(CultureInfo.InvariantCulture, "Pipeline item {0}: {1}", Position, message)),
                NotUsedId,
                ErrorCategory.InvalidArgument,
                Item);

        private static bool IsDeserializedSocket(object item)
        {
            if (item is not PSObject shell)
            {
                return false;
            }

            foreach (string name in shell.TypeNames)
            {
                if (name.StartsWith("Deserialized.PortTools.SocketTuple", StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        private static string Text(object? value)
        {
            string text = value switch
            {
                null => string.Empty,
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? string.Empty,
            };
            return text.Length > 80 ? text.Substring(0, 77) + "..." : text;
        }
    }

    /// <summary>Names by which remoting and jobs call this host.</summary>
    internal static class ComputerNames
    {
        /// <summary>Whether a PSComputerName or ComputerName names this host (as Start-Job's 'localhost' and a loopback session do).</summary>
        /// <param name="name">The name.</param>
        /// <returns>Whether it is this host.</returns>
        public static bool IsThisHost(string name)
        {
            string trimmed = name.Trim().TrimEnd('.');
            if (trimmed.Length == 0 || trimmed == "localhost" || trimmed == "127.0.0.1" || trimmed == "::1" || trimmed == "[::1]")
            {
                return true;
            }

            string machine = Environment.MachineName;
            return string.Equals(trimmed, machine, StringComparison.OrdinalIgnoreCase)
                || trimmed.StartsWith(machine + ".", StringComparison.OrdinalIgnoreCase)
                || string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase);
        }
    }
}
