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

Describe 'Pipeline rows: every value that does not convert is an error for its row' {
    BeforeAll {
        function Invoke-Rows {
            # Runs a pipeline and gathers its output and errors apart (the errors are non-terminating).
            param([scriptblock] $Pipeline)
            $errors = $null
            $output = @(& $Pipeline -ErrorVariable errors -ErrorAction SilentlyContinue 2>$null)
            [pscustomobject]@{ Output = $output; Errors = @($errors) }
        }

        function Invoke-Collect {
            param([scriptblock] $Pipeline)
            # The errors are non-terminating: collected in order, whatever preference the caller runs under.
            $ErrorActionPreference = 'Continue'
            $caught = [System.Collections.Generic.List[object]]::new()
            $output = @(. $Pipeline 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $caught.Add($_) } else { $_ } })
            [pscustomobject]@{ Output = $output; Errors = $caught.ToArray() }
        }
    }

    Context 'Test-PortBind' {
        It 'tests no default in place of a bad address or protocol, and answers the good rows' {
            $rows = "Port,Address,Protocol`n8000,127.0.0.300,Tcp`n8001,127.0.0.1,Sctp`n8002,127.0.0.1,Udp`n,127.0.0.1,Tcp" | ConvertFrom-Csv
            $run = Invoke-Collect { $rows | Test-PortBind -SocketTable @() -TargetOS Linux }
            $run.Output | Should -HaveCount 1
            $run.Output[0].Port | Should -Be 8002
            "$($run.Output[0].Address)" | Should -Be '127.0.0.1'
            "$($run.Output[0].Protocol)" | Should -Be 'Udp'
            $run.Errors | Should -HaveCount 3
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'PipelineValueNotValid,*'
            $run.Errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $run.Errors[0].TargetObject.Address | Should -Be '127.0.0.300'
            $run.Errors[0].Exception.Message | Should -BeLike "Pipeline item 1: Address '127.0.0.300' is not valid: expected an IPv4 address*"
            $run.Errors[1].Exception.Message | Should -BeLike "Pipeline item 2: Protocol 'Sctp' is not valid: expected one of Tcp, Udp*"
            $run.Errors[2].FullyQualifiedErrorId | Should -BeLike 'PipelineValueMissing,*'
            $run.Errors[2].Exception.Message | Should -BeLike 'Pipeline item 4 has no Port (or LocalPort)*'
        }

        It 'still takes numbers, their text and sockets (LocalPort) by value, and -Port on the command line' {
            @(8080, '8081' | Test-PortBind -SocketTable @() -TargetOS Linux).Port | Should -Be @(8080, 8081)
            @([PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:8082' | Test-PortBind -SocketTable @() -TargetOS Linux).Port | Should -Be 8082
            @(Test-PortBind 8083, 8084 -SocketTable @() -TargetOS Linux).Port | Should -Be @(8083, 8084)
            @([pscustomobject]@{ LocalPort = 8085; Protocol = 'udp' } | Test-PortBind -SocketTable @() -TargetOS Linux).Protocol | Should -Be 'Udp'
        }

        It 'lets a value on the command line stand for every row' {
            $rows = "Port,Protocol`n8000,Sctp" | ConvertFrom-Csv
            $result = $rows | Test-PortBind -Protocol Udp -SocketTable @() -TargetOS Linux
            "$($result.Protocol)" | Should -Be 'Udp'
        }

        It 'says when neither -Port nor the pipeline gives a port' {
            { Test-PortBind -SocketTable @() -TargetOS Linux -ErrorAction Stop } | Should -Throw -ErrorId 'PortMissing,PortTools.Commands.TestPortBindCommand'
        }
    }

    Context 'Resolve-Demux' {
        It 'writes an error for each bad row, with its position, property and value, and resolves the others' {
            $rows = @"
Protocol,SourceAddress,SourcePort,DestinationAddress,DestinationPort
Tcp,198.51.100.7,40000,10.0.0.5,80
Tcp,198.51.100.300,40000,10.0.0.5,80
Tcp,198.51.100.7,40000,10.0.0.5,
Sctp,198.51.100.7,40000,10.0.0.5,80
Tcp,198.51.100.7,40001,10.0.0.5,81
"@ | ConvertFrom-Csv
            $run = Invoke-Collect { $rows | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux }
            $run.Output | Should -HaveCount 2
            # In PowerShell an endpoint reads as its text (JSON and CSV write it so too).
            @($run.Output | ForEach-Object { "$($_.Destination)" }) | Should -Be @("10.0.0.5:80", "10.0.0.5:81")
            $run.Errors | Should -HaveCount 3
            $run.Errors[0].Exception.Message | Should -BeLike "Pipeline item 2: SourceAddress '198.51.100.300' is not valid*"
            $run.Errors[0].TargetObject | Should -Be $rows[1]
            $run.Errors[1].FullyQualifiedErrorId | Should -BeLike 'PipelineValueMissing,*'
            $run.Errors[1].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $run.Errors[1].Exception.Message | Should -BeLike 'Pipeline item 3 has no DestinationPort*'
            $run.Errors[2].Exception.Message | Should -BeLike "Pipeline item 4: Protocol 'Sctp'*"
        }

        It 'takes endpoint rows (Source, Destination) and values on the command line for every row' {
            $rows = [pscustomobject]@{ Source = '198.51.100.7:40000'; Destination = '10.0.0.5:80' }, [pscustomobject]@{ Source = '198.51.100.7:40000'; Destination = '10.0.0.5:80:1' }
            $run = Invoke-Collect { $rows | Resolve-Demux -Protocol Tcp -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux }
            $run.Output | Should -HaveCount 1
            $run.Output[0].Outcome | Should -Be 'Delivered'
            $run.Errors | Should -HaveCount 1
            $run.Errors[0].Exception.Message | Should -BeLike "Pipeline item 2: Destination '10.0.0.5:80:1' is not valid*"
        }

        It 'refuses a socket piped in, by name, rather than binding its Source (Live) to -Source' {
            $sockets = [PortTools.SocketTuple]'tcp ESTAB 10.0.0.5:80 198.51.100.7:40000', [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80'
            $run = Invoke-Collect { $sockets | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux }
            $run.Output | Should -HaveCount 0
            $run.Errors | Should -HaveCount 2
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'PipelineInputNotUsed,*'
            $run.Errors[0].Exception.Message | Should -BeLike '*a socket is not a packet*'
            # A deserialized socket (remoting, Import-Clixml) is refused the same way.
            $bag = $sockets[0] | ConvertTo-PropertyBag
            $run = Invoke-Collect { $bag | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux }
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'PipelineInputNotUsed,*'
        }
    }

    Context 'Test-PortConnect' {
        It 'writes an error for a destination without a port and a bad protocol, and answers the others' {
            $rows = "Destination,Protocol`n10.0.0.5:5432,Tcp`n10.0.0.5,Tcp`n10.0.0.6:80,Sctp`n,Tcp" | ConvertFrom-Csv
            $run = Invoke-Collect { $rows | Test-PortConnect -SocketTable @() -TargetOS Linux -EphemeralPortRange 32768-60999 }
            $run.Output | Should -HaveCount 1
            "$($run.Output[0].Destination)" | Should -Be '10.0.0.5:5432'
            $run.Errors | Should -HaveCount 3
            $run.Errors[0].Exception.Message | Should -BeLike "Pipeline item 2: Destination '10.0.0.5' is not valid. The destination '10.0.0.5' has no port*"
            $run.Errors[1].Exception.Message | Should -BeLike "Pipeline item 3: Protocol 'Sctp'*"
            $run.Errors[2].FullyQualifiedErrorId | Should -BeLike 'PipelineValueMissing,*'
        }

        It 'still takes endpoint text, and sockets as their peer' {
            $results = '10.0.0.5:5432', [PortTools.SocketTuple]'tcp ESTAB 10.0.0.9:50000 10.0.0.7:443' | Test-PortConnect -SocketTable @() -TargetOS Linux -EphemeralPortRange 32768-60999
            @($results | ForEach-Object { "$($_.Destination)" }) | Should -Be @('10.0.0.5:5432', '10.0.0.7:443')
        }
    }

    Context 'Get-PortInfo' {
        It 'writes an error for a bad port or protocol and describes the others' {
            $rows = "Port,Protocol`n443,Tcp`nabc,Tcp`n80,Sctp" | ConvertFrom-Csv
            $run = Invoke-Collect { $rows | Get-PortInfo }
            @($run.Output | ForEach-Object { $_.Port }) | Should -Be @(443)
            $run.Errors | Should -HaveCount 2
            $run.Errors[0].Exception.Message | Should -BeLike "Pipeline item 2: Port 'abc' is not valid*"
            $run.Errors[1].Exception.Message | Should -BeLike "Pipeline item 3: Protocol 'Sctp'*"
            @(443, '8000-8001' | Get-PortInfo -Protocol Tcp) | Should -HaveCount 3
        }
    }

    Context 'Measure-EphemeralPortUsage' {
        It 'leaves out a row that is not a socket with an error that names it, and measures the others' {
            $rows = @"
Protocol,State,LocalAddress,LocalPort,RemoteAddress,RemotePort
Tcp,Established,10.0.0.5,50000,203.0.113.10,443
Sctp,Established,10.0.0.5,50001,203.0.113.10,443
Tcp,Established,10.0.0.5,50002,203.0.113.10,443
"@ | ConvertFrom-Csv
            $run = Invoke-Collect { $rows | Measure-EphemeralPortUsage -TargetOS Linux }
            $run.Output | Should -HaveCount 1
            $run.Output[0].InUse | Should -Be 2
            $run.Errors | Should -HaveCount 1
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSocketTableEntry,*'
            $run.Errors[0].Exception.Message | Should -BeLike 'Socket table entry 2 *Sctp*'
            $run.Errors[0].TargetObject | Should -Be $rows[1]
        }
    }
}

Describe 'Sockets piped into Stop-Process' {
    It 'target the owning process ids (Id), never every process of that name' {
        $listener = New-TestSocket -Address ([System.Net.IPAddress]::Loopback) -Listen
        try {
            $port = $listener.LocalEndPoint.Port
            $socket = Get-SocketTuple -LocalPort $port -Listening
            @($socket.Id) | Should -Be @($PID)
            # -WhatIf writes to the host: a child PowerShell's standard output shows what it would stop.
            $manifest = Join-Path $ModulePath 'PortTools.psd1'
            $whatIf = @(& (Get-PowerShellPath) -NoProfile -NonInteractive -Command "Import-Module '$manifest'; Get-SocketTuple -LocalPort $port -Listening | Stop-Process -WhatIf" 2>&1 | ForEach-Object { "$_" } | Where-Object { $_ -like 'What if:*' })
            $whatIf | Should -HaveCount 1
            $whatIf[0] | Should -BeLike "*($PID)*"
        }
        finally {
            $listener.Dispose()
        }
    }

    It 'lists every owner of a shared socket in Id, and binds -Id in a -WhatIf run' {
        $socket = [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 pid=2147483001,2147483002 process=nginx'
        @($socket.Id) | Should -Be @(2147483001, 2147483002)
        $socket.Id.ToString() | Should -Be '2147483001,2147483002' # as Export-Csv writes it
        $run = $socket | Stop-Process -WhatIf -ErrorAction SilentlyContinue -ErrorVariable failed
        # Stop-Process looked the owners up by id (and found none): it did not bind -Name nginx.
        @($failed | ForEach-Object { $_.FullyQualifiedErrorId }) | Should -Be @('NoProcessFoundForGivenId,Microsoft.PowerShell.Commands.StopProcessCommand', 'NoProcessFoundForGivenId,Microsoft.PowerShell.Commands.StopProcessCommand')
    }

    It 'binds nothing for a socket without a known owner' {
        { [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80' | Stop-Process -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationErrorEmptyArrayNotAllowed,Microsoft.PowerShell.Commands.StopProcessCommand'
    }
}
