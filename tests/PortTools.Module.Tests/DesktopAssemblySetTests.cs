using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using Xunit;

namespace PortTools.Module.Tests
{
    /// <summary>
    /// The assemblies Windows PowerShell 5.1 loads: the net472 build, which build.ps1 stages as
    /// bin/net472 (dotnet publish of the library copies exactly the files of its build output). The
    /// .NET Framework applies no binding redirects to a module (they belong to powershell.exe's own
    /// configuration), so each reference must be met as it stands: by an assembly shipped beside it of
    /// exactly the referenced version, by the .NET Framework 4.7.2 itself, which unifies references to
    /// its own assemblies up to the version it has, or by Windows PowerShell (System.Management.Automation).
    /// </summary>
    public class DesktopAssemblySetTests
    {
        // PowerShellStandard.Library 5.1's reference assembly carries the version Windows PowerShell 5.1 has.
        private static readonly AssemblyIdentity s_powerShell = new("System.Management.Automation", new Version(3, 0, 0, 0));

        [Fact]
        public void Every_reference_of_the_shipped_Desktop_assemblies_is_met()
        {
            IReadOnlyList<ShippedAssembly> shipped = ReadShipped(DesktopBuildOutput());
            Assert.Contains(shipped, a => a.Identity.Name == "PortTools");
            Assert.Contains(shipped, a => a.Identity.Name == "PortTools.Core");

            IReadOnlyList<string> unmet = UnmetReferences(shipped, ReadFrameworkList());
            Assert.True(unmet.Count == 0, "Windows PowerShell 5.1 would fail to load:\n" + string.Join("\n", unmet));
        }

        [Fact]
        public void The_Desktop_set_is_built_for_the_NET_Framework_and_ships_no_PowerShell_assembly()
        {
            IReadOnlyList<ShippedAssembly> shipped = ReadShipped(DesktopBuildOutput());
            Assert.DoesNotContain(shipped, a => a.Identity.Name.StartsWith("System.Management.Automation", StringComparison.OrdinalIgnoreCase));
            foreach (string name in new[] { "PortTools.dll", "PortTools.Core.dll" })
            {
                using var stream = File.OpenRead(Path.Combine(DesktopBuildOutput(), name));
                using var pe = new PEReader(stream);
                MetadataReader reader = pe.GetMetadataReader();
                Assert.Equal(".NETFramework,Version=v4.7.2", TargetFramework(reader));
            }
        }

        [Fact]
        public void A_reference_to_another_version_of_a_shipped_assembly_is_unmet_even_where_a_newer_one_ships()
        {
            // The failure this guards against: System.Memory's netstandard2.0 asset asks for System.Buffers
            // 4.0.2.0 while the package that ships is 4.0.3.0, and "Could not load file or assembly" follows.
            var memory = new ShippedAssembly(new AssemblyIdentity("System.Memory", new Version(4, 0, 1, 2)), new[]
            {
                new AssemblyIdentity("mscorlib", new Version(4, 0, 0, 0)),
                new AssemblyIdentity("System.Buffers", new Version(4, 0, 2, 0)),
                new AssemblyIdentity("System.Runtime", new Version(4, 0, 0, 0)),
                new AssemblyIdentity("System.Numerics.Vectors", new Version(4, 1, 4, 0)),
                s_powerShell,
            });
            var buffers = new ShippedAssembly(new AssemblyIdentity("System.Buffers", new Version(4, 0, 3, 0)), new[] { new AssemblyIdentity("mscorlib", new Version(4, 0, 0, 0)) });
            var framework = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase) { ["mscorlib"] = new(4, 0, 0, 0), ["System.Runtime"] = new(4, 1, 2, 0) };

            Assert.Equal(
                new[] { "System.Memory 4.0.1.2 -> System.Buffers 4.0.2.0: 4.0.3.0 ships", "System.Memory 4.0.1.2 -> System.Numerics.Vectors 4.1.4.0: neither shipped nor part of the .NET Framework 4.7.2" },
                UnmetReferences(new[] { memory, buffers }, framework));
        }

        [Fact]
        public void A_reference_past_the_NET_Frameworks_own_version_is_unmet()
        {
            var library = new ShippedAssembly(new AssemblyIdentity("Library", new Version(1, 0, 0, 0)), new[] { new AssemblyIdentity("System.Runtime", new Version(4, 2, 0, 0)) });
            var framework = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase) { ["System.Runtime"] = new(4, 1, 2, 0) };

            Assert.Equal(new[] { "Library 1.0.0.0 -> System.Runtime 4.2.0.0: the .NET Framework 4.7.2 has 4.1.2.0" }, UnmetReferences(new[] { library }, framework));
        }

        /// <summary>Every reference that nothing meets, as "Referrer version -> Name version: why".</summary>
        internal static IReadOnlyList<string> UnmetReferences(IReadOnlyList<ShippedAssembly> shipped, IReadOnlyDictionary<string, Version> framework)
        {
            var byName = shipped.ToDictionary(a => a.Identity.Name, a => a.Identity.Version, StringComparer.OrdinalIgnoreCase);
            var unmet = new List<string>();
            foreach (ShippedAssembly assembly in shipped)
            {
                foreach (AssemblyIdentity reference in assembly.References)
                {
                    bool inFramework = framework.TryGetValue(reference.Name, out Version? frameworkVersion) && frameworkVersion >= reference.Version;
                    bool isShipped = byName.TryGetValue(reference.Name, out Version? shippedVersion);
                    if (inFramework || (isShipped && shippedVersion == reference.Version) || reference.Equals(s_powerShell))
                    {
                        continue;
                    }

                    string why = isShipped ? shippedVersion + " ships"
                        : frameworkVersion is not null ? "the .NET Framework 4.7.2 has " + frameworkVersion
                        : "neither shipped nor part of the .NET Framework 4.7.2";
                    unmet.Add(assembly.Identity + " -> " + reference + ": " + why);
                }
            }

            return unmet;
        }

        private static IReadOnlyList<ShippedAssembly> ReadShipped(string directory)
        {
            string[] files = Directory.GetFiles(directory, "*.dll");
            Assert.NotEmpty(files);
            return files.OrderBy(f => f, StringComparer.Ordinal).Select(ReadAssembly).ToArray();
        }

        private static ShippedAssembly ReadAssembly(string path)
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            MetadataReader reader = pe.GetMetadataReader();
            AssemblyDefinition definition = reader.GetAssemblyDefinition();
            var references = reader.AssemblyReferences
                .Select(h => reader.GetAssemblyReference(h))
                .Select(r => new AssemblyIdentity(reader.GetString(r.Name), r.Version))
                .ToArray();
            return new ShippedAssembly(new AssemblyIdentity(reader.GetString(definition.Name), definition.Version), references);
        }

        private static string? TargetFramework(MetadataReader reader)
        {
            foreach (CustomAttributeHandle handle in reader.GetAssemblyDefinition().GetCustomAttributes())
            {
                CustomAttribute attribute = reader.GetCustomAttribute(handle);
                if (attribute.Constructor.Kind != HandleKind.MemberReference)
                {
                    continue;
                }

                EntityHandle type = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
                if (type.Kind == HandleKind.TypeReference && reader.GetString(reader.GetTypeReference((TypeReferenceHandle)type).Name) == "TargetFrameworkAttribute")
                {
                    // The blob: prolog 0x0001, then the framework name as a serialized string.
                    BlobReader blob = reader.GetBlobReader(attribute.Value);
                    blob.ReadUInt16();
                    return blob.ReadSerializedString();
                }
            }

            return null;
        }

        /// <summary>The .NET Framework 4.7.2's assemblies and their versions, facades included, from its reference pack.</summary>
        private static IReadOnlyDictionary<string, Version> ReadFrameworkList()
        {
            string path = AssemblyMetadata("NetFrameworkList");
            Assert.True(File.Exists(path), "The .NET Framework 4.7.2 reference pack's FrameworkList.xml is missing: " + path);
            var list = XDocument.Load(path).Root!.Elements("File")
                .ToDictionary(f => f.Attribute("AssemblyName")!.Value, f => Version.Parse(f.Attribute("Version")!.Value), StringComparer.OrdinalIgnoreCase);
            Assert.Contains("mscorlib", list.Keys);
            return list;
        }

        private static string DesktopBuildOutput() => AssemblyMetadata("DesktopModuleBuildOutput");

        private static string AssemblyMetadata(string key) =>
            typeof(DesktopAssemblySetTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

        internal sealed record AssemblyIdentity(string Name, Version Version)
        {
            public override string ToString() => Name + " " + Version;
        }

        internal sealed record ShippedAssembly(AssemblyIdentity Identity, IReadOnlyList<AssemblyIdentity> References);
    }
}
