BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function ConvertTo-Deserialized {
        # What remoting, jobs and Import-Clixml hand back where PortTools is loaded: rehydrated through the type data.
        param([Parameter(ValueFromPipeline)] $InputObject)
        process { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($InputObject)) }
    }

    # The facts of another machine, as Get-SocketHost would write them there.
    $web02 = [PortTools.SocketHost]@{
        ComputerName          = 'web02'
        OS                    = 'Linux'
        NetworkNamespace      = [PortTools.NetworkNamespaceInfo]::Parse('red:4026532301')
        Addresses             = [PortTools.HostAddress[]]@('127.0.0.1/8 dev lo', '10.0.0.5/24 brd 10.0.0.255 dev eth0', 'fd00::5/64 dev eth0')
        Interfaces            = [string[]]@('lo', 'eth0', 'eth1')
        EphemeralPortRange    = [PortTools.PortRange]'40000-40099'
        UnprivilegedPortStart = 1024
        ReservedPorts         = [PortTools.PortRange[]]@('40010-40011')
        NonLocalBind          = $false
        NonLocalBindV6        = $false
        BindV6Only            = $false
        TcpTwReuse            = 2
        TcpTwReuseDelay       = 1000
        AutobindReuse         = $false
        TcpTimeWaitSeconds    = 60
        UserId                = 1000
        Privileged            = $false
    }

    function Get-Facts {
        # Every fact of a SocketHost (or a bag of one) as text, to compare two of them.
        param($SocketHost)
        foreach ($name in 'SchemaVersion', 'ComputerName', 'OS', 'NetworkNamespace', 'Addresses', 'Interfaces', 'EphemeralPortRange', 'UnprivilegedPortStart', 'ReservedPorts', 'NonLocalBind', 'NonLocalBindV6', 'BindV6Only', 'TcpTwReuse', 'TcpTwReuseDelay', 'AutobindReuse', 'TcpTimeWaitSeconds', 'UserId', 'Privileged') {
            '{0}={1}' -f $name, ((@($SocketHost.$name) | ForEach-Object { [string]$_ }) -join ',')
        }
    }
}

Describe 'Get-SocketHost' {
    Context 'Module surface' {
        It 'is exported with help that has examples and every parameter documented' {
            $command = Get-Command -Name Get-SocketHost -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name Get-SocketHost -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            ($help.Parameters.Parameter | Where-Object Name -EQ 'NetworkNamespace').Description | Should -Not -BeNullOrEmpty
        }

        It 'declares SocketHost as its output type' {
            (Get-Command Get-SocketHost).OutputType.Name | Should -Be 'PortTools.SocketHost'
        }

        It 'shows one host as a list that says what is unknown, and several as a table' {
            $list = $web02 | Out-String -Width 120
            $list | Should -Match 'ComputerName\s+: web02'
            $list | Should -Match 'Addresses\s+: 127\.0\.0\.1/8 dev lo\s+10\.0\.0\.5/24 brd 10\.0\.0\.255 dev eth0'
            $list | Should -Match 'EphemeralPortRange\s+: 40000-40099'
            ([PortTools.SocketHost]::Unknown('Linux') | Out-String) | Should -Match 'Addresses\s+: \(unknown\)'
            $table = $web02, [PortTools.SocketHost]::Unknown('Windows') | Format-Table | Out-String -Width 120
            $table | Should -Match 'ComputerName\s+OS\s+NetworkNamespace\s+EphemeralPortRange\s+Addresses'
            $table | Should -Match 'web02\s+Linux\s+red:4026532301\s+40000-40099\s+127\.0\.0\.1, 10\.0\.0\.5, fd00::5'
        }
    }

    Context 'This host' -Skip:(-not ($OnLinux -or $OnWindows -or $OnMacOS)) {
        BeforeAll {
            $here = Get-SocketHost -WarningVariable warnings
        }

        It 'describes this computer and its OS' {
            $here | Should -BeOfType PortTools.SocketHost
            $here.ComputerName | Should -Be ([Environment]::MachineName)
            $here.OS | Should -Be $(if ($OnLinux) { 'Linux' } elseif ($OnWindows) { 'Windows' } else { 'MacOS' })
            $here.SchemaVersion | Should -Be 1
        }

        It 'lists the loopback address on the loopback interface' {
            [string[]]$here.Addresses | Should -Contain $(if ($OnLinux) { '127.0.0.1/8 dev lo' } else { ($here.Addresses | Where-Object Address -EQ '127.0.0.1')[0].ToString() })
            ($here.Addresses | Where-Object Address -EQ '127.0.0.1').Interface | Should -BeIn $here.Interfaces
        }

        It 'reads the Linux sysctls the kernel shows' -Skip:(-not $OnLinux) {
            $range = (Get-Content /proc/sys/net/ipv4/ip_local_port_range -Raw).Trim() -split '\s+'
            [string]$here.EphemeralPortRange | Should -Be ('{0}-{1}' -f $range[0], $range[1])
            $here.UnprivilegedPortStart | Should -Be ([int](Get-Content /proc/sys/net/ipv4/ip_unprivileged_port_start -Raw))
            $here.BindV6Only | Should -Be ((Get-Content /proc/sys/net/ipv6/bindv6only -Raw).Trim() -eq '1')
            $here.TcpTwReuse | Should -Be ([int](Get-Content /proc/sys/net/ipv4/tcp_tw_reuse -Raw))
            $here.UserId | Should -Be ([long](& id -u))
            $here.NetworkNamespace.Inode | Should -Be ([uint64](& stat -L -c '%i' /proc/self/ns/net))
            $warnings | Should -BeNullOrEmpty
        }
    }

    Context 'Facts that travel' {
        It 'round-trips through Export-Clixml and Import-Clixml as a SocketHost' {
            $path = Join-Path $TestDrive 'web02.xml'
            $web02 | Export-Clixml -LiteralPath $path
            $copy = Import-Clixml -LiteralPath $path
            $copy | Should -BeOfType PortTools.SocketHost
            Get-Facts $copy | Should -Be (Get-Facts $web02)
        }

        It 'round-trips through ConvertTo-Json and ConvertFrom-Json, without a truncation warning, as -SocketHost takes it' {
            $json = $web02 | ConvertTo-Json -WarningVariable truncated
            $truncated | Should -BeNullOrEmpty
            $bag = $json | ConvertFrom-Json
            $result = Test-PortBind 8500 -Address 10.0.0.5 -SocketTable @() -SocketHost $bag
            $result.CanBind | Should -BeTrue
            $result.DependsOn | Should -BeNullOrEmpty
            (Test-PortBind 8500 -Address 10.0.0.6 -SocketTable @() -SocketHost $bag).Error | Should -Be 'EADDRNOTAVAIL'
            # The JSON text itself, and a deeper conversion, serve as well.
            (Test-PortBind 8500 -Address 10.0.0.6 -SocketTable @() -SocketHost $json).Error | Should -Be 'EADDRNOTAVAIL'
            (Test-PortBind 8500 -Address fd00::5 -SocketTable @() -SocketHost ($web02 | ConvertTo-Json -Depth 5)).CanBind | Should -BeTrue
        }

        It 'reaches a session without PortTools as a property bag of text, which -SocketHost reads back' {
            $bag = $web02 | ConvertTo-PropertyBag
            $bag | Should -Not -BeOfType PortTools.SocketHost
            $bag.PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.SocketHost'
            $bag.Addresses[1] | Should -Be '10.0.0.5/24 brd 10.0.0.255 dev eth0'
            [string]$bag.NetworkNamespace | Should -Be 'red:4026532301'
            [string]$bag.OS | Should -Be 'Linux'
            (Test-PortBind 8500 -Address 10.0.0.6 -SocketTable @() -SocketHost $bag).Error | Should -Be 'EADDRNOTAVAIL'
            $back = $bag | ConvertTo-Deserialized
            $back | Should -BeOfType PortTools.SocketHost
            Get-Facts $back | Should -Be (Get-Facts $web02)
        }

        It 'keeps unknown facts unknown through every round trip' {
            $unknown = [PortTools.SocketHost]::Unknown('Linux')
            foreach ($copy in @(($unknown | ConvertTo-Deserialized), ($unknown | ConvertTo-PropertyBag), ($unknown | ConvertTo-Json | ConvertFrom-Json))) {
                $result = Test-PortBind 8500 -Address 10.0.0.6 -SocketTable @() -SocketHost $copy
                $result.CanBind | Should -BeNullOrEmpty
                $result.DependsOn | Should -Contain 'whether 10.0.0.6 is an address of that host'
            }
        }

        It 'is one object per namespace, read in the pipeline order' -Skip:(-not $OnLinux) {
            $both = @(Get-SocketHost -NetworkNamespace $PID, "/proc/$PID/ns/net")
            $both | Should -HaveCount 2
            $both[0].NetworkNamespace.Inode | Should -Be $both[1].NetworkNamespace.Inode
        }
    }

    Context 'Simulations with -SocketHost' {
        It 'answers for the host it describes, not for this one' {
            $table = 'tcp LISTEN 10.0.0.5:8443 uid=33'
            (Test-PortBind 8443 -Address 10.0.0.5 -SocketTable $table -SocketHost $web02).Error | Should -Be 'EADDRINUSE'
            (Test-PortBind 80 -SocketTable $table -SocketHost $web02).Error | Should -Be 'EACCES' # uid 1000, ports below 1024
            (Test-PortBind 0 -Address 10.0.0.5 -SocketTable $table -SocketHost $web02).Reason | Should -Match '40000-40099 less ip_local_reserved_ports\); 98 of its 100 ports are free'
            $demux = Resolve-Demux Tcp 198.51.100.9:50000 10.0.0.5:8443 -SocketTable $table -SocketHost $web02
            $demux.Socket.Local | Should -Be '10.0.0.5:8443'
            $demux.DependsOn | Should -BeNullOrEmpty
        }

        It 'lets the single-fact parameters override it' {
            (Test-PortBind 80 -SocketTable @() -SocketHost $web02 -UserId 0).CanBind | Should -BeTrue
            (Test-PortBind 80 -SocketTable @() -SocketHost $web02 -Privileged).CanBind | Should -BeTrue
            (Test-PortBind 80 -SocketTable @() -SocketHost $web02 -UnprivilegedPortStart 0).CanBind | Should -BeTrue
            (Test-PortBind 8500 -Address 10.0.0.5 -SocketTable @() -SocketHost $web02 -LocalAddress 10.0.0.9).Error | Should -Be 'EADDRNOTAVAIL'
            (Test-PortBind 0 -SocketTable @() -SocketHost $web02 -EphemeralPortRange 50000-50009).Reason | Should -Match '50000-50009'
            (Test-PortBind 80 -SocketTable @() -SocketHost $web02 -TargetOS Linux).Error | Should -Be 'EACCES'
        }

        It 'answers ENODEV, as the kernel there would, for an -Interface the host does not have' {
            $result = Test-PortBind 8080 -Interface eth9 -SocketTable @() -SocketHost $web02
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'ENODEV'
            $result.Reason | Should -Match "no interface named 'eth9' \(the host's interfaces: eth0, eth1, lo\)"
            (Test-PortBind 8080 -Interface eth1 -SocketTable @() -SocketHost $web02).CanBind | Should -BeTrue
        }
    }

    Context 'Simulations never borrow this process''s facts' {
        It 'does not take -UserId 1000 as privileged, whoever runs it (the issue: as root it said "can be bound")' {
            $result = Test-PortBind 80 -SocketTable @() -UserId 1000 -TargetOS Linux
            $result.CanBind | Should -Not -BeTrue
            $result.Error | Should -Be 'EACCES'
            $result.DependsOn | Should -Be @('net.ipv4.ip_unprivileged_port_start of that host')
            (Test-PortBind 80 -SocketTable @() -UserId 1000 -TargetOS Linux -Privileged:$false -UnprivilegedPortStart 1024).CanBind | Should -BeFalse
            Test-PortBind 80 -SocketTable @() -UserId 1000 -TargetOS Linux -Quiet -WarningAction SilentlyContinue | Should -BeFalse
        }

        It 'takes an -Interface of another machine''s table to exist (the issue: it answered ENODEV)' {
            $result = Test-PortBind 8080 -Interface eth1 -SocketTable 'tcp LISTEN 10.0.0.5:443' -TargetOS Linux
            $result.Error | Should -Not -Be 'ENODEV'
            $result.CanBind | Should -BeTrue
        }

        It 'does not take this host''s addresses for another''s: the answer says what it depends on' {
            $result = Test-PortBind 8500 -Address 192.0.2.2 -SocketTable 'tcp LISTEN 10.0.0.5:443' -TargetOS Linux
            $result.CanBind | Should -BeNullOrEmpty
            $result.Error | Should -Be 'EADDRNOTAVAIL'
            $result.DependsOn | Should -Contain 'whether 192.0.2.2 is an address of that host'
            $result.Reason | Should -BeLike '192.0.2.2:8500/tcp depends on what is not known of that host*'
        }

        It 'names every socket that may receive a packet whose arriving interface is unknown' {
            $table = 'udp UNCONN 0.0.0.0:9300 reuseaddr dev=eth1 pid=1', 'udp UNCONN 0.0.0.0:9300 reuseaddr pid=2'
            $result = Resolve-Demux Udp 198.51.100.9:5000 10.0.0.5:9300 -SocketTable $table -TargetOS Linux
            $result.Socket | Should -BeNullOrEmpty
            @($result.Sockets).ProcessId | Should -Be @(2, 1)
            $result.DependsOn | Should -Be @('the interface the packet arrives on (which interface of that host holds 10.0.0.5)')
            (Resolve-Demux Udp 198.51.100.9:5000 10.0.0.5:9300 -SocketTable $table -TargetOS Linux -Interface eth1).Socket.ProcessId | Should -Be 1
        }

        It 'measures sockets that were not read here against documented defaults, and says so' -Skip:(-not $OnLinux) {
            $table = 1..3 | ForEach-Object { "tcp ESTAB 10.0.0.5:$(40000 + $_) 203.0.113.10:443" }
            $usage = $table | Measure-EphemeralPortUsage -WarningVariable warnings -WarningAction SilentlyContinue
            $usage.Capacity | Should -Be 28232
            $warnings | Should -HaveCount 1
            [string]$warnings[0] | Should -BeLike '3 socket(s) were not read by this session*documented default, 32768-60999, is used*Give -SocketHost*'
            ($table | Measure-EphemeralPortUsage -SocketHost $web02 -WarningVariable none).Capacity | Should -Be 98
            $none | Should -BeNullOrEmpty
        }
    }

    Context 'Bad input' {
        It 'refuses a SocketHost of another OS than -TargetOS, naming both' {
            { Test-PortBind 80 -SocketTable @() -SocketHost $web02 -TargetOS Windows -ErrorAction Stop } | Should -Throw -ErrorId 'SocketHostOSMismatch,PortTools.Commands.TestPortBindCommand'
            $record = $null
            try { Resolve-Demux Tcp 198.51.100.9:50000 10.0.0.5:443 -SocketTable @() -SocketHost $web02 -TargetOS FreeBSD -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'SocketHostOSMismatch,PortTools.Commands.ResolveDemuxCommand'
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $record.Exception.Message | Should -BeLike '*web02 (Linux, netns red:4026532301), a Linux host, but -TargetOS asks for FreeBSD*'
            { Measure-EphemeralPortUsage -InputObject @() -SocketHost $web02 -TargetOS MacOS -ErrorAction Stop } | Should -Throw -ErrorId 'SocketHostOSMismatch,PortTools.Commands.MeasureEphemeralPortUsageCommand'
        }

        It 'refuses a SocketHost from an older or newer PortTools, naming the versions' {
            $older = $web02 | ConvertTo-Json | ConvertFrom-Json
            $older.SchemaVersion = 0
            $record = $null
            try { Test-PortBind 80 -SocketTable @() -SocketHost $older -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'SocketHostSchemaMismatch,PortTools.Commands.TestPortBindCommand'
            $record.CategoryInfo.Category | Should -Be 'InvalidData'
            $record.Exception.Message | Should -BeLike '-SocketHost: The SocketHost has schema version 0, but this PortTools reads version 1 only: it was written by an older PortTools*'
            $record.TargetObject | Should -Be $older
            # A newer one from a file: where rehydration fails, the bag stays a bag and the error names it.
            $path = Join-Path $TestDrive 'newer.xml'
            $web02 | Export-Clixml -LiteralPath $path
            (Get-Content -LiteralPath $path -Raw) -replace '<I32 N="SchemaVersion">1</I32>', '<I32 N="SchemaVersion">2</I32>' | Set-Content -LiteralPath $path
            $newer = Import-Clixml -LiteralPath $path
            $newer | Should -Not -BeOfType PortTools.SocketHost
            $record = $null
            try { Test-PortBind 80 -SocketTable @() -SocketHost $newer -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'SocketHostSchemaMismatch,PortTools.Commands.TestPortBindCommand'
            $record.Exception.Message | Should -BeLike '*schema version 2*written by a newer PortTools*'
            $older.PSObject.Properties.Remove('SchemaVersion')
            { Resolve-Demux Tcp 198.51.100.9:50000 10.0.0.5:443 -SocketTable @() -SocketHost $older -ErrorAction Stop } | Should -Throw -ErrorId 'SocketHostSchemaMismatch,PortTools.Commands.ResolveDemuxCommand'
        }

        It 'refuses what is not a SocketHost, and a fact that is not valid, naming it' {
            { Test-PortBind 80 -SocketTable @() -SocketHost 'web02' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSocketHost,PortTools.Commands.TestPortBindCommand'
            $bad = $web02 | ConvertTo-Json | ConvertFrom-Json
            $bad.Addresses = @('10.0.0.5/24', 'ten.zero.zero.six')
            $record = $null
            try { Test-PortBind 80 -SocketTable @() -SocketHost $bad -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'InvalidSocketHost,PortTools.Commands.TestPortBindCommand'
            $record.Exception.Message | Should -BeLike "*Addresses entry 2 is not valid*'ten.zero.zero.six' is not an IP address*"
        }

        It 'refuses -SocketHost with -NetworkNamespace, and Resolve-Demux -SocketHost without a table' {
            { Test-PortBind 80 -SocketTable @() -SocketHost $web02 -NetworkNamespace red -ErrorAction Stop } | Should -Throw -ErrorId 'SocketHostWithNetworkNamespace,PortTools.Commands.TestPortBindCommand'
            { Resolve-Demux Tcp 198.51.100.9:50000 10.0.0.5:443 -SocketHost $web02 -ErrorAction Stop } | Should -Throw -ErrorId 'SocketHostNeedsSocketTable,PortTools.Commands.ResolveDemuxCommand'
        }

        It 'writes one error for a packet on an interface the host does not have, and answers the others' {
            $rows = @(
                [pscustomobject]@{ Protocol = 'Tcp'; Source = '198.51.100.9:50000'; Destination = '10.0.0.5:443'; Interface = 'eth9' }
                [pscustomobject]@{ Protocol = 'Tcp'; Source = '198.51.100.9:50001'; Destination = '10.0.0.5:443'; Interface = 'eth0' }
            )
            $results = @($rows | Resolve-Demux -SocketTable 'tcp LISTEN 10.0.0.5:443' -SocketHost $web02 -ErrorVariable failures -ErrorAction SilentlyContinue)
            $results | Should -HaveCount 1
            $results[0].Outcome | Should -Be 'Delivered'
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'InterfaceNotFound,PortTools.Commands.ResolveDemuxCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].TargetObject | Should -Be 'eth9'
            $failures[0].Exception.Message | Should -BeLike "*has no interface named 'eth9' (its interfaces: lo, eth0, eth1)*"
        }
    }
}
