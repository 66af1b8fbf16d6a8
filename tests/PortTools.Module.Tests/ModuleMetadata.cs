using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// The compiled cmdlet assembly read as metadata only (System.Reflection.MetadataLoadContext):
    /// nothing is executed, so PowerShellStandard.Library's reference assembly is enough.
    /// </summary>
    public sealed class ModuleMetadata : IDisposable
    {
        private static readonly Lazy<ModuleMetadata> s_instance = new(() => new ModuleMetadata());
        private readonly MetadataLoadContext _context;

        private ModuleMetadata()
        {
            string buildOutput = AssemblyMetadata("ModuleBuildOutput");
            string sma = AssemblyMetadata("SmaReferencePath");
            string module = Path.Combine(buildOutput, "PortTools.dll");
            string core = Path.Combine(buildOutput, "PortTools.Core.dll");
            var files = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
                .Where(f => !Path.GetFileName(f).StartsWith("System.Management.Automation", StringComparison.OrdinalIgnoreCase))
                .Append(module).Append(core).Append(sma);
            _context = new MetadataLoadContext(new PathAssemblyResolver(files));
            ModuleAssembly = _context.LoadFromAssemblyPath(module);
            CoreAssembly = _context.LoadFromAssemblyPath(core);
            Sma = _context.LoadFromAssemblyPath(sma);
            Cmdlets = ModuleAssembly.GetTypes()
                .Where(t => t.IsPublic && !t.IsAbstract && t.GetCustomAttributesData().Any(a => a.AttributeType.Name == "CmdletAttribute"))
                .Select(t => new CmdletMetadata(t))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToArray();
        }

        public static ModuleMetadata Instance => s_instance.Value;

        public Assembly ModuleAssembly { get; }

        public Assembly CoreAssembly { get; }

        public Assembly Sma { get; }

        public IReadOnlyList<CmdletMetadata> Cmdlets { get; }

        public CmdletMetadata Cmdlet(string name) => Cmdlets.Single(c => c.Name == name);

        /// <summary>The approved verbs: the constants of the Verbs* classes in System.Management.Automation.</summary>
        public ISet<string> ApprovedVerbs() => Sma.GetTypes()
            .Where(t => t.Namespace == "System.Management.Automation" && t.Name.StartsWith("Verbs", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

        public static string RepositoryRoot()
        {
            for (string? directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
            {
                if (File.Exists(Path.Combine(directory, "PortTools.sln")))
                {
                    return directory;
                }
            }

            throw new InvalidOperationException("PortTools.sln not found above " + AppContext.BaseDirectory);
        }

        private static string AssemblyMetadata(string key) =>
            typeof(ModuleMetadata).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

        public void Dispose() => _context.Dispose();
    }

    public sealed class CmdletMetadata
    {
        public CmdletMetadata(Type type)
        {
            Type = type;
            CustomAttributeData cmdlet = Attribute(type.GetCustomAttributesData(), "CmdletAttribute")!;
            Verb = (string)cmdlet.ConstructorArguments[0].Value!;
            Noun = (string)cmdlet.ConstructorArguments[1].Value!;
            DefaultParameterSet = Named(cmdlet, "DefaultParameterSetName") as string;
            SupportsShouldProcess = Named(cmdlet, "SupportsShouldProcess") as bool? ?? false;
            OutputTypes = type.GetCustomAttributesData()
                .Where(a => a.AttributeType.Name == "OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments.SelectMany(Values))
                .Select(v => v is Type t ? t.FullName! : v!.ToString()!)
                .ToArray();
            Parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetCustomAttributesData().Any(a => a.AttributeType.Name == "ParameterAttribute"))
                .Select(p => new ParameterMetadata(p))
                .ToArray();
        }

        public Type Type { get; }

        public string Verb { get; }

        public string Noun { get; }

        public string Name => Verb + "-" + Noun;

        public string? DefaultParameterSet { get; }

        public bool SupportsShouldProcess { get; }

        public IReadOnlyList<string> OutputTypes { get; }

        public IReadOnlyList<ParameterMetadata> Parameters { get; }

        public ParameterMetadata Parameter(string name) => Parameters.Single(p => p.Name == name);

        /// <summary>The parameter sets, each with its parameters (those in all sets included).</summary>
        public IReadOnlyList<string> ParameterSetNames()
        {
            var names = Parameters.SelectMany(p => p.Sets.Select(s => s.Name)).Where(n => n != ParameterMetadata.AllSets).Distinct().ToList();

            // A default set that no parameter names (its parameters are all in every set) is a set all the
            // same: Test-PortBind's Probe and Test-PortConnect's Live are used with those parameters alone.
            if (names.Count > 0 && DefaultParameterSet is string defaultSet && defaultSet != ParameterMetadata.AllSets && !names.Contains(defaultSet))
            {
                names.Insert(0, defaultSet);
            }

            if (names.Count == 0)
            {
                names.Add(DefaultParameterSet ?? ParameterMetadata.AllSets);
            }

            return names;
        }

        internal static CustomAttributeData? Attribute(IEnumerable<CustomAttributeData> attributes, string name) =>
            attributes.FirstOrDefault(a => a.AttributeType.Name == name);

        internal static object? Named(CustomAttributeData attribute, string name) =>
            attribute.NamedArguments.Where(n => n.MemberName == name).Select(n => n.TypedValue.Value).FirstOrDefault();

        internal static IEnumerable<object?> Values(CustomAttributeTypedArgument argument) =>
            argument.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : new[] { argument.Value };
    }

    public sealed class ParameterMetadata
    {
        public const string AllSets = "__AllParameterSets";

        public ParameterMetadata(PropertyInfo property)
        {
            Property = property;
            IList<CustomAttributeData> attributes = property.GetCustomAttributesData();
            Sets = attributes.Where(a => a.AttributeType.Name == "ParameterAttribute").Select(a => new ParameterSetMembership(
                CmdletMetadata.Named(a, "ParameterSetName") as string ?? AllSets,
                CmdletMetadata.Named(a, "Mandatory") as bool? ?? false,
                CmdletMetadata.Named(a, "Position") as int? ?? int.MinValue,
                CmdletMetadata.Named(a, "ValueFromPipeline") as bool? ?? false,
                CmdletMetadata.Named(a, "ValueFromPipelineByPropertyName") as bool? ?? false)).ToArray();
            Aliases = attributes.Where(a => a.AttributeType.Name == "AliasAttribute").SelectMany(a => a.ConstructorArguments.SelectMany(CmdletMetadata.Values)).Select(v => (string)v!).ToArray();
            SupportsWildcards = attributes.Any(a => a.AttributeType.Name == "SupportsWildcardsAttribute");
            AttributeNames = attributes.Select(a => a.AttributeType.Name).ToArray();
            CustomAttributeData? range = CmdletMetadata.Attribute(attributes, "ValidateRangeAttribute");
            ValidateRange = range is null ? null : (Convert.ToInt64(range.ConstructorArguments[0].Value), Convert.ToInt64(range.ConstructorArguments[1].Value));
            CustomAttributeData? completer = CmdletMetadata.Attribute(attributes, "ArgumentCompleterAttribute");
            Completer = completer?.ConstructorArguments.FirstOrDefault().Value as Type;
        }

        public PropertyInfo Property { get; }

        public string Name => Property.Name;

        public Type Type => Property.PropertyType;

        public IReadOnlyList<ParameterSetMembership> Sets { get; }

        public IReadOnlyList<string> Aliases { get; }

        public bool SupportsWildcards { get; }

        public IReadOnlyList<string> AttributeNames { get; }

        public (long Min, long Max)? ValidateRange { get; }

        public Type? Completer { get; }

        public bool IsSwitch => Type.Name == "SwitchParameter";

        public Type ElementType => Type.IsArray ? Type.GetElementType()! : Nullable(Type);

        public bool FromPipeline => Sets.Any(s => s.ValueFromPipeline || s.ValueFromPipelineByPropertyName);

        /// <summary>The type as help shows it: TransportProtocol[], Int32[], SwitchParameter.</summary>
        public string TypeDisplayName => Type.IsArray ? Nullable(Type.GetElementType()!).Name + "[]" : Nullable(Type).Name;

        private static Type Nullable(Type type) => type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? type.GetGenericArguments()[0] : type;
    }

    public sealed record ParameterSetMembership(string Name, bool Mandatory, int Position, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);
}
