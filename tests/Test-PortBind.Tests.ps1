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
            $result.Reason | Should -BeLike '*SO_REUSEADDR never shares a port with a listening socket*'
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

        It 'says which unknown option of the holder decides, and never blames it' {
            $table = 'tcp LISTEN 127.0.0.1:9100 uid=1000 pid=42 process=python3'
            $result = Test-PortBind 9100 -Address 127.0.0.1 -ReusePort -Listen -SocketTable $table -UserId 1000 -LocalAddress 127.0.0.1 -TargetOS Linux
            $result.CanBind | Should -BeNullOrEmpty
            $result.Error | Should -Be 'EADDRINUSE'
            $result.DependsOn | Should -HaveCount 1
            $result.DependsOn[0] | Should -BeLike 'SO_REUSEPORT of tcp LISTEN 127.0.0.1:9100 of python3 (pid 42)*'
            $result.Reason | Should -BeLike '*can bind if the holder set SO_REUSEPORT (the socket table does not show its options)*'
            $result.Reason | Should -Not -BeLike '*did not*'
            Test-PortBind 9100 -Address 127.0.0.1 -ReusePort -Listen -SocketTable $table -UserId 1000 -LocalAddress 127.0.0.1 -TargetOS Linux -Quiet -WarningVariable unknown -WarningAction SilentlyContinue | Should -BeFalse
            $unknown | Should -HaveCount 1
        }

        It 'blames the other uid first, whatever the holder''s options' {
            $result = Test-PortBind 9100 -Address 127.0.0.1 -ReusePort -Listen -SocketTable 'tcp LISTEN 127.0.0.1:9100 uid=1000' -UserId 1001 -LocalAddress 127.0.0.1 -TargetOS Linux
            $result.CanBind | Should -BeFalse
            $result.Reason | Should -BeLike '*uid 1001 here, uid 1000 there*'
            $result.Reason | Should -Not -BeLike '*did not*'
        }

        It 'knows two listeners on one port set SO_REUSEPORT, though the table does not show it' {
            $table = 'tcp LISTEN 127.0.0.1:9100 uid=1000', 'tcp LISTEN 127.0.0.1:9100 uid=1000'
            (Test-PortBind 9100 -Address 127.0.0.1 -ReusePort -Listen -SocketTable $table -UserId 1000 -LocalAddress 127.0.0.1 -TargetOS Linux).CanBind | Should -BeTrue
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
            $deserialized = $original | ConvertTo-PropertyBag
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

    Context 'Simulation with the Windows, FreeBSD and macOS rules' {
        It 'refuses to overlap a SO_EXCLUSIVEADDRUSE socket on Windows with WSAEACCES, even with SO_REUSEADDR' {
            $table = 'tcp LISTEN 0.0.0.0:443 exclusiveaddruse pid=4 process=System'
            $result = Test-PortBind 443 -Address 10.0.0.5 -ReuseAddress -TargetOS Windows -LocalAddress 10.0.0.5 -SocketTable $table
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'WSAEACCES'
            $result.ErrorCode | Should -Be 10013
            $result.TargetOS | Should -Be 'Windows'
            $result.Rule | Should -Be 'windows.denied.wildcard-then-specific'
            $result.Conflicts[0].ProcessName | Should -Be 'System'
            # Without it, Windows' access check lets the same user share: the answer turns on who binds.
            $plain = 'tcp LISTEN 0.0.0.0:443 noreuseaddr noexclusiveaddruse uid=0 pid=4 process=System'
            $unprotected = Test-PortBind 443 -Address 10.0.0.5 -ReuseAddress -TargetOS Windows -LocalAddress 10.0.0.5 -SocketTable $plain
            $unprotected.CanBind | Should -BeNullOrEmpty
            $unprotected.DependsOn | Should -Be @('the user who binds')
            (Test-PortBind 443 -Address 10.0.0.5 -ReuseAddress -TargetOS Windows -LocalAddress 10.0.0.5 -UserId 0 -SocketTable $plain).CanBind | Should -BeTrue
            # What the table does not show of the holder (its SO_REUSEADDR, its user) is weighed, never taken as off or as this user.
            $unshown = Test-PortBind 443 -Address 10.0.0.5 -ReuseAddress -TargetOS Windows -LocalAddress 10.0.0.5 -UserId 0 -SocketTable ($table -replace 'exclusiveaddruse', 'noexclusiveaddruse')
            $unshown.CanBind | Should -BeNullOrEmpty
            $unshown.DependsOn | Should -Be @('SO_REUSEADDR of tcp LISTEN 0.0.0.0:443 of System (pid 4), and its user, the socket table does not show them')
        }

        It 'passes -ExclusiveAddressUse on to the Windows rules' {
            $table = 'tcp LISTEN 10.0.0.5:8080 reuseaddr noexclusiveaddruse pid=500 process=app'
            (Test-PortBind 8080 -Address 10.0.0.5 -ReuseAddress -TargetOS Windows -LocalAddress 10.0.0.5 -SocketTable $table).CanBind | Should -BeTrue
            $exclusive = Test-PortBind 8080 -Address 10.0.0.5 -ExclusiveAddressUse -TargetOS Windows -LocalAddress 10.0.0.5 -SocketTable $table
            $exclusive.CanBind | Should -BeFalse
            $exclusive.Error | Should -Be 'WSAEADDRINUSE'
            $exclusive.Rule | Should -Be 'windows.inuse.same-specific'
        }

        It 'makes IPv6 sockets IPv6-only by default on Windows, and dual-stack with -IPv6Only:$false' {
            $table = 'tcp LISTEN 0.0.0.0:8080 pid=77 process=svc'
            (Test-PortBind 8080 -Address :: -TargetOS Windows -SocketTable $table).CanBind | Should -BeTrue
            $dual = Test-PortBind 8080 -Address :: -IPv6Only:$false -TargetOS Windows -SocketTable $table
            $dual.CanBind | Should -BeFalse
            $dual.Error | Should -Be 'WSAEADDRINUSE'
            $dual.ErrorCode | Should -Be 10048
        }

        It 'needs -Broadcast to bind a broadcast address on Windows' {
            $without = Test-PortBind 5000 -Protocol Udp -Address 255.255.255.255 -TargetOS Windows -SocketTable @()
            $without.Error | Should -Be 'WSAEACCES'
            $without.Rule | Should -Be 'windows.eacces.broadcast'
            (Test-PortBind 5000 -Protocol Udp -Address 255.255.255.255 -Broadcast -TargetOS Windows -SocketTable @()).CanBind | Should -BeTrue
        }

        It 'has no privileged ports on Windows; FreeBSD reserves those below 1024' {
            (Test-PortBind 80 -TargetOS Windows -SocketTable @() -Privileged:$false -UserId 1000).CanBind | Should -BeTrue
            $bsd = Test-PortBind 80 -TargetOS FreeBSD -SocketTable @() -Privileged:$false -UserId 1000
            $bsd.Error | Should -Be 'EACCES'
            $bsd.Rule | Should -Be 'freebsd.eacces.reserved-port'
        }

        It 'lets a worker of the same user join a FreeBSD SO_REUSEPORT_LB group' {
            $nginx = 'tcp LISTEN 0.0.0.0:8080 reuseport_lb uid=80 pid=900 process=nginx', 'tcp LISTEN 0.0.0.0:8080 reuseport_lb uid=80 pid=901 process=nginx'
            (Test-PortBind 8080 -ReusePortLoadBalance -Listen -UserId 80 -SocketTable $nginx -TargetOS FreeBSD).CanBind | Should -BeTrue
            (Test-PortBind 8080 -Listen -UserId 80 -SocketTable $nginx -TargetOS FreeBSD).CanBind | Should -BeFalse
        }

        It 'finds a macOS wildcard listener in the best-fit lookup for a specific address' {
            $result = Test-PortBind 5000 -Address 192.168.1.20 -TargetOS MacOS -LocalAddress 192.168.1.20 -SocketTable 'tcp LISTEN *:5000 pid=612 process=ControlCenter'
            $result.Error | Should -Be 'EADDRINUSE'
            $result.ErrorCode | Should -Be 48
            $result.Rule | Should -Be 'macos.inuse.best-fit'
        }

        It 'answers ENOPROTOOPT for an option the system does not have, in its own numbering' -ForEach @(
            @{ Os = 'Linux'; Option = @{ ExclusiveAddressUse = $true }; ExpectedError = 'ENOPROTOOPT'; Code = 92 }
            @{ Os = 'Linux'; Option = @{ ReusePortLoadBalance = $true }; ExpectedError = 'ENOPROTOOPT'; Code = 92 }
            @{ Os = 'MacOS'; Option = @{ ExclusiveAddressUse = $true }; ExpectedError = 'ENOPROTOOPT'; Code = 42 }
            @{ Os = 'MacOS'; Option = @{ FreeBind = $true; Address = '203.0.113.9' }; ExpectedError = 'ENOPROTOOPT'; Code = 42 }
            @{ Os = 'FreeBSD'; Option = @{ ExclusiveAddressUse = $true }; ExpectedError = 'ENOPROTOOPT'; Code = 42 }
            @{ Os = 'Windows'; Option = @{ ReusePort = $true }; ExpectedError = 'WSAENOPROTOOPT'; Code = 10042 }
        ) {
            $options = $Option
            $result = Test-PortBind 8080 -TargetOS $Os -SocketTable @() @options
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be $ExpectedError
            $result.ErrorCode | Should -Be $Code
            $result.Reason | Should -BeLike 'setsockopt() fails*'
        }

        It 'binds an address the host does not have with -FreeBind on Linux' {
            (Test-PortBind 80 -Address 203.0.113.9 -TargetOS Linux -SocketTable @() -LocalAddress 127.0.0.1 -Privileged).Error | Should -Be 'EADDRNOTAVAIL'
            (Test-PortBind 80 -Address 203.0.113.9 -FreeBind -TargetOS Linux -SocketTable @() -LocalAddress 127.0.0.1 -Privileged).CanBind | Should -BeTrue
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
            # -UserId belongs to the simulation set, whose -SocketTable is mandatory. Run where no host
            # can prompt for it, so that the error is the same in an interactive session.
            $session = [initialsessionstate]::CreateDefault2()
            $session.ImportPSModule((Join-Path $ModulePath 'PortTools.psd1'))
            $shell = [powershell]::Create($session)
            try {
                $null = $shell.AddCommand('Test-PortBind').AddParameter('Port', 8080).AddParameter('UserId', 1000)
                $thrown = $null
                try { $shell.Invoke() } catch { $thrown = $_.Exception.InnerException }
                $thrown | Should -BeOfType System.Management.Automation.ParameterBindingException
                $thrown.ErrorRecord.FullyQualifiedErrorId | Should -Be 'MissingMandatoryParameter,PortTools.Commands.TestPortBindCommand'
                $thrown.Message | Should -BeLike '*SocketTable*'
            }
            finally {
                $shell.Dispose()
            }
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

        It 'predicts a third SO_REUSEPORT listener beside two, as the kernel answers, with their options read' {
            $group = foreach ($i in 1..2) {
                $member = [System.Net.Sockets.Socket]::new($address.AddressFamily, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
                $member.SetRawSocketOption(1, 15, [BitConverter]::GetBytes(1)) # SO_REUSEPORT
                $member.Bind([System.Net.IPEndPoint]::new($address, $(if ($i -eq 1) { 0 } else { $groupPort })))
                $member.Listen(1)
                $groupPort = $member.LocalEndPoint.Port
                $member
            }
            try {
                $result = Test-PortBind $groupPort -Address $address -ReusePort -Listen
                $result.Method | Should -Be 'Probed'
                $result.CanBind | Should -BeTrue
                $result.PredictedError | Should -BeNullOrEmpty
                $result.Reason | Should -BeLike '*can be bound and listened on*'
                $demux = Resolve-Demux Tcp 127.0.0.9:40000 ('{0}:{1}' -f $address, $groupPort)
                $demux.Sockets | Should -HaveCount 2
                $demux.DependsOn | Should -BeNullOrEmpty
                @($demux.Sockets.ReusePort) | Should -Be @($true, $true)
            }
            finally {
                $group | ForEach-Object Dispose
            }
        }

        It 'binds a free port and leaves nothing behind' {
            $free = Test-PortBind 0 -Address $address -Listen
            $free.CanBind | Should -BeTrue
            $free.Reason | Should -BeLike '*assigned port*'
            Get-SocketTuple -LocalAddress $address -Protocol Tcp | Should -HaveCount 1
        }

        It 'answers an option Linux does not have with ENOPROTOOPT, as the engine predicts' {
            $result = Test-PortBind 0 -Address $address -ExclusiveAddressUse
            $result.Method | Should -Be 'Probed'
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'ENOPROTOOPT'
            $result.ErrorCode | Should -Be 92
            $result.PredictedError | Should -BeNullOrEmpty
        }

        It 'answers -Quiet with the kernel''s answer' {
            Test-PortBind $port -Address $address -Quiet | Should -BeFalse
        }
    }
}
