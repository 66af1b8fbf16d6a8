using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// Every table and list header of module/PortTools.format.ps1xml is a property of that name on the
    /// view's type (a .NET property, or an ETS property of module/PortTools.types.ps1xml), so that
    /// Where-Object, Sort-Object and Select-Object take what the table shows, under StrictMode too.
    /// </summary>
    public class FormatHeaderContractTests
    {
        public static IEnumerable<object[]> Views() => FormatDocument().Root!.Element("ViewDefinitions")!.Elements("View")
            .Select(v => new object[] { v.Element("Name")!.Value });

        [Theory]
        [MemberData(nameof(Views))]
        public void Every_header_is_a_property_of_the_type(string viewName)
        {
            XElement view = FormatDocument().Root!.Element("ViewDefinitions")!.Elements("View").Single(v => v.Element("Name")!.Value == viewName);
            string typeName = view.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => t.Value).First(t => !t.StartsWith("Deserialized.", StringComparison.Ordinal));
            // PortTools.SocketTuple#NetworkNamespace is a PSTypeName over the same .NET type.
            string dotNetName = typeName.Split('#')[0];
            Type? type = ModuleMetadata.Instance.CoreAssembly.GetType(dotNetName) ?? ModuleMetadata.Instance.ModuleAssembly.GetType(dotNetName);
            Assert.True(type is not null, viewName + " is selected by " + typeName + ", which is no type of the module");
            ISet<string> properties = Properties(type!, dotNetName);

            var missing = Headers(view).Where(h => !properties.Contains(h)).ToList();
            Assert.True(missing.Count == 0, viewName + ": the header(s) " + string.Join(", ", missing) + " are not properties of " + dotNetName + " (it has " + string.Join(", ", properties.OrderBy(p => p, StringComparer.Ordinal)) + ")");
        }

        [Fact]
        public void The_check_sees_every_view_and_fails_for_a_header_that_is_no_property()
        {
            Assert.Contains(Views(), v => (string)v[0] == "PortTools.EphemeralPortUsage");
            Type type = ModuleMetadata.Instance.CoreAssembly.GetType("PortTools.EphemeralPortUsage")!;
            ISet<string> properties = Properties(type, type.FullName!);
            Assert.Contains("NearExhaustion", properties);
            Assert.Contains("PercentUsed", properties); // an ETS alias
            Assert.DoesNotContain("Near", properties);
            Assert.DoesNotContain("Used%", properties);
        }

        /// <summary>Each column's label, or the property it shows when it has none; likewise for list items.</summary>
        private static IEnumerable<string> Headers(XElement view)
        {
            XElement? table = view.Element("TableControl");
            if (table is not null)
            {
                var headers = table.Element("TableHeaders")!.Elements("TableColumnHeader").ToList();
                var items = table.Element("TableRowEntries")!.Elements("TableRowEntry").First().Element("TableColumnItems")!.Elements("TableColumnItem").ToList();
                Assert.Equal(headers.Count, items.Count);
                for (int i = 0; i < headers.Count; i++)
                {
                    string? label = headers[i].Element("Label")?.Value ?? items[i].Element("PropertyName")?.Value;
                    Assert.True(label is not null, "column " + (i + 1) + " has neither a label nor a property");
                    yield return label!;
                }
            }

            foreach (XElement item in view.Descendants("ListItem"))
            {
                yield return item.Element("Label")?.Value ?? item.Element("PropertyName")!.Value;
            }
        }

        private static ISet<string> Properties(Type type, string typeName)
        {
            var names = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            XDocument types = XDocument.Load(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.types.ps1xml"));
            foreach (XElement member in types.Root!.Elements("Type").Where(t => t.Element("Name")!.Value == typeName).SelectMany(t => t.Element("Members")?.Elements() ?? Enumerable.Empty<XElement>()))
            {
                if (member.Name.LocalName is "NoteProperty" or "AliasProperty" or "ScriptProperty" or "CodeProperty")
                {
                    names.Add(member.Element("Name")!.Value);
                }
            }

            return names;
        }

        private static XDocument FormatDocument() => XDocument.Load(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.format.ps1xml"));
    }
}
