using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace PortTools.Tests.Ports
{
    public class ServiceTableTests
    {
        private static ServiceTable Embedded => ServiceTable.Embedded;

        private static string EmbeddedText()
        {
            using Stream stream = typeof(ServiceTable).Assembly.GetManifestResourceStream("PortTools.Ports.services.csv")!;
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        private static IEnumerable<string[]> DataRows() =>
            EmbeddedText().Split('\n').Where(l => l.Length > 0 && l[0] != '#').Skip(1).Select((l, i) => ServiceTable.SplitCsv(l, i).ToArray());

        public static IEnumerable<object[]> WellKnownAssignments() => new[]
        {
            new object[] { 22, TransportProtocol.Tcp, "ssh" },
            new object[] { 53, TransportProtocol.Udp, "domain" },
            new object[] { 53, TransportProtocol.Tcp, "domain" },
            new object[] { 443, TransportProtocol.Tcp, "https" },
            new object[] { 3306, TransportProtocol.Tcp, "mysql" },
            new object[] { 5432, TransportProtocol.Tcp, "postgresql" },
            new object[] { 25, TransportProtocol.Tcp, "smtp" },
            new object[] { 80, TransportProtocol.Tcp, "http" },
            new object[] { 123, TransportProtocol.Udp, "ntp" },
            new object[] { 389, TransportProtocol.Tcp, "ldap" },
            new object[] { 6379, TransportProtocol.Tcp, "redis" },
            new object[] { 27017, TransportProtocol.Tcp, "mongodb" },
            new object[] { 161, TransportProtocol.Udp, "snmp" },
            new object[] { 162, TransportProtocol.Udp, "snmptrap" },
            new object[] { 67, TransportProtocol.Udp, "bootps" },
            new object[] { 445, TransportProtocol.Tcp, "microsoft-ds" },
            new object[] { 636, TransportProtocol.Tcp, "ldaps" },
            new object[] { 1433, TransportProtocol.Tcp, "ms-sql-s" },
            new object[] { 3389, TransportProtocol.Tcp, "ms-wbt-server" },
            new object[] { 5672, TransportProtocol.Tcp, "amqp" },
            new object[] { 1883, TransportProtocol.Tcp, "mqtt" },
            new object[] { 2379, TransportProtocol.Tcp, "etcd-client" },
            new object[] { 11211, TransportProtocol.Tcp, "memcache" },
            new object[] { 5985, TransportProtocol.Tcp, "wsman" },
            new object[] { 500, TransportProtocol.Udp, "isakmp" },
            new object[] { 5060, TransportProtocol.Udp, "sip" },
            new object[] { 4789, TransportProtocol.Udp, "vxlan" },
            new object[] { 6000, TransportProtocol.Tcp, "x11" },
            new object[] { 6063, TransportProtocol.Tcp, "x11" },
        };

        [Theory]
        [MemberData(nameof(WellKnownAssignments))]
        public void Knows_the_IANA_name_of_well_known_assignments(int port, TransportProtocol protocol, string name)
        {
            ServiceAssignment? assignment = Embedded.Find(port, protocol);
            Assert.NotNull(assignment);
            Assert.Equal(name, assignment!.Name);
            Assert.Equal(new[] { ServiceTable.EmbeddedSource }, assignment.Sources);
            Assert.False(string.IsNullOrWhiteSpace(assignment.Description));
        }

        [Theory]
        [InlineData(6379, TransportProtocol.Udp)]
        [InlineData(27017, TransportProtocol.Udp)]
        [InlineData(143, TransportProtocol.Udp)]
        [InlineData(6064, TransportProtocol.Tcp)]
        [InlineData(0, TransportProtocol.Tcp)]
        [InlineData(65535, TransportProtocol.Udp)]
        public void Has_no_name_where_IANA_assigns_none(int port, TransportProtocol protocol)
        {
            Assert.Null(Embedded.Find(port, protocol));
        }

        [Fact]
        public void A_port_with_several_IANA_names_lists_the_usual_one_first()
        {
            Assert.Equal(new[] { "http", "www", "www-http" }, Embedded.Find(80, TransportProtocol.Tcp)!.Names);
            ServiceAssignment submissions = Embedded.Find(465, TransportProtocol.Tcp)!;
            Assert.Equal(new[] { "submissions", "urd" }, submissions.Names);
            Assert.Equal("Mail submission over implicit TLS; URL Rendezvous Directory for source-specific multicast", submissions.Description);
            Assert.Equal("igmpv3lite", Embedded.Find(465, TransportProtocol.Udp)!.Name);
        }

        [Fact]
        public void Notes_say_what_is_common_use_rather_than_assignment()
        {
            ServiceAssignment kafka = Embedded.Find(9092, TransportProtocol.Tcp)!;
            Assert.Equal("XmlIpcRegSvc", kafka.Name);
            Assert.Contains("Kafka", kafka.Note, StringComparison.Ordinal);
            Assert.Null(Embedded.Find(22, TransportProtocol.Tcp)!.Note);
        }

        [Fact]
        public void The_data_file_records_its_source()
        {
            string header = string.Join("\n", EmbeddedText().Split('\n').TakeWhile(l => l.StartsWith("#", StringComparison.Ordinal)));
            Assert.Contains("Service Name and Transport Protocol Port Number Registry", header, StringComparison.Ordinal);
            Assert.Contains("https://www.iana.org/assignments/service-names-port-numbers", header, StringComparison.Ordinal);
            Assert.Contains("Compiled", header, StringComparison.Ordinal);
        }

        [Fact]
        public void Every_row_is_a_well_formed_assignment()
        {
            // RFC 6335 section 5.1: 1-15 characters, letters, digits and hyphens, at least one letter,
            // no hyphen at either end or next to another.
            var serviceName = new Regex("^(?=.{1,15}$)(?=.*[A-Za-z])[A-Za-z0-9]+(-[A-Za-z0-9]+)*$");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var rows = DataRows().ToList();
            Assert.InRange(rows.Count, 300, 600);
            int previousPort = -1;
            foreach (string[] row in rows)
            {
                string line = string.Join(",", row);
                Assert.True(row.Length == 5, line);
                Assert.True(PortRange.TryParse(row[0], out PortRange ports), line);
                Assert.True(ports.Start >= previousPort, "not sorted by port: " + line);
                previousPort = ports.Start;
                Assert.True(row[1] is "tcp" or "udp", line);
                Assert.True(serviceName.IsMatch(row[2]), "not an RFC 6335 name: " + line);
                Assert.False(string.IsNullOrWhiteSpace(row[3]), "no description: " + line);
                Assert.True(seen.Add(row[0] + "/" + row[1] + " " + row[2].ToLowerInvariant()), "duplicate: " + line);
            }
        }

        [Fact]
        public void Lookups_by_name_ignore_case_and_cover_aliases()
        {
            Assert.Equal(new[] { "443/tcp https", "443/udp https" }, Embedded.FindByName("HTTPS").Select(a => a.ToString()));
            Assert.Equal(80, Assert.Single(Embedded.FindByName("www"), a => a.Protocol == TransportProtocol.Tcp).Port);
            Assert.Equal(128, Embedded.FindByName("x11").Count);
            Assert.Empty(Embedded.FindByName("no-such-service"));
        }

        [Fact]
        public void A_matcher_finds_every_assignment_with_a_matching_name_once()
        {
            var sql = new Regex("sql", RegexOptions.IgnoreCase);
            IReadOnlyList<ServiceAssignment> found = Embedded.FindByName(sql.IsMatch);
            Assert.Equal(
                new[] { "1433/tcp ms-sql-s", "1433/udp ms-sql-s", "1434/tcp ms-sql-m", "1434/udp ms-sql-m", "3306/tcp mysql", "3306/udp mysql", "5432/tcp postgresql", "5432/udp postgresql", "6446/tcp mysql-proxy", "6446/udp mysql-proxy" },
                found.Select(a => a.ToString()));
            Assert.Single(Embedded.FindByName(n => n is "http" or "www" or "www-http"), a => a.Protocol == TransportProtocol.Tcp);
        }

        [Fact]
        public void The_host_file_adds_names_and_ports_the_table_lacks()
        {
            HostServicesFile file = HostServicesFile.Read(HostServicesFile.DefaultPath(TargetOS.Linux, PortFixtures.Root("linux-tuned")));
            ServiceTable merged = Embedded.Merge(file);

            Assert.Equal(new[] { "imap", "imap2" }, merged.Find(143, TransportProtocol.Tcp)!.Names);
            Assert.Equal("IMAP mailbox access", merged.Find(143, TransportProtocol.Tcp)!.Description);
            Assert.Equal(new[] { ServiceTable.EmbeddedSource, file.Source }, merged.Find(143, TransportProtocol.Tcp)!.Sources);
            Assert.Equal(new[] { "sips", "sip-tls" }, merged.Find(5061, TransportProtocol.Tcp)!.Names);
            Assert.Equal(new[] { "ndmp", "webmin" }, merged.Find(10000, TransportProtocol.Tcp)!.Names);

            ServiceAssignment mine = merged.Find(18080, TransportProtocol.Tcp)!;
            Assert.Equal(new[] { "myapp", "myapp-api" }, mine.Names);
            Assert.Equal("Our application's API", mine.Description);
            Assert.Equal(new[] { file.Source }, mine.Sources);
            Assert.Null(merged.Find(18080, TransportProtocol.Udp)!.Description);
            Assert.Equal(2, merged.FindByName("myapp").Count);
            Assert.Equal(Embedded.Count + 2, merged.Count);

            // The embedded table itself is unchanged.
            Assert.Null(Embedded.Find(18080, TransportProtocol.Tcp));
            Assert.Equal(new[] { "imap" }, Embedded.Find(143, TransportProtocol.Tcp)!.Names);
        }

        [Fact]
        public void Unreadable_host_file_lines_are_skipped_with_a_warning_naming_them()
        {
            string path = HostServicesFile.DefaultPath(TargetOS.Linux, PortFixtures.Root("linux-tuned"));
            HostServicesFile file = HostServicesFile.Read(path);
            Assert.Equal(5, file.Entries.Count);
            Assert.Equal(3, file.Warnings.Count);
            Assert.Contains(file.Warnings, w => w.StartsWith(path + " line ", StringComparison.Ordinal) && w.Contains("'broken'", StringComparison.Ordinal));
            Assert.Contains(file.Warnings, w => w.Contains("'99999' is not a port", StringComparison.Ordinal));
            Assert.Contains(file.Warnings, w => w.Contains("'8081/'", StringComparison.Ordinal));
        }

        public static IEnumerable<object[]> ServicesFileLines() => new[]
        {
            new object[] { "ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol", "ssh 22/tcp", "SSH Remote Login Protocol" },
            new object[] { "discard\t\t9/udp\t\tsink null", "discard 9/udp sink null", null! },
            new object[] { "  http 80/TCP www # WorldWideWeb HTTP", "http 80/tcp www", "WorldWideWeb HTTP" },
            new object[] { "x 1/tcp #", "x 1/tcp", null! },
        };

        [Theory]
        [MemberData(nameof(ServicesFileLines))]
        public void Reads_services_file_lines(string line, string expected, string? comment)
        {
            Assert.True(HostServicesFile.TryParseLine(line, 1, out HostServiceEntry? entry, out _));
            Assert.Equal(expected, entry!.ToString());
            Assert.Equal(comment, entry.Comment);
        }

        [Theory]
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("# a comment")]
        [InlineData("sctp-only 9/sctp")]
        public void Blank_comment_and_other_protocol_lines_are_not_entries(string line)
        {
            Assert.True(HostServicesFile.TryParseLine(line, 1, out HostServiceEntry? entry, out _));
            Assert.Null(entry);
        }

        [Theory]
        [InlineData("lonely", "'lonely'")]
        [InlineData("svc 70000/tcp", "'70000'")]
        [InlineData("svc tcp", "'tcp'")]
        [InlineData("svc /tcp", "'/tcp'")]
        [InlineData("svc -1/tcp", "'-1'")]
        public void Bad_services_file_lines_name_the_bad_part(string line, string expected)
        {
            Assert.False(HostServicesFile.TryParseLine(line, 1, out _, out string? problem));
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(TargetOS.Linux, "/", "/etc/services")]
        [InlineData(TargetOS.MacOS, "/", "/etc/services")]
        [InlineData(TargetOS.FreeBSD, "/jail/root", "/jail/root/etc/services")]
        public void Unix_services_files_live_in_etc(TargetOS os, string root, string expected)
        {
            Assert.Equal(expected, HostServicesFile.DefaultPath(os, root));
        }

        [Fact]
        public void The_Windows_services_file_lives_under_the_Windows_directory()
        {
            Assert.Equal(Path.Combine("W", "System32", "drivers", "etc", "services"), HostServicesFile.DefaultPath(TargetOS.Windows, "W"));
        }

        [Theory]
        [InlineData("a,b,c,d,e", new[] { "a", "b", "c", "d", "e" })]
        [InlineData("1,tcp,x,\"a, b\",", new[] { "1", "tcp", "x", "a, b", "" })]
        [InlineData("1,tcp,x,\"say \"\"hi\"\"\",n", new[] { "1", "tcp", "x", "say \"hi\"", "n" })]
        public void Splits_CSV_with_quotes(string line, string[] expected)
        {
            Assert.Equal(expected, ServiceTable.SplitCsv(line, 1));
        }

        [Theory]
        [InlineData("port,protocol,service,description,note\n1,tcp,x,\"open", "line 2: a quoted field is not closed")]
        [InlineData("port,protocol,service,description,note\n70000,tcp,x,d,", "line 2: '70000' is not a port")]
        [InlineData("port,protocol,service,description,note\n1,sctp,x,d,", "line 2: 'sctp' is not tcp or udp")]
        [InlineData("port,protocol,service,description,note\n1,tcp,x,d", "line 2: expected 5 fields")]
        [InlineData("# comment\nnot,the,header", "line 2: expected the header")]
        public void A_malformed_data_file_names_the_line(string text, string expected)
        {
            InvalidDataException error = Assert.Throws<InvalidDataException>(() => ServiceTable.ParseCsv(new StringReader(text)));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }
}
