BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Busy = @(
        'tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432'
        'tcp ESTAB 10.0.0.1:40001 10.0.0.5:5432'
        'tcp LISTEN 0.0.0.0:40002 pid=77 process=agent'
        'tcp ESTAB 10.0.0.1:40003 10.0.0.9:443'
    )
    $script:Facts = @{ SocketTable = $script:Busy; EphemeralPortRange = '40000-40003'; LocalAddress = '10.0.0.1'; TargetOS = 'Linux' }
}

Describe 'Test-PortConnect' {
    Context 'Module surface' {
        It 'has help with examples, declares its outputs and has a table view' {
            $help = Get-Help -Name Test-PortConnect -Full
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            (Get-Command Test-PortConnect).OutputType.Name | Should -Contain 'PortTools.PortConnectResult'
            (Get-Command Test-PortConnect).OutputType.Name | Should -Contain 'System.Boolean'
            $table = Test-PortConnect 10.0.0.5:5432 @Facts | Format-Table | Out-String -Width 120
            $table | Should -BeLike '*Protocol*Destination*CanConnect*Error*Available*Reason*'
        }
    }

    Context 'Simulation with the Linux rules' {
        It 'names the port that remains and what holds the others' {
            $result = Test-PortConnect 10.0.0.5:5432 @Facts
            $result.PSObject.TypeNames[0] | Should -Be 'PortTools.PortConnectResult'
            $result.CanConnect | Should -BeTrue
            $result.SourcePort | Should -Be 40003
            $result.SourceAddress | Should -Be ([ipaddress]'10.0.0.1')
            $result.Available | Should -Be 1
            $result.Rule | Should -Be 'linux.connect.ephemeral'
            $result.Reason | Should -BeLike '*1 is held by bind()*2 already carry a connection from 10.0.0.1 to 10.0.0.5:5432*'
        }

        It 'answers -Count with the error of the first call that fails' {
            $result = Test-PortConnect 10.0.0.5:5432 @Facts -Count 2
            $result.CanConnect | Should -BeFalse
            $result.Error | Should -Be 'EADDRNOTAVAIL'
            $result.ErrorCode | Should -Be 99
            $result.Available | Should -Be 1
            $result.SourcePort | Should -Be 40003
        }

        It 'shows that bind(address, 0) shares no port, and IP_BIND_ADDRESS_NO_PORT does' {
            $bound = Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 @Facts
            $bound.CanConnect | Should -BeFalse
            $bound.Error | Should -Be 'EADDRINUSE'
            $bound.Options | Should -Be 'bind=10.0.0.1:0'
            $noPort = Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 -BindAddressNoPort @Facts
            $noPort.CanConnect | Should -BeTrue
            $noPort.SourcePort | Should -Be 40003
        }

        It 'takes over TIME-WAIT only as tcp_tw_reuse says, and says what it cannot know' {
            $waiting = 'tcp TIME-WAIT 127.0.0.1:40100 127.0.0.1:6379'
            $off = Test-PortConnect 127.0.0.1:6379 -SocketTable $waiting -EphemeralPortRange 40100-40100 -LocalAddress 127.0.0.1 -TcpTwReuse 0 -TargetOS Linux
            $off.CanConnect | Should -BeFalse
            $off.Reason | Should -BeLike '*tcp_tw_reuse=0*'
            $on = Test-PortConnect 127.0.0.1:6379 -SocketTable $waiting -EphemeralPortRange 40100-40100 -LocalAddress 127.0.0.1 -TcpTwReuse 2 -TargetOS Linux
            $on.CanConnect | Should -BeNullOrEmpty
            $on.Error | Should -Be 'EADDRNOTAVAIL'
            $on.DependsOn -join ' ' | Should -BeLike '*tcp_tw_reuse_delay*'
        }

        It 'gives EAGAIN when a UDP socket finds no port to bind' {
            $result = Test-PortConnect 10.0.0.53:53 -Protocol Udp -SocketTable 'udp UNCONN 0.0.0.0:40000', 'udp ESTAB 10.0.0.1:40001 10.0.0.54:53' -EphemeralPortRange 40000-40001 -LocalAddress 10.0.0.1 -TargetOS Linux
            $result.CanConnect | Should -BeFalse
            $result.Error | Should -Be 'EAGAIN'
        }

        It 'uses ip_autobind_reuse when it is given' {
            $table = 'tcp ESTAB 10.0.0.1:40000 10.0.0.9:443 reuseaddr noreuseport'
            $without = Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 -ReuseAddress -SocketTable $table -EphemeralPortRange 40000-40000 -LocalAddress 10.0.0.1 -TargetOS Linux -AutobindReuse:$false
            $without.CanConnect | Should -BeFalse
            $with = Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 -ReuseAddress -SocketTable $table -EphemeralPortRange 40000-40000 -LocalAddress 10.0.0.1 -TargetOS Linux -AutobindReuse
            $with.CanConnect | Should -BeTrue
            $with.Rule | Should -Be 'linux.bind0.autobind-reuse'
        }

        It 'never borrows this host''s facts: what is not given is named' {
            $result = Test-PortConnect 10.0.0.5:5432 -SocketTable @() -TargetOS Linux
            $result.CanConnect | Should -BeNullOrEmpty
            $result.DependsOn -join ' ' | Should -BeLike '*ip_local_port_range*not given*'
            $address = Test-PortConnect 10.0.0.5:5432 -Address 192.0.2.77 -BindAddressNoPort -SocketTable @() -EphemeralPortRange 40000-40009 -TargetOS Linux
            $address.CanConnect | Should -BeNullOrEmpty
            $address.DependsOn -join ' ' | Should -BeLike '*whether 192.0.2.77 is an address of that host*'
        }

        It 'writes $false and a warning for -Quiet when the answer depends on what is not known' {
            $answer = Test-PortConnect 10.0.0.5:5432 -SocketTable @() -TargetOS Linux -Quiet -WarningVariable warnings -WarningAction SilentlyContinue
            $answer | Should -BeExactly $false
            $warnings | Should -HaveCount 1
            Test-PortConnect 10.0.0.5:5432 @Facts -Quiet | Should -BeExactly $true
        }
    }

    Context 'Other systems' {
        It 'follows FreeBSD, macOS and Windows where their rules are stated' {
            $results = 'FreeBSD', 'MacOS', 'Windows' | ForEach-Object { Test-PortConnect 10.0.0.5:5432 -TargetOS $_ -SocketTable 'tcp ESTAB 10.0.0.1:50000 10.0.0.9:443' -EphemeralPortRange 50000-50000 -LocalAddress 10.0.0.1 }
            $results.CanConnect | Should -Be @($true, $false, $false)
            $results[1].Error | Should -Be 'EADDRNOTAVAIL'
            $results[2].Error | Should -Be 'WSAENOBUFS'
            $results[2].Reason | Should -BeLike '*UNVERIFIED*'
        }
    }

    Context 'Pipeline input' {
        It 'binds destinations by value and by property name, and sockets by their peer' {
            $strings = '10.0.0.5:5432', '[2001:db8::5]:443' | Test-PortConnect @Facts
            $strings.Destination | Should -Be @('10.0.0.5:5432', '[2001:db8::5]:443')
            $bag = [pscustomobject]@{ Destination = '10.0.0.53:53'; Protocol = 'Udp' } | Test-PortConnect @Facts
            $bag.Protocol | Should -Be 'Udp'
            $socket = [PortTools.SocketTuple]'tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432'
            ($socket | Test-PortConnect @Facts).Destination | Should -Be '10.0.0.5:5432'
        }

        It 'agrees with Measure-EphemeralPortUsage on what remains' {
            $table = [PortTools.SocketTuple[]]$Busy
            $row = $table | Measure-EphemeralPortUsage -TargetOS Linux | Where-Object Destination -EQ '10.0.0.5:5432'
            $answer = $row | Test-PortConnect -SocketTable $Busy -EphemeralPortRange 32768-60999 -LocalAddress 10.0.0.1 -TargetOS Linux
            $row.Available | Should -Be $answer.Available
            $answer.Available | Should -Be 28229 # the range less the listener's port and the two 4-tuples taken
        }
    }

    Context 'Bad input' {
        It 'names a destination without a port and answers the rest' {
            $results = '10.0.0.5', '10.0.0.5:5432' | Test-PortConnect @Facts -ErrorVariable errors -ErrorAction SilentlyContinue
            $results | Should -HaveCount 1
            $errors | Should -HaveCount 1
            $errors[0].Exception.Message | Should -BeLike "*'10.0.0.5' has no port*"
        }

        It 'refuses a per-socket range outside the system range, or reversed' {
            Test-PortConnect 10.0.0.5:5432 -LocalPortRange 40000-50000 @Facts -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -Be 'LocalPortRangeOutsideSystemRange,PortTools.Commands.TestPortConnectCommand'
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            { Test-PortConnect 10.0.0.5:5432 -LocalPortRange 40003-40000 @Facts -ErrorAction Stop } | Should -Throw '*reversed*'
        }

        It 'refuses IP_BIND_ADDRESS_NO_PORT with a port, and TCP settings for UDP' {
            Test-PortConnect 10.0.0.5:5432 -Port 40000 -BindAddressNoPort @Facts -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidConnectRequest,PortTools.Commands.TestPortConnectCommand'
            $errors[0].TargetObject | Should -Be ([System.Net.IPEndPoint]::new([ipaddress]'10.0.0.5', 5432))
            $results = [pscustomobject]@{ Destination = '10.0.0.53:53'; Protocol = 'Udp' }, [pscustomobject]@{ Destination = '10.0.0.5:5432'; Protocol = 'Tcp' } |
                Test-PortConnect @Facts -TcpTwReuse 1 -ErrorVariable errors -ErrorAction SilentlyContinue
            $results | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'TcpOptionForUdp,PortTools.Commands.TestPortConnectCommand'
        }
    }

    Context 'The live host' -Skip:(-not $OnLinux) {
        It 'answers for a loopback destination from the loopback source address' {
            $result = Test-PortConnect "127.0.0.1:$(Get-Random -Minimum 20000 -Maximum 30000)"
            $result.CanConnect | Should -BeTrue
            $result.SourceAddress | Should -Be ([ipaddress]'127.0.0.1')
            $result.Available | Should -BeGreaterThan 0
        }
    }

    Context 'A network namespace' -Skip:(-not $IsRoot) {
        BeforeAll {
            $script:Space = 'pt-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            & ip netns add $Space
            & ip -n $Space link set lo up
            & ip netns exec $Space sysctl -q -w 'net.ipv4.ip_local_port_range=40000 40003' 'net.ipv4.ip_local_reserved_ports=40000-40002'
        }

        AfterAll {
            & ip netns del $Space
        }

        It 'reads the namespace''s range, reserved ports and routes' {
            $result = Test-PortConnect 127.0.0.1:5432 -NetworkNamespace $Space
            $result.SearchedRange.ToString() | Should -Be '40000-40003'
            $result.SourcePort | Should -Be 40003
            $result.Available | Should -Be 1
            $result.Reason | Should -BeLike '*3 are reserved*'
            $unreachable = Test-PortConnect 10.0.0.5:5432 -NetworkNamespace $Space
            $unreachable.CanConnect | Should -BeFalse
            $unreachable.Error | Should -Be 'ENETUNREACH'
        }

        It 'names a namespace that does not exist' {
            { Test-PortConnect 127.0.0.1:5432 -NetworkNamespace "$Space-none" -ErrorAction Stop } | Should -Throw '*was not found*'
        }
    }
}
