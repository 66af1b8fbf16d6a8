BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

# The benchmark script asserts no speed (figures belong in README, never in a test); this only checks
# that it runs at toy sizes and prints every figure with its floor, ratio and range.
Describe 'tests/Benchmark.ps1' {
    BeforeAll {
        $script = Join-Path $PSScriptRoot 'Benchmark.ps1'
        $modulePath = Split-Path (Get-Module PortTools).Path -Parent
        $command = "& '$script' -Tiny -Rounds 2 -Part socket-table, parse, import, pipeline -ModulePath '$modulePath'"
        $output = & (Get-PowerShellPath) -NoProfile -NonInteractive -Command $command 2>&1 | Out-String
        $exitCode = $LASTEXITCODE
    }

    It 'runs at toy sizes' {
        $exitCode | Should -Be 0 -Because $output
    }

    It 'prints each measurement beside its floor, with a ratio and a min-max range' {
        foreach ($name in 'Test-PortBind -SocketTable $table', 'PSSerializer rows', 'property bags', '[pscustomobject] rows', 'ConvertFrom-SocketTable -Path', 'Import-Module PortTools') {
            $row = @($output -split "`n" | Where-Object { $_.StartsWith('| ') -and $_.Contains($name) })
            $row.Count | Should -BeGreaterThan 0 -Because "the output has a row for '$name': $output"
            $row[0] | Should -Match '\d+\.\d\dx \(\d+\.\d\dx-\d+\.\d\dx\) \|$' -Because 'the last column is the ratio to the floor with its range'
        }
    }

    It 'says how far the module grows while it streams a file, and what the import costs over a bare start' {
        $output | Should -Match 'Streaming: peak RSS of a fresh pwsh that imports the module [\d.]+ MB'
        $output | Should -Match 'Import-Module plus a first Get-SocketTuple over a bare start: -?[\d.]+ m?s'
        $output | Should -Match 'Inside the process: Import-Module [\d.]+ m?s \([\d.]+ m?s-[\d.]+ m?s\), then the first Get-SocketTuple [\d.]+ m?s \([\d.]+ m?s-[\d.]+ m?s\)\.'
    }

    It 'runs tests/PipelineBenchmark.ps1 when it exists, and says it skipped it when not' {
        if (Test-Path (Join-Path $PSScriptRoot 'PipelineBenchmark.ps1')) {
            $output | Should -Match '## Pipeline rows'
        }
        else {
            $output | Should -Match 'pipeline: skipped'
        }
    }
}
