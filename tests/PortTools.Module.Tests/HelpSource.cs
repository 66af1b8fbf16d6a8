using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// A cmdlet's help as written in src/PortTools/Help/&lt;Verb-Noun&gt;.md, in the shape platyPS uses:
    /// SYNOPSIS, DESCRIPTION, EXAMPLES (### titles, a powershell fence, an output fence, remarks),
    /// PARAMETERS (### -Name), INPUTS, OUTPUTS, NOTES, RELATED LINKS. The syntax and parameter facts
    /// come from the compiled cmdlet, not from here.
    /// </summary>
    public sealed class HelpSource
    {
        public string Name { get; private set; } = string.Empty;

        public List<string> Synopsis { get; } = new();

        public List<string> Description { get; } = new();

        public List<HelpExample> Examples { get; } = new();

        public Dictionary<string, List<string>> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);

        public List<(string Type, List<string> Text)> Inputs { get; } = new();

        public List<(string Type, List<string> Text)> Outputs { get; } = new();

        public List<string> Notes { get; } = new();

        public List<string> RelatedLinks { get; } = new();

        public static string DirectoryPath => Path.Combine(ModuleMetadata.RepositoryRoot(), "src", "PortTools", "Help");

        public static HelpSource Load(string cmdletName) => Parse(File.ReadAllText(Path.Combine(DirectoryPath, cmdletName + ".md")));

        public static HelpSource Parse(string markdown)
        {
            var help = new HelpSource();
            string section = string.Empty;
            string? subsection = null;
            var body = new List<string>();
            string[] lines = markdown.Replace("\r\n", "\n").Split('\n');

            void Flush()
            {
                help.Accept(section, subsection, body);
                body = new List<string>();
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i];
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    // Fences are kept whole, marked by their language, so blank lines inside survive.
                    string language = line.Substring(3).Trim();
                    var fence = new StringBuilder();
                    for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
                    {
                        fence.Append(lines[i]).Append('\n');
                    }

                    body.Add("\u0001" + language + "\u0002" + fence.ToString().TrimEnd('\n'));
                    continue;
                }

                if (line.StartsWith("# ", StringComparison.Ordinal))
                {
                    help.Name = line.Substring(2).Trim();
                }
                else if (line.StartsWith("## ", StringComparison.Ordinal))
                {
                    Flush();
                    section = line.Substring(3).Trim().ToUpperInvariant();
                    subsection = null;
                }
                else if (line.StartsWith("### ", StringComparison.Ordinal))
                {
                    Flush();
                    subsection = line.Substring(4).Trim();
                }
                else
                {
                    body.Add(line);
                }
            }

            Flush();
            return help;
        }

        private void Accept(string section, string? subsection, List<string> body)
        {
            List<string> paragraphs = Paragraphs(body.Where(b => !b.StartsWith("\u0001", StringComparison.Ordinal)));
            switch (section)
            {
                case "SYNOPSIS":
                    Synopsis.AddRange(paragraphs);
                    break;
                case "DESCRIPTION":
                    Description.AddRange(paragraphs);
                    break;
                case "EXAMPLES" when subsection is not null:
                    string Fence(string language) => body.Where(b => b.StartsWith("\u0001" + language + "\u0002", StringComparison.Ordinal)).Select(b => b.Substring(b.IndexOf('\u0002') + 1)).FirstOrDefault() ?? string.Empty;
                    Examples.Add(new HelpExample(subsection, Fence("powershell"), Fence("output"), paragraphs));
                    break;
                case "PARAMETERS" when subsection is not null:
                    Parameters[subsection.TrimStart('-')] = paragraphs;
                    break;
                case "INPUTS" when subsection is not null:
                    Inputs.Add((subsection, paragraphs));
                    break;
                case "OUTPUTS" when subsection is not null:
                    Outputs.Add((subsection, paragraphs));
                    break;
                case "NOTES":
                    Notes.AddRange(paragraphs);
                    break;
                case "RELATED LINKS":
                    RelatedLinks.AddRange(body.Select(b => b.Trim()).Where(b => b.StartsWith("- [", StringComparison.Ordinal) || b.StartsWith("[", StringComparison.Ordinal)).Select(b => b.TrimStart('-', ' ')));
                    break;
            }
        }

        /// <summary>Blank lines separate paragraphs; a list item ("- ") starts its own.</summary>
        private static List<string> Paragraphs(IEnumerable<string> lines)
        {
            var paragraphs = new List<string>();
            var current = new StringBuilder();
            foreach (string raw in lines)
            {
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("- ", StringComparison.Ordinal))
                {
                    if (current.Length > 0)
                    {
                        paragraphs.Add(current.ToString());
                        current.Clear();
                    }

                    if (line.Length == 0)
                    {
                        continue;
                    }
                }

                current.Append(current.Length == 0 ? string.Empty : " ").Append(line);
            }

            if (current.Length > 0)
            {
                paragraphs.Add(current.ToString());
            }

            return paragraphs;
        }
    }

    public sealed record HelpExample(string Title, string Code, string Output, List<string> Remarks);
}
