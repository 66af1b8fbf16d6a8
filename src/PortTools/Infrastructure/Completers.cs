using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PortTools.Commands
{
    /// <summary>Shared completion logic: prefix match, case-insensitive, sorted, quoted when needed.</summary>
    internal static class Completion
    {
        public static IEnumerable<CompletionResult> From(IEnumerable<string> candidates, string wordToComplete, Func<string, string>? tooltip = null)
        {
            string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var pattern = WildcardPattern.Get(prefix + "*", WildcardOptions.IgnoreCase);
            foreach (string candidate in candidates.Where(c => !string.IsNullOrEmpty(c)).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(c => c, StringComparer.OrdinalIgnoreCase))
            {
                if (pattern.IsMatch(candidate))
                {
                    string text = candidate.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', '{', '}', ',', ';', '@', '#' }) >= 0
                        ? "'" + candidate.Replace("'", "''") + "'"
                        : candidate;
                    yield return new CompletionResult(text, candidate, CompletionResultType.ParameterValue, tooltip?.Invoke(candidate) ?? candidate);
                }
            }
        }
    }

    /// <summary>Completes -ProcessName with the names it matches: those of running processes as socket owners carry them (RunningProcessNames).</summary>
    internal sealed class ProcessNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
            Completion.From(RunningProcessNames.Read(), wordToComplete);
    }

    /// <summary>Completes -NetworkNamespace with the named namespaces (ip netns list).</summary>
    internal sealed class NetworkNamespaceCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
            Completion.From(HostNetwork.NamedNetworkNamespaces(), wordToComplete);
    }
}

namespace PortTools.Commands
{
    /// <summary>Completes -Interface with this host's interfaces.</summary>
    internal sealed class InterfaceCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var names = new List<string>();
            try
            {
                foreach (System.Net.NetworkInformation.NetworkInterface adapter in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
                {
                    names.Add(adapter.Name);
                }
            }
            catch (System.Net.NetworkInformation.NetworkInformationException)
            {
                // no completion rather than an error at the prompt
            }

            return Completion.From(names, wordToComplete);
        }
    }

    /// <summary>Completes address parameters with this host's addresses.</summary>
    internal sealed class LocalAddressCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var addresses = new List<string> { "0.0.0.0", "::" };
            try
            {
                foreach (System.Net.NetworkInformation.NetworkInterface adapter in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
                {
                    foreach (System.Net.NetworkInformation.UnicastIPAddressInformation unicast in adapter.GetIPProperties().UnicastAddresses)
                    {
                        addresses.Add(unicast.Address.ToString());
                    }
                }
            }
            catch (System.Net.NetworkInformation.NetworkInformationException)
            {
            }

            return Completion.From(addresses, wordToComplete, a => a);
        }
    }

    /// <summary>Completes -Service with the service names PortTools knows.</summary>
    internal sealed class ServiceNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
            Completion.From(ServiceTable.Embedded.Names, wordToComplete);
    }
}
