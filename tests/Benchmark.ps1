#Requires -Version 7.0
<#
.SYNOPSIS
The speed of PortTools as users meet it (through PowerShell), each figure beside a floor measured in
the same process on the same data, over several rounds.

.DESCRIPTION
Runs in one PowerShell process against the staged module (./build.ps1 first; build.ps1 -Task Benchmark
does both) and prints, per measurement, the median time, the min-max range over the rounds, and the
ratio to its floor (each round's candidate over the same round's floor; candidate and floor alternate):

  socket-table  Test-PortBind -SocketTable $table (SocketTuples in a variable: conversion plus index
                build) against SocketIndex.Build of the same sockets from this process; the same for
                the rows PSSerializer deserialized (rehydrated by the module's type converter), for
                property bags (deserialized where the module's types are not loaded) and for
                [pscustomobject] rows.
  enumerate     Get-SocketTuple -SkipProcess | Measure-Object at a sockfarm population (root) against
                ../shared/tools/nlcount run from this process; retained bytes per socket as collected
                into a variable, beside the core's own list.
  parse         ConvertFrom-SocketTable -Path on an `ss -tanp` file against reading the same file line
                by line ([IO.File]::ReadLines); the peak memory of a fresh pwsh at a tenth and all of the file.
  import        pwsh -NoProfile -c 'Import-Module PortTools; Get-SocketTuple' against pwsh -NoProfile -c 1.
                Then the same two steps timed apart inside fresh processes: Import-Module, then the first
                Get-SocketTuple.
  pipeline      tests/PipelineBenchmark.ps1, when it exists.
  core          the suites of tests/PortTools.Benchmarks (each prints its own ratios and ranges).

No figure is asserted: the output is for README's "Speed and memory". -Tiny runs every part at toy
sizes (the Pester test uses it to check that the script runs and prints its ratios).

.EXAMPLE
output/tools/pwsh -NoProfile -File ./build.ps1 -Task Benchmark

.EXAMPLE
output/tools/pwsh -NoProfile -File tests/Benchmark.ps1 -Part parse,import -Rounds 7
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100)]
    [int] $Rounds = 5,

    # Sockets in the -SocketTable variable.
    [int] $Sockets = 1000000,

    # Rows serialized and deserialized (PSSerializer) once for the rehydrated and property-bag -SocketTable
    # figures; the figure that deserializes in every round takes at most 20,000 of them.
    [int] $DeserializedSockets = 100000,

    # Established pairs sockfarm holds for the enumeration figure (needs root; 0 skips it).
    [int] $Pairs = 100000,

    # Lines of the ss -tanp file ConvertFrom-SocketTable reads.
    [int] $Lines = 1000000,

    # Any of socket-table, enumerate, parse, import, pipeline, core (pwsh -File passes a list as one comma-separated string).
    [string[]] $Part = @('socket-table', 'enumerate', 'parse', 'import', 'pipeline', 'core'),

    # Arguments of each core suite (dotnet run -c Release --project tests/PortTools.Benchmarks -- <suite> <arguments>).
    [System.Collections.IDictionary] $CoreSuite = [ordered]@{
        rules      = @()
        connect    = @()
        parse      = @()
        enumerate  = @('--pairs', '1000,10000,100000')
        unix       = @('--connections', '1000,10000,100000', '--ss-p-timeout', '120')
        namespaces = @('--namespaces', '50', '--sockets', '1000')
    },

    # Toy sizes for every part: checks that the script runs, says nothing about speed.
    [switch] $Tiny,

    # The staged module folder (default: output/PortTools/<version>).
    [string] $ModulePath,

    [string] $Tools = (Join-Path $PSScriptRoot '../../shared/tools')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Part = @($Part | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })
foreach ($name in $Part) {
    if ($name -notin 'socket-table', 'enumerate', 'parse', 'import', 'pipeline', 'core') {
        throw "-Part $name is not one of socket-table, enumerate, parse, import, pipeline, core."
    }
}
$root = Split-Path $PSScriptRoot -Parent

if ($Tiny) {
    $Rounds = [Math]::Min($Rounds, 5)
    $Sockets = 2000
    $DeserializedSockets = 500
    $Pairs = [Math]::Min($Pairs, 200)
    $Lines = 5000
    $CoreSuite = [ordered]@{
        rules   = @('--sockets', '20000', '--decisions', '20000')
        connect = @('--sockets', '20000', '--decisions', '2000', '--exhausted-decisions', '4')
        parse   = @('--lines', '5000')
    }
}

if (-not $ModulePath) {
    $version = (Import-PowerShellDataFile -Path (Join-Path $root 'PortTools.psd1')).ModuleVersion
    $ModulePath = Join-Path $root "output/PortTools/$version"
}

if (-not (Test-Path (Join-Path $ModulePath 'PortTools.psd1'))) {
    throw "No staged module at ${ModulePath}: run ./build.ps1 first (or build.ps1 -Task Benchmark)."
}

# This PowerShell's own executable (as tests/common.ps1 finds it: a .NET tool install runs in the dotnet host).
$pwshPath = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
$benchmarkProject = Join-Path $PSScriptRoot 'PortTools.Benchmarks'
$benchmarkDll = Join-Path $benchmarkProject 'bin/Release/net10.0/PortTools.Benchmarks.dll'
# No telemetry upload in this process or its children: it would be timed with them.
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$script:benchmarkBuilt = $false
$work = Join-Path ([IO.Path]::GetTempPath()) "porttools-benchmark-$PID"
$null = New-Item -ItemType Directory -Path $work -Force
Import-Module (Join-Path $ModulePath 'PortTools.psd1')

function Invoke-Timed([scriptblock] $Action) {
    # The previous measurement's garbage is collected first, so it is not billed to this one.
    [GC]::Collect(); [GC]::WaitForPendingFinalizers()
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $null = & $Action
    $watch.Elapsed.TotalMilliseconds
}

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count % 2) { return $sorted[($sorted.Count - 1) / 2] }
    ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2
}

function Format-Ms([double] $Ms) {
    if ($Ms -ge 1000) { return ($Ms / 1000).ToString('0.00', [cultureinfo]::InvariantCulture) + ' s' }
    $Ms.ToString($(if ($Ms -lt 10) { '0.0' } else { '0' }), [cultureinfo]::InvariantCulture) + ' ms'
}

function Format-Range([double[]] $Values, [scriptblock] $Format) {
    $sorted = @($Values | Sort-Object)
    '{0} ({1}-{2})' -f (& $Format (Get-Median $sorted)), (& $Format $sorted[0]), (& $Format $sorted[-1])
}

function Format-Ratio([double] $Value) { $Value.ToString('0.00', [cultureinfo]::InvariantCulture) + 'x' }

<#
Times a candidate and its floor alternately for $Rounds rounds and writes one table row: both medians
with ranges, and the ratio of each round's candidate to the same round's floor, median and range. Two
untimed warm-ups of each come first: the first compiles the code, the second gives tiered compilation
time to swap in optimized code (with one, the first timed round of a million sockets often came out
well above the later ones).
#>
function Measure-AgainstFloor {
    param([string] $Name, [scriptblock] $Candidate, [string] $FloorName, [scriptblock] $Floor, [int] $Count, [string] $Unit = 'items')

    for ($warmUp = 0; $warmUp -lt 2; $warmUp++) { $null = & $Candidate; $null = & $Floor }
    $candidateMs = [Collections.Generic.List[double]]::new()
    $floorMs = [Collections.Generic.List[double]]::new()
    $ratios = [Collections.Generic.List[double]]::new()
    for ($round = 0; $round -lt $Rounds; $round++) {
        $c = Invoke-Timed $Candidate
        $f = Invoke-Timed $Floor
        $candidateMs.Add($c); $floorMs.Add($f); $ratios.Add($c / $f)
    }

    [pscustomobject]@{
        Measurement  = $Name
        Count        = $Count.ToString('N0', [cultureinfo]::InvariantCulture) + " $Unit"
        Time         = Format-Range $candidateMs { param($v) Format-Ms $v }
        PerSecond    = Format-Range ($candidateMs | ForEach-Object { $Count / ($_ / 1000) }) { param($v) $v.ToString('N0', [cultureinfo]::InvariantCulture) }
        Floor        = $FloorName
        FloorTime    = Format-Range $floorMs { param($v) Format-Ms $v }
        Ratio        = Format-Range $ratios { param($v) Format-Ratio $v }
        RatioMedian  = Get-Median $ratios
    }
}

function Write-Table([object[]] $Rows, [string[]] $Columns) {
    Write-Output ('| ' + ($Columns -join ' | ') + ' |')
    Write-Output ('|' + ('---|' * $Columns.Count))
    foreach ($row in $Rows) {
        Write-Output ('| ' + (($Columns | ForEach-Object { "$($row.$_)".Replace('|', '\|') }) -join ' | ') + ' |')
    }
    Write-Output ''
}

function Get-PeakKilobytes([string] $Command) {
    $text = & $pwshPath -NoProfile -NonInteractive -Command "$Command; (Get-Content /proc/self/status | Where-Object { `$_ -like 'VmHWM:*' }) -replace '\D', ''"
    [long]($text | Select-Object -Last 1)
}

function Initialize-BenchmarkProject {
    if (-not (Test-Path $benchmarkDll) -or $script:benchmarkBuilt -ne $true) {
        & dotnet build -c Release $benchmarkProject -v quiet -nologo | Out-Null
        if ($LASTEXITCODE -ne 0) { throw 'dotnet build of tests/PortTools.Benchmarks failed.' }
        $script:benchmarkBuilt = $true
    }
}

function New-SsFile([int] $Count) {
    Initialize-BenchmarkProject
    $path = Join-Path $work "ss-tanp-$Count.txt"
    if (-not (Test-Path $path)) {
        & dotnet $benchmarkDll write-ss --path $path --lines $Count
        if ($LASTEXITCODE -ne 0) { throw 'write-ss failed.' }
    }
    $path
}

$started = [DateTime]::UtcNow
$kernel = (Get-Content /proc/sys/kernel/osrelease -ErrorAction SilentlyContinue) ?? [Environment]::OSVersion.VersionString
Write-Output "# PortTools through PowerShell ($($started.ToString('yyyy-MM-dd HH:mm', [cultureinfo]::InvariantCulture)) UTC, $([Environment]::ProcessorCount) cores, kernel $kernel, PowerShell $($PSVersionTable.PSVersion), .NET $([Environment]::Version), $Rounds rounds, load average $((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -replace '^(\S+ \S+ \S+).*', '$1'))"
Write-Output ''
Write-Output 'Figures are medians with the min-max range over the rounds; a ratio is each round''s time over its floor''s in the same round.'
Write-Output ''

try {
    $rows = [Collections.Generic.List[object]]::new()

    # Parsing and the live read first: after the socket-table part has held a million sockets, the
    # process runs everything slower (reading the same file line by line, the floor, takes 5x longer
    # there; Get-SocketTuple | Measure-Object went from 1.4x to 2.2x nlcount).
    if ('parse' -in $Part) {
        $file = New-SsFile $Lines
        $rows.Add((Measure-AgainstFloor -Name 'ConvertFrom-SocketTable -Path (streamed to Out-Null)' -Count $Lines -Unit lines `
                    -Candidate { ConvertFrom-SocketTable -LiteralPath $file | Out-Null } `
                    -FloorName 'the same file line by line ([IO.File]::ReadLines)' -Floor { [Linq.Enumerable]::Count([IO.File]::ReadLines($file)) }))
        $rows.Add((Measure-AgainstFloor -Name 'ConvertFrom-SocketTable -Path | Measure-Object' -Count $Lines -Unit lines `
                    -Candidate { ConvertFrom-SocketTable -LiteralPath $file | Measure-Object } `
                    -FloorName 'the same file line by line ([IO.File]::ReadLines)' -Floor { [Linq.Enumerable]::Count([IO.File]::ReadLines($file)) }))
    }

    if ('enumerate' -in $Part) {
        $nlcount = Join-Path $Tools 'nlcount'
        $sockfarm = Join-Path $Tools 'sockfarm'
        if ($Pairs -le 0 -or -not (Test-Path $sockfarm) -or -not (Test-Path $nlcount) -or -not $IsLinux) {
            Write-Output "enumerate: skipped (needs Linux, $sockfarm and $nlcount, and -Pairs above 0)."
            Write-Output ''
        }
        else {
            # sockfarm spreads the population over worker processes under the open-file limit, as the enumerate suite does.
            $start = [Diagnostics.ProcessStartInfo]::new($sockfarm)
            foreach ($argument in '-n', $Pairs, '-l', 100, '-u', [Math]::Max(10, [int]($Pairs / 10)), '-6', [Math]::Max(10, [int]($Pairs / 100)), '-q') { $start.ArgumentList.Add([string]$argument) }
            $start.RedirectStandardOutput = $true
            $start.UseShellExecute = $false
            $farm = [Diagnostics.Process]::Start($start)
            try {
                while ($null -ne ($line = $farm.StandardOutput.ReadLine()) -and -not $line.StartsWith('READY')) { }
                if ($null -eq $line) { throw 'sockfarm exited before READY.' }
                Start-Sleep -Milliseconds 500
                $count = @(Get-SocketTuple -SkipProcess).Count
                $rows.Add((Measure-AgainstFloor -Name 'Get-SocketTuple -SkipProcess | Measure-Object' -Count $count -Unit sockets `
                            -Candidate { Get-SocketTuple -SkipProcess | Measure-Object } `
                            -FloorName 'nlcount (bare TCP netlink dump)' -Floor { & $nlcount }))
                $rows.Add((Measure-AgainstFloor -Name 'Get-SocketTuple -SkipProcess -Protocol Tcp | Measure-Object' -Count $count -Unit sockets `
                            -Candidate { Get-SocketTuple -SkipProcess -Protocol Tcp | Measure-Object } `
                            -FloorName 'nlcount (bare TCP netlink dump)' -Floor { & $nlcount }))
                $rows.Add((Measure-AgainstFloor -Name 'Get-SocketTuple -SkipProcess (into a variable)' -Count $count -Unit sockets `
                            -Candidate { $kept = Get-SocketTuple -SkipProcess } `
                            -FloorName 'LiveSocketTable.Read, no owners (the core, from this process)' -Floor { [PortTools.LiveSocketTable]::Read([PortTools.SocketQuery]@{ IncludeProcesses = $false }) }))

                # Retained memory per socket: the core's list, then the same sockets as PowerShell keeps them.
                [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
                $before = [GC]::GetTotalMemory($true)
                $core = [PortTools.LiveSocketTable]::Read([PortTools.SocketQuery]@{ IncludeProcesses = $false })
                $coreBytes = ([GC]::GetTotalMemory($true) - $before) / $core.Sockets.Count
                $coreCount = $core.Sockets.Count
                $core = $null
                [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
                $before = [GC]::GetTotalMemory($true)
                $kept = Get-SocketTuple -SkipProcess
                $keptBytes = ([GC]::GetTotalMemory($true) - $before) / $kept.Count
                $keptCount = $kept.Count
                $kept = $null
                # What PowerShell adds, measured on its own: one PSObject wrapper per object and the array slot that holds it.
                $core = [PortTools.LiveSocketTable]::Read([PortTools.SocketQuery]@{ IncludeProcesses = $false }).Sockets
                [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
                $before = [GC]::GetTotalMemory($true)
                $wrappers = [object[]]::new($core.Count)
                for ($i = 0; $i -lt $core.Count; $i++) { $wrappers[$i] = [psobject]::new($core[$i]) }
                $wrapperBytes = ([GC]::GetTotalMemory($true) - $before) / $core.Count
                $wrappers = $null; $core = $null
                [GC]::Collect()
                Write-Output ("Retained per socket: the core's list {0:0} B ({1:N0} sockets); Get-SocketTuple -SkipProcess kept in a variable {2:0} B ({3:N0} sockets); difference {4:0} B; a PSObject wrapper and its array slot, measured alone: {5:0} B." -f $coreBytes, $coreCount, $keptBytes, $keptCount, ($keptBytes - $coreBytes), $wrapperBytes)
                Write-Output ''
            }
            finally {
                $null = & kill -TERM $farm.Id
                if (-not $farm.WaitForExit(60000)) { $farm.Kill($true) }
            }
        }
    }

    if ('socket-table' -in $Part) {
        # Sockets parsed from an ss -tanp text: listeners, connections with owners, TIME-WAIT, IPv4 and IPv6.
        $file = New-SsFile $Sockets
        $table = @(ConvertFrom-SocketTable -LiteralPath $file)
        $list = [Collections.Generic.List[PortTools.SocketTuple]]::new($table.Count)
        foreach ($socket in $table) { $list.Add($socket) }
        $facts = [PortTools.HostFacts]::new([PortTools.TargetOS]::Linux, [ipaddress[]]@('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '127.0.0.1'))
        $rows.Add((Measure-AgainstFloor -Name 'Test-PortBind -SocketTable $table (SocketTuples in a variable)' -Count $table.Count -Unit sockets `
                    -Candidate { Test-PortBind -SocketTable $table -TargetOS Linux -Port 20000 -Quiet } `
                    -FloorName 'SocketIndex.Build of the same sockets' -Floor { [PortTools.SocketIndex]::Build($list, $facts) }))

        # Deserialized once, and as many as possible: on 20,000 rows the index build takes about 4 ms, of
        # the order of a cmdlet's fixed cost (about 1 ms) and of the floor's swings from round to round.
        $serializedCount = [Math]::Min($DeserializedSockets, $list.Count)
        $serialized = $list.GetRange(0, $serializedCount)
        $xml = [Management.Automation.PSSerializer]::Serialize([object[]]$serialized.ToArray(), 1)
        $deserialized = @([Management.Automation.PSSerializer]::Deserialize($xml))
        $rows.Add((Measure-AgainstFloor -Name 'Test-PortBind -SocketTable of PSSerializer rows (module loaded: rehydrated)' -Count $serializedCount -Unit sockets `
                    -Candidate { Test-PortBind -SocketTable $deserialized -TargetOS Linux -Port 20000 -Quiet } `
                    -FloorName 'SocketIndex.Build of the same sockets' -Floor { [PortTools.SocketIndex]::Build($serialized, $facts) }))
        # Deserializing costs 180-450 µs a row here, in every round: a slice of the rows is enough to show its share.
        $sliceCount = [Math]::Min(20000, $serializedCount)
        $sliceXml = [Management.Automation.PSSerializer]::Serialize([object[]]$list.GetRange(0, $sliceCount).ToArray(), 1)
        $rows.Add((Measure-AgainstFloor -Name 'PSSerializer.Deserialize of the rows plus Test-PortBind' -Count $sliceCount -Unit sockets `
                    -Candidate { $rows2 = [Management.Automation.PSSerializer]::Deserialize($sliceXml); Test-PortBind -SocketTable $rows2 -TargetOS Linux -Port 20000 -Quiet } `
                    -FloorName 'PSSerializer.Deserialize alone' -Floor { [Management.Automation.PSSerializer]::Deserialize($sliceXml) }))

        # Property bags as a session without the module's type data gets them (SSH remoting before PortTools is
        # loaded there): the same rows deserialized in a runspace whose type table has no PortTools types, each a
        # Deserialized.PortTools.SocketTuple with all its properties, every name and value an object of its own.
        $bare = [powershell]::Create([Management.Automation.Runspaces.InitialSessionState]::CreateDefault2())
        try {
            $bags = @($bare.AddScript('param($xml) [Management.Automation.PSSerializer]::Deserialize($xml)').AddArgument($xml).Invoke())
        }
        finally {
            $bare.Dispose()
        }
        if ($bags.Count -ne $serializedCount -or $bags[0] -is [PortTools.SocketTuple] -or $bags[0].PSObject.TypeNames[0] -ne 'Deserialized.PortTools.SocketTuple') {
            throw "Deserializing without the module gave $($bags.Count) rows of type $($bags[0].PSObject.TypeNames[0]), not $serializedCount property bags."
        }
        $rows.Add((Measure-AgainstFloor -Name 'Test-PortBind -SocketTable of property bags (deserialized without the module)' -Count $serializedCount -Unit sockets `
                    -Candidate { Test-PortBind -SocketTable $bags -TargetOS Linux -Port 20000 -Quiet } `
                    -FloorName 'SocketIndex.Build of the same sockets' -Floor { [PortTools.SocketIndex]::Build($serialized, $facts) }))
        $bags = $null

        # [pscustomobject] rows with only the usual columns and typed values (Select-Object, ConvertFrom-Json).
        $customRows = foreach ($socket in $serialized) {
            [pscustomobject]@{
                Protocol = $socket.Protocol.ToString(); State = $socket.State.ToString(); LocalAddress = $socket.LocalAddress.ToString(); LocalPort = $socket.LocalPort
                RemoteAddress = "$($socket.RemoteAddress)"; RemotePort = $socket.RemotePort; ProcessId = $socket.ProcessId; ProcessName = $socket.ProcessName
            }
        }
        $rows.Add((Measure-AgainstFloor -Name 'Test-PortBind -SocketTable of [pscustomobject] rows (eight columns)' -Count $serializedCount -Unit sockets `
                    -Candidate { Test-PortBind -SocketTable $customRows -TargetOS Linux -Port 20000 -Quiet } `
                    -FloorName 'SocketIndex.Build of the same sockets' -Floor { [PortTools.SocketIndex]::Build($serialized, $facts) }))
        Remove-Variable table, list, serialized, xml, sliceXml, deserialized, bags, customRows
        [GC]::Collect()
    }

    if ($rows.Count) {
        Write-Table $rows 'Measurement', 'Count', 'Time', 'PerSecond', 'Floor', 'FloorTime', 'Ratio'
    }

    if ('parse' -in $Part) {
        $file = New-SsFile $Lines
        $tenth = New-SsFile ([Math]::Max(1, [int]($Lines / 10)))
        $import = "Import-Module '$(Join-Path $ModulePath 'PortTools.psd1')'"
        $bare = Get-PeakKilobytes "$import"
        $small = Get-PeakKilobytes "$import; ConvertFrom-SocketTable -LiteralPath '$tenth' | Out-Null"
        $large = Get-PeakKilobytes "$import; ConvertFrom-SocketTable -LiteralPath '$file' | Out-Null"
        Write-Output ("Streaming: peak RSS of a fresh pwsh that imports the module {0:0.0} MB; that reads {1:N0} lines {2:0.0} MB; {3:N0} lines {4:0.0} MB." -f ($bare / 1KB), [int]($Lines / 10), ($small / 1KB), $Lines, ($large / 1KB))
        Write-Output ''
    }

    if ('import' -in $Part) {
        $manifest = Join-Path $ModulePath 'PortTools.psd1'
        $first = "Import-Module '$manifest'; `$null = Get-SocketTuple -SkipProcess -Protocol Tcp -LocalPort 1"
        $row = Measure-AgainstFloor -Name 'pwsh -NoProfile -c "Import-Module PortTools; Get-SocketTuple"' -Count 1 -Unit start `
            -Candidate { & $pwshPath -NoProfile -NonInteractive -Command $first } `
            -FloorName 'pwsh -NoProfile -c 1' -Floor { & $pwshPath -NoProfile -NonInteractive -Command 1 }
        Write-Table @($row) 'Measurement', 'Time', 'Floor', 'FloorTime', 'Ratio'
        # The cost over a bare start, round by round.
        $over = [Collections.Generic.List[double]]::new()
        for ($round = 0; $round -lt $Rounds; $round++) {
            $c = Invoke-Timed { & $pwshPath -NoProfile -NonInteractive -Command $first }
            $f = Invoke-Timed { & $pwshPath -NoProfile -NonInteractive -Command 1 }
            $over.Add($c - $f)
        }
        Write-Output ("Import-Module plus a first Get-SocketTuple over a bare start: {0}" -f (Format-Range $over { param($v) Format-Ms $v }))
        # The same two steps timed inside the process, apart: which of them the cost over a bare start is.
        $split = "`$watch = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$manifest'; `$imported = `$watch.Elapsed.TotalMilliseconds; " +
            "`$null = Get-SocketTuple -SkipProcess -Protocol Tcp -LocalPort 1; [string]::Join(' ', [string[]] @(`$imported, (`$watch.Elapsed.TotalMilliseconds - `$imported)))"
        $importMs = [Collections.Generic.List[double]]::new()
        $firstReadMs = [Collections.Generic.List[double]]::new()
        for ($round = 0; $round -lt $Rounds; $round++) {
            $times = (& $pwshPath -NoProfile -NonInteractive -Command $split) -split ' '
            $importMs.Add([double]::Parse($times[0], [cultureinfo]::InvariantCulture))
            $firstReadMs.Add([double]::Parse($times[1], [cultureinfo]::InvariantCulture))
        }
        Write-Output ("Inside the process: Import-Module {0}, then the first Get-SocketTuple {1}." -f (Format-Range $importMs { param($v) Format-Ms $v }), (Format-Range $firstReadMs { param($v) Format-Ms $v }))
        Write-Output ''
    }

    if ('pipeline' -in $Part) {
        $pipeline = Join-Path $PSScriptRoot 'PipelineBenchmark.ps1'
        if (Test-Path $pipeline) {
            Write-Output '## Pipeline rows (tests/PipelineBenchmark.ps1)'
            Write-Output ''
            $arguments = @{ Rounds = $Rounds }
            if ($Tiny) { $arguments.Tiny = $true }
            $command = Get-Command $pipeline
            foreach ($name in @($arguments.Keys)) { if (-not $command.Parameters.ContainsKey($name)) { $arguments.Remove($name) } }
            & $pipeline @arguments
        }
        else {
            Write-Output 'pipeline: skipped (tests/PipelineBenchmark.ps1 does not exist on this branch; the rows work adds it).'
        }
        Write-Output ''
    }

    if ('core' -in $Part) {
        Initialize-BenchmarkProject
        foreach ($suite in $CoreSuite.Keys) {
            $suiteArguments = @($CoreSuite[$suite]) + @('--rounds', $Rounds)
            if ($suite -in 'enumerate', 'unix', 'namespaces' -and -not $IsLinux) { continue }
            Write-Output "## Core suite: $suite (dotnet run -c Release --project tests/PortTools.Benchmarks -- $suite $($suiteArguments -join ' '))"
            Write-Output ''
            & dotnet $benchmarkDll $suite @suiteArguments
            if ($LASTEXITCODE -ne 0) { Write-Output "$suite failed with exit code $LASTEXITCODE." }
            Write-Output ''
        }
    }
}
finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
