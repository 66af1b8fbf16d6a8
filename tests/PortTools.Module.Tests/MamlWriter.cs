using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Xml.Linq;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// Writes PowerShell's MAML help (module/en-US/PortTools.dll-Help.xml) from each cmdlet's
    /// markdown and its compiled metadata, so that syntax, types, pipeline input and aliases are
    /// never written by hand and cannot drift from the code.
    /// </summary>
    public static class MamlWriter
    {
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static string Write(IEnumerable<(CmdletMetadata Cmdlet, HelpSource Help)> cmdlets)
        {
            var root = new XElement(
                Msh + "helpItems",
                new XAttribute("schema", "maml"),
                cmdlets.OrderBy(c => c.Cmdlet.Name, StringComparer.Ordinal).Select(c => CommandElement(c.Cmdlet, c.Help)));
            var document = new XDocument(new XDeclaration("1.0", "utf-8", null), root);
            var builder = new StringBuilder();
            using (var writer = new Utf8StringWriter(builder))
            {
                document.Save(writer);
            }

            return builder.Append('\n').ToString().Replace("\r\n", "\n");
        }

        private static XElement CommandElement(CmdletMetadata cmdlet, HelpSource help) => new(
            Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(
                Command + "details",
                new XElement(Command + "name", cmdlet.Name),
                new XElement(Command + "verb", cmdlet.Verb),
                new XElement(Command + "noun", cmdlet.Noun),
                Description(help.Synopsis)),
            Description(help.Description),
            new XElement(Command + "syntax", SyntaxItems(cmdlet)),
            new XElement(Command + "parameters", cmdlet.Parameters.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => ParameterElement(cmdlet, p, null, help))),
            new XElement(Command + "inputTypes", help.Inputs.Select(i => new XElement(Command + "inputType", TypeElement(i.Type), Description(i.Text)))),
            new XElement(Command + "returnValues", help.Outputs.Select(o => new XElement(Command + "returnValue", TypeElement(o.Type), Description(o.Text)))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", help.Notes.Select(Para))),
            new XElement(Command + "examples", help.Examples.Select((e, i) => new XElement(
                Command + "example",
                new XElement(Maml + "title", "-------------------------- Example " + (i + 1) + ": " + e.Title.Replace("Example " + (i + 1) + ": ", string.Empty) + " --------------------------"),
                new XElement(Dev + "code", "PS> " + e.Code.Replace("\n", "\nPS> ") + (e.Output.Length > 0 ? "\n\n" + e.Output : string.Empty)),
                new XElement(Dev + "remarks", e.Remarks.Select(Para))))),
            new XElement(Command + "relatedLinks", OnlineLink(cmdlet.Name), help.RelatedLinks.Select(Link)));

        /// <summary>
        /// The repository's page of the help source, as the first link: Get-Help -Online opens the first
        /// link's uri, which must be absolute (a bare Test-PortBind.md fails with "not valid").
        /// </summary>
        private static XElement OnlineLink(string name) =>
            new(Maml + "navigationLink", new XElement(Maml + "linkText", "Online Version:"), new XElement(Maml + "uri", HelpPageUri(name + ".md")));

        /// <summary>A help page in the repository, from the manifest's ProjectUri.</summary>
        internal static string HelpPageUri(string page)
        {
            string manifest = System.IO.File.ReadAllText(System.IO.Path.Combine(ModuleMetadata.RepositoryRoot(), "PortTools.psd1"));
            string project = System.Text.RegularExpressions.Regex.Match(manifest, @"ProjectUri\s*=\s*'([^']+)'").Groups[1].Value.TrimEnd('/');
            return project + "/blob/main/src/PortTools/Help/" + page;
        }

        private static IEnumerable<XElement> SyntaxItems(CmdletMetadata cmdlet)
        {
            IEnumerable<string> sets = cmdlet.ParameterSetNames()
                .OrderBy(s => s == cmdlet.DefaultParameterSet ? 0 : 1)
                .ThenBy(s => s, StringComparer.Ordinal);
            foreach (string set in sets)
            {
                IEnumerable<ParameterMetadata> members = cmdlet.Parameters
                    .Where(p => p.Sets.Any(s => s.Name == set || s.Name == ParameterMetadata.AllSets))
                    .OrderBy(p => Membership(p, set).Position is int position and >= 0 ? position : int.MaxValue)
                    .ThenBy(p => Membership(p, set).Mandatory ? 0 : 1)
                    .ThenBy(p => p.IsSwitch ? 1 : 0)
                    .ThenBy(p => p.Name, StringComparer.Ordinal);
                yield return new XElement(
                    Command + "syntaxItem",
                    new XElement(Maml + "name", cmdlet.Name),
                    members.Select(p => ParameterElement(cmdlet, p, set, null)));
            }
        }

        private static ParameterSetMembership Membership(ParameterMetadata parameter, string? set) =>
            parameter.Sets.FirstOrDefault(s => s.Name == set) ?? parameter.Sets.FirstOrDefault(s => s.Name == ParameterMetadata.AllSets) ?? parameter.Sets[0];

        private static XElement ParameterElement(CmdletMetadata cmdlet, ParameterMetadata parameter, string? set, HelpSource? help)
        {
            ParameterSetMembership membership = set is null
                ? new ParameterSetMembership(set ?? string.Empty, parameter.Sets.All(s => s.Mandatory), parameter.Sets.Select(s => s.Position).Max(), parameter.Sets.Any(s => s.ValueFromPipeline), parameter.Sets.Any(s => s.ValueFromPipelineByPropertyName))
                : Membership(parameter, set);
            string pipeline = (membership.ValueFromPipeline, membership.ValueFromPipelineByPropertyName) switch
            {
                (true, true) => "True (ByValue, ByPropertyName)",
                (true, false) => "True (ByValue)",
                (false, true) => "True (ByPropertyName)",
                _ => "False",
            };
            var element = new XElement(
                Command + "parameter",
                new XAttribute("required", membership.Mandatory ? "true" : "false"),
                new XAttribute("variableLength", "true"),
                new XAttribute("globbing", parameter.SupportsWildcards ? "true" : "false"),
                new XAttribute("pipelineInput", pipeline),
                new XAttribute("position", membership.Position >= 0 ? (membership.Position + 1).ToString() : "named"),
                new XAttribute("aliases", parameter.Aliases.Count == 0 ? "none" : string.Join(", ", parameter.Aliases)),
                new XElement(Maml + "name", parameter.Name));
            if (help is not null)
            {
                element.Add(Description(help.Parameters.TryGetValue(parameter.Name, out List<string>? text) ? text : new List<string>()));
            }

            if (!parameter.IsSwitch)
            {
                if (parameter.ElementType.IsEnum)
                {
                    element.Add(new XElement(
                        Command + "parameterValueGroup",
                        parameter.ElementType.GetFields().Where(f => f.IsLiteral).Select(f => new XElement(
                            Command + "parameterValue",
                            new XAttribute("required", "false"),
                            new XAttribute(Command + "variableLength", "false"),
                            f.Name))));
                }

                element.Add(new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), parameter.TypeDisplayName));
            }

            element.Add(new XElement(Dev + "type", new XElement(Maml + "name", parameter.TypeDisplayName), new XElement(Maml + "uri")));
            if (help is not null)
            {
                element.Add(new XElement(Dev + "defaultValue", parameter.IsSwitch ? "False" : "None"));
            }

            return element;
        }

        private static XElement TypeElement(string type) => new(Dev + "type", new XElement(Maml + "name", type), new XElement(Maml + "uri"), new XElement(Maml + "description"));

        private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", paragraphs.Select(Para));

        private static XElement Para(string text) => new(Maml + "para", Plain(text));

        private static XElement Link(string markdown)
        {
            int close = markdown.IndexOf(']');
            string text = close > 1 ? markdown.Substring(1, close - 1) : markdown;
            int open = markdown.IndexOf('(', Math.Max(0, close));
            string uri = open > 0 ? markdown.Substring(open + 1).TrimEnd(')') : string.Empty;
            if (uri.Length > 0 && !uri.Contains("://"))
            {
                uri = HelpPageUri(uri);
            }

            return new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", text), new XElement(Maml + "uri", uri));
        }

        /// <summary>Help is plain text: inline code and emphasis marks go.</summary>
        private static string Plain(string text) => text.Replace("`", string.Empty).Replace("**", string.Empty);

        private sealed class Utf8StringWriter : System.IO.StringWriter
        {
            public Utf8StringWriter(StringBuilder builder)
                : base(builder, System.Globalization.CultureInfo.InvariantCulture)
            {
            }

            public override Encoding Encoding => new UTF8Encoding(false);
        }
    }
}
