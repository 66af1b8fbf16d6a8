using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace PortTools
{
    /// <summary>What is known of one port and protocol: the service names, first the usual one, and a description.</summary>
    public sealed class ServiceAssignment
    {
        internal ServiceAssignment(int port, TransportProtocol protocol, IReadOnlyList<string> names, string? description, string? note, IReadOnlyList<string> sources)
        {
            Port = port;
            Protocol = protocol;
            Names = names;
            Description = description;
            Note = note;
            Sources = sources;
        }

        /// <summary>The port.</summary>
        public int Port { get; }

        /// <summary>TCP or UDP.</summary>
        public TransportProtocol Protocol { get; }

        /// <summary>Every name for the port and protocol: IANA's first, then those the host's services file adds.</summary>
        public IReadOnlyList<string> Names { get; }

        /// <summary>The usual name.</summary>
        public string Name => Names[0];

        /// <summary>A short description, or null when only the host's file names the port and says nothing more.</summary>
        public string? Description { get; }

        /// <summary>A common use that is not an IANA assignment, or a caution; null when there is none.</summary>
        public string? Note { get; }

        /// <summary>Where the names came from: "IANA" for the embedded table, the services file's path for the host's.</summary>
        public IReadOnlyList<string> Sources { get; }

        /// <summary>"22/tcp ssh".</summary>
        public override string ToString() =>
            Port.ToString(CultureInfo.InvariantCulture) + "/" + (Protocol == TransportProtocol.Tcp ? "tcp" : "udp") + " " + string.Join(", ", Names);
    }

    /// <summary>
    /// Service names by port and protocol, and ports by service name: the embedded table of commonly
    /// used IANA assignments (Ports/Data/services.csv), optionally merged with a host's services file.
    /// Lookups by port and by exact name are hashed; names compare case-insensitively, as RFC 6335 says.
    /// </summary>
    public sealed class ServiceTable
    {
        /// <summary>The label of the embedded table in <see cref="ServiceAssignment.Sources"/>.</summary>
        public const string EmbeddedSource = "IANA";

        private const string ResourceName = "PortTools.Ports.services.csv";
        private const string Header = "port,protocol,service,description,note";

        private static readonly Lazy<ServiceTable> s_embedded = new Lazy<ServiceTable>(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

        private readonly Dictionary<int, ServiceAssignment> _byPort;
        private readonly Dictionary<string, List<ServiceAssignment>> _byName;

        private ServiceTable(Dictionary<int, ServiceAssignment> byPort, IReadOnlyList<string> sources)
        {
            _byPort = byPort;
            Sources = sources;
            _byName = new Dictionary<string, List<ServiceAssignment>>(StringComparer.OrdinalIgnoreCase);
            foreach (ServiceAssignment assignment in byPort.Values.OrderBy(a => a.Port).ThenBy(a => a.Protocol))
            {
                foreach (string name in assignment.Names)
                {
                    if (!_byName.TryGetValue(name, out List<ServiceAssignment>? list))
                    {
                        list = new List<ServiceAssignment>();
                        _byName[name] = list;
                    }

                    list.Add(assignment);
                }
            }
        }

        /// <summary>The embedded table alone, loaded once.</summary>
        public static ServiceTable Embedded => s_embedded.Value;

        /// <summary>How many port-and-protocol pairs have a name (an IANA range counts each port).</summary>
        public int Count => _byPort.Count;

        /// <summary>What the table was built from: "IANA", then any merged services files.</summary>
        public IReadOnlyList<string> Sources { get; }

        /// <summary>Every service name and alias, sorted; for completion.</summary>
        public IEnumerable<string> Names => _byName.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase);

        /// <summary>The names for a port and protocol.</summary>
        /// <param name="port">The port.</param>
        /// <param name="protocol">TCP or UDP.</param>
        /// <returns>The assignment, or null when none is known.</returns>
        public ServiceAssignment? Find(int port, TransportProtocol protocol) =>
            _byPort.TryGetValue(Key(port, protocol), out ServiceAssignment? assignment) ? assignment : null;

        /// <summary>The assignments that carry a name (or alias), compared case-insensitively.</summary>
        /// <param name="name">The name, such as "https".</param>
        /// <returns>The assignments, by port then protocol; empty when the name is unknown.</returns>
        public IReadOnlyList<ServiceAssignment> FindByName(string name) =>
            name is not null && _byName.TryGetValue(name, out List<ServiceAssignment>? list) ? list : (IReadOnlyList<ServiceAssignment>)Array.Empty<ServiceAssignment>();

        /// <summary>The assignments with at least one name the matcher accepts (PowerShell passes a WildcardPattern's IsMatch).</summary>
        /// <param name="matcher">Decides for each name and alias.</param>
        /// <returns>The assignments, by port then protocol, each once.</returns>
        public IReadOnlyList<ServiceAssignment> FindByName(Func<string, bool> matcher)
        {
            if (matcher is null)
            {
                throw new ArgumentNullException(nameof(matcher));
            }

            var found = new HashSet<ServiceAssignment>();
            foreach (KeyValuePair<string, List<ServiceAssignment>> pair in _byName)
            {
                if (matcher(pair.Key))
                {
                    found.UnionWith(pair.Value);
                }
            }

            return found.OrderBy(a => a.Port).ThenBy(a => a.Protocol).ToArray();
        }

        /// <summary>
        /// A new table with a host's services file merged in: its names and aliases are added after
        /// the embedded ones for ports the table knows, and ports it does not know are added with the
        /// line's comment as their description. The embedded names stay first.
        /// </summary>
        /// <param name="hostFile">The parsed services file.</param>
        /// <returns>The merged table; this one is unchanged.</returns>
        public ServiceTable Merge(HostServicesFile hostFile)
        {
            if (hostFile is null)
            {
                throw new ArgumentNullException(nameof(hostFile));
            }

            var builders = new Dictionary<int, Builder>(_byPort.Count + hostFile.Entries.Count);
            foreach (KeyValuePair<int, ServiceAssignment> pair in _byPort)
            {
                builders[pair.Key] = Builder.From(pair.Value);
            }

            foreach (HostServiceEntry entry in hostFile.Entries)
            {
                int key = Key(entry.Port, entry.Protocol);
                if (!builders.TryGetValue(key, out Builder? builder))
                {
                    builder = new Builder(entry.Port, entry.Protocol);
                    builders[key] = builder;
                    if (entry.Comment is not null)
                    {
                        builder.AddDescription(entry.Comment);
                    }
                }

                builder.AddName(entry.Name);
                foreach (string alias in entry.Aliases)
                {
                    builder.AddName(alias);
                }

                builder.AddSource(hostFile.Source);
            }

            return new ServiceTable(builders.ToDictionary(p => p.Key, p => p.Value.Build()), Sources.Concat(new[] { hostFile.Source }).ToArray());
        }

        /// <summary>Parses the embedded table's CSV format (see Ports/Data/README.md).</summary>
        /// <exception cref="InvalidDataException">A row is malformed; the message names the line.</exception>
        internal static ServiceTable ParseCsv(TextReader reader)
        {
            var builders = new Dictionary<int, Builder>();
            int lineNumber = 0;
            bool headerSeen = false;
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                if (!headerSeen)
                {
                    if (!string.Equals(line.Trim(), Header, StringComparison.Ordinal))
                    {
                        throw Bad(lineNumber, "expected the header '" + Header + "'");
                    }

                    headerSeen = true;
                    continue;
                }

                List<string> fields = SplitCsv(line, lineNumber);
                if (fields.Count != 5)
                {
                    throw Bad(lineNumber, "expected 5 fields, found " + fields.Count.ToString(CultureInfo.InvariantCulture));
                }

                if (!PortRange.TryParse(fields[0], out PortRange ports))
                {
                    throw Bad(lineNumber, "'" + fields[0] + "' is not a port or range");
                }

                TransportProtocol protocol = fields[1] switch
                {
                    "tcp" => TransportProtocol.Tcp,
                    "udp" => TransportProtocol.Udp,
                    _ => throw Bad(lineNumber, "'" + fields[1] + "' is not tcp or udp"),
                };
                if (fields[2].Length == 0)
                {
                    throw Bad(lineNumber, "the service name is empty");
                }

                for (int port = ports.Start; port <= ports.End; port++)
                {
                    int key = Key(port, protocol);
                    if (!builders.TryGetValue(key, out Builder? builder))
                    {
                        builder = new Builder(port, protocol);
                        builder.AddSource(EmbeddedSource);
                        builders[key] = builder;
                    }

                    builder.AddName(fields[2]);
                    builder.AddDescription(fields[3]);
                    builder.AddNote(fields[4]);
                }
            }

            return new ServiceTable(builders.ToDictionary(p => p.Key, p => p.Value.Build()), new[] { EmbeddedSource });
        }

        /// <summary>Splits one RFC 4180 line: fields may be quoted, with "" for a quote inside.</summary>
        internal static List<string> SplitCsv(string line, int lineNumber)
        {
            var fields = new List<string>();
            var field = new StringBuilder();
            int i = 0;
            while (true)
            {
                field.Clear();
                if (i < line.Length && line[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= line.Length)
                        {
                            throw Bad(lineNumber, "a quoted field is not closed");
                        }

                        if (line[i] == '"')
                        {
                            if (i + 1 < line.Length && line[i + 1] == '"')
                            {
                                field.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        field.Append(line[i++]);
                    }

                    if (i < line.Length && line[i] != ',')
                    {
                        throw Bad(lineNumber, "text follows a closing quote");
                    }
                }
                else
                {
                    while (i < line.Length && line[i] != ',')
                    {
                        field.Append(line[i++]);
                    }
                }

                fields.Add(field.ToString());
                if (i >= line.Length)
                {
                    return fields;
                }

                i++; // the comma
            }
        }

        private static InvalidDataException Bad(int lineNumber, string problem) =>
            new InvalidDataException("services.csv line " + lineNumber.ToString(CultureInfo.InvariantCulture) + ": " + problem + ".");

        private static int Key(int port, TransportProtocol protocol) => (port << 1) | (protocol == TransportProtocol.Udp ? 1 : 0);

        private static ServiceTable LoadEmbedded()
        {
            using Stream stream = typeof(ServiceTable).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException("The embedded resource " + ResourceName + " is missing from " + typeof(ServiceTable).Assembly.GetName().Name + ".");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return ParseCsv(reader);
        }

        /// <summary>Collects one port and protocol's names in order, without duplicates.</summary>
        private sealed class Builder
        {
            private readonly List<string> _names = new List<string>();
            private readonly List<string> _descriptions = new List<string>();
            private readonly List<string> _notes = new List<string>();
            private readonly List<string> _sources = new List<string>();

            public Builder(int port, TransportProtocol protocol)
            {
                Port = port;
                Protocol = protocol;
            }

            public int Port { get; }

            public TransportProtocol Protocol { get; }

            public static Builder From(ServiceAssignment assignment)
            {
                var builder = new Builder(assignment.Port, assignment.Protocol);
                builder._names.AddRange(assignment.Names);
                builder._sources.AddRange(assignment.Sources);
                builder.AddDescription(assignment.Description);
                builder.AddNote(assignment.Note);
                return builder;
            }

            public void AddName(string name) => AddDistinct(_names, name, StringComparer.OrdinalIgnoreCase);

            public void AddDescription(string? description) => AddDistinct(_descriptions, description, StringComparer.Ordinal);

            public void AddNote(string? note) => AddDistinct(_notes, note, StringComparer.Ordinal);

            public void AddSource(string source) => AddDistinct(_sources, source, StringComparer.Ordinal);

            public ServiceAssignment Build() => new ServiceAssignment(
                Port,
                Protocol,
                _names.ToArray(),
                _descriptions.Count == 0 ? null : string.Join("; ", _descriptions),
                _notes.Count == 0 ? null : string.Join(" ", _notes),
                _sources.ToArray());

            private static void AddDistinct(List<string> list, string? value, StringComparer comparer)
            {
                if (string.IsNullOrWhiteSpace(value))
                {
                    return;
                }

                foreach (string existing in list)
                {
                    if (comparer.Equals(existing, value))
                    {
                        return;
                    }
                }

                list.Add(value!.Trim());
            }
        }
    }
}
