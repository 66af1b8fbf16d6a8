using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace PortTools
{
    /// <summary>
    /// A port or an inclusive range of ports: "80", "8000-8100". PowerShell converts numbers and such
    /// strings to it, so a parameter of this type takes both.
    /// </summary>
    public readonly struct PortRange : IEquatable<PortRange>
    {
        /// <summary>The lowest port, 0.</summary>
        public const int MinPort = 0;

        /// <summary>The highest port, 65535.</summary>
        public const int MaxPort = 65535;

        /// <summary>Creates a range holding one port.</summary>
        /// <param name="port">The port, 0 to 65535.</param>
        public PortRange(int port)
            : this(port, port)
        {
        }

        /// <summary>Creates an inclusive range.</summary>
        /// <param name="start">The first port.</param>
        /// <param name="end">The last port, not below <paramref name="start"/>.</param>
        public PortRange(int start, int end)
        {
            // No parameter name: PowerShell converts a typed number through this constructor and shows the
            // message as it is, where " (Parameter 'start') Actual value was ..." would only confuse.
            if (start < MinPort || start > MaxPort)
            {
                throw new ArgumentOutOfRangeException(null, "Port " + start.ToString(CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.");
            }

            if (end < MinPort || end > MaxPort)
            {
                throw new ArgumentOutOfRangeException(null, "Port " + end.ToString(CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.");
            }

            if (start > end)
            {
                throw new ArgumentException(ReversedMessage(start, end));
            }

            Start = start;
            End = end;
        }

        /// <summary>The first port of the range.</summary>
        public int Start { get; }

        /// <summary>The last port of the range.</summary>
        public int End { get; }

        /// <summary>How many ports the range holds.</summary>
        public int Count => End - Start + 1;

        /// <summary>A number converts to a one-port range.</summary>
        /// <param name="port">The port.</param>
        /// <exception cref="OverflowException">The number is not a port; the message says so plainly, as PowerShell shows it.</exception>
        public static implicit operator PortRange(int port)
        {
            if (port < MinPort || port > MaxPort)
            {
                throw new OverflowException("Port " + port.ToString(CultureInfo.InvariantCulture) + " is out of range: a port is 0 to 65535.");
            }

            return new PortRange(port);
        }

        /// <summary>Parses "80" or "8000-8100".</summary>
        /// <param name="text">The text.</param>
        /// <returns>The range.</returns>
        /// <exception cref="FormatException">The text is not a port or range; the message names it.</exception>
        public static PortRange Parse(string text)
        {
            if (!TryParse(text, out PortRange range, out string? error))
            {
                throw new FormatException(error);
            }

            return range;
        }

        /// <summary>Parses "80" or "8000-8100".</summary>
        /// <param name="text">The text.</param>
        /// <param name="range">The range, when the text is valid.</param>
        /// <returns>Whether the text is valid.</returns>
        public static bool TryParse(string? text, out PortRange range) => TryParse(text, out range, out _);

        internal static bool TryParse(string? text, out PortRange range, [NotNullWhen(false)] out string? error)
        {
            range = default;
            string trimmed = (text ?? string.Empty).Trim();
            int dash = trimmed.IndexOf('-', 1 < trimmed.Length ? 1 : 0);
            string first = dash < 0 ? trimmed : trimmed.Substring(0, dash).Trim();
            string last = dash < 0 ? trimmed : trimmed.Substring(dash + 1).Trim();
            if (!TryParsePort(first, out int start) || !TryParsePort(last, out int end))
            {
                error = "'" + text + "' is not a port or port range: expected a number from 0 to 65535, or a range such as 8000-8100.";
                return false;
            }

            if (start > end)
            {
                error = ReversedMessage(start, end);
                return false;
            }

            range = new PortRange(start, end);
            error = null;
            return true;
        }

        /// <summary>Parses a decimal port, 0 to 65535, with no sign or spaces.</summary>
        internal static bool TryParsePort(string text, out int port)
        {
            port = 0;
            if (text.Length == 0 || text.Length > 5)
            {
                return false;
            }

            foreach (char c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                port = (port * 10) + (c - '0');
            }

            return port <= MaxPort;
        }

        private static string ReversedMessage(int start, int end) =>
            string.Format(CultureInfo.InvariantCulture, "Port range '{0}-{1}' is reversed: its start ({0}) is above its end ({1}). Write it as {1}-{0}.", start, end);

        /// <summary>Whether the port lies in the range.</summary>
        /// <param name="port">The port.</param>
        /// <returns>True when Start &lt;= port &lt;= End.</returns>
        public bool Contains(int port) => port >= Start && port <= End;

        /// <inheritdoc/>
        public bool Equals(PortRange other) => other.Start == Start && other.End == End;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is PortRange other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => (Start << 16) ^ End;

        /// <summary>"80" or "8000-8100".</summary>
        public override string ToString() => Start == End
            ? Start.ToString(CultureInfo.InvariantCulture)
            : Start.ToString(CultureInfo.InvariantCulture) + "-" + End.ToString(CultureInfo.InvariantCulture);
    }
}
