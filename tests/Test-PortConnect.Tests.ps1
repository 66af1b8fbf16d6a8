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
            $result.DependsOn -join ' ' | Should -BeLike '*ip_local_port_range*not known*'
            $unreserved = Test-PortConnect 10.0.0.5:5432 -SocketTable @() -EphemeralPortRange 40000-40009 -TargetOS Linux
            $unreserved.CanConnect | Should -BeTrue
            $unreserved.Reason | Should -BeLike '*counted with none reserved, as that host''s net.ipv4.ip_local_reserved_ports are not known*'
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

    Context 'Host facts from a SocketHost' {
        BeforeAll {
            # Another machine's facts, as Get-SocketHost wrote them there.
            $script:Db01 = [PortTools.SocketHost]@{
                ComputerName = 'db01'; OS = 'Linux'; Addresses = [PortTools.HostAddress[]]@('127.0.0.1/8 dev lo', '10.0.0.1/24 dev eth0')
                Interfaces = [string[]]@('lo', 'eth0'); EphemeralPortRange = [PortTools.PortRange]'40100-40101'; ReservedPorts = [PortTools.PortRange[]]@()
                UnprivilegedPortStart = 1024; NonLocalBind = $false; NonLocalBindV6 = $false; BindV6Only = $false
                TcpTwReuse = 0; TcpTwReuseDelay = 1000; AutobindReuse = $false; TcpTimestamps = 1; UserId = 1000; Privileged = $false
            }
            $script:Waiting = 'tcp TIME-WAIT 127.0.0.1:40100 127.0.0.1:6379'
        }

        It 'takes every fact from the SocketHost, and the answer turns on none' {
            $result = Test-PortConnect 127.0.0.1:6379 -SocketTable $Waiting -SocketHost $Db01 -Count 2
            $result.CanConnect | Should -BeFalse
            $result.DependsOn | Should -BeNullOrEmpty
            $result.SearchedRange.ToString() | Should -Be '40100-40101'
            $result.Available | Should -Be 1
            $result.Reason | Should -BeLike '*net.ipv4.tcp_tw_reuse=0*'
            $result.TargetOS | Should -Be 'Linux'
        }

        It 'lets -TcpTwReuse, -NonLocalBind and -AutobindReuse override the SocketHost''s facts' {
            $reuse = Test-PortConnect 127.0.0.1:6379 -SocketTable $Waiting -SocketHost $Db01 -TcpTwReuse 2 -Count 2
            $reuse.CanConnect | Should -BeNullOrEmpty # the entry's age is not in a table given by hand
            $reuse.DependsOn -join ' ' | Should -BeLike '*how long the TIME-WAIT entries*'
            (Test-PortConnect 10.0.0.5:5432 -Address 192.0.2.7 -BindAddressNoPort -SocketTable @() -SocketHost $Db01).Error | Should -Be 'EADDRNOTAVAIL'
            (Test-PortConnect 10.0.0.5:5432 -Address 192.0.2.7 -BindAddressNoPort -SocketTable @() -SocketHost $Db01 -NonLocalBind).CanConnect | Should -BeTrue
            $shared = 'tcp ESTAB 10.0.0.1:40100 10.0.0.9:443 reuseaddr noreuseport', 'tcp ESTAB 10.0.0.1:40101 10.0.0.9:443 reuseaddr noreuseport'
            (Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 -ReuseAddress -SocketTable $shared -SocketHost $Db01).CanConnect | Should -BeFalse
            (Test-PortConnect 10.0.0.5:5432 -Address 10.0.0.1 -ReuseAddress -SocketTable $shared -SocketHost $Db01 -AutobindReuse).CanConnect | Should -BeTrue
        }

        It 'takes the SocketHost as JSON text, and refuses one of another OS than -TargetOS' {
            $json = $Db01 | ConvertTo-Json
            (Test-PortConnect 127.0.0.1:6379 -SocketTable $Waiting -SocketHost $json).Available | Should -Be 1
            { Test-PortConnect 127.0.0.1:6379 -SocketTable $Waiting -SocketHost $Db01 -TargetOS Windows -ErrorAction Stop } | Should -Throw '*a Linux host, but -TargetOS asks for Windows*'
        }
    }

    Context 'Tables of several network namespaces' {
        It 'answers once per namespace, with its own ports' {
            $mixed = 'tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432 netns=red:4026532301', 'tcp ESTAB 10.0.0.1:40001 10.0.0.5:5432 netns=red:4026532301', 'tcp ESTAB 10.0.0.1:40000 10.0.0.5:5432 netns=blue:4026532302'
            $results = Test-PortConnect 10.0.0.5:5432 -SocketTable $mixed -EphemeralPortRange 40000-40001 -ReservedPorts @() -LocalAddress 10.0.0.1 -TargetOS Linux
            $results | Should -HaveCount 2
            [string[]]$results.NetworkNamespace | Should -Be @('red:4026532301', 'blue:4026532302')
            $results.Available | Should -Be @(0, 1)
            $results.CanConnect | Should -Be @($false, $true)
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

    Context 'A namespace''s table and SocketHost, live and carried' -Skip:(-not $IsRoot) {
        BeforeAll {
            # A namespace with a range of 10, tcp_tw_reuse 0, a database on 127.0.0.1:5432 with three
            # connections to it and one that the client closed (TIME-WAIT), held by a shell inside it.
            $script:Carried = 'pt-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            & ip netns add $Carried
            & ip -n $Carried link set lo up
            & ip netns exec $Carried sysctl -q -w 'net.ipv4.ip_local_port_range=40000 40009' 'net.ipv4.tcp_tw_reuse=0'
            $setup = @(
                '$l = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $l.Bind([Net.IPEndPoint]::new([ipaddress]''127.0.0.1'', 5432)); $l.Listen(16)'
                '$held = foreach ($i in 1..3) { $c = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $c.Connect(''127.0.0.1'', 5432); $c; $l.Accept() }'
                '$t = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $t.Connect(''127.0.0.1'', 5432); $ta = $l.Accept(); $t.Close(); Start-Sleep -Milliseconds 200; $ta.Close(); Start-Sleep -Milliseconds 200'
                '''ready''; $null = [Console]::In.ReadLine()'
            ) -join '; '
            $start = [System.Diagnostics.ProcessStartInfo]::new('ip')
            foreach ($argument in 'netns', 'exec', $Carried, (Get-PowerShellPath), '-NoProfile', '-NonInteractive', '-Command', $setup) {
                $start.ArgumentList.Add($argument)
            }
            $start.RedirectStandardInput = $true
            $start.RedirectStandardOutput = $true
            $start.UseShellExecute = $false
            $script:Holder = [System.Diagnostics.Process]::Start($start)
            $ready = $Holder.StandardOutput.ReadLineAsync()
            if (-not $ready.Wait(60000) -or $ready.Result -ne 'ready') { throw "The shell in namespace $Carried did not start: $($ready.Result)" }

            $script:Live = Test-PortConnect 127.0.0.1:5432 -NetworkNamespace $Carried -Count 10
            $script:Table = Get-SocketTuple -NetworkNamespace $Carried
            $script:Facts = Get-SocketHost -NetworkNamespace $Carried

            function Get-Answer {
                # What a reader compares: everything but the words on where the source address came from.
                param($Result)
                '{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}' -f $Result.CanConnect, $Result.Error, $Result.Available, $Result.SourcePort, ($Result.SourcePorts -join ','), ($Result.DependsOn -join ';'), $Result.Rule, $Result.SourceAddress
            }
        }

        AfterAll {
            if ($Holder) {
                $Holder.StandardInput.Close()
                if (-not $Holder.WaitForExit(10000)) { $Holder.Kill() }
                $Holder.Dispose()
            }
            & ip netns del $Carried
        }

        It 'answers live from the namespace''s table and facts' {
            $Live.CanConnect | Should -BeFalse
            $Live.Error | Should -Be 'EADDRNOTAVAIL'
            $Live.Available | Should -Be 6 # 10 ports, 3 connections and a TIME-WAIT entry that tcp_tw_reuse=0 leaves alone
            $Live.DependsOn | Should -BeNullOrEmpty
            $Live.Reason | Should -BeLike '*net.ipv4.tcp_tw_reuse=0*'
            $Facts.TcpTwReuse | Should -Be 0
            $Facts.TcpTimestamps | Should -Be 1
        }

        It 'gives the live answer with -SocketHost from Get-SocketHost' {
            $text = [string[]]($Table | ForEach-Object { $_.ToString() }) # text: no namespace this session could read facts from
            Get-Answer (Test-PortConnect 127.0.0.1:5432 -SocketTable $text -SocketHost $Facts -Count 10) | Should -Be (Get-Answer $Live)
            Get-Answer (Test-PortConnect 127.0.0.1:5432 -SocketTable $Table -Count 10) | Should -Be (Get-Answer $Live) # the table brings its namespace's facts
        }

        It 'gives the live answer with a SocketHost from Import-Clixml and from ConvertFrom-Json' {
            $path = Join-Path $TestDrive 'carried.xml'
            $Facts | Export-Clixml -LiteralPath $path
            $text = [string[]]($Table | ForEach-Object { $_.ToString() })
            Get-Answer (Test-PortConnect 127.0.0.1:5432 -SocketTable $text -SocketHost (Import-Clixml -LiteralPath $path) -Count 10) | Should -Be (Get-Answer $Live)
            Get-Answer (Test-PortConnect 127.0.0.1:5432 -SocketTable $text -SocketHost ($Facts | ConvertTo-Json | ConvertFrom-Json) -Count 10) | Should -Be (Get-Answer $Live)
        }

        It 'says what it depends on for the same text without the SocketHost' {
            $text = [string[]]($Table | ForEach-Object { $_.ToString() })
            $unknown = Test-PortConnect 127.0.0.1:5432 -SocketTable $text -Count 10
            $unknown.CanConnect | Should -BeNullOrEmpty # the default range would serve ten calls; the namespace's does not
            $unknown.Available | Should -BeGreaterThan 10
            $unknown.DependsOn -join ' ' | Should -BeLike '*ip_local_port_range*not known*'
        }

        It 'agrees with Measure-EphemeralPortUsage in the namespace' {
            $row = Measure-EphemeralPortUsage -NetworkNamespace $Carried | Where-Object Destination -EQ '127.0.0.1:5432'
            $row.Available | Should -Be $Live.Available
            $row.DependsOn | Should -BeNullOrEmpty
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
