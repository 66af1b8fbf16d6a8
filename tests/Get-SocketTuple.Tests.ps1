BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Get-SocketTuple' {
    Context 'Module surface' {
        It 'is exported with help that has at least three examples' {
            $command = Get-Command -Name Get-SocketTuple -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name Get-SocketTuple -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }) {
                ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
            }
        }

        It 'declares SocketTuple (and UnixSocket for its Unix parameter set) as its output types' {
            (Get-Command Get-SocketTuple).OutputType.Name | Sort-Object | Should -Be @('PortTools.SocketTuple', 'PortTools.UnixSocket')
        }

        It 'converts the canonical text to a SocketTuple and back' {
            $socket = [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:8080 reuseport uid=1000'
            $socket.State | Should -Be 'Listen'
            $socket.LocalPort | Should -Be 8080
            $socket.ReusePort | Should -BeTrue
            $socket.ToString() | Should -Be 'tcp LISTEN 0.0.0.0:8080 reuseport uid=1000'
        }

        It 'rejects bad canonical text with a message naming the token' {
            { [PortTools.SocketTuple]'tcp LISTN 0.0.0.0:80' } | Should -Throw -ExpectedMessage "*unknown state 'LISTN'*"
        }
    }

    Context 'Live sockets' {
        BeforeAll {
            # Linux treats all of 127.0.0.0/8 as local; macOS configures only 127.0.0.1.
            $address = if ($OnLinux) { New-LoopbackAddress } else { [System.Net.IPAddress]::Loopback }
            $listener = New-TestSocket -Address $address -Listen
            $port = $listener.LocalEndPoint.Port
            $udp = New-TestSocket -Protocol Udp -Address $address -Port 0
            $udpPort = $udp.LocalEndPoint.Port
            $ours = @($port, $udpPort)
        }

        AfterAll {
            $listener.Dispose()
            $udp.Dispose()
        }

        It 'finds a listener with this process as its owner' {
            $found = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp
            $found | Should -HaveCount 1
            $found.PSObject.TypeNames[0] | Should -Be 'PortTools.SocketTuple'
            $found.State | Should -Be 'Listen'
            $found.LocalPort | Should -Be $port
            $found.ProcessId | Should -Be $PID
            $found.Local | Should -Be "$($address):$port"
        }

        It 'names the owner at 80 columns, and adds its PID from 90' {
            $found = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp
            $name = $found.ProcessName
            $name | Should -Not -BeNullOrEmpty
            $shown = if ($name.Length -gt 15) { $name.Substring(0, 14) } else { $name }
            foreach ($width in 80, 90, 120) {
                $lines = @(($found | Format-Table | Out-String -Width $width) -split "`r?`n" | Where-Object { $_.Trim() })
                $lines[0] | Should -Match '^Protocol\s+State\s+Local\s+Remote\s+ProcessName\b' -Because "the header at $width columns"
                $lines[2] | Should -Match ([regex]::Escape("$($address):$port") + '\s.*' + [regex]::Escape($shown)) -Because "the row at $width columns"
                if ($width -ge 90) {
                    $lines[0] | Should -Match 'ProcessName\s+ProcessId$'
                    $lines[2].TrimEnd() | Should -Match "\b$PID$"
                }
                else {
                    $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual $width }
                }
            }
        }

        It 'accepts ss spellings and enum names for -State' {
            (Get-SocketTuple -LocalAddress $address -LocalPort $port -State LISTEN).LocalPort | Should -Be $port
            (Get-SocketTuple -LocalAddress $address -LocalPort $udpPort -State UNCONN).Protocol | Should -Be 'Udp'
            (Get-SocketTuple -LocalAddress $address -LocalPort $ours -State Unconnected, Listen) | Should -HaveCount 2
        }

        It 'filters by port range, CIDR prefix and listening' {
            Get-SocketTuple -LocalAddress "$address/32" -LocalPort "$($port - 1)-$($port + 1)" -Protocol Tcp | Should -HaveCount 1
            Get-SocketTuple -LocalAddress $address -LocalPort $ours -Listening | Should -HaveCount 2
            Get-SocketTuple -LocalAddress $address -LocalPort $ours -RemotePort 1-65535 | Should -BeNullOrEmpty
        }

        It 'binds process ids from the pipeline by value and by property name' {
            ($PID | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
            (Get-Process -Id $PID | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
            ([pscustomobject]@{ Id = $PID } | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
            ([pscustomobject]@{ OwningProcess = $PID } | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
        }

        It 'takes sockets and exported sockets as their owners, and a pipeline list of ids as text' {
            $socket = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp
            ($socket | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
            ($socket | ConvertTo-Csv | ConvertFrom-Csv | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
            ([pscustomobject]@{ Pid = "1,$PID" } | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
        }

        It 'refuses the Id of a job, which is not a process id, and answers the other items' {
            $job = Start-Job { 1 }
            try {
                $out = @($job, $PID | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp -ErrorVariable failed -ErrorAction SilentlyContinue)
                $out.LocalPort | Should -Be $port
                $failed | Should -HaveCount 1
                $failed[0].FullyQualifiedErrorId | Should -Be 'PipelineInputNotUsed,PortTools.Commands.GetSocketTupleCommand'
                $failed[0].TargetObject.Id | Should -Be $job.Id
                "$($failed[0])" | Should -Match 'PSRemotingJob is not a process id'
            }
            finally {
                $job | Remove-Job -Force
            }
        }

        It 'writes an error for a row whose process id does not convert or is missing, and answers the rest' {
            $rows = [pscustomobject]@{ Pid = 'abc' }, [pscustomobject]@{ Port = 8080 }, [pscustomobject]@{ Pid = $PID }, [pscustomobject]@{ Pid = @() }
            $out = @($rows | Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out.LocalPort | Should -Be $port
            $failed.FullyQualifiedErrorId | Should -Be @('PipelineValueNotValid,PortTools.Commands.GetSocketTupleCommand', 'PipelineValueMissing,PortTools.Commands.GetSocketTupleCommand', 'PipelineValueMissing,PortTools.Commands.GetSocketTupleCommand')
            "$($failed[2])" | Should -Match 'Pipeline item 4 has no Pid'

            "$($failed[0])" | Should -Match "Pipeline item 1: Pid 'abc' is not valid"
            $failed[1].TargetObject.Port | Should -Be 8080
        }

        It 'keeps -ProcessId of the command line when items are piped too, and says they were not used' {
            $out = @(1 | Get-SocketTuple -ProcessId $PID -LocalAddress $address -LocalPort $port -Protocol Tcp -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out.LocalPort | Should -Be $port
            $failed[0].FullyQualifiedErrorId | Should -Be 'PipelineInputNotUsed,PortTools.Commands.GetSocketTupleCommand'
        }

        It 'writes nothing when the pipeline brings no process' {
            @() | Get-SocketTuple | Should -BeNullOrEmpty
        }

        It 'matches process names with wildcards' {
            $name = (Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).ProcessName
            Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp -ProcessName ($name.Substring(0, 2) + '*') | Should -HaveCount 1
            Get-SocketTuple -LocalAddress $address -LocalPort $port -ProcessName 'no-such-process*' | Should -BeNullOrEmpty
        }

        It 'stops reading when the pipeline has enough, with no error, and reads whole again after' {
            # More sockets than one hand-over batch, so that the read is still going when -First is satisfied.
            $many = @(1..1500 | ForEach-Object { New-TestSocket -Protocol Udp -Address $address -Port 0 })
            try {
                $first = @(Get-SocketTuple -SkipProcess -ErrorVariable readErrors | Select-Object -First 3)
                $first | Should -HaveCount 3
                $readErrors | Should -BeNullOrEmpty
                @(Get-SocketTuple -SkipProcess -Protocol Udp -LocalAddress $address).Count | Should -BeGreaterOrEqual 1501
            }
            finally {
                $many | ForEach-Object { $_.Dispose() }
            }
        }

        It 'leaves owners out with -SkipProcess' {
            $found = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp -SkipProcess
            $found.ProcessId | Should -BeNullOrEmpty
        }

        It 'reads SO_REUSEADDR and SO_REUSEPORT of listening and unconnected sockets from their owner on Linux' -Skip:(-not $OnLinux) {
            $tcp = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp
            $tcp.ReuseAddress | Should -Not -BeNullOrEmpty
            $tcp.ReusePort | Should -BeFalse
            $tcp.ReusePort | Should -BeOfType [bool]
            $unconnected = Get-SocketTuple -LocalAddress $address -LocalPort $udpPort -Protocol Udp
            $unconnected.ReuseAddress | Should -BeFalse
            $unconnected.ReuseAddress | Should -BeOfType [bool]
            $unconnected.ReusePort | Should -BeFalse
        }

        It 'reads the SO_REUSEPORT this process set, as the kernel holds it' -Skip:(-not $OnLinux) {
            $shared = [System.Net.Sockets.Socket]::new($address.AddressFamily, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
            try {
                $shared.SetRawSocketOption(1, 15, [BitConverter]::GetBytes(1)) # SOL_SOCKET, SO_REUSEPORT
                $shared.Bind([System.Net.IPEndPoint]::new($address, 0))
                $shared.Listen(1)
                (Get-SocketTuple -LocalAddress $address -LocalPort $shared.LocalEndPoint.Port).ReusePort | Should -BeTrue
            }
            finally {
                $shared.Dispose()
            }
        }

        It 'leaves the options unknown with -SkipSocketOptions, and with -SkipProcess (no owner, no options)' {
            $skipped = Get-SocketTuple -LocalAddress $address -LocalPort $port, $udpPort -SkipSocketOptions -WarningVariable warnings
            $skipped | Should -HaveCount 2
            $skipped.ProcessId | Should -Contain $PID
            foreach ($socket in $skipped) {
                $socket.ReuseAddress | Should -BeNullOrEmpty
                $socket.ReusePort | Should -BeNullOrEmpty
            }
            $warnings | Should -BeNullOrEmpty
            foreach ($socket in Get-SocketTuple -LocalAddress $address -LocalPort $port, $udpPort -SkipProcess) {
                $socket.ReusePort | Should -BeNullOrEmpty
            }
        }

        It 'warns once, with the count and the cause, when the owner''s options cannot be read' -Skip:(-not ($IsRoot -and (Get-Command setpriv -ErrorAction Ignore))) {
            # Another user (nobody) reads root's sockets: it sees no owner, so no options.
            $copy = Join-Path '/tmp' ('porttools-options-' + [guid]::NewGuid().ToString('N'))
            Copy-Item -LiteralPath $ModulePath -Destination $copy -Recurse
            & chmod -R a+rX $copy
            try {
                $command = "Import-Module '$copy/PortTools.psd1'; Get-SocketTuple -LocalAddress $address -LocalPort $port, $udpPort 3>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.WarningRecord]) { 'warning=' + `$_.Message } else { 'socket=' + `$_.ReusePort } }"
                $lines = & env HOME=/tmp DOTNET_CLI_HOME=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups -- (Get-PowerShellPath) -NoProfile -Command $command
                @($lines | Where-Object { $_ -eq 'socket=' }) | Should -HaveCount 2
                $optionWarnings = @($lines | Where-Object { $_ -like 'warning=The SO_REUSEADDR and SO_REUSEPORT of*' })
                $optionWarnings | Should -HaveCount 1
                $optionWarnings[0] | Should -BeLike '*of 2 listening or unconnected socket(s) could not be read and stay unknown ($null): 2 because no process this user can see holds them*'
            }
            finally {
                Remove-Item -LiteralPath $copy -Recurse -Force
            }
        }

        It 'reports the socket inode on Linux' -Skip:(-not $OnLinux) {
            (Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp -SkipProcess).Inode | Should -Not -BeNullOrEmpty
        }

        It 'classifies the exposure of a loopback listener and filters on it' {
            (Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp).Exposure | Should -Be 'Loopback'
            Get-SocketTuple -LocalAddress $address -LocalPort $port -Exposure Loopback | Should -HaveCount 1
            Get-SocketTuple -LocalAddress $address -LocalPort $port -Exposure AllInterfaces, Public | Should -BeNullOrEmpty
        }

        It 'round-trips a live socket through its text form' {
            $found = Get-SocketTuple -LocalAddress $address -LocalPort $port -Protocol Tcp
            $parsed = [PortTools.SocketTuple]::Parse($found.ToString())
            $parsed.Local | Should -Be $found.Local
            $parsed.ProcessId | Should -Be $found.ProcessId
        }

        It 'stops with one specific error for a namespace that does not exist' -Skip:(-not $OnLinux) {
            # Nothing else can be read, so the error is terminating; it still carries id, category and target.
            $record = $null
            try {
                Get-SocketTuple -NetworkNamespace 'no-such-namespace'
            }
            catch {
                $record = $_
            }
            $record | Should -Not -BeNullOrEmpty
            $record.FullyQualifiedErrorId | Should -Be 'NetworkNamespaceNotFound,PortTools.Commands.GetSocketTupleCommand'
            $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $record.TargetObject | Should -Be 'no-such-namespace'
            $record.Exception.Message | Should -BeLike "*'no-such-namespace' was not found*"
        }

        It 'reads a namespace by process id' -Skip:(-not $IsRoot) {
            (Get-SocketTuple -NetworkNamespace $PID -LocalAddress $address -LocalPort $port -Protocol Tcp).LocalPort | Should -Be $port
        }
    }

    Context 'Bad input' {
        It 'names a reversed port range' {
            { Get-SocketTuple -LocalPort '9000-80' } | Should -Throw -ExpectedMessage "*'9000-80' is reversed*"
        }

        It 'names a port out of range' {
            { Get-SocketTuple -LocalPort 70000 } | Should -Throw -ExpectedMessage '*Port 70000 is out of range*'
        }

        It 'names a malformed CIDR prefix' {
            { Get-SocketTuple -LocalAddress '10.0.0/8' } | Should -Throw -ExpectedMessage "*'10.0.0/8' is not an IP address or CIDR prefix*"
        }

        It 'names an unknown state' {
            { Get-SocketTuple -State 'LISTN' } | Should -Throw -ExpectedMessage "*'LISTN' is not a socket state*"
        }

        It 'does not combine -SkipProcess with -ProcessName' {
            { Get-SocketTuple -SkipProcess -ProcessName x } | Should -Throw -ErrorId 'AmbiguousParameterSet,PortTools.Commands.GetSocketTupleCommand'
        }
    }

    Context 'Network namespaces elsewhere' -Skip:($OnLinux) {
        It 'says network namespaces exist only on Linux' {
            { Get-SocketTuple -NetworkNamespace blue -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformNotSupported,PortTools.Commands.GetSocketTupleCommand'
        }
    }
}
