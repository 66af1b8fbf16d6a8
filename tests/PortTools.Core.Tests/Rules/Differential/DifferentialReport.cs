using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace PortTools.Tests.Rules.Differential
{
    /// <summary>Every comparison of a run, counted per category, with each disagreement kept whole.</summary>
    public sealed class DifferentialReport
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, Counts> _categories = new(StringComparer.Ordinal);
        private readonly List<string> _disagreements = new();
        private readonly HashSet<Scenario> _seen = new();

        public int Checks { get; private set; }

        public IReadOnlyList<string> Disagreements => _disagreements;

        public void Compare(Scenario scenario, string step, string kernel, string predicted, Func<string> reason, bool? agrees = null)
        {
            bool same = agrees ?? string.Equals(kernel, predicted, StringComparison.Ordinal);
            lock (_gate)
            {
                Checks++;
                if (!_categories.TryGetValue(scenario.Category, out Counts? counts))
                {
                    counts = new Counts();
                    _categories.Add(scenario.Category, counts);
                }

                if (_seen.Add(scenario))
                {
                    counts.Scenarios++;
                }

                counts.Checks++;
                if (!same)
                {
                    counts.Disagreements++;
                    _disagreements.Add($"[{scenario.Category}] {scenario.Description}\n    script: {scenario.Script}\n    step: {step}\n    kernel: {kernel}\n    engine: {predicted}\n    engine's reason: {reason()}");
                }
            }
        }

        public IReadOnlyDictionary<string, Counts> Categories => _categories;

        public string Render(string title)
        {
            var text = new StringBuilder();
            text.AppendLine("# " + title).AppendLine();
            text.AppendLine("| category | scenarios | checks | agree | disagree |").AppendLine("|---|---|---|---|---|");
            foreach ((string category, Counts counts) in _categories.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                text.AppendLine(string.Format(CultureInfo.InvariantCulture, "| {0} | {1} | {2} | {3} | {4} |", category, counts.Scenarios, counts.Checks, counts.Checks - counts.Disagreements, counts.Disagreements));
            }

            text.AppendLine(string.Format(CultureInfo.InvariantCulture, "| total | {0} | {1} | {2} | {3} |", _categories.Values.Sum(c => c.Scenarios), Checks, Checks - _disagreements.Count, _disagreements.Count));
            foreach (string disagreement in _disagreements.Take(40))
            {
                text.AppendLine().AppendLine("    " + disagreement);
            }

            return text.ToString();
        }

        public sealed class Counts
        {
            public int Scenarios { get; set; }

            public int Checks { get; set; }

            public int Disagreements { get; set; }
        }
    }
}
