using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Xunit;

namespace PortTools.Module.Tests
{
    /// <summary>The conventions every PortTools cmdlet keeps, checked on the compiled assembly.</summary>
    public class CmdletContractTests
    {
        private static ModuleMetadata Module => ModuleMetadata.Instance;

        public static IEnumerable<object[]> CmdletNames() => ModuleMetadata.Instance.Cmdlets.Select(c => new object[] { c.Name });

        [Fact]
        public void The_module_has_cmdlets()
        {
            Assert.Contains(Module.Cmdlets, c => c.Name == "Get-SocketTuple");
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Verbs_are_approved(string name)
        {
            Assert.Contains(Module.Cmdlet(name).Verb, Module.ApprovedVerbs());
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Nouns_are_singular_and_prefixed_by_nothing_but_the_domain(string name)
        {
            string noun = Module.Cmdlet(name).Noun;
            Assert.True(!noun.EndsWith("s", StringComparison.Ordinal) || noun.EndsWith("ss", StringComparison.Ordinal) || noun.EndsWith("us", StringComparison.Ordinal), noun + " reads as a plural");
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Every_cmdlet_declares_what_it_outputs_and_the_type_has_a_table_view(string name)
        {
            CmdletMetadata cmdlet = Module.Cmdlet(name);
            Assert.NotEmpty(cmdlet.OutputTypes);
            ISet<string> views = FormatViews();
            foreach (string type in cmdlet.OutputTypes.Where(t => t.StartsWith("PortTools.", StringComparison.Ordinal)))
            {
                Assert.Contains(type, views);
                Assert.Contains("Deserialized." + type, views);
            }
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Parameter_sets_are_consistent(string name)
        {
            CmdletMetadata cmdlet = Module.Cmdlet(name);
            IReadOnlyList<string> sets = cmdlet.ParameterSetNames();
            if (cmdlet.DefaultParameterSet is not null && sets.Count > 1)
            {
                Assert.Contains(cmdlet.DefaultParameterSet, sets);
            }

            foreach (string set in sets)
            {
                // Two parameters may not share a position within a set, or binding becomes ambiguous.
                var positions = cmdlet.Parameters
                    .Select(p => p.Sets.FirstOrDefault(s => s.Name == set || s.Name == ParameterMetadata.AllSets))
                    .Where(s => s is not null && s.Position >= 0)
                    .Select(s => s!.Position)
                    .ToList();
                Assert.Equal(positions.Count, positions.Distinct().Count());
            }
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Integer_port_parameters_are_range_checked(string name)
        {
            foreach (ParameterMetadata parameter in Module.Cmdlet(name).Parameters.Where(p => p.Name.EndsWith("Port", StringComparison.Ordinal) && p.ElementType.Name == "Int32"))
            {
                Assert.Equal((0L, 65535L), parameter.ValidateRange);
            }
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Pipeline_input_by_value_never_swallows_objects_meant_for_property_binding(string name)
        {
            // A [string], [object] or [psobject] parameter bound by value takes every object, so no
            // by-property-name parameter of the same set could ever bind: such a catch-all must stand alone.
            CmdletMetadata cmdlet = Module.Cmdlet(name);
            foreach (ParameterMetadata parameter in cmdlet.Parameters.Where(p => p.Sets.Any(s => s.ValueFromPipeline)))
            {
                if (parameter.ElementType.FullName is not ("System.String" or "System.Object" or "System.Management.Automation.PSObject"))
                {
                    continue;
                }

                foreach (ParameterSetMembership set in parameter.Sets.Where(s => s.ValueFromPipeline))
                {
                    var byName = cmdlet.Parameters.Where(p => p != parameter && p.Sets.Any(s => s.ValueFromPipelineByPropertyName && (s.Name == set.Name || s.Name == ParameterMetadata.AllSets || set.Name == ParameterMetadata.AllSets))).Select(p => p.Name).ToArray();
                    Assert.True(byName.Length == 0, name + " -" + parameter.Name + " takes anything by value, so " + string.Join(", ", byName) + " could never bind by property name");
                }
            }
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Parameters_that_take_sockets_accept_any_object(string name)
        {
            // Deserialized sockets (remoting, jobs, Import-Clixml), CSV rows and JSON objects are property
            // bags, not SocketTuples: a SocketTuple-typed parameter would refuse them before PortTools saw them.
            // -SocketTable is object[]: an array in a variable binds as it is, where PSObject[] would have
            // PowerShell wrap each of a million elements again.
            foreach (ParameterMetadata parameter in Module.Cmdlet(name).Parameters.Where(p => p.Name is "SocketTable"))
            {
                Assert.Equal("System.Object", parameter.ElementType.FullName);
            }

            foreach (ParameterMetadata parameter in Module.Cmdlet(name).Parameters.Where(p => p.Name == "InputObject" && name is "ConvertFrom-SocketTable" or "Measure-EphemeralPortUsage"))
            {
                Assert.Equal("System.Management.Automation.PSObject", parameter.ElementType.FullName);
            }

            Assert.DoesNotContain(Module.Cmdlet(name).Parameters, p => p.ElementType.FullName == "PortTools.SocketTuple");
        }

        [Fact]
        public void Cmdlets_that_reason_over_tables_take_a_socket_table()
        {
            foreach (string name in new[] { "Test-PortBind", "Resolve-Demux" })
            {
                Assert.Equal("Object[]", Module.Cmdlet(name).Parameter("SocketTable").TypeDisplayName);
            }

            CmdletMetadata demux = Module.Cmdlet("Resolve-Demux");
            Assert.Equal(new[] { "Address", "Endpoint", "InputObject" }, demux.ParameterSetNames().OrderBy(s => s));
            Assert.Null(demux.DefaultParameterSet); // each set is chosen by what is given: endpoints, addresses, or pipeline rows
            Assert.Contains(demux.Parameter("InputObject").Sets, s => s.Name == "InputObject" && s.Mandatory && s.ValueFromPipeline);
            foreach (string property in new[] { "Protocol", "SourceAddress", "SourcePort", "DestinationAddress", "DestinationPort", "Source", "Destination" })
            {
                // Still given on the command line for every row of the pipeline.
                Assert.Contains(demux.Parameter(property).Sets, s => s.Name == "InputObject" && !s.Mandatory);
            }

            Assert.Contains(demux.Parameter("Protocol").Sets, s => s.Name == "Endpoint" && s.Position == 0 && s.Mandatory);
            Assert.Contains(demux.Parameter("Destination").Sets, s => s.Name == "Endpoint" && s.Position == 2 && s.Mandatory);

            CmdletMetadata bind = Module.Cmdlet("Test-PortBind");
            Assert.Contains("LocalPort", bind.Parameter("Port").Aliases);
            Assert.All(bind.Parameter("Port").Sets, s => Assert.Equal(0, s.Position));
            Assert.Equal(new[] { "Probe", "Simulate" }, bind.Parameter("InputObject").Sets.Where(s => s.ValueFromPipeline).Select(s => s.Name).OrderBy(s => s));
            Assert.Equal(new[] { "PortTools.PortBindResult", "PortTools.UnixBindResult", "System.Boolean" }, bind.OutputTypes.OrderBy(t => t));
            Assert.Equal("InterfaceCompleter", bind.Parameter("Interface").Completer?.Name);
            Assert.Equal(new[] { "Path", "PathSimulate", "Probe", "Simulate" }, bind.ParameterSetNames().OrderBy(s => s));
            Assert.Contains("FullName", bind.Parameter("Path").Aliases);
            Assert.All(bind.Parameter("Path").Sets, s => Assert.True(s.ValueFromPipelineByPropertyName));
            Assert.Equal(new[] { "Probe", "Simulate" }, bind.Parameter("ReusePort").Sets.Select(s => s.Name).OrderBy(s => s));
            Assert.Equal("ServiceNameCompleter", Module.Cmdlet("Get-PortInfo").Parameter("Service").Completer?.Name);
            Assert.True(Module.Cmdlet("Get-PortInfo").Parameter("Service").SupportsWildcards);
            Assert.True(Module.Cmdlet("Get-SocketTuple").Parameter("Exposure").ElementType.IsEnum);
            Assert.DoesNotContain(Module.Cmdlet("Get-SocketTuple").Parameter("Exposure").Sets, s => s.ValueFromPipelineByPropertyName);
        }

        [Theory]
        [InlineData("Resolve-Demux")]
        [InlineData("Test-PortBind")]
        [InlineData("Test-PortConnect")]
        [InlineData("Get-PortInfo")]
        [InlineData("Measure-EphemeralPortUsage")]
        public void Cmdlets_that_take_pipeline_rows_read_each_row_whole(string name)
        {
            // PowerShell leaves a by-property-name parameter unbound when its value does not convert, and its
            // default then answers instead: rows are bound whole (-InputObject) and read property by property,
            // so that a bad value is an error for that row. No typed parameter binds by property name beside it.
            CmdletMetadata cmdlet = Module.Cmdlet(name);
            ParameterMetadata input = cmdlet.Parameter("InputObject");
            Assert.Equal("System.Management.Automation.PSObject", input.ElementType.FullName);
            Assert.All(input.Sets, s => Assert.True(s.ValueFromPipeline));
            foreach (ParameterMetadata parameter in cmdlet.Parameters.Where(p => p.Name != "InputObject"))
            {
                Assert.DoesNotContain(parameter.Sets, s => s.ValueFromPipeline && input.Sets.Any(i => i.Name == s.Name || i.Name == ParameterMetadata.AllSets || s.Name == ParameterMetadata.AllSets));
                Assert.DoesNotContain(parameter.Sets, s => s.ValueFromPipelineByPropertyName && parameter.ElementType.FullName != "System.String");
            }
        }

        [Fact]
        public void Test_PortConnect_takes_destinations_from_the_pipeline_and_simulates_with_single_facts()
        {
            CmdletMetadata connect = Module.Cmdlet("Test-PortConnect");
            ParameterMetadata destination = connect.Parameter("Destination");
            Assert.Contains(destination.Sets, s => s.Position == 0);
            Assert.Contains(connect.Parameter("InputObject").Sets, s => s.ValueFromPipeline);
            Assert.Contains("Remote", destination.Aliases);
            Assert.Equal("IPEndPoint", destination.TypeDisplayName);
            Assert.Equal(new[] { "PortTools.PortConnectResult", "System.Boolean" }, connect.OutputTypes.OrderBy(t => t));
            Assert.Equal("Live", connect.DefaultParameterSet);
            Assert.Equal(new[] { "Live", "Simulate" }, connect.ParameterSetNames()); // the live question takes every parameter outside Simulate
            Assert.Equal("Object[]", connect.Parameter("SocketTable").TypeDisplayName);
            Assert.Equal((1L, 65536L), connect.Parameter("Count").ValidateRange);
            Assert.Equal((0L, 2L), connect.Parameter("TcpTwReuse").ValidateRange);
            foreach (string fact in new[] { "SocketHost", "EphemeralPortRange", "ReservedPorts", "LocalAddress", "UnprivilegedPortStart", "UserId", "Privileged", "NonLocalBind", "AutobindReuse", "TcpTwReuse", "TargetOS" })
            {
                Assert.All(connect.Parameter(fact).Sets, s => Assert.Equal("Simulate", s.Name));
            }

            // A SocketHost arrives as itself, its JSON text, or a bag from remoting, Import-Clixml or ConvertFrom-Json.
            Assert.Equal("PSObject", connect.Parameter("SocketHost").TypeDisplayName);
            Assert.Equal("PSObject", Module.Cmdlet("Test-PortBind").Parameter("SocketHost").TypeDisplayName);

            // As on Test-PortBind: the live question is asked in the namespace, and a simulation takes its facts.
            Assert.All(connect.Parameter("NetworkNamespace").Sets, s => Assert.Equal(ParameterMetadata.AllSets, s.Name));
            CmdletMetadata bind = Module.Cmdlet("Test-PortBind");
            foreach (string fact in new[] { "NonLocalBind", "AutobindReuse" })
            {
                Assert.All(bind.Parameter(fact).Sets, s => Assert.Equal("Simulate", s.Name));
            }
        }

        /// <summary>Open sets that tab completion fills in: the parameter and the completer it must have, wherever it appears.</summary>
        public static TheoryData<string, string, string> Completers() => new()
        {
            { "Get-SocketTuple", "ProcessName", "ProcessNameCompleter" },
            { "Get-SocketTuple", "NetworkNamespace", "NetworkNamespaceCompleter" },
            { "Get-SocketTuple", "LocalAddress", "LocalAddressCompleter" },
            { "Test-PortBind", "Interface", "InterfaceCompleter" },
            { "Test-PortBind", "Address", "LocalAddressCompleter" },
            { "Test-PortBind", "LocalAddress", "LocalAddressCompleter" },
            { "Test-PortConnect", "Address", "LocalAddressCompleter" },
            { "Test-PortConnect", "LocalAddress", "LocalAddressCompleter" },
            { "Test-PortConnect", "NetworkNamespace", "NetworkNamespaceCompleter" },
            { "Resolve-Demux", "Interface", "InterfaceCompleter" },
            { "Resolve-Demux", "DestinationAddress", "LocalAddressCompleter" },
            { "Get-PortInfo", "Service", "ServiceNameCompleter" },
        };

        [Theory]
        [MemberData(nameof(Completers))]
        public void Open_sets_have_argument_completers(string name, string parameter, string completer)
        {
            Type? type = Module.Cmdlet(name).Parameter(parameter).Completer;
            Assert.Equal(completer, type?.Name);
            Assert.Contains(type!.GetInterfaces(), i => i.FullName == "System.Management.Automation.IArgumentCompleter");
            Assert.NotNull(type.GetConstructor(Type.EmptyTypes)); // PowerShell creates it with Activator
        }

        [Fact]
        public void Every_parameter_of_a_completed_kind_has_its_completer()
        {
            var expected = Completers().Select(row => ((string)row[1], (string)row[2])).Distinct().ToDictionary(p => p.Item1, p => p.Item2);
            foreach (CmdletMetadata cmdlet in Module.Cmdlets)
            {
                foreach (ParameterMetadata parameter in cmdlet.Parameters.Where(p => expected.ContainsKey(p.Name)))
                {
                    Assert.True(parameter.Completer?.Name == expected[parameter.Name], cmdlet.Name + " -" + parameter.Name + " needs " + expected[parameter.Name]);
                }
            }
        }

        [Theory]
        [MemberData(nameof(CmdletNames))]
        public void Cmdlets_derive_from_the_base_that_handles_cancellation_and_errors(string name)
        {
            Assert.Equal("PortToolsCmdlet", Module.Cmdlet(name).Type.BaseType!.Name);
        }

        [Fact]
        public void Get_SocketTuple_reads_processes_from_the_pipeline_whole()
        {
            CmdletMetadata cmdlet = Module.Cmdlet("Get-SocketTuple");
            ParameterMetadata processId = cmdlet.Parameter("ProcessId");
            Assert.Contains("Id", processId.Aliases);
            // Not bound by property name: any object's Id would bind (a job's); -InputObject reads the item whole.
            Assert.DoesNotContain(processId.Sets, s => s.ValueFromPipelineByPropertyName || s.ValueFromPipeline);
            ParameterMetadata input = cmdlet.Parameter("InputObject");
            Assert.Equal(new[] { "Unix", "WithProcess" }, input.Sets.Where(s => s.ValueFromPipeline).Select(s => s.Name).OrderBy(s => s));
            Assert.True(cmdlet.Parameter("ProcessName").SupportsWildcards);
            Assert.Equal("ProcessNameCompleter", cmdlet.Parameter("ProcessName").Completer?.Name);
            Assert.Equal("NetworkNamespaceCompleter", cmdlet.Parameter("NetworkNamespace").Completer?.Name);
            Assert.True(cmdlet.Parameter("State").ElementType.IsEnum);
            Assert.True(cmdlet.Parameter("Protocol").ElementType.IsEnum);
            Assert.Contains("SocketStateTransformationAttribute", cmdlet.Parameter("State").AttributeNames);
            Assert.Equal(new[] { "SkipProcess", "Unix", "UnixSkipProcess", "WithProcess" }, cmdlet.ParameterSetNames().OrderBy(s => s));
            Assert.Equal(new[] { "PortTools.SocketTuple", "PortTools.UnixSocket" }, cmdlet.OutputTypes.OrderBy(t => t));
            Assert.True(cmdlet.Parameter("Path").SupportsWildcards);
            Assert.Equal(new[] { "Unix", "UnixSkipProcess" }, cmdlet.Parameter("Path").Sets.Select(s => s.Name).OrderBy(s => s));
            Assert.Equal(new[] { "SkipProcess", "WithProcess" }, cmdlet.Parameter("LocalPort").Sets.Select(s => s.Name).OrderBy(s => s));
        }

        [Fact]
        public void The_manifest_exports_exactly_the_compiled_cmdlets()
        {
            Manifest manifest = Manifest.Load();
            Assert.Equal(Module.Cmdlets.Select(c => c.Name).OrderBy(n => n), manifest.List("CmdletsToExport")!.OrderBy(n => n));
            Assert.Empty(manifest.List("FunctionsToExport")!);
            Assert.Empty(manifest.List("VariablesToExport")!);
            Assert.Empty(manifest.List("AliasesToExport")!);
        }

        [Fact]
        public void The_manifest_targets_Windows_PowerShell_and_PowerShell_7()
        {
            Manifest manifest = Manifest.Load();
            Assert.Equal(new[] { "Desktop", "Core" }, manifest.List("CompatiblePSEditions"));
            Assert.Equal("5.1", manifest.Scalar("PowerShellVersion"));
            Assert.Equal("4.7.2", manifest.Scalar("DotNetFrameworkVersion"));
            // The loader, which imports the build of the running edition (bin/net472 or bin/netstandard2.0).
            Assert.Equal("PortTools.psm1", manifest.Scalar("RootModule"));
            Assert.True(File.Exists(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.psm1")), "PortTools.psm1 is the root module but missing from module/");
            Assert.Equal(Module.ModuleAssembly.GetName().Version!.ToString(3), manifest.Scalar("ModuleVersion"));
            foreach (string format in manifest.List("FormatsToProcess")!)
            {
                Assert.True(File.Exists(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", format)), format + " is listed but missing from module/");
            }

            Assert.Contains("PortTools.format.ps1xml", manifest.List("FormatsToProcess")!);
        }

        [Fact]
        public void Both_assemblies_target_netstandard20_and_only_the_cmdlets_reference_PowerShell()
        {
            foreach (var assembly in new[] { Module.ModuleAssembly, Module.CoreAssembly })
            {
                string framework = (string)assembly.GetCustomAttributesData().Single(a => a.AttributeType.Name == "TargetFrameworkAttribute").ConstructorArguments[0].Value!;
                Assert.Equal(".NETStandard,Version=v2.0", framework);
            }

            string[] coreReferences = Module.CoreAssembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
            Assert.DoesNotContain("System.Management.Automation", coreReferences);
            // Newtonsoft.Json is referenced for one attribute alone (JsonIgnore, Internal/JsonHidden.cs), which
            // PowerShell 7's ConvertTo-Json reads with its own copy loaded; Core never loads it or ships it.
            Assert.All(coreReferences, r => Assert.True(r == "netstandard" || r.StartsWith("System.", StringComparison.Ordinal) || r == "Newtonsoft.Json", r + " is a third-party runtime dependency"));
            Assert.DoesNotContain(Module.CoreAssembly.GetTypes(), t => t.BaseType?.Assembly.GetName().Name == "Newtonsoft.Json" || t.GetInterfaces().Any(i => i.Assembly.GetName().Name == "Newtonsoft.Json"));
            Assert.Contains("System.Management.Automation", Module.ModuleAssembly.GetReferencedAssemblies().Select(a => a.Name));
        }

        [Fact]
        public void Type_data_rehydrates_deserialized_sockets_and_keeps_enums_as_names()
        {
            // The manifest would process type data before any root module loads, and the converter it names
            // lives in the edition's PortTools.dll: the loader adds the type data once that is loaded, by
            // importing a manifest of nothing but that type data (a nested module, removed with PortTools).
            Manifest manifest = Manifest.Load();
            Assert.Null(manifest.List("TypesToProcess"));
            Assert.Null(manifest.List("RequiredAssemblies"));
            string loader = File.ReadAllText(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.psm1"));
            int assemblyImport = loader.IndexOf("/PortTools.dll\" -ErrorAction Stop", StringComparison.Ordinal);
            int typesImport = loader.IndexOf("Import-Module -Name \"$PSScriptRoot/PortTools.Types.psd1\" -ErrorAction Stop", StringComparison.Ordinal);
            Assert.True(assemblyImport > 0 && typesImport > assemblyImport, "the loader imports PortTools.Types.psd1 after PortTools.dll");
            var typesManifest = new Manifest(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.Types.psd1"));
            Assert.Equal(new[] { "PortTools.types.ps1xml" }, typesManifest.List("TypesToProcess"));
            Assert.Equal(manifest.Scalar("ModuleVersion"), typesManifest.Scalar("ModuleVersion"));
            Assert.Null(typesManifest.Scalar("RootModule"));

            XDocument types = XDocument.Load(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.types.ps1xml"));
            XElement socket = types.Descendants("Type").Single(t => t.Element("Name")!.Value == "PortTools.SocketTuple");
            string converterName = socket.Element("TypeConverter")!.Element("TypeName")!.Value;
            Type converter = Module.ModuleAssembly.GetType(converterName, throwOnError: true)!;
            Assert.True(converter.IsPublic);
            Assert.Equal("PSTypeConverter", converter.BaseType!.Name);

            XElement deserialized = types.Descendants("Type").Single(t => t.Element("Name")!.Value == "Deserialized.PortTools.SocketTuple");
            Assert.Equal("PortTools.SocketTuple", deserialized.Descendants("NoteProperty").Single(n => n.Element("Name")!.Value == "TargetTypeForDeserialization").Element("Value")!.Value);

            // Past depth 1, PowerShell serializes enums as numbers: State -eq 'Listen' would fail on every copy.
            Assert.DoesNotContain(types.Descendants("NoteProperty"), n => n.Element("Name")!.Value == "SerializationDepth");
        }

        [Fact]
        public void Every_format_view_selects_a_public_PortTools_type()
        {
            var types = Module.CoreAssembly.GetTypes().Concat(Module.ModuleAssembly.GetTypes()).Where(t => t.IsPublic).Select(t => t.FullName!).ToHashSet();
            foreach (string view in FormatViews())
            {
                // "PortTools.SocketTuple#NetworkNamespace" is a view of SocketTuple that a cmdlet selects by adding the name.
                string type = view.Replace("Deserialized.", string.Empty);
                Assert.Contains(type.Contains('#') ? type.Substring(0, type.IndexOf('#')) : type, types);
            }
        }

        internal static ISet<string> FormatViews()
        {
            XDocument format = XDocument.Load(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.format.ps1xml"));
            return format.Descendants("View")
                .Where(v => v.Element("TableControl") is not null)
                .SelectMany(v => v.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => t.Value))
                .ToHashSet(StringComparer.Ordinal);
        }
    }
}
