#Requires -Version 5.1
<#
.SYNOPSIS
Measures what pipeline rows cost Resolve-Demux, Test-PortBind and Test-PortConnect, against the floor of
ForEach-Object { $_ } over the same rows, in this one PowerShell process.

.DESCRIPTION
Builds -Rows PSCustomObject rows in a variable (flows with Protocol, SourceAddress, SourcePort,
DestinationAddress and DestinationPort; ports with Port and Protocol; destinations with Destination and
Protocol), then, for each of -Rounds rounds, times piping them through ForEach-Object { $_ } and through
each cmdlet (-SocketTable of -Listeners listening sockets, -Quiet where the cmdlet has it, output
discarded). Writes one object per cmdlet: the ratio of its cost to the floor's in the same round (min,
median, max over the rounds) and its rows per second (median). The cost is this process's CPU time,
which other processes on a shared machine disturb far less than the wall clock; the rows per second
are by the wall clock. Machines are shared and differ, so the ratio is the figure to compare; the
absolute rate says what this machine did.

.EXAMPLE
output/tools/pwsh -NoProfile -File tests/PipelineBenchmark.ps1
#>
[CmdletBinding()]
param(
    # Rows piped into each cmdlet per round.
    [ValidateRange(1, 10000000)]
    [int] $Rows = 100000,

    # Rounds; the ratio is reported as its range over them.
    [ValidateRange(1, 100)]
    [int] $Rounds = 5,

    # Listening sockets in the -SocketTable.
    [ValidateRange(0, 1000000)]
    [int] $Listeners = 10000,

    # The staged module (default: the newest build under output/PortTools).
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
if (-not $ModulePath) {
    $ModulePath = Get-ChildItem -Path (Join-Path (Split-Path -Parent $PSScriptRoot) 'output/PortTools') -Directory |
        Sort-Object { [version]$_.Name } -Descending | Select-Object -First 1 -ExpandProperty FullName
}
Import-Module -Name (Join-Path $ModulePath 'PortTools.psd1') -Force

# Listeners on 10.x.y.z:80..; flows to them and to ports nobody listens on.
$table = [System.Collections.Generic.List[PortTools.SocketTuple]]::new()
for ($i = 0; $i -lt $Listeners; $i++) {
    $table.Add([PortTools.SocketTuple]('tcp LISTEN 10.{0}.{1}.{2}:{3}' -f (($i -shr 16) -band 255), (($i -shr 8) -band 255), ($i -band 255), (80 + ($i % 1000))))
}
$tableArray = $table.ToArray()

$flows = [System.Collections.Generic.List[object]]::new($Rows)
$ports = [System.Collections.Generic.List[object]]::new($Rows)
$destinations = [System.Collections.Generic.List[object]]::new($Rows)
for ($i = 0; $i -lt $Rows; $i++) {
    $j = $i % [Math]::Max(1, $Listeners)
    $flows.Add([pscustomobject]@{ Protocol = 'Tcp'; SourceAddress = '198.51.100.7'; SourcePort = 1024 + ($i % 60000); DestinationAddress = ('10.{0}.{1}.{2}' -f (($j -shr 16) -band 255), (($j -shr 8) -band 255), ($j -band 255)); DestinationPort = 80 + ($j % 1000) })
    $ports.Add([pscustomobject]@{ Port = 1024 + ($i % 60000); Protocol = 'Tcp' })
    $destinations.Add([pscustomobject]@{ Destination = ('203.0.113.{0}:{1}' -f ($i % 250), (1 + ($i % 60000))); Protocol = 'Tcp' })
}
$flows = $flows.ToArray()
$ports = $ports.ToArray()
$destinations = $destinations.ToArray()

$suites = [ordered]@{
    'Resolve-Demux'    = @{ Rows = $flows; Run = { param($rows) $rows | Resolve-Demux -SocketTable $tableArray -TargetOS Linux | Out-Null } }
    'Test-PortBind'    = @{ Rows = $ports; Run = { param($rows) $rows | Test-PortBind -SocketTable $tableArray -TargetOS Linux -UserId 0 -Quiet | Out-Null } }
    'Test-PortConnect' = @{ Rows = $destinations; Run = { param($rows) $rows | Test-PortConnect -SocketTable $tableArray -TargetOS Linux -EphemeralPortRange 32768-60999 -Quiet 3>$null | Out-Null } }
}

function Measure-Seconds([scriptblock] $Block, $Argument) {
    # CPU seconds of this process and wall-clock seconds.
    [GC]::Collect()
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $cpu = $process.TotalProcessorTime
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    & $Block $Argument
    $wall = $clock.Elapsed.TotalSeconds
    $process.Refresh()
    [pscustomobject]@{ Cpu = ($process.TotalProcessorTime - $cpu).TotalSeconds; Wall = $wall }
}

$floor = { param($rows) $rows | ForEach-Object { $_ } | Out-Null }
foreach ($name in $suites.Keys) {
    $suite = $suites[$name]
    # One small warm-up run (JIT, type data, the index's first build) outside the rounds.
    $null = Measure-Seconds $suite.Run @($suite.Rows | Select-Object -First 100)
    $null = Measure-Seconds $floor @($suite.Rows | Select-Object -First 100)
    $ratios = [System.Collections.Generic.List[double]]::new()
    $rates = [System.Collections.Generic.List[double]]::new()
    for ($round = 0; $round -lt $Rounds; $round++) {
        $floorCost = Measure-Seconds $floor $suite.Rows
        $cost = Measure-Seconds $suite.Run $suite.Rows
        $ratios.Add($cost.Cpu / $floorCost.Cpu)
        $rates.Add($Rows / $cost.Wall)
    }

    $sortedRatios = @($ratios | Sort-Object)
    $sortedRates = @($rates | Sort-Object)
    [pscustomobject]@{
        PSTypeName    = 'PortTools.PipelineBenchmarkResult'
        Name          = $name
        Rows          = $Rows
        Rounds        = $Rounds
        RatioMin      = [Math]::Round($sortedRatios[0], 2)
        RatioMedian   = [Math]::Round($sortedRatios[[int][Math]::Floor($Rounds / 2)], 2)
        RatioMax      = [Math]::Round($sortedRatios[-1], 2)
        RowsPerSecond = [Math]::Round($sortedRates[[int][Math]::Floor($Rounds / 2)])
    }
}
