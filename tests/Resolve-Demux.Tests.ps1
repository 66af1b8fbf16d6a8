BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Resolve-Demux' {
    Context 'Module surface' {
        It 'has help with examples and declares its output' {
            @((Get-Help -Name Resolve-Demux -Full).Examples.Example).Count | Should -BeGreaterOrEqual 3
            (Get-Command Resolve-Demux).OutputType.Name | Should -Be 'PortTools.DemuxResult'
        }
    }

    Context 'Table view' {
        It 'shows who receives at 80 columns, and the source from 120' {
            $result = Resolve-Demux Tcp 198.51.100.7:40000 192.168.1.10:8080 -SocketTable 'tcp LISTEN 192.168.1.10:8080 pid=812 process=nginx' -TargetOS Linux
            $narrow = @(($result | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() })
            $narrow[0].TrimEnd() | Should -Be 'Protocol Destination            Outcome         Receiver'
            $narrow[2] | Should -Match 'Delivered\s+192\.168\.1\.10:8080 nginx \(812\)\s*$'
            ($result | Format-Table | Out-String -Width 120) | Should -Match 'nginx \(812\)\s+198\.51\.100\.7:40000'
        }
    }

    Context 'The Linux lookup against a table' {
        It 'prefers the listener bound to the destination address over the wildcard' {
            $result = Resolve-Demux -Protocol Tcp -Source 198.51.100.7:40000 -Destination 192.168.1.10:8080 -SocketTable 'tcp LISTEN 0.0.0.0:8080', 'tcp LISTEN 192.168.1.10:8080' -TargetOS Linux
            $result.PSObject.TypeNames[0] | Should -Be 'PortTools.DemuxResult'
            $result.Outcome | Should -Be 'Delivered'
            $result.Socket.Local | Should -Be '192.168.1.10:8080'
        }

        It 'takes protocol, source and destination by position' {
            (Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.1:8080 -SocketTable 'tcp LISTEN 0.0.0.0:8080' -TargetOS Linux).Socket.Local | Should -Be '0.0.0.0:8080'
        }

        It 'refuses IPv4 at an IPV6_V6ONLY listener and says why' {
            $result = Resolve-Demux Tcp 192.0.2.7:40000 192.0.2.1:22 -SocketTable 'tcp LISTEN [::]:22 v6only' -TargetOS Linux
            $result.Outcome | Should -Be 'Refused'
            $result.Reason | Should -BeLike '*IPV6_V6ONLY*'
            (Resolve-Demux Tcp 192.0.2.7:40000 192.0.2.1:22 -SocketTable 'tcp LISTEN *:22' -TargetOS Linux).Outcome | Should -Be 'Delivered'
        }

        It 'names every member of a SO_REUSEPORT group instead of guessing one' {
            $result = Resolve-Demux Tcp 203.0.113.5:50000 10.0.0.5:443 -SocketTable 'tcp LISTEN 0.0.0.0:443 reuseport uid=33 pid=1', 'tcp LISTEN 0.0.0.0:443 reuseport uid=33 pid=2' -TargetOS Linux
            $result.Outcome | Should -Be 'Delivered'
            $result.Socket | Should -BeNullOrEmpty
            @($result.Sockets).Count | Should -Be 2
        }

        It 'names both UDP sockets of one address when their SO_REUSEPORT is not known, and what decides' {
            $result = Resolve-Demux Udp 10.0.0.8:5000 10.0.0.1:5353 -SocketTable 'udp UNCONN 10.0.0.1:5353 uid=1000 pid=1', 'udp UNCONN 10.0.0.1:5353 uid=1000 pid=2' -TargetOS Linux
            $result.Outcome | Should -Be 'Delivered'
            $result.Socket | Should -BeNullOrEmpty
            @($result.Sockets).Count | Should -Be 2
            $result.DependsOn | Should -HaveCount 1
            $result.DependsOn[0] | Should -BeLike 'SO_REUSEPORT of udp UNCONN 10.0.0.1:5353*'
            $result.Reason | Should -BeLike '2 sockets may receive it*'
        }

        It 'gives a connected UDP socket its own peer and the rest to the unconnected one' {
            $table = 'udp UNCONN 0.0.0.0:53 reuseaddr pid=700', 'udp ESTAB 10.0.0.1:53 10.0.0.9:5000 reuseaddr pid=701'
            (Resolve-Demux Udp 10.0.0.9:5000 10.0.0.1:53 -SocketTable $table -TargetOS Linux).Socket.ProcessId | Should -Be 701
            (Resolve-Demux Udp 10.0.0.8:5000 10.0.0.1:53 -SocketTable $table -TargetOS Linux).Socket.ProcessId | Should -Be 700
        }

        It 'answers an unreachable UDP port and a refused TCP port' {
            (Resolve-Demux Udp 10.0.0.8:5000 10.0.0.1:54 -SocketTable 'udp UNCONN 0.0.0.0:53' -TargetOS Linux).Outcome | Should -Be 'PortUnreachable'
            (Resolve-Demux Tcp 10.0.0.8:5000 10.0.0.1:81 -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux).Outcome | Should -Be 'Refused'
        }
    }

    Context 'Pipeline input' {
        It 'resolves CSV rows by property name, one error for a bad row, the others still answered' {
            $csv = @(
                'Protocol,SourceAddress,SourcePort,DestinationAddress,DestinationPort'
                'Tcp,203.0.113.9,51000,10.0.0.1,80'
                'Tcp,203.0.113.9,51001,::1,80'
                'Udp,203.0.113.9,51002,10.0.0.1,53'
            ) | ConvertFrom-Csv
            $errors = $null
            $results = $csv | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80', 'udp UNCONN 0.0.0.0:53' -TargetOS Linux -ErrorVariable errors -ErrorAction SilentlyContinue
            $results | Should -HaveCount 2
            $results[0].Outcome | Should -Be 'Delivered'
            $results[1].Protocol | Should -Be 'Udp'
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidPacket,PortTools.Commands.ResolveDemuxCommand'
            $errors[0].Exception.Message | Should -BeLike '*different address families*'
        }

        It 'takes objects with Source and Destination properties' {
            $packet = [pscustomobject]@{ Protocol = 'Tcp'; Source = '198.51.100.7:40000'; Destination = '10.0.0.1:80' }
            ($packet | Resolve-Demux -SocketTable 'tcp LISTEN 0.0.0.0:80' -TargetOS Linux).Outcome | Should -Be 'Delivered'
        }

        It 'takes deserialized sockets as a table and keeps where they came from' {
            $socket = [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 pid=812 process=nginx'
            $copy = $socket | ConvertTo-PropertyBag
            $copy.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01'))
            $result = Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.1:80 -SocketTable $copy -TargetOS Linux
            $result.Socket.ProcessName | Should -Be 'nginx'
            $result.ComputerName | Should -Be 'web01'
        }
    }

    Context 'Simulation with the Windows, FreeBSD and macOS rules' {
        It 'reports identical SO_REUSEADDR listeners on Windows as nondeterministic, naming both, never a guess' {
            $table = 'tcp LISTEN 10.0.0.5:8080 reuseaddr pid=1 process=a', 'tcp LISTEN 10.0.0.5:8080 reuseaddr pid=2 process=b'
            $result = Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:8080 -TargetOS Windows -SocketTable $table
            $result.Outcome | Should -Be 'Nondeterministic'
            $result.Socket | Should -BeNullOrEmpty
            $result.Sockets.ProcessId | Sort-Object | Should -Be @(1, 2)
            $result.TargetOS | Should -Be 'Windows'
            $result.Reason | Should -BeLike 'Windows does not define which of these 2 sockets*'
        }

        It 'gives a Windows specific bind the traffic for its address over the wildcard' {
            $table = 'tcp LISTEN 0.0.0.0:8080 pid=1 process=a', 'tcp LISTEN 10.0.0.5:8080 pid=2 process=b'
            (Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:8080 -TargetOS Windows -SocketTable $table).Socket.ProcessId | Should -Be 2
            (Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.6:8080 -TargetOS Windows -SocketTable $table).Socket.ProcessId | Should -Be 1
        }

        It 'names every member of a FreeBSD SO_REUSEPORT_LB group' {
            $table = 'tcp LISTEN 0.0.0.0:8080 reuseport_lb uid=80 pid=900 process=nginx', 'tcp LISTEN 0.0.0.0:8080 reuseport_lb uid=80 pid=901 process=nginx'
            $result = Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:8080 -TargetOS FreeBSD -SocketTable $table
            $result.Outcome | Should -Be 'Delivered'
            $result.Socket | Should -BeNullOrEmpty
            $result.Sockets.ProcessId | Sort-Object | Should -Be @(900, 901)
            $result.Reason | Should -BeLike '*SO_REUSEPORT_LB group*'
        }

        It 'gives a UDP datagram to one SO_REUSEPORT socket on the BSDs: the newest on FreeBSD, the earliest on macOS' {
            $table = 'udp UNCONN 0.0.0.0:53 reuseport noreuseport_lb uid=53 pid=10 process=old', 'udp UNCONN 0.0.0.0:53 reuseport noreuseport_lb uid=53 pid=11 process=new'
            $freebsd = Resolve-Demux Udp 198.51.100.7:40000 10.0.0.5:53 -TargetOS FreeBSD -SocketTable $table
            $freebsd.Socket.ProcessName | Should -Be 'new'
            $freebsd.Reason | Should -BeLike '*UNVERIFIED*'
            # Where the table does not show SO_REUSEPORT_LB, FreeBSD may hash over both: both are named.
            $unshown = Resolve-Demux Udp 198.51.100.7:40000 10.0.0.5:53 -TargetOS FreeBSD -SocketTable ($table -replace ' noreuseport_lb', '')
            $unshown.Socket | Should -BeNullOrEmpty
            $unshown.Sockets.ProcessName | Sort-Object | Should -Be @('new', 'old')
            $unshown.DependsOn | Should -HaveCount 2
            (Resolve-Demux Udp 198.51.100.7:40000 10.0.0.5:53 -TargetOS MacOS -SocketTable $table).Socket.ProcessName | Should -Be 'old'
            $linux = Resolve-Demux Udp 198.51.100.7:40000 10.0.0.5:53 -TargetOS Linux -SocketTable $table
            $linux.Socket | Should -BeNullOrEmpty
            $linux.Sockets | Should -HaveCount 2
        }
    }

    Context 'Bad input' {
        It 'names a malformed endpoint' {
            { Resolve-Demux Tcp 1.2.3:4 10.0.0.1:80 -SocketTable @() } | Should -Throw -ExpectedMessage "*'1.2.3:4' is not an endpoint*"
        }

        It 'needs a table to follow another OS''s rules' -Skip:(-not $OnLinux) {
            { Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.1:80 -TargetOS Windows } | Should -Throw -ErrorId 'TargetOSNeedsSocketTable,PortTools.Commands.ResolveDemuxCommand'
        }
    }

    Context 'The live table on Linux' -Skip:(-not $OnLinux) {
        BeforeAll {
            $address = New-LoopbackAddress
            $listener = New-TestSocket -Address $address -Listen
            $port = $listener.LocalEndPoint.Port
        }

        AfterAll {
            $listener.Dispose()
        }

        It 'finds this process''s listener for a SYN to its address' {
            $result = Resolve-Demux Tcp "$($address):40000" "$($address):$port"
            $result.Outcome | Should -Be 'Delivered'
            $result.Socket.ProcessId | Should -Be $PID
        }
    }
}
