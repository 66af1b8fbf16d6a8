using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace PortTools.Module.Tests
{
    /// <summary>The few manifest keys the contract checks, read from PortTools.psd1 without PowerShell.</summary>
    public sealed class Manifest
    {
        private readonly string _text;

        public Manifest(string path)
        {
            // Comments go first, so that commented-out entries never count.
            _text = Regex.Replace(File.ReadAllText(path), @"(?m)^\s*#.*$", string.Empty);
        }

        public static Manifest Load() => new(Path.Combine(ModuleMetadata.RepositoryRoot(), "PortTools.psd1"));

        public string? Scalar(string key)
        {
            Match match = Regex.Match(_text, @"(?m)^\s*" + Regex.Escape(key) + @"\s*=\s*'([^']*)'");
            return match.Success ? match.Groups[1].Value : null;
        }

        public IReadOnlyList<string>? List(string key)
        {
            Match match = Regex.Match(_text, @"(?ms)^\s*" + Regex.Escape(key) + @"\s*=\s*@\((.*?)\)");
            if (!match.Success)
            {
                return null;
            }

            return Regex.Matches(match.Groups[1].Value, "'([^']*)'").Select(m => m.Groups[1].Value).ToArray();
        }
    }
}
