BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $OnDesktop = $PSVersionTable.PSEdition -eq 'Desktop'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $framework = if ($PSVersionTable.PSEdition -eq 'Desktop') { 'net472' } else { 'netstandard2.0' }
    $binaryPath = Join-Path (Join-Path $ModulePath 'bin') $framework
    $assemblies = @([PortTools.SocketTuple].Assembly, [PortTools.Commands.SocketTupleTypeConverter].Assembly)

    function Invoke-ChildPowerShell {
        # A fresh process of this PowerShell: loading and unloading the module must not disturb this session.
        param([string] $Command)
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Command))
        & (Get-PowerShellPath) -NoProfile -NonInteractive -EncodedCommand $encoded
    }
}

Describe 'The PortTools module loader' {
    It 'loads the build made for this edition of PowerShell' {
        foreach ($assembly in $assemblies) {
            Split-Path -Parent $assembly.Location | Should -Be $binaryPath
        }
        (Get-Command -Name Get-SocketTuple).ImplementingType.Assembly | Should -Be $assemblies[1]
        (Get-Module -Name PortTools).ExportedCmdlets.Keys | Should -Contain 'Test-PortBind'
    }

    It 'adds the type data once the converter it names is loaded' {
        (Get-TypeData -TypeName PortTools.SocketTuple).TypeConverter | Should -Be ([PortTools.Commands.SocketTupleTypeConverter])
        $socket = [PortTools.SocketTuple]::Parse('tcp LISTEN 127.0.0.1:8080 pid=812')
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($socket))
        $copy | Should -BeOfType PortTools.SocketTuple
        $copy.LocalPort | Should -Be 8080
    }

    It 'takes its type data away with it, and imports again' {
        $manifest = Join-Path $ModulePath 'PortTools.psd1'
        $lines = Invoke-ChildPowerShell @"
Import-Module -Name '$manifest' -ErrorAction Stop
'loaded ' + [bool](Get-TypeData -TypeName PortTools.SocketTuple)
Remove-Module -Name PortTools
'removed ' + [bool](Get-TypeData -TypeName PortTools.SocketTuple)
Import-Module -Name '$manifest' -ErrorAction Stop
Import-Module -Name '$manifest' -Force -ErrorAction Stop
'again ' + [bool](Get-TypeData -TypeName PortTools.SocketTuple) + ' ' + (Get-Command -Module PortTools).Count
"@
        $LASTEXITCODE | Should -Be 0
        $lines | Should -Be @('loaded True', 'removed False', "again True $((Import-PowerShellDataFile -Path $manifest).CmdletsToExport.Count)")
    }

    It 'resolves every type and method body of its assemblies in this runtime' {
        # Compiling each method loads what it names from the references, as a first call would: a
        # missing or mismatched dependency fails here rather than in the middle of a user's pipeline.
        # Native calls are left out (compiling them loads the other platforms' libraries).
        $flags = [System.Reflection.BindingFlags]'Public, NonPublic, Instance, Static, DeclaredOnly'
        $failures = foreach ($assembly in $assemblies) {
            foreach ($type in $assembly.GetTypes()) {
                if ($type.ContainsGenericParameters) { continue }
                foreach ($method in @($type.GetMethods($flags)) + @($type.GetConstructors($flags))) {
                    if ($method.IsAbstract -or $method.ContainsGenericParameters -or
                        ($method.Attributes -band [System.Reflection.MethodAttributes]::PinvokeImpl) -or
                        ($method.MethodImplementationFlags -band [System.Reflection.MethodImplAttributes]::Runtime)) {
                        continue
                    }
                    try {
                        [System.Runtime.CompilerServices.RuntimeHelpers]::PrepareMethod($method.MethodHandle)
                    }
                    catch {
                        "$($type.FullName).$($method.Name): $($_.Exception.GetBaseException().Message)"
                    }
                }
            }
        }
        $failures | Should -BeNullOrEmpty
    }

    It 'ships every assembly its Desktop build references at exactly that version, or finds it in the .NET Framework' -Skip:(-not $OnDesktop) {
        # Windows PowerShell applies no binding redirects to a module: a shipped System.Buffers 4.0.3.0
        # does not answer System.Memory's reference to 4.0.2.0. The .NET Framework answers references to
        # its own assemblies up to the version it has.
        $shipped = @{}
        foreach ($file in Get-ChildItem -LiteralPath $binaryPath -Filter '*.dll') {
            $shipped[[System.Reflection.AssemblyName]::GetAssemblyName($file.FullName).Name] = $file.FullName
        }
        $unmet = foreach ($path in $shipped.Values) {
            $assembly = [System.Reflection.Assembly]::LoadFrom($path)
            foreach ($reference in $assembly.GetReferencedAssemblies()) {
                if ($shipped.ContainsKey($reference.Name)) {
                    $version = [System.Reflection.AssemblyName]::GetAssemblyName($shipped[$reference.Name]).Version
                    if ($version -ne $reference.Version) { "$($assembly.GetName().Name) -> $($reference.FullName): $version ships" }
                }
                else {
                    try { $null = [System.Reflection.Assembly]::Load($reference) }
                    catch { "$($assembly.GetName().Name) -> $($reference.FullName): $($_.Exception.GetBaseException().Message)" }
                }
            }
        }
        $unmet | Should -BeNullOrEmpty
    }
}
