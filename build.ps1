#!/usr/bin/env pwsh
#Requires -Version 5.1
<#
.SYNOPSIS
Builds, tests and packages the PortTools module.

.DESCRIPTION
Build stages the module into output/PortTools/<version>/: the manifest, the loader PortTools.psm1,
module/* (formats, types, help) and the compiled assemblies of each target framework under bin/:
net472 for Windows PowerShell 5.1 and netstandard2.0 for PowerShell 7, the loader importing the
one of the running edition. Package builds, then packs the staged module into
output/packages/PortTools.<version>.nupkg with its PowerShell Gallery metadata (from the
manifest's PrivateData.PSData, and the release notes from CHANGELOG.md): the package installs
from a local folder repository with Install-PSResource or Install-Module. Test packages, runs the
xunit suites with dotnet test, then runs every tests/*.Tests.ps1 with Pester 5 in a fresh child
process of the same PowerShell against the staged module and package (a loaded binary module
locks its DLL, so tests never run in this session), and ends with one line of totals; it fails
when either suite has a failure. Clean removes output/ (but the tools in output/tools) and the
bin/obj folders. Benchmark builds, then runs tests/Benchmark.ps1 in a fresh child process of the same
PowerShell (the speed of the cmdlets through PowerShell beside floors measured in the same process,
then every suite of tests/PortTools.Benchmarks) and prints its markdown; run the script itself for
other sizes or parts (see its help).

Pester 5 is taken from PSModulePath or from <ToolPath>/Modules, which .ci/install-pester fills
from NuGet; nothing is downloaded here.

Runs on PowerShell 7 (however installed: a package, or the .NET tool) and Windows PowerShell 5.1.

.EXAMPLE
./build.ps1

.EXAMPLE
./build.ps1 -Task Test -Configuration Debug

.EXAMPLE
output/tools/pwsh -NoProfile -File ./build.ps1 -Task Test
As .ci/run runs it, with the PowerShell and Pester it installs into output/tools.

.EXAMPLE
output/tools/pwsh -NoProfile -File ./build.ps1 -Task Benchmark
Speed and memory as README's "Speed and memory" records them (as root, on Linux, for the live-table parts).

.EXAMPLE
./build.ps1 -Task Package
Register-PSResourceRepository -Name PortToolsLocal -Uri ./output/packages -Trusted
Install-PSResource -Name PortTools -Repository PortToolsLocal
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Benchmark', 'Clean')]
    [string]
    $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string]
    $Configuration = 'Release',

    # The folder .ci/run installs its tools into (PowerShell, and Pester under Modules/); the Test task
    # looks for Pester there when PSModulePath has none. PORTTOOLS_TOOLS sets it for both.
    [string]
    $ToolPath = $(if ($env:PORTTOOLS_TOOLS) { $env:PORTTOOLS_TOOLS } else { Join-Path $PSScriptRoot 'output/tools' })
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$root = $PSScriptRoot
$ToolPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ToolPath)
$manifestPath = Join-Path $root 'PortTools.psd1'
$version = (Import-PowerShellDataFile -Path $manifestPath).ModuleVersion
$outputRoot = Join-Path $root 'output'
$moduleRoot = Join-Path $outputRoot 'PortTools'
$stage = Join-Path $moduleRoot $version
$packageRoot = Join-Path $outputRoot 'packages'
# Pester 5 from this version on; Pester 6 is a new major version the tests were not written for.
$pesterMinimumVersion = [version]'5.5.0'
$pesterMaximumVersion = [version]'6.0'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)][string[]] $Arguments)

    Write-Host "dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    # To the information stream, like the other messages: shown, redirectable, and never output of the calling function.
    & dotnet @Arguments | ForEach-Object { Write-Host $_ }
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE."
    }
}

function Get-TargetFramework {
    # The frameworks the cmdlet project builds for, each staged under bin/<framework>.
    $project = [xml](Get-Content -LiteralPath (Join-Path $root 'src/PortTools/PortTools.csproj') -Raw)
    $frameworks = @($project.Project.PropertyGroup | ForEach-Object { $_.PSObject.Properties['TargetFrameworks'] } | Where-Object { $_ } | ForEach-Object { $_.Value -split ';' } | Where-Object { $_ })
    if ($frameworks.Count -eq 0) {
        throw 'src/PortTools/PortTools.csproj names no TargetFrameworks.'
    }
    $frameworks
}

function Invoke-Build {
    if (Test-Path -LiteralPath $stage) {
        Remove-Item -LiteralPath $stage -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $stage -Force

    # The staged manifest carries this version's CHANGELOG section as its release notes, which the
    # gallery and Find-PSResource show; the source manifest only points at the file.
    $manifestText = Get-Content -LiteralPath $manifestPath -Raw -Encoding UTF8
    $notes = "@'`n" + (Get-ReleaseNote) + "`n'@"
    $staged = [regex]::Replace($manifestText, "(?m)^(\s*ReleaseNotes\s*=\s*)'[^'\r\n]*'", { param($match) $match.Groups[1].Value + $notes })
    if ($staged -eq $manifestText) {
        throw "PortTools.psd1 has no single-line ReleaseNotes = '...' entry to fill in."
    }
    [System.IO.File]::WriteAllText((Join-Path $stage 'PortTools.psd1'), $staged, (New-Object System.Text.UTF8Encoding $true))
    Copy-Item -Path (Join-Path $root 'module/*') -Destination $stage -Recurse
    foreach ($file in 'LICENSE', 'README.md', 'CHANGELOG.md') {
        $path = Join-Path $root $file
        if (Test-Path -LiteralPath $path) {
            Copy-Item -LiteralPath $path -Destination $stage
        }
    }

    # Each framework's assemblies with the dependencies resolved for it (for net472, the .NET
    # Framework assets, whose versions agree), in bin/<framework> where PortTools.psm1 looks.
    foreach ($framework in Get-TargetFramework) {
        $publish = Join-Path $outputRoot "publish/$Configuration/$framework"
        if (Test-Path -LiteralPath $publish) {
            Remove-Item -LiteralPath $publish -Recurse -Force
        }
        Invoke-Dotnet publish (Join-Path $root 'src/PortTools/PortTools.csproj') --configuration $Configuration --framework $framework --output $publish --nologo
        $binary = Join-Path $stage "bin/$framework"
        $null = New-Item -ItemType Directory -Path $binary -Force
        Get-ChildItem -LiteralPath $publish -Filter '*.dll' | Copy-Item -Destination $binary
    }

    Write-Host "Staged PortTools $version in $stage" -ForegroundColor Green
}

function Get-ReleaseNote {
    # The CHANGELOG.md section of this version, without its heading.
    $path = Join-Path $root 'CHANGELOG.md'
    $lines = @(Get-Content -LiteralPath $path -Encoding UTF8)
    $start = -1
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match ('^## ' + [regex]::Escape($version) + '(\s|$)')) { $start = $i + 1; break }
    }
    if ($start -lt 0) {
        throw "CHANGELOG.md has no section for version $version (a line '## $version')."
    }
    $end = $start
    while ($end -lt $lines.Count -and $lines[$end] -notmatch '^## ') { $end++ }
    ($lines[$start..($end - 1)] -join "`n").Trim()
}

function New-XmlText {
    # An XML document as UTF-8 text, written by XmlWriter so that every value is escaped.
    param([scriptblock] $Body)
    $buffer = New-Object System.IO.StringWriter
    $settings = New-Object System.Xml.XmlWriterSettings
    $settings.Indent = $true
    $settings.OmitXmlDeclaration = $true
    $writer = [System.Xml.XmlWriter]::Create($buffer, $settings)
    & $Body $writer
    $writer.Flush()
    $writer.Dispose()
    '<?xml version="1.0" encoding="utf-8"?>' + "`n" + $buffer.ToString()
}

function Invoke-Package {
    # A NuGet package as PowerShellGet and PSResourceGet make one for a module: the module's files at
    # the root, a .nuspec whose tags say it is a module and what it exports, and the OPC parts.
    Invoke-Build
    Add-Type -AssemblyName System.IO.Compression, System.IO.Compression.FileSystem

    $manifest = Import-PowerShellDataFile -Path $manifestPath
    $psData = $manifest.PrivateData.PSData
    $commands = @($manifest.CmdletsToExport)
    $tags = @($psData.Tags) + 'PSModule' + 'PSIncludes_Cmdlet' + @($commands | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" }) | Select-Object -Unique
    $nuspec = New-XmlText {
        param($xml)
        $xml.WriteStartElement('package', 'http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd')
        $xml.WriteStartElement('metadata')
        foreach ($field in @(
                @('id', 'PortTools'),
                @('version', $version),
                @('authors', $manifest.Author),
                @('owners', $manifest.CompanyName),
                @('requireLicenseAcceptance', 'false'),
                @('licenseUrl', $psData.LicenseUri),
                @('projectUrl', $psData.ProjectUri),
                @('description', $manifest.Description),
                @('releaseNotes', (Get-ReleaseNote)),
                @('copyright', $manifest.Copyright),
                @('tags', ($tags -join ' ')))) {
            $xml.WriteElementString($field[0], $field[1])
        }
        $xml.WriteEndElement()
        $xml.WriteEndElement()
    }

    $coreProperties = New-XmlText {
        param($xml)
        $xml.WriteStartElement('coreProperties', 'http://schemas.openxmlformats.org/package/2006/metadata/core-properties')
        $xml.WriteElementString('creator', 'http://purl.org/dc/elements/1.1/', $manifest.Author)
        $xml.WriteElementString('description', 'http://purl.org/dc/elements/1.1/', $manifest.Description)
        $xml.WriteElementString('identifier', 'http://purl.org/dc/elements/1.1/', 'PortTools')
        $xml.WriteElementString('version', $version)
        $xml.WriteElementString('keywords', ($tags -join ' '))
        $xml.WriteElementString('lastModifiedBy', 'build.ps1')
        $xml.WriteEndElement()
    }

    $files = @(Get-ChildItem -LiteralPath $stage -Recurse -File)
    $extensions = @($files | ForEach-Object { $_.Extension.TrimStart('.').ToLowerInvariant() } | Where-Object { $_ } | Select-Object -Unique)
    $contentTypes = New-XmlText {
        param($xml)
        $xml.WriteStartElement('Types', 'http://schemas.openxmlformats.org/package/2006/content-types')
        foreach ($type in @(@('rels', 'application/vnd.openxmlformats-package.relationships+xml'), @('psmdcp', 'application/vnd.openxmlformats-package.core-properties+xml'), @('nuspec', 'application/octet'))) {
            $xml.WriteStartElement('Default')
            $xml.WriteAttributeString('Extension', $type[0])
            $xml.WriteAttributeString('ContentType', $type[1])
            $xml.WriteEndElement()
        }
        foreach ($extension in $extensions | Where-Object { $_ -notin 'rels', 'psmdcp', 'nuspec' }) {
            $xml.WriteStartElement('Default')
            $xml.WriteAttributeString('Extension', $extension)
            $xml.WriteAttributeString('ContentType', 'application/octet')
            $xml.WriteEndElement()
        }
        $xml.WriteEndElement()
    }

    $propertiesPart = 'package/services/metadata/core-properties/' + [guid]::NewGuid().ToString('N') + '.psmdcp'
    $relationships = New-XmlText {
        param($xml)
        $xml.WriteStartElement('Relationships', 'http://schemas.openxmlformats.org/package/2006/relationships')
        foreach ($relation in @(@('http://schemas.microsoft.com/packaging/2010/07/manifest', '/PortTools.nuspec', 'Rnuspec'), @('http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties', "/$propertiesPart", 'Rcore'))) {
            $xml.WriteStartElement('Relationship')
            $xml.WriteAttributeString('Type', $relation[0])
            $xml.WriteAttributeString('Target', $relation[1])
            $xml.WriteAttributeString('Id', $relation[2])
            $xml.WriteEndElement()
        }
        $xml.WriteEndElement()
    }

    $null = New-Item -ItemType Directory -Path $packageRoot -Force
    $package = Join-Path $packageRoot "PortTools.$version.nupkg"
    if (Test-Path -LiteralPath $package) {
        Remove-Item -LiteralPath $package -Force
    }

    $utf8 = New-Object System.Text.UTF8Encoding $false
    $zip = [System.IO.Compression.ZipFile]::Open($package, [System.IO.Compression.ZipArchiveMode]::Create)
    try {
        foreach ($part in @(@('PortTools.nuspec', $nuspec), @('[Content_Types].xml', $contentTypes), @('_rels/.rels', $relationships), @($propertiesPart, $coreProperties))) {
            $entry = $zip.CreateEntry($part[0])
            $stream = $entry.Open()
            try {
                $bytes = $utf8.GetBytes($part[1])
                $stream.Write($bytes, 0, $bytes.Length)
            }
            finally {
                $stream.Dispose()
            }
        }
        foreach ($file in $files) {
            $name = $file.FullName.Substring($stage.Length).TrimStart('\', '/') -replace '\\', '/'
            $null = [System.IO.Compression.ZipFileExtensions]::CreateEntryFromFile($zip, $file.FullName, $name)
        }
    }
    finally {
        $zip.Dispose()
    }

    Write-Host "Packed $package" -ForegroundColor Green
    $package
}

function Get-PesterPath {
    # The newest Pester 5 on PSModulePath or in <ToolPath>/Modules. Never downloaded from here: the
    # PowerShell Gallery is out of reach in many places, and .ci/install-pester gets it from NuGet.
    $candidates = @(Get-Module -ListAvailable -Name Pester | ForEach-Object { [pscustomobject]@{ Version = $_.Version; Path = $_.Path } })
    $candidates += @(Get-ChildItem -Path (Join-Path $ToolPath 'Modules/Pester/*/Pester.psd1') -ErrorAction SilentlyContinue |
            ForEach-Object { [pscustomobject]@{ Version = [version]$_.Directory.Name; Path = $_.FullName } })
    $found = $candidates |
        Where-Object { $_.Version -ge $pesterMinimumVersion -and $_.Version -lt $pesterMaximumVersion } |
        Sort-Object Version -Descending |
        Select-Object -First 1
    if (-not $found) {
        throw ("Pester $pesterMinimumVersion or a later 5.x is needed to run the Pester tests, and neither PSModulePath nor $(Join-Path $ToolPath 'Modules') has it. " +
            "Get it from NuGet with: .ci/install-pester '$ToolPath' (bash and the .NET SDK), " +
            "or from the PowerShell Gallery where it is reachable with 'Install-PSResource -Name Pester -Version ""[$pesterMinimumVersion,$pesterMaximumVersion)""'; " +
            "-ToolPath or PORTTOOLS_TOOLS names another folder that holds Modules/Pester.")
    }
    $found.Path
}

function Get-PowerShellPath {
    # The executable of the PowerShell running this script, so that the child is the same edition and
    # version: Windows PowerShell 5.1 tests 5.1. It lives in $PSHOME whatever installed it. This
    # process's own path is no guide: PowerShell installed as a .NET tool runs in the dotnet host.
    $name = if ($PSVersionTable.PSEdition -eq 'Desktop') { 'powershell.exe' } elseif ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
    $path = Join-Path $PSHOME $name
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw "This PowerShell's executable is not in its home folder: $path does not exist."
    }
    $path
}

function Get-TrxCount {
    # Passed, failed and skipped tests summed over the TRX files dotnet test wrote into a folder.
    param([string] $Path)
    $count = [ordered]@{ Passed = 0; Failed = 0; Skipped = 0 }
    foreach ($file in @(Get-ChildItem -LiteralPath $Path -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)) {
        $counters = ([xml](Get-Content -LiteralPath $file.FullName -Raw)).TestRun.ResultSummary.Counters
        $count.Passed += [int]$counters.passed
        $count.Failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        # xunit's skipped tests are counted as neither executed nor notExecuted.
        $count.Skipped += [int]$counters.total - [int]$counters.executed
    }
    $count
}

function Write-TrxFailure {
    # The failed xunit tests with their first message line, so that the tail of a CI log names them.
    param([string] $Path)
    foreach ($file in @(Get-ChildItem -LiteralPath $Path -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)) {
        $run = [xml](Get-Content -LiteralPath $file.FullName -Raw)
        foreach ($result in @($run.TestRun.Results.UnitTestResult | Where-Object { $_ -and $_.outcome -eq 'Failed' })) {
            $message = "$($result.Output.ErrorInfo.Message)".Trim()
            Write-Host ("FAILED (xunit) {0}`n    {1}" -f $result.testName, ($message -replace "`n", "`n    ")) -ForegroundColor Red
        }
    }
}

function Invoke-Test {
    # Found first: without Pester, say so before minutes of building and testing.
    $pester = Get-PesterPath
    $package = Invoke-Package
    $results = Join-Path $outputRoot 'TestResults'
    if (Test-Path -LiteralPath $results) {
        Remove-Item -LiteralPath $results -Recurse -Force
    }
    $xunitResults = Join-Path $results 'xunit'
    $pesterResult = Join-Path $results 'Pester.xml'
    $pesterCount = Join-Path $results 'Pester.count.txt'
    $null = New-Item -ItemType Directory -Path $xunitResults -Force

    # Both suites run, whatever the first one gives, so that one run reports every failure.
    $failures = New-Object System.Collections.Generic.List[string]
    try {
        Invoke-Dotnet test (Join-Path $root 'PortTools.sln') --configuration $Configuration --nologo --logger trx --results-directory $xunitResults
    }
    catch {
        $failures.Add($_.Exception.Message)
    }
    $xunit = Get-TrxCount -Path $xunitResults

    $shell = Get-PowerShellPath
    Write-Host "Pester $pester in $shell" -ForegroundColor Cyan
    $script = {
        param($PesterPath, $TestPath, $ModulePath, $PackagePath, $ResultPath, $CountPath)
        $ErrorActionPreference = 'Stop'
        Import-Module -Name $PesterPath -Force
        $env:PORTTOOLS_MODULE_PATH = $ModulePath
        $env:PORTTOOLS_PACKAGE_PATH = $PackagePath
        $config = New-PesterConfiguration
        # A folder: Pester runs every *.Tests.ps1 under it, so new test files need no registration.
        $config.Run.Path = $TestPath
        $config.Run.PassThru = $true
        $config.Output.Verbosity = 'Detailed'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputPath = $ResultPath
        $config.TestResult.OutputFormat = 'NUnitXml'
        $run = Invoke-Pester -Configuration $config
        # Repeated at the end, where the tail of a CI log shows them.
        foreach ($test in @($run.Failed)) {
            $where = '{0}:{1}' -f $test.ScriptBlock.File, $test.StartLine
            $message = ($test.ErrorRecord | ForEach-Object { "$_" }) -join "`n"
            Write-Host ("FAILED (Pester) {0}`n    {1}`n    {2}" -f $test.ExpandedPath, $where, ($message -replace "`n", "`n    ")) -ForegroundColor Red
        }
        foreach ($block in @($run.FailedBlocks) + @($run.FailedContainers)) {
            if ($null -eq $block) { continue }
            $message = ($block.ErrorRecord | ForEach-Object { "$_" }) -join "`n"
            Write-Host ("FAILED (Pester setup) {0}`n    {1}" -f "$($block.Name)$($block.Item)", ($message -replace "`n", "`n    ")) -ForegroundColor Red
        }
        # A file that does not load, or a BeforeAll/AfterAll that throws, fails the run as a failed test
        # does (Pester's own exit code counts them the same way).
        $failed = $run.FailedCount + $run.FailedContainersCount
        if ($failed -eq 0) {
            $failed = $run.FailedBlocksCount
        }
        Set-Content -LiteralPath $CountPath -Value "$($run.PassedCount) $failed $($run.SkippedCount)"
        exit ([Math]::Min($failed, 255))
    }
    $quote = { param($text) "'" + ($text -replace "'", "''") + "'" }
    $command = "& {$script} -PesterPath $(& $quote $pester) -TestPath $(& $quote (Join-Path $root 'tests')) -ModulePath $(& $quote $stage) -PackagePath $(& $quote $package) -ResultPath $(& $quote $pesterResult) -CountPath $(& $quote $pesterCount)"
    # -NonInteractive: a test that leaves a mandatory parameter unbound fails instead of prompting.
    & $shell -NoProfile -NonInteractive -Command $command
    $pesterExit = $LASTEXITCODE
    $counts = if (Test-Path -LiteralPath $pesterCount) { @((Get-Content -LiteralPath $pesterCount -Raw).Trim() -split ' ' | ForEach-Object { [int]$_ }) } else { @(0, 0, 0) }
    if ($pesterExit -ne 0 -or -not (Test-Path -LiteralPath $pesterCount)) {
        $failures.Add("Pester: $($counts[1]) failure(s) (exit code $pesterExit).")
    }

    Write-TrxFailure -Path $xunitResults
    Write-Host ("xunit: {0} passed, {1} failed, {2} skipped" -f $xunit.Passed, $xunit.Failed, $xunit.Skipped)
    Write-Host ("Pester: {0} passed, {1} failed, {2} skipped" -f $counts[0], $counts[1], $counts[2])
    Write-Host ("Total: {0} passed, {1} failed, {2} skipped" -f ($xunit.Passed + $counts[0]), ($xunit.Failed + $counts[1]), ($xunit.Skipped + $counts[2]))
    if ($failures.Count -gt 0) {
        throw ($failures -join ' ')
    }
}

function Invoke-Benchmark {
    Invoke-Build
    $shell = Get-PowerShellPath
    # A child process: the benchmark imports the staged module, whose DLL a session keeps locked.
    & $shell -NoProfile -NonInteractive -File (Join-Path $root 'tests/Benchmark.ps1') -ModulePath $stage
    if ($LASTEXITCODE -ne 0) {
        throw "tests/Benchmark.ps1 failed with exit code $LASTEXITCODE."
    }
}

function Invoke-Clean {
    # Everything the build made; the tools .ci/run installed stay (one of them may be running this).
    $made = @(Get-ChildItem -LiteralPath $outputRoot -Force -ErrorAction SilentlyContinue | Where-Object { $_.FullName -ne $ToolPath } | ForEach-Object FullName)
    $made += @(Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests') -Directory -Recurse -Include 'bin', 'obj' | ForEach-Object FullName)
    foreach ($path in $made) {
        if (Test-Path -LiteralPath $path) {
            Remove-Item -LiteralPath $path -Recurse -Force
        }
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Package' { $null = Invoke-Package }
    'Test' { Invoke-Test }
    'Benchmark' { Invoke-Benchmark }
    'Clean' { Invoke-Clean }
}
