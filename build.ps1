#!/usr/bin/env pwsh
#Requires -Version 5.1
<#
.SYNOPSIS
Builds, tests and packages the PortTools module.

.DESCRIPTION
Build stages the module into output/PortTools/<version>/: the manifest, module/* (formats, help)
and the compiled assemblies. Test builds, runs the xunit suites with dotnet test, then runs the
Pester tests in a fresh child process of the same PowerShell edition against the staged module
(a loaded binary module locks its DLL, so tests never run in this session). Clean removes output/
and the bin/obj folders.

Runs on PowerShell 7 and Windows PowerShell 5.1.

.EXAMPLE
./build.ps1

.EXAMPLE
./build.ps1 -Task Test -Configuration Debug
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Clean')]
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
$pesterVersion = '5.5.0'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)][string[]] $Arguments)

    Write-Host "dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE."
    }
}

function Invoke-Build {
    $publish = Join-Path $outputRoot "publish/$Configuration"
    if (Test-Path -LiteralPath $publish) {
        Remove-Item -LiteralPath $publish -Recurse -Force
    }
    Invoke-Dotnet publish (Join-Path $root 'src/PortTools/PortTools.csproj') --configuration $Configuration --output $publish --nologo

    if (Test-Path -LiteralPath $stage) {
        Remove-Item -LiteralPath $stage -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $stage -Force

    Copy-Item -LiteralPath $manifestPath -Destination $stage
    Copy-Item -Path (Join-Path $root 'module/*') -Destination $stage -Recurse
    foreach ($file in 'LICENSE', 'README.md', 'CHANGELOG.md') {
        $path = Join-Path $root $file
        if (Test-Path -LiteralPath $path) {
            Copy-Item -LiteralPath $path -Destination $stage
        }
    }

    # The module's own assemblies and the netstandard dependencies Windows PowerShell needs.
    # PowerShell's own assemblies are never shipped: PowerShellStandard.Library is reference-only.
    Get-ChildItem -LiteralPath $publish -Filter '*.dll' |
        Where-Object Name -NotLike 'System.Management.Automation*' |
        Copy-Item -Destination $stage

    Write-Host "Staged PortTools $version in $stage" -ForegroundColor Green
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
    Invoke-Build
    Invoke-Dotnet test (Join-Path $root 'PortTools.sln') --configuration $Configuration --nologo

    $pester = Get-PesterPath
    $resultPath = Join-Path $outputRoot 'TestResults/Pester.xml'
    $null = New-Item -ItemType Directory -Path (Split-Path $resultPath) -Force

    # The child is the same PowerShell as this one, so Windows PowerShell 5.1 tests 5.1.
    $shell = (Get-Process -Id $PID).Path
    $script = {
        param($PesterPath, $TestPath, $ModulePath, $ResultPath)
        $ErrorActionPreference = 'Stop'
        Import-Module -Name $PesterPath -Force
        $env:PORTTOOLS_MODULE_PATH = $ModulePath
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
    $command = "& {$script} -PesterPath $(& $quote $pester) -TestPath $(& $quote (Join-Path $root 'tests')) -ModulePath $(& $quote $stage) -ResultPath $(& $quote $resultPath)"
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
    'Test' { Invoke-Test }
    'Clean' { Invoke-Clean }
}
