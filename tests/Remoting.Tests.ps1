BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function ConvertTo-Deserialized {
        # What remoting, jobs and Import-Clixml hand back: a property bag, serialized at the type's depth.
        param([Parameter(ValueFromPipeline)] $InputObject)
        begin { $items = [System.Collections.Generic.List[object]]::new() }
        process { $items.Add($InputObject) }
        end { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($items.ToArray())) }
    }

    $socket = [PortTools.SocketTuple]'tcp LISTEN [::]:8080 reuseaddr reuseport v6only dev=eth0 uid=33 pid=812,813 process=nginx'
}

Describe 'Objects that travel: remoting, jobs and snapshots' {
    Context 'Type data' {
        It 'gives back a real SocketTuple: every field, enums that compare by name, owners as objects' {
            $copy = $socket | ConvertTo-Deserialized
            $copy | Should -BeOfType PortTools.SocketTuple
            $copy.ToString() | Should -Be $socket.ToString()
            $copy.Protocol | Should -BeOfType PortTools.TransportProtocol
            @($copy | Where-Object State -EQ Listen) | Should -HaveCount 1
            "$($copy.LocalAddress)" | Should -Be '::'
            $copy.LocalPort | Should -Be 8080
            $copy.ReuseAddress | Should -BeTrue
            $copy.ReusePort | Should -BeTrue
            $copy.IPv6Only | Should -BeTrue
            $copy.BoundInterface | Should -Be 'eth0'
            $copy.UserId | Should -Be 33
            $copy.Processes | Should -HaveCount 2
            $copy.Processes[0] | Should -BeOfType PortTools.SocketOwner
            $copy.Processes[0].ProcessId | Should -Be 812
            $copy.Processes[1].ProcessName | Should -Be 'nginx'
        }

        It 'serializes at the default depth, so that enums travel as their names' {
            $xml = [System.Management.Automation.PSSerializer]::Serialize($socket)
            $xml | Should -Match '<S N="State">Listen</S>'
            $xml | Should -Match '<S N="Protocol">Tcp</S>'
        }

        It 'keeps the conflicts of a bind as socket text that converts back' {
            $result = Test-PortBind 8080 -Address :: -IPv6Only -SocketTable $socket -TargetOS Linux -UserId 1000
            $copy = $result | ConvertTo-Deserialized
            $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.PortBindResult'
            $copy.CanBind | Should -BeFalse
            $copy.Error | Should -Be 'EADDRINUSE'
            $copy.Method | Should -Be 'Simulated'
            $conflict = [PortTools.SocketTuple]$copy.Conflicts[0]
            $conflict.Processes[0].ProcessId | Should -Be 812
        }

        It 'keeps the receiving socket of a delivery as socket text, and the outcome by name' {
            $result = Resolve-Demux Tcp '[2001:db8::7]:40000' '[2001:db8::5]:8080' -Interface eth0 -SocketTable $socket -TargetOS Linux
            $copy = $result | ConvertTo-Deserialized
            $copy.Outcome | Should -Be 'Delivered'
            ([PortTools.SocketTuple]$copy.Socket).ProcessName | Should -Be 'nginx'
        }

        It 'shows deserialized results with their table view' {
            $result = Test-PortBind 8080 -Address :: -IPv6Only -SocketTable $socket -TargetOS Linux -UserId 1000
            $live = ($result | Format-Table | Out-String -Width 200).Trim()
            $copy = ($result | ConvertTo-Deserialized | Format-Table | Out-String -Width 200).Trim()
            $copy | Should -Be $live
        }
    }

    Context 'Deserialized sockets as input, as property bags' {
        BeforeAll {
            $table = @(
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 uid=0 pid=900 process=nginx'
                [PortTools.SocketTuple]'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443 uid=1000 pid=4242 process=curl'
            ) | ForEach-Object { $_ } | ConvertTo-PropertyBag
            # As Invoke-Command delivers them: each object names the computer it came from.
            $table | ForEach-Object { $_.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01')) }
        }

        It 'are property bags here, as in a session without PortTools' {
            $table[0] | Should -Not -BeOfType PortTools.SocketTuple
            $table[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.SocketTuple'
            $table[0].State | Should -Be 'Listen'
        }

        It 'converts them back into SocketTuples equal to the originals, with the computer name' {
            $sockets = @($table | ConvertFrom-SocketTable)
            $sockets | ForEach-Object { $_ | Should -BeOfType PortTools.SocketTuple }
            $sockets[0].ToString() | Should -Be 'tcp LISTEN 0.0.0.0:80 uid=0 pid=900 process=nginx'
            $sockets.ComputerName | Should -Be @('web01', 'web01')
        }

        It 'takes them as the -SocketTable of Test-PortBind and Resolve-Demux, whose results name the computer' {
            $bind = Test-PortBind 80 -SocketTable $table -TargetOS Linux -Privileged
            $bind.CanBind | Should -BeFalse
            $bind.ComputerName | Should -Be 'web01'
            $demux = Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:80 -SocketTable $table -TargetOS Linux
            $demux.Socket.ProcessName | Should -Be 'nginx'
            $demux.ComputerName | Should -Be 'web01'
        }

        It 'measures them through the pipeline, per computer' {
            $usage = @($table | Measure-EphemeralPortUsage -TargetOS Linux)
            $usage | Should -HaveCount 1
            $usage[0].Destination | Should -Be '203.0.113.10:443'
            $usage[0].ComputerName | Should -Be 'web01'
        }
    }

    Context 'Snapshots with Export-Clixml' {
        It 'round-trips a live table, owners included, and compares it with the host now' {
            $listener = New-TestSocket -Address (New-LoopbackAddress) -Listen
            try {
                $path = Join-Path $TestDrive 'before.xml'
                Get-SocketTuple -Listening -Protocol Tcp | Export-Clixml -LiteralPath $path
                $before = Import-Clixml -LiteralPath $path | ConvertFrom-SocketTable
                $mine = $before | Where-Object LocalPort -EQ $listener.LocalEndPoint.Port
                $mine | Should -Not -BeNullOrEmpty
                $mine.ProcessId | Should -Be $PID
                @(Compare-Object $before (Get-SocketTuple -Listening -Protocol Tcp) -Property Local, ProcessId | Where-Object Local -EQ $mine.Local) | Should -HaveCount 0
            }
            finally {
                $listener.Dispose()
            }
        }
    }

    Context 'Jobs and parallel runspaces' {
        It 'reads sockets in a background job and gets them back with the job''s computer name' -Skip:(-not ($OnLinux -or $OnWindows -or $OnMacOS)) {
            $listener = New-TestSocket -Address ([System.Net.IPAddress]::Loopback) -Listen
            try {
                $port = $listener.LocalEndPoint.Port
                $job = Start-Job -ScriptBlock {
                    param($ModuleManifest, $Port)
                    Import-Module -Name $ModuleManifest
                    Get-SocketTuple -LocalPort $Port -Listening
                } -ArgumentList (Join-Path $ModulePath 'PortTools.psd1'), $port
                $received = @($job | Wait-Job -Timeout 60 | Receive-Job)
                $job | Remove-Job -Force
                $received | Should -HaveCount 1
                $received[0] | Should -BeOfType PortTools.SocketTuple # rehydrated: the module is loaded here
                $received[0].Source | Should -Be 'Live'
                $socket = $received | ConvertFrom-SocketTable
                $socket.LocalPort | Should -Be $port
                $socket.ProcessId | Should -Be $PID
                $socket.ComputerName | Should -Be 'localhost'
                (Test-PortBind $port -Address 127.0.0.1 -SocketTable $received).CanBind | Should -BeFalse
            }
            finally {
                $listener.Dispose()
            }
        }

        It 'works in ForEach-Object -Parallel runspaces' -Skip:($PSVersionTable.PSVersion.Major -lt 7) {
            $manifest = Join-Path $ModulePath 'PortTools.psd1'
            $results = 80, 8080 | ForEach-Object -Parallel {
                Import-Module -Name $using:manifest
                Test-PortBind $_ -SocketTable 'tcp LISTEN 0.0.0.0:80 pid=900 process=nginx' -TargetOS Linux -Privileged
            } -ThrottleLimit 2
            ($results | Sort-Object Port).CanBind | Should -Be @($false, $true)
        }
    }
}
