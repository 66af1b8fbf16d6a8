using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace PortTools
{
    /// <summary>
    /// The values of pipeline rows (CSV cells, JSON fields, properties of objects), converted strictly:
    /// a value either is what the property names or the caller is told what was expected. Never a
    /// default in place of a value that did not convert: "127.0.0.300" is no address, "Sctp" no protocol.
    /// </summary>
    public static class RowValue
    {
        /// <summary>The expectation for an address, as error messages say it.</summary>
        public const string AddressExpected = "an IPv4 address of four decimal octets or an IPv6 address, such as 127.0.0.1 or ::1";

        /// <summary>The expectation for a port.</summary>
        public const string PortExpected = "a whole number from 0 to 65535";

        /// <summary>The expectation for an endpoint.</summary>
        public const string EndpointExpected = "an address and a port, such as 192.0.2.1:80 or [2001:db8::1]:443";

        /// <summary>Whether a value says nothing: null, or text that is empty or white space (an empty CSV cell).</summary>
        /// <param name="value">The value.</param>
        /// <returns>Whether the value is absent.</returns>
        public static bool IsEmpty(object? value) => value is null || (value is string text && text.Trim().Length == 0);

        /// <summary>An IP address: an IPAddress, or its text (IPv4 strictly as four decimal octets).</summary>
        /// <param name="value">The value.</param>
        /// <param name="address">The address.</param>
        /// <param name="expected">What was expected, when the value is not an address.</param>
        /// <returns>Whether the value is an address.</returns>
        public static bool TryAddress(object? value, [NotNullWhen(true)] out IPAddress? address, [NotNullWhen(false)] out string? expected)
        {
            expected = null;
            switch (value)
            {
                case IPAddress given:
                    address = given;
                    return true;
                case string text when IPAddressText.TryParse(text.Trim(), out address):
                    return true;
            }

            address = null;
            expected = AddressExpected;
            return false;
        }

        /// <summary>A port: a whole number from 0 to 65535, as a number or decimal text.</summary>
        /// <param name="value">The value.</param>
        /// <param name="port">The port.</param>
        /// <param name="expected">What was expected, when the value is not a port.</param>
        /// <returns>Whether the value is a port.</returns>
        public static bool TryPort(object? value, out int port, [NotNullWhen(false)] out string? expected)
        {
            expected = null;
            switch (value)
            {
                case int number when number is >= 0 and <= 65535:
                    port = number;
                    return true;
                case long or short or ushort or uint or ulong or byte or sbyte:
                    decimal whole = Convert.ToDecimal(value, CultureInfo.InvariantCulture);
                    if (whole is >= 0 and <= 65535)
                    {
                        port = (int)whole;
                        return true;
                    }

                    break;
                case string text when PortRange.TryParsePort(text.Trim(), out port):
                    return true;
            }

            port = 0;
            expected = PortExpected;
            return false;
        }

        /// <summary>An endpoint: an IPEndPoint, or text such as 192.0.2.1:80 or [2001:db8::1]:443.</summary>
        /// <param name="value">The value.</param>
        /// <param name="endpoint">The endpoint.</param>
        /// <param name="expected">What was expected, and what was wrong, when the value is not an endpoint.</param>
        /// <returns>Whether the value is an endpoint.</returns>
        public static bool TryEndpoint(object? value, [NotNullWhen(true)] out IPEndPoint? endpoint, [NotNullWhen(false)] out string? expected)
        {
            expected = null;
            switch (value)
            {
                case IPEndPoint given:
                    endpoint = given;
                    return true;
                case string text:
                    if (EndpointText.TryParse(text, out endpoint, out string? reason))
                    {
                        return true;
                    }

                    expected = EndpointExpected + " (" + reason + ")";
                    return false;
            }

            endpoint = null;
            expected = EndpointExpected;
            return false;
        }

        /// <summary>A port or port range: a number, a PortRange, or text such as 443 or 8000-8010.</summary>
        /// <param name="value">The value.</param>
        /// <param name="range">The range.</param>
        /// <param name="expected">What was expected, when the value is not a port range.</param>
        /// <returns>Whether the value is a port range.</returns>
        public static bool TryPortRange(object? value, out PortRange range, [NotNullWhen(false)] out string? expected)
        {
            expected = null;
            if (value is PortRange given)
            {
                range = given;
                return true;
            }

            if (value is string text && PortRange.TryParse(text, out range))
            {
                return true;
            }

            if (value is not string && TryPort(value, out int port, out _))
            {
                range = new PortRange(port);
                return true;
            }

            range = default;
            expected = "a port from 0 to 65535 or a range such as 8000-8010";
            return false;
        }

        /// <summary>
        /// A name of an enum: the enum value itself, its name in any case, or the number of a defined
        /// member (older JSON writes enums as numbers). Combinations, undefined numbers and other names are refused.
        /// </summary>
        /// <typeparam name="T">The enum.</typeparam>
        /// <param name="value">The value.</param>
        /// <param name="result">The member.</param>
        /// <param name="expected">The names expected, when the value is not one.</param>
        /// <returns>Whether the value names a member.</returns>
        public static bool TryEnum<T>(object? value, out T result, [NotNullWhen(false)] out string? expected)
            where T : struct, Enum
        {
            expected = null;
            switch (value)
            {
                case T given when Enum.IsDefined(typeof(T), given):
                    result = given;
                    return true;
                case string text:
                    string trimmed = text.Trim();
                    for (int i = 0; i < Members<T>.Names.Length; i++)
                    {
                        if (string.Equals(Members<T>.Names[i], trimmed, StringComparison.OrdinalIgnoreCase))
                        {
                            result = Members<T>.Values[i];
                            return true;
                        }
                    }

                    break;
                case int or long or short or byte:
                    long number = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                    foreach (T member in Members<T>.Values)
                    {
                        if (Convert.ToInt64(member, CultureInfo.InvariantCulture) == number)
                        {
                            result = member;
                            return true;
                        }
                    }

                    break;
            }

            result = default;
            expected = "one of " + string.Join(", ", Members<T>.Names);
            return false;
        }

        /// <summary>
        /// Process ids: one whole number from 0 up, as a number or decimal text; a list of them (a
        /// socket's Id of several owners); or such a list as text ("812,813", as a socket's Id exports).
        /// </summary>
        /// <param name="value">The value.</param>
        /// <param name="ids">The ids.</param>
        /// <param name="bad">The first part that is not a process id.</param>
        /// <returns>Whether every part is a process id (and there is at least one).</returns>
        public static bool TryProcessIds(object? value, out List<int> ids, out object? bad)
        {
            ids = new List<int>(1);
            bad = value;
            if (value is string text)
            {
                foreach (string part in text.Split(new[] { ',', ';', ' ' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                    {
                        bad = part;
                        return false;
                    }

                    ids.Add(id);
                }

                return ids.Count > 0;
            }

            if (value is System.Collections.IEnumerable list)
            {
                foreach (object? item in list)
                {
                    if (!TryProcessId(item, out int id))
                    {
                        bad = item;
                        return false;
                    }

                    ids.Add(id);
                }

                return ids.Count > 0;
            }

            if (TryProcessId(value, out int single))
            {
                ids.Add(single);
                return true;
            }

            return false;
        }

        private static bool TryProcessId(object? value, out int id)
        {
            switch (value)
            {
                case int number when number >= 0:
                    id = number;
                    return true;
                case long or short or ushort or uint or ulong or byte or sbyte:
                    decimal whole = Convert.ToDecimal(value, CultureInfo.InvariantCulture);
                    if (whole is >= 0 and <= int.MaxValue)
                    {
                        id = (int)whole;
                        return true;
                    }

                    break;
                case string text when int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out id):
                    return true;
            }

            id = 0;
            return false;
        }

        // Names and values in the same order (both sorted by value), read once per enum: rows come by the million.
        private static class Members<T>
            where T : struct, Enum
        {
            public static readonly string[] Names = Enum.GetNames(typeof(T));

            public static readonly T[] Values = (T[])Enum.GetValues(typeof(T));
        }
    }
}
