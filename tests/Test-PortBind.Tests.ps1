BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Test-PortBind' {
    Context 'Module surface' {
        It 'has help with examples and declares its outputs' {
            $help = Get-Help -Name Test-PortBind -Full
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            (Get-Command Test-PortBind).OutputType.Name | Should -Contain 'PortTools.PortBindResult'
            (Get-Command Test-PortBind).OutputType.Name | Should -Contain 'System.Boolean'
        }
    }

    Context 'Simulation with the Linux rules' {
        It 'refuses a second listener on a wildcard port and names the holder' {
            $result = Test-PortBind 8080 -SocketTable 'tcp LISTEN 0.0.0.0:8080 pid=812 process=nginx' -TargetOS Linux
            $result.PSObject.TypeNames[0] | Should -Be 'PortTools.PortBindResult'
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'EADDRINUSE'
            $result.ErrorCode | Should -Be 98
            $result.Method | Should -Be 'Simulated'
            $result.Conflicts | Should -HaveCount 1
            $result.Conflicts[0].ProcessName | Should -Be 'nginx'
            $result.Reason | Should -BeLike '*held by nginx (pid 812), listening*'
        }

        It 'explains that SO_REUSEADDR does not share a port with a listener' {
            $result = Test-PortBind 8080 -Address 127.0.0.1 -ReuseAddress -SocketTable 'tcp LISTEN 127.0.0.1:8080 reuseaddr' -LocalAddress 127.0.0.1 -TargetOS Linux
            $result.CanBind | Should -BeFalse
            $result.Rule | Should -Be 'linux.tcp.reuseaddr-vs-listener'
            $result.Reason | Should -BeLike '*SO_REUSEADDR does not share a port with a listening socket*'
        }

        It 'lets SO_REUSEPORT share a port within one user but not across users' {
            $table = 'tcp LISTEN 0.0.0.0:9000 reuseport uid=1000'
            (Test-PortBind 9000 -ReusePort -Listen -SocketTable $table -UserId 1000 -TargetOS Linux).CanBind | Should -BeTrue
            $other = Test-PortBind 9000 -ReusePort -Listen -SocketTable $table -UserId 1001 -TargetOS Linux
            $other.CanBind | Should -BeFalse
            $other.Rule | Should -Be 'linux.tcp.reuseport-other-user'
        }

        It 'allows an IPv4 wildcard next to an IPV6_V6ONLY listener but not next to a dual-stack one' {
            (Test-PortBind 22 -SocketTable 'tcp LISTEN [::]:22 v6only' -Privileged -TargetOS Linux).CanBind | Should -BeTrue
            (Test-PortBind 22 -SocketTable 'tcp LISTEN [::]:22 nov6only' -Privileged -TargetOS Linux).CanBind | Should -BeFalse
        }

        It 'simulates privilege, local addresses and the ephemeral range' {
            $denied = Test-PortBind 80 -SocketTable @() -UserId 1000 -Privileged:$false -TargetOS Linux
            $denied.Error | Should -Be 'EACCES'
            (Test-PortBind 80 -SocketTable @() -UnprivilegedPortStart 0 -Privileged:$false -TargetOS Linux).CanBind | Should -BeTrue
            (Test-PortBind 5000 -Address 192.0.2.99 -SocketTable @() -LocalAddress 192.0.2.1 -TargetOS Linux).Error | Should -Be 'EADDRNOTAVAIL'
            (Test-PortBind 0 -SocketTable @() -EphemeralPortRange '40000-40009' -TargetOS Linux).Reason | Should -BeLike '*40000-40009*10 of its 10 ports are free*'
        }

        It 'writes only booleans with -Quiet' {
            $answers = Test-PortBind 8080, 8081 -SocketTable 'tcp LISTEN 0.0.0.0:8080' -Quiet -TargetOS Linux
            $answers | Should -Be @($false, $true)
            $answers[0] | Should -BeOfType [bool]
        }

        It 'takes ports by value and objects with a LocalPort from the pipeline' {
            (8080, 8081 | Test-PortBind -SocketTable 'tcp LISTEN 0.0.0.0:8080' -TargetOS Linux).CanBind | Should -Be @($false, $true)
            $socket = [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:8080'
            ($socket | Test-PortBind -SocketTable $socket -TargetOS Linux).Port | Should -Be 8080
            ([pscustomobject]@{ LocalPort = 8081; Protocol = 'Udp' } | Test-PortBind -SocketTable 'tcp LISTEN 0.0.0.0:8081' -TargetOS Linux).CanBind | Should -BeTrue
        }

        It 'takes deserialized sockets as a table, as remoting and Import-Clixml return them' {
            $original = [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:8080 pid=812 process=nginx'
            $deserialized = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($original))
            $deserialized.PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.SocketTuple'
            $result = Test-PortBind 8080 -SocketTable $deserialized -TargetOS Linux
            $result.CanBind | Should -BeFalse
            $result.Conflicts[0].ProcessName | Should -Be 'nginx'
        }

        It 'reports a table entry that is not a socket and uses the rest' {
            $errors = $null
            $result = Test-PortBind 8080 -SocketTable 'not a socket', 'tcp LISTEN 0.0.0.0:8080' -TargetOS Linux -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidSocketTableEntry,PortTools.Commands.TestPortBindCommand'
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[0].Exception.Message | Should -BeLike "*entry 1*'not a socket'*"
            $result.CanBind | Should -BeFalse
        }
    }

    Context 'Bad input' {
        It 'names a port out of range' {
            { Test-PortBind 70000 -SocketTable @() } | Should -Throw -ExpectedMessage '*70000*'
        }

        It 'refuses -IPv6Only for an IPv4 address with a specific error, and goes on' {
            $errors = $null
            $result = Test-PortBind 8080 -IPv6Only -SocketTable @() -TargetOS Linux -ErrorVariable errors -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -Be 'IPv6OnlyNeedsIPv6Address,PortTools.Commands.TestPortBindCommand'
        }

        It 'takes simulation facts only with a table to simulate against' {
            # -UserId belongs to the simulation set, whose -SocketTable is mandatory.
            { Test-PortBind 8080 -UserId 1000 -ErrorAction Stop } | Should -Throw -ErrorId 'MissingMandatoryParameter,PortTools.Commands.TestPortBindCommand'
        }
    }

    Context 'Trial binds on Linux' -Skip:(-not $OnLinux) {
        BeforeAll {
            $address = New-LoopbackAddress
            $listener = New-TestSocket -Address $address -Listen
            $port = $listener.LocalEndPoint.Port
        }

        AfterAll {
            $listener.Dispose()
        }

        It 'finds the port taken, with this process as the holder' {
            $result = Test-PortBind $port -Address $address
            $result.Method | Should -Be 'Probed'
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'EADDRINUSE'
            $result.Conflicts.ProcessId | Should -Contain $PID
            $result.PredictedError | Should -BeNullOrEmpty
        }

        It 'binds a free port and leaves nothing behind' {
            $free = Test-PortBind 0 -Address $address -Listen
            $free.CanBind | Should -BeTrue
            $free.Reason | Should -BeLike '*assigned port*'
            Get-SocketTuple -LocalAddress $address -Protocol Tcp | Should -HaveCount 1
        }

        It 'answers -Quiet with the kernel''s answer' {
            Test-PortBind $port -Address $address -Quiet | Should -BeFalse
        }
    }
}
