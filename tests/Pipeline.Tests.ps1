BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function Invoke-Isolated {
        # Runs a script in its own runspace with the module loaded, so that its progress records can be
        # read from Streams.Progress (the progress stream cannot be redirected in a session).
        param([string] $Script, [string] $ProgressPreference = 'Continue')
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("`$ProgressPreference = '$ProgressPreference'; Import-Module -Name '$(Join-Path $ModulePath 'PortTools.psd1')'; $Script")
            $output = $shell.Invoke()
            [pscustomobject]@{ Output = $output; Progress = @($shell.Streams.Progress); Errors = @($shell.Streams.Error) }
        }
        finally {
            $shell.Dispose()
        }
    }

    # Three packets that arrive slowly: the pipeline runs for more than the second after which progress shows.
    $slowPackets = "1..3 | ForEach-Object { Start-Sleep -Milliseconds 600; [pscustomobject]@{ Protocol = 'Tcp'; Source = '198.51.100.7:4000' + `$_; Destination = '10.0.0.5:80' } }"
}

Describe 'Long pipelines' {
    Context 'Progress' {
        It 'shows how many packets Resolve-Demux has resolved once the pipeline has run for a second, and closes the bar' {
            $run = Invoke-Isolated "$slowPackets | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux"
            $run.Errors | Should -BeNullOrEmpty
            $run.Output | Should -HaveCount 3
            $run.Progress | Should -Not -BeNullOrEmpty
            $run.Progress | ForEach-Object { $_.Activity | Should -Be 'Resolve-Demux' }
            $run.Progress[0].StatusDescription | Should -Match '^\d packets resolved$'
            $run.Progress[-1].RecordType | Should -Be 'Completed'
        }

        It 'shows nothing for a pipeline shorter than a second' {
            $run = Invoke-Isolated "'10.0.0.5:80', '10.0.0.5:81' | ForEach-Object { [pscustomobject]@{ Protocol = 'Tcp'; Source = '198.51.100.7:40000'; Destination = `$_ } } | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux"
            $run.Output | Should -HaveCount 2
            $run.Progress | Should -BeNullOrEmpty
        }

        It 'honours $ProgressPreference' {
            $run = Invoke-Isolated "$slowPackets | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux" -ProgressPreference SilentlyContinue
            $run.Output | Should -HaveCount 3
            $run.Progress | Should -BeNullOrEmpty
        }

        It 'counts the ports Test-PortBind has checked' {
            $run = Invoke-Isolated "1..3 | ForEach-Object { Start-Sleep -Milliseconds 600; 8080 + `$_ } | Test-PortBind -SocketTable @() -TargetOS Linux"
            $run.Output | Should -HaveCount 3
            $run.Progress[0].StatusDescription | Should -Match '^\d ports checked$'
            $run.Progress[-1].RecordType | Should -Be 'Completed'
        }
    }

    Context 'Stopping' {
        It 'stops a running pipeline at once, as Ctrl+C does, and writes no error' {
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript("Import-Module -Name '$(Join-Path $ModulePath 'PortTools.psd1')'; 1..600 | ForEach-Object { Start-Sleep -Milliseconds 50; 8000 + `$_ } | Test-PortBind -SocketTable @() -TargetOS Linux")
                $handle = $shell.BeginInvoke()
                Start-Sleep -Milliseconds 500
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $shell.Stop()
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $handle.IsCompleted | Should -BeTrue
                $shell.InvocationStateInfo.State | Should -Be 'Stopped'
                $shell.Streams.Error | Should -BeNullOrEmpty
            }
            finally {
                $shell.Dispose()
            }
        }

        It 'stops a live read of the socket table' -Skip:(-not ($OnLinux -or $OnWindows -or $OnMacOS)) {
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript("Import-Module -Name '$(Join-Path $ModulePath 'PortTools.psd1')'; while (`$true) { Get-SocketTuple | Out-Null }")
                $handle = $shell.BeginInvoke()
                Start-Sleep -Milliseconds 500
                $shell.Stop()
                $handle.IsCompleted | Should -BeTrue
                $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally {
                $shell.Dispose()
            }
        }
    }
}
