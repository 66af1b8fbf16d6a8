# Every example of src/PortTools/Help/*.md: each parses, and each that runs verbatim on a fresh Linux
# host runs there without errors it does not show. An example that cannot (it needs another host, a
# file, a namespace or a process of its own) says so in its remarks with "This example needs", and
# one that changes the host says "This example changes the host" and shows how to undo it; those
# are parsed, not run.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function Get-HelpExample {
        param([string] $Path)
        $cmdlet = [System.IO.Path]::GetFileNameWithoutExtension($Path)
        $lines = (Get-Content -LiteralPath $Path -Raw -Encoding UTF8) -replace "`r`n", "`n" -split "`n"
        $current = $null
        $fence = $null
        $inExamples = $false
        foreach ($line in $lines) {
            if ($null -ne $fence) {
                if ($line -match '^```') {
                    if ($current) { $current[$fence.Kind] = $fence.Text.ToString().TrimEnd("`n") }
                    $fence = $null
                }
                else { $null = $fence.Text.Append($line).Append("`n") }
                continue
            }

            if ($line -match '^## ') {
                if ($current) { $current; $current = $null }
                $inExamples = $line -match '^## EXAMPLES'
                continue
            }

            if (-not $inExamples) { continue }
            if ($line -match '^### (.+)$') {
                if ($current) { $current }
                $current = @{ Cmdlet = $cmdlet; Title = $Matches[1]; Code = ''; Output = ''; Remarks = '' }
                continue
            }

            if ($line -match '^```(\w*)') {
                $fence = @{ Kind = $(if ($Matches[1] -eq 'powershell') { 'Code' } else { 'Output' }); Text = New-Object System.Text.StringBuilder }
                continue
            }

            if ($current) { $current.Remarks += $line + "`n" }
        }

        if ($current) { $current }
    }

    $script:Examples = @(Get-ChildItem -Path (Join-Path $PSScriptRoot '../src/PortTools/Help') -Filter '*.md' | ForEach-Object { Get-HelpExample -Path $_.FullName })
    foreach ($example in $script:Examples) {
        $example.Needs = $example.Remarks -match 'This example needs'
        $example.ChangesHost = $example.Remarks -match 'This example changes the host'
    }

    $script:CanRun = $script:OnLinux -and $script:IsRoot
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ('porttools-examples-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $script:Work
    # The examples of one help file run in one session, in order, as a reader would type them: an example
    # may use what an earlier one made ("the table of Example 2").
    $script:Sessions = @{}
}

AfterAll {
    foreach ($session in $script:Sessions.Values) { $session.Dispose() }
    Remove-Item -LiteralPath $script:Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Help examples' {
    It 'finds the examples of every help file' -ForEach @(@{ Count = $script:Examples.Count; Files = @($script:Examples | ForEach-Object { $_.Cmdlet } | Select-Object -Unique).Count }) {
        $Count | Should -BeGreaterThan 30
        $Files | Should -Be @(Get-ChildItem -Path (Join-Path $PSScriptRoot '../src/PortTools/Help') -Filter '*.md').Count
    }

    Context '<Cmdlet>: <Title>' -ForEach $script:Examples {
        It 'parses' {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty
            $Output | Should -Not -BeNullOrEmpty
        }

        It 'says how to undo what it changes' -Skip:(-not $ChangesHost) {
            $Remarks | Should -Match 'undo'
        }

        It 'does not change the host without saying so' {
            if (-not $ChangesHost) {
                $Code | Should -Not -Match 'sysctl -w|ip netns (add|delete)|ip link (add|del)|Stop-Process|Remove-Item|setcap'
            }
        }

        It 'runs verbatim' -Skip:(-not $script:CanRun -or $Needs -or $ChangesHost) {
            if (-not $script:Sessions.ContainsKey($Cmdlet)) {
                $session = [runspacefactory]::CreateRunspace()
                $session.Open()
                $script:Sessions[$Cmdlet] = $session
                $setup = [powershell]::Create()
                $setup.Runspace = $session
                $null = $setup.AddCommand('Import-Module').AddParameter('Name', (Join-Path $script:ModulePath 'PortTools.psd1')).AddStatement()
                $null = $setup.AddCommand('Set-Location').AddParameter('LiteralPath', $script:Work)
                $null = $setup.Invoke()
                $setup.Dispose()
            }

            $shell = [powershell]::Create()
            $shell.Runspace = $script:Sessions[$Cmdlet]
            try {
                $null = $shell.AddScript($Code)
                $async = $shell.BeginInvoke()
                if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60))) {
                    $shell.Stop()
                    throw "$Cmdlet '$Title' did not finish in 60 s."
                }

                $null = $shell.EndInvoke($async)
                # An example whose output shows an error (Get-PortInfo: Unknown service ...) may write one.
                $showsError = $Output -match '(?m)^[A-Z][a-z]+-[A-Za-z]+: '
                if (-not $showsError) {
                    @($shell.Streams.Error | ForEach-Object { $_.ToString() }) | Should -BeNullOrEmpty -Because "$Cmdlet '$Title' shows no error"
                }
            }
            finally {
                $shell.Dispose()
            }
        }
    }
}
