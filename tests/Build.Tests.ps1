BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # The PowerShell .ci/run installs as a .NET tool: its launcher runs PowerShell inside the dotnet host.
    $ToolShell = Get-ToolPowerShellPath
    $HaveToolShell = Test-Path -LiteralPath $ToolShell -PathType Leaf
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $buildScript = Join-Path $RepositoryRoot 'build.ps1'
    $toolShell = Get-ToolPowerShellPath

    # Runs build.ps1's own Get-PowerShellPath in a shell, with the shell's process path beside it.
    # The function is taken from the script's syntax tree, so the test runs the code build.ps1 runs.
    $probe = @"
`$tree = [System.Management.Automation.Language.Parser]::ParseFile('$($buildScript -replace "'", "''")', [ref]`$null, [ref]`$null)
`$function = `$tree.Find({ param(`$node) `$node -is [System.Management.Automation.Language.FunctionDefinitionAst] -and `$node.Name -eq 'Get-PowerShellPath' }, `$true)
. ([scriptblock]::Create(`$function.Extent.Text))
'chosen=' + (Get-PowerShellPath)
'process=' + (Get-Process -Id `$PID).Path
'version=' + `$PSVersionTable.PSVersion + ' ' + `$PSVersionTable.PSEdition
"@

    function Invoke-Probe {
        param([string] $Shell, [string] $Command = $probe)
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Command))
        $result = @{}
        foreach ($line in & $Shell -NoProfile -NonInteractive -EncodedCommand $encoded) {
            $key, $value = "$line" -split '=', 2
            $result[$key] = $value
        }
        $result
    }
}

Describe 'build.ps1 starts its Pester child in the PowerShell that runs it' {
    It 'takes the executable in $PSHOME of this PowerShell' {
        $found = Invoke-Probe -Shell (Get-PowerShellPath)
        $LASTEXITCODE | Should -Be 0
        Split-Path -Parent $found.chosen | Should -Be $PSHOME
        Split-Path -Leaf $found.chosen | Should -BeIn 'pwsh', 'pwsh.exe', 'powershell.exe'
        $found.version | Should -Be "$($PSVersionTable.PSVersion) $($PSVersionTable.PSEdition)"
    }

    It 'takes pwsh, not the dotnet host, under the .NET-tool PowerShell that .ci/run installs' -Skip:(-not $HaveToolShell) {
        $found = Invoke-Probe -Shell $toolShell
        $LASTEXITCODE | Should -Be 0
        # The case at hand: the tool's launcher runs PowerShell in the dotnet host.
        Split-Path -Leaf $found.process | Should -BeIn 'dotnet', 'dotnet.exe'
        Split-Path -Leaf $found.chosen | Should -BeIn 'pwsh', 'pwsh.exe'

        # The shell chosen is that same PowerShell, and runs on its own.
        $child = Invoke-Probe -Shell $found.chosen -Command "'version=' + `$PSVersionTable.PSVersion + ' ' + `$PSVersionTable.PSEdition"
        $LASTEXITCODE | Should -Be 0
        $child.version | Should -Be $found.version
    }
}

Describe 'build.ps1 -Task Test without Pester' {
    It 'stops at once with one message that says how to get Pester, and fetches nothing' {
        # Neither PSModulePath (only PowerShell's own modules) nor the tool folder has Pester.
        $tools = Join-Path $TestDrive 'tools'
        $modules = Join-Path $PSHOME 'Modules'
        $command = "`$env:PSModulePath = '$modules'; try { & '$buildScript' -Task Test -ToolPath '$tools' 6>`$null } catch { 'error=' + `$_.Exception.Message; exit 1 }"
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($command))
        $output = @(& (Get-PowerShellPath) -NoProfile -NonInteractive -EncodedCommand $encoded)
        $LASTEXITCODE | Should -Be 1
        $output | Should -HaveCount 1 -Because 'nothing is built or run before Pester is found'
        $output[0] | Should -BeLike "error=Pester 5.5.0 or a later 5.x is needed*"
        $output[0] | Should -BeLike "*.ci/install-pester '$tools'*"
        $output[0] | Should -BeLike '*Install-PSResource -Name Pester*'
        Test-Path -LiteralPath $tools | Should -BeFalse
    }
}
