using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Xunit;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// Every cmdlet and parameter is documented, with examples, and the shipped MAML is exactly what
    /// the markdown and the compiled cmdlets produce. To refresh the MAML after editing the help or
    /// the cmdlets: PORTTOOLS_UPDATE_HELP=1 dotnet test --filter HelpContractTests.
    /// </summary>
    public class HelpContractTests
    {
        private static ModuleMetadata Module => ModuleMetadata.Instance;

        private static string MamlPath => Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "en-US", "PortTools.dll-Help.xml");

        public static IEnumerable<object[]> CmdletNames() => CmdletContractTests.CmdletNames();

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void The_MAML_has_a_syntax_for_every_parameter_set_and_an_online_link(string name)
        {
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml = "http://schemas.microsoft.com/maml/2004/10";
            XElement help = XDocument.Load(MamlPath).Root!.Elements(command + "command").Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == name);
            int syntaxes = help.Element(command + "syntax")!.Elements(command + "syntaxItem").Count();
            Assert.Equal(Module.Cmdlet(name).ParameterSetNames().Count, syntaxes);
            string first = help.Element(command + "relatedLinks")!.Elements(maml + "navigationLink").First().Element(maml + "uri")!.Value;
            Assert.True(Uri.TryCreate(first, UriKind.Absolute, out Uri? online) && online.Scheme == "https", name + ": Get-Help -Online opens the first link, '" + first + "', which is no https URI");
            Assert.EndsWith("/src/PortTools/Help/" + name + ".md", first, StringComparison.Ordinal);
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Every_cmdlet_has_a_synopsis_a_description_and_three_examples_with_output(string name)
        {
            HelpSource help = HelpSource.Load(name);
            Assert.Equal(name, help.Name);
            Assert.NotEmpty(help.Synopsis);
            Assert.NotEmpty(help.Description);
            Assert.True(help.Examples.Count >= 3, name + " has " + help.Examples.Count + " examples; three or more are expected");
            Assert.All(help.Examples, e =>
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Code), e.Title + " has no code");
                Assert.False(string.IsNullOrWhiteSpace(e.Output), e.Title + " shows no output");
                Assert.NotEmpty(e.Remarks);
            });
            Assert.NotEmpty(help.Outputs);
            Assert.NotEmpty(help.RelatedLinks);
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Every_parameter_is_documented_and_nothing_else(string name)
        {
            CmdletMetadata cmdlet = Module.Cmdlet(name);
            HelpSource help = HelpSource.Load(name);
            foreach (ParameterMetadata parameter in cmdlet.Parameters)
            {
                Assert.True(help.Parameters.TryGetValue(parameter.Name, out List<string>? text) && text.Count > 0, name + " -" + parameter.Name + " has no help");
            }

            Assert.Empty(help.Parameters.Keys.Except(cmdlet.Parameters.Select(p => p.Name), StringComparer.OrdinalIgnoreCase));
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void The_declared_outputs_are_the_documented_outputs(string name)
        {
            Assert.Equal(Module.Cmdlet(name).OutputTypes.OrderBy(t => t), HelpSource.Load(name).Outputs.Select(o => o.Type).OrderBy(t => t));
        }

        [Fact]
        public void The_shipped_MAML_is_generated_from_the_help_and_the_cmdlets()
        {
            // Cmdlets without markdown are left out here; the tests above fail for them by name.
            string expected = MamlWriter.Write(Module.Cmdlets.Where(c => File.Exists(Path.Combine(HelpSource.DirectoryPath, c.Name + ".md"))).Select(c => (c, HelpSource.Load(c.Name))));
            if (Environment.GetEnvironmentVariable("PORTTOOLS_UPDATE_HELP") == "1")
            {
                File.WriteAllText(MamlPath, expected);
            }

            Assert.True(File.Exists(MamlPath), MamlPath + " is missing: run PORTTOOLS_UPDATE_HELP=1 dotnet test --filter HelpContractTests");
            Assert.True(expected == File.ReadAllText(MamlPath).Replace("\r\n", "\n"), "module/en-US/PortTools.dll-Help.xml is stale: run PORTTOOLS_UPDATE_HELP=1 dotnet test --filter HelpContractTests");
        }

        [Fact]
        public void The_MAML_names_every_cmdlet_once()
        {
            XDocument maml = XDocument.Load(MamlPath);
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            string[] names = maml.Descendants(command + "details").Select(d => d.Element(command + "name")!.Value).ToArray();
            Assert.Equal(Module.Cmdlets.Select(c => c.Name).OrderBy(n => n), names.OrderBy(n => n));
        }

        [Fact]
        public void The_about_topic_exists_and_names_every_cmdlet()
        {
            string about = File.ReadAllText(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "en-US", "about_PortTools.help.txt"));
            Assert.StartsWith("TOPIC", about.TrimStart());
            foreach (CmdletMetadata cmdlet in Module.Cmdlets)
            {
                Assert.Contains(cmdlet.Name, about, StringComparison.Ordinal);
            }
        }
    }
}
