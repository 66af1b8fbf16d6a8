using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace PortTools
{
    /// <summary>One line of a services file: <c>name port/protocol [aliases...] [# comment]</c>.</summary>
    public sealed class HostServiceEntry
    {
        internal HostServiceEntry(string name, int port, TransportProtocol protocol, IReadOnlyList<string> aliases, string? comment, int lineNumber)
        {
            Name = name;
            Port = port;
            Protocol = protocol;
            Aliases = aliases;
            Comment = comment;
            LineNumber = lineNumber;
        }

        /// <summary>The service name.</summary>
        public string Name { get; }

        /// <summary>The port.</summary>
        public int Port { get; }

        /// <summary>TCP or UDP; lines for other protocols (sctp, ddp) are not kept.</summary>
        public TransportProtocol Protocol { get; }

        /// <summary>Other names for the service.</summary>
        public IReadOnlyList<string> Aliases { get; }

        /// <summary>The text after '#', trimmed, or null.</summary>
        public string? Comment { get; }

        /// <summary>The 1-based line number in the file.</summary>
        public int LineNumber { get; }

        /// <summary>The line as a services file writes it, without the comment.</summary>
        public override string ToString() =>
            Name + " " + Port.ToString(CultureInfo.InvariantCulture) + "/" + (Protocol == TransportProtocol.Tcp ? "tcp" : "udp") + (Aliases.Count > 0 ? " " + string.Join(" ", Aliases) : string.Empty);
    }

    /// <summary>
    /// A host's services file (/etc/services; on Windows %SystemRoot%\System32\drivers\etc\services),
    /// parsed. Both use the same format: <c>name port/protocol [aliases...] [# comment]</c>, blank
    /// lines and '#' comments. Lines that cannot be read are skipped and listed in <see cref="Warnings"/>.
    /// </summary>
    public sealed class HostServicesFile
    {
        private HostServicesFile(string source, IReadOnlyList<HostServiceEntry> entries, IReadOnlyList<string> warnings)
        {
            Source = source;
            Entries = entries;
            Warnings = warnings;
        }

        /// <summary>Where the text came from: a path, or what the caller named it.</summary>
        public string Source { get; }

        /// <summary>The TCP and UDP entries, in file order.</summary>
        public IReadOnlyList<HostServiceEntry> Entries { get; }

        /// <summary>One sentence per skipped line, naming the line and why.</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>Where an OS keeps its services file.</summary>
        /// <param name="os">The OS.</param>
        /// <param name="root">
        /// The root to resolve under: "/" (the default) on Unix-like systems; on Windows the
        /// Windows directory, by default %SystemRoot%. Tests pass a fixture tree.
        /// </param>
        /// <returns>The path.</returns>
        public static string DefaultPath(TargetOS os, string? root = null)
        {
            if (os == TargetOS.Windows)
            {
                string windows = root ?? Environment.GetEnvironmentVariable("SystemRoot") ?? @"C:\Windows";
                return Path.Combine(windows, "System32", "drivers", "etc", "services");
            }

            return Path.Combine(root ?? "/", "etc", "services");
        }

        /// <summary>Reads and parses a services file.</summary>
        /// <param name="path">The file.</param>
        /// <returns>The parsed file.</returns>
        /// <exception cref="IOException">The file cannot be read (FileNotFoundException when it does not exist).</exception>
        /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
        public static HostServicesFile Read(string path)
        {
            using var reader = new StreamReader(path ?? throw new ArgumentNullException(nameof(path)));
            return Parse(reader, path);
        }

        /// <summary>Parses services-file text.</summary>
        /// <param name="reader">The text.</param>
        /// <param name="source">What to call it in warnings, such as its path.</param>
        /// <returns>The parsed file.</returns>
        public static HostServicesFile Parse(TextReader reader, string source)
        {
            if (reader is null)
            {
                throw new ArgumentNullException(nameof(reader));
            }

            var entries = new List<HostServiceEntry>();
            var warnings = new List<string>();
            int lineNumber = 0;
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if (TryParseLine(line, lineNumber, out HostServiceEntry? entry, out string? problem))
                {
                    if (entry is not null)
                    {
                        entries.Add(entry);
                    }
                }
                else
                {
                    warnings.Add(source + " line " + lineNumber.ToString(CultureInfo.InvariantCulture) + " is skipped: " + problem);
                }
            }

            return new HostServicesFile(source, entries, warnings);
        }

        /// <summary>
        /// Parses one line. Returns true with a null entry for blank lines, comments and protocols
        /// other than TCP and UDP; false with the reason for lines that are not in the format.
        /// </summary>
        internal static bool TryParseLine(string line, int lineNumber, out HostServiceEntry? entry, out string? problem)
        {
            entry = null;
            problem = null;
            int hash = line.IndexOf('#');
            string? comment = hash >= 0 ? line.Substring(hash + 1).Trim() : null;
            string content = hash >= 0 ? line.Substring(0, hash) : line;
            string[] fields = content.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                return true;
            }

            if (fields.Length < 2)
            {
                problem = "'" + content.Trim() + "' has no port/protocol after the service name.";
                return false;
            }

            string portProtocol = fields[1];
            int slash = portProtocol.IndexOf('/');
            if (slash <= 0 || slash == portProtocol.Length - 1)
            {
                problem = "'" + portProtocol + "' is not port/protocol, such as 22/tcp.";
                return false;
            }

            string portText = portProtocol.Substring(0, slash);
            if (!PortRange.TryParsePort(portText, out int port))
            {
                problem = "'" + portText + "' is not a port (0 to 65535).";
                return false;
            }

            string protocolText = portProtocol.Substring(slash + 1);
            TransportProtocol protocol;
            if (string.Equals(protocolText, "tcp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Tcp;
            }
            else if (string.Equals(protocolText, "udp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Udp;
            }
            else
            {
                return true; // sctp, ddp, dccp: not protocols PortTools describes
            }

            var aliases = new string[fields.Length - 2];
            Array.Copy(fields, 2, aliases, 0, aliases.Length);
            entry = new HostServiceEntry(fields[0], port, protocol, aliases, string.IsNullOrEmpty(comment) ? null : comment, lineNumber);
            return true;
        }
    }
}
