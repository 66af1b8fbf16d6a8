#!/usr/bin/env pwsh
#Requires -Version 5.1
<#
.SYNOPSIS
Builds, tests and packages the PortTools module.

.DESCRIPTION
Build stages the module into output/PortTools/<version>/: the manifest, module/* (formats, types,
help) and the compiled assemblies. Package builds, then packs the staged module into
output/packages/PortTools.<version>.nupkg with its PowerShell Gallery metadata (from the
manifest's PrivateData.PSData, and the release notes from CHANGELOG.md): the package installs
from a local folder repository with Install-PSResource or Install-Module. Test packages, runs the
xunit suites with dotnet test, then runs the Pester tests in a fresh child process of the same
PowerShell edition against the staged module and package (a loaded binary module locks its DLL,
so tests never run in this session). Clean removes output/ and the bin/obj folders.

Runs on PowerShell 7 and Windows PowerShell 5.1.

.EXAMPLE
./build.ps1

.EXAMPLE
./build.ps1 -Task Test -Configuration Debug

.EXAMPLE
./build.ps1 -Task Package
Register-PSResourceRepository -Name PortToolsLocal -Uri ./output/packages -Trusted
Install-PSResource -Name PortTools -Repository PortToolsLocal
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Clean')]
    [string]
    $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string]
    $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$root = $PSScriptRoot
$manifestPath = Join-Path $root 'PortTools.psd1'
$version = (Import-PowerShellDataFile -Path $manifestPath).ModuleVersion
$outputRoot = Join-Path $root 'output'
$moduleRoot = Join-Path $outputRoot 'PortTools'
$stage = Join-Path $moduleRoot $version
$packageRoot = Join-Path $outputRoot 'packages'
$pesterVersion = '5.5.0'

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
    # Pester 5 from the session's module path, or saved once into output/Modules from the gallery.
    $available = Get-Module -ListAvailable -Name Pester |
        Where-Object { $_.Version -ge [version]$pesterVersion } |
        Sort-Object Version -Descending |
        Select-Object -First 1
    if ($available) {
        return $available.Path
    }

    $saved = Join-Path $outputRoot 'Modules'
    $null = New-Item -ItemType Directory -Path $saved -Force
    Write-Host "Pester $pesterVersion or later is not installed; saving it into $saved" -ForegroundColor Yellow
    Save-Module -Name Pester -MinimumVersion $pesterVersion -Path $saved -Repository PSGallery
    return (Get-Module -ListAvailable -Name (Join-Path $saved 'Pester') | Sort-Object Version -Descending | Select-Object -First 1).Path
}

function Invoke-Test {
    $package = Invoke-Package
    Invoke-Dotnet test (Join-Path $root 'PortTools.sln') --configuration $Configuration --nologo

    $pester = Get-PesterPath
    $resultPath = Join-Path $outputRoot 'TestResults/Pester.xml'
    $null = New-Item -ItemType Directory -Path (Split-Path $resultPath) -Force

    # The child is the same PowerShell as this one, so Windows PowerShell 5.1 tests 5.1.
    $shell = (Get-Process -Id $PID).Path
    $script = {
        param($PesterPath, $TestPath, $ModulePath, $PackagePath, $ResultPath)
        $ErrorActionPreference = 'Stop'
        Import-Module -Name $PesterPath -Force
        $env:PORTTOOLS_MODULE_PATH = $ModulePath
        $env:PORTTOOLS_PACKAGE_PATH = $PackagePath
        $config = New-PesterConfiguration
        $config.Run.Path = $TestPath
        $config.Run.Exit = $true
        $config.Output.Verbosity = 'Detailed'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputPath = $ResultPath
        $config.TestResult.OutputFormat = 'NUnitXml'
        Invoke-Pester -Configuration $config
    }
    $quote = { param($text) "'" + ($text -replace "'", "''") + "'" }
    $command = "& {$script} -PesterPath $(& $quote $pester) -TestPath $(& $quote (Join-Path $root 'tests')) -ModulePath $(& $quote $stage) -PackagePath $(& $quote $package) -ResultPath $(& $quote $resultPath)"
    & $shell -NoProfile -NonInteractive -Command $command
    if ($LASTEXITCODE -ne 0) {
        throw "Pester reported $LASTEXITCODE failure(s)."
    }
}

function Invoke-Clean {
    foreach ($path in @($outputRoot) + @(Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests') -Directory -Recurse -Include 'bin', 'obj' | ForEach-Object FullName)) {
        if (Test-Path -LiteralPath $path) {
            Remove-Item -LiteralPath $path -Recurse -Force
        }
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Package' { $null = Invoke-Package }
    'Test' { Invoke-Test }
    'Clean' { Invoke-Clean }
}
