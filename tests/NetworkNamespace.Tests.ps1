BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $CanMakeNamespaces = $IsRoot -and [bool](Get-Command -Name ip -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function New-TestNamespace {
        # A namespace of this test's own, unlike a default host in every fact PortTools reads: its
        # ephemeral range, reserved ports, unprivileged port start, addresses (192.0.2.1 on veth0,
        # 198.51.100.7 on veth1; not 192.0.2.2, which a host may have) and interfaces.
        $name = 'pt-ctx-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        & ip netns add $name
        & ip -n $name link set lo up
        & ip -n $name link add veth0 type veth peer name veth1
        & ip -n $name link set veth0 up
        & ip -n $name link set veth1 up
        & ip -n $name addr add 192.0.2.1/24 dev veth0
        & ip -n $name addr add 198.51.100.7/24 brd + dev veth1
        & ip netns exec $name sh -c 'echo 40000 40099 > /proc/sys/net/ipv4/ip_local_port_range; echo 40010-40011 > /proc/sys/net/ipv4/ip_local_reserved_ports; echo 500 > /proc/sys/net/ipv4/ip_unprivileged_port_start; echo 1 > /proc/sys/net/ipv6/bindv6only'
        $name
    }

    function Get-SysctlInside {
        # The kernel's value as a process inside the namespace sees it: the oracle.
        param([string] $Namespace, [string] $Name)
        (& ip netns exec $Namespace cat "/proc/sys/$Name" | Out-String).Trim()
    }

    function Start-InsideNamespace {
        # A PowerShell inside the namespace (ip netns exec), which runs $Setup, says 'ready', then runs
        # each line it is sent and answers with one line; its sockets live until Stop-InsideNamespace.
        param([string] $Namespace, [string] $Setup)
        $start = [System.Diagnostics.ProcessStartInfo]::new('ip')
        $loop = "$Setup; 'ready'; while (`$null -ne (`$line = [Console]::In.ReadLine())) { try { [string](Invoke-Expression `$line) } catch { 'error ' + `$_.Exception.InnerException.SocketErrorCode + ' ' + `$_ } }"
        foreach ($argument in @('netns', 'exec', $Namespace, (Get-PowerShellPath)) + @('-NoProfile', '-NonInteractive', '-Command', $loop)) {
            $start.ArgumentList.Add($argument)
        }
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $start.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($start)
        $ready = $process.StandardOutput.ReadLineAsync()
        if (-not $ready.Wait(60000) -or $ready.Result -ne 'ready') {
            $process.Kill()
            throw "The shell in namespace $Namespace did not start: $($ready.Result)"
        }
        $process
    }

    function Send-InsideNamespace {
        param($Shell, [string] $Line)
        $Shell.StandardInput.WriteLine($Line)
        $answer = $Shell.StandardOutput.ReadLineAsync()
        if (-not $answer.Wait(30000)) { throw "No answer to: $Line" }
        $answer.Result
    }

    function Stop-InsideNamespace {
        param($Shell)
        $Shell.StandardInput.Close()
        if (-not $Shell.WaitForExit(10000)) { $Shell.Kill() }
        $Shell.Dispose()
    }
}

Describe 'Network namespaces everywhere' -Skip:(-not $CanMakeNamespaces) {
    BeforeAll {
        $ns = New-TestNamespace
    }

    AfterAll {
        & ip netns del $ns
    }

    Context 'Get-SocketHost -NetworkNamespace' {
        It 'reads the namespace''s own sysctls, addresses and interfaces, as the kernel shows them inside' {
            $facts = Get-SocketHost -NetworkNamespace $ns
            $facts.NetworkNamespace.Name | Should -Be $ns
            $facts.NetworkNamespace.Inode | Should -Be ([uint64](& stat -L -c '%i' "/run/netns/$ns"))
            [string]$facts.EphemeralPortRange | Should -Be ((Get-SysctlInside $ns net/ipv4/ip_local_port_range) -replace '\s+', '-')
            [string]$facts.ReservedPorts | Should -Be (Get-SysctlInside $ns net/ipv4/ip_local_reserved_ports)
            $facts.UnprivilegedPortStart | Should -Be ([int](Get-SysctlInside $ns net/ipv4/ip_unprivileged_port_start))
            $facts.BindV6Only | Should -Be ((Get-SysctlInside $ns net/ipv6/bindv6only) -eq '1')
            [string[]]$facts.Addresses | Should -Contain '198.51.100.7/24 brd 198.51.100.255 dev veth1'
            [string[]]$facts.Addresses | Should -Contain '192.0.2.1/24 dev veth0'
            $facts.Addresses.Address | Should -Not -Contain '192.0.2.2'
            $facts.Interfaces | Sort-Object | Should -Be @('lo', 'veth0', 'veth1')
        }

        It 'finds the namespace by name, by its file and by a process inside, and names it each time' {
            $holder = Start-Process -FilePath ip -ArgumentList 'netns', 'exec', $ns, 'sleep', '60' -PassThru
            try {
                Start-Sleep -Milliseconds 300
                $all = @(Get-SocketHost -NetworkNamespace $ns, "/run/netns/$ns", $holder.Id)
                $all | Should -HaveCount 3
                ($all.NetworkNamespace | ForEach-Object { [string]$_ } | Select-Object -Unique) | Should -Be ([string]$all[0].NetworkNamespace)
                $all[2].NetworkNamespace.ProcessId | Should -Be $holder.Id
            }
            finally {
                $holder | Stop-Process -Force
            }
        }
    }

    Context 'Test-PortBind -NetworkNamespace' {
        It 'binds inside the namespace: the issue''s 192.0.2.2:8500 is EADDRNOTAVAIL there, whatever this host has' {
            $result = Test-PortBind 8500 -Address 192.0.2.2 -NetworkNamespace $ns
            $result.Method | Should -Be 'Probed'
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'EADDRNOTAVAIL'
            $result.PredictedError | Should -BeNullOrEmpty # the engine, with the namespace's facts, agrees
            (Test-PortBind 8500 -Address 198.51.100.7 -NetworkNamespace $ns).CanBind | Should -BeTrue
        }

        It 'simulates the namespace''s table with the facts it brings, and agrees with a real bind there' {
            $shell = Start-InsideNamespace $ns '$l = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $l.Bind([Net.IPEndPoint]::new([ipaddress]''192.0.2.1'', 8501)); $l.Listen(5)'
            try {
                $table = Get-SocketTuple -NetworkNamespace $ns
                $table.NetworkNamespace.Name | Select-Object -Unique | Should -Be $ns
                foreach ($address in '192.0.2.2', '192.0.2.1', '198.51.100.7', '203.0.113.9', '0.0.0.0', '::') {
                    $simulated = @(Test-PortBind 8500, 8501, 40050 -Address $address -SocketTable $table)
                    $kernel = @(Test-PortBind 8500, 8501, 40050 -Address $address -NetworkNamespace $ns)
                    foreach ($i in 0..2) {
                        $simulated[$i].DependsOn | Should -BeNullOrEmpty -Because "the table brings every fact of ${address}:$($simulated[$i].Port)"
                        "$($simulated[$i].CanBind) $($simulated[$i].Error)" | Should -Be "$($kernel[$i].CanBind) $($kernel[$i].Error)" -Because "${address}:$($simulated[$i].Port): $($simulated[$i].Reason)"
                    }
                }
                (Test-PortBind 8500 -Address 192.0.2.2 -SocketTable $table).Error | Should -Be 'EADDRNOTAVAIL'
            }
            finally {
                Stop-InsideNamespace $shell
            }
        }

        It 'takes a port from the namespace''s range for port 0, never a reserved one' {
            foreach ($attempt in 1..10) {
                $result = Test-PortBind 0 -Address 192.0.2.1 -NetworkNamespace $ns
                $result.Reason -match 'The kernel assigned port (400\d\d) to the trial socket' | Should -BeTrue -Because $result.Reason
                [int]$Matches[1] | Should -Not -BeIn 40010, 40011
            }
        }
    }

    Context 'Resolve-Demux -NetworkNamespace' {
        It 'follows the namespace''s addresses to the arriving interface, as the kernel delivers there' {
            $setup = @(
                '$d = [Net.Sockets.Socket]::new(''InterNetwork'', ''Dgram'', ''Udp''); $d.SetRawSocketOption(1, 2, [BitConverter]::GetBytes(1)); $d.SetRawSocketOption(1, 25, [Text.Encoding]::ASCII.GetBytes("veth1`0")); $d.Bind([Net.IPEndPoint]::new([ipaddress]::Any, 9300))'
                '$a = [Net.Sockets.Socket]::new(''InterNetwork'', ''Dgram'', ''Udp''); $a.SetRawSocketOption(1, 2, [BitConverter]::GetBytes(1)); $a.Bind([Net.IPEndPoint]::new([ipaddress]::Any, 9300))'
                'function Send-To($to) { $s = [Net.Sockets.Socket]::new(''InterNetwork'', ''Dgram'', ''Udp''); $s.Bind([Net.IPEndPoint]::new([ipaddress]''192.0.2.1'', 45000)); $null = $s.SendTo([byte[]]1, [Net.IPEndPoint]::new([ipaddress]$to, 9300)); $s.Dispose(); Start-Sleep -Milliseconds 100; $got = if ($d.Available) { ''veth1'' } elseif ($a.Available) { ''any'' } else { ''none'' }; $b = [byte[]]::new(16); while ($d.Available) { $null = $d.Receive($b) }; while ($a.Available) { $null = $a.Receive($b) }; $got }'
            ) -join '; '
            $shell = Start-InsideNamespace $ns $setup
            try {
                foreach ($destination in '198.51.100.7', '192.0.2.1') {
                    $result = Resolve-Demux Udp 192.0.2.1:45000 "${destination}:9300" -NetworkNamespace $ns
                    $result.DependsOn | Should -BeNullOrEmpty
                    $engine = if ($result.Socket.BoundInterface) { $result.Socket.BoundInterface } else { 'any' }
                    $kernel = Send-InsideNamespace $shell "Send-To $destination"
                    $engine | Should -Be $kernel -Because "a datagram to ${destination}: $($result.Reason)"
                }
                # The namespace's sockets, read here, bring its facts to a simulation too.
                $table = Get-SocketTuple -NetworkNamespace $ns -LocalPort 9300
                (Resolve-Demux Udp 192.0.2.1:45000 198.51.100.7:9300 -SocketTable $table).Socket.BoundInterface | Should -Be 'veth1'
                # A copy that travelled does not: the arriving interface is then unknown, and both may receive it.
                $copy = $table | ForEach-Object { $_.ToString() }
                $unknown = Resolve-Demux Udp 192.0.2.1:45000 198.51.100.7:9300 -SocketTable $copy -TargetOS Linux
                $unknown.Socket | Should -BeNullOrEmpty
                @($unknown.Sockets) | Should -HaveCount 2
            }
            finally {
                Stop-InsideNamespace $shell
            }
        }
    }

    Context 'Measure-EphemeralPortUsage and the namespace''s range' {
        It 'measures 90 connections in a range of 100 as 90% used, and the kernel allows exactly 10 more (the issue''s case)' {
            $setup = '$l = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $l.Bind([Net.IPEndPoint]::new([ipaddress]''192.0.2.1'', 8000)); $l.Listen(512); $c = [Collections.Generic.List[object]]::new(); 1..90 | ForEach-Object { $s = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $s.Connect(''192.0.2.1'', 8000); $c.Add($s) }'
            & ip netns exec $ns sh -c 'echo > /proc/sys/net/ipv4/ip_local_reserved_ports' # the issue's namespace reserves none
            $shell = Start-InsideNamespace $ns $setup
            try {
                $piped = Get-SocketTuple -NetworkNamespace $ns | Measure-EphemeralPortUsage -WarningVariable warnings -WarningAction SilentlyContinue
                $piped.Destination | Should -Be '192.0.2.1:8000'
                $piped.InUse | Should -Be 90
                $piped.Capacity | Should -Be 100
                [math]::Round($piped.UtilizationPercent, 1) | Should -Be 90
                $piped.NearExhaustion | Should -BeTrue
                $warnings | Should -HaveCount 1
                $read = Measure-EphemeralPortUsage -NetworkNamespace $ns -WarningAction SilentlyContinue
                ($read.Capacity, $read.InUse) | Should -Be @(100, 90)
                # The kernel: ten more connect() calls succeed, the eleventh fails with EADDRNOTAVAIL.
                $more = Send-InsideNamespace $shell '$n = 0; try { 1..11 | ForEach-Object { $s = [Net.Sockets.Socket]::new(''InterNetwork'', ''Stream'', ''Tcp''); $s.Connect(''192.0.2.1'', 8000); $c.Add($s); $n++ }; "$n" } catch { "$n " + $_.Exception.InnerException.SocketErrorCode }'
                $more | Should -Be '10 AddressNotAvailable'
            }
            finally {
                Stop-InsideNamespace $shell
                & ip netns exec $ns sh -c 'echo 40010-40011 > /proc/sys/net/ipv4/ip_local_reserved_ports'
            }
        }
    }

    Context 'Get-EphemeralPortRange and Get-PortInfo -NetworkNamespace' {
        It 'shows the namespace''s range and reserved ports, and says where they were read' {
            $ranges = @(Get-EphemeralPortRange -NetworkNamespace $ns -WarningVariable warnings)
            $ranges | Should -HaveCount 4
            $ranges | ForEach-Object {
                "$($_.Start)-$($_.End) $($_.UsableCount)" | Should -Be '40000-40099 98'
                $_.Source | Should -Be "/proc/sys/net/ipv4/ip_local_port_range (network namespace $ns)"
            }
            $warnings | Should -BeNullOrEmpty
            (Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork).Source | Should -Be '/proc/sys/net/ipv4/ip_local_port_range'
        }

        It 'describes ports against the namespace''s settings' {
            $reserved, $inRange, $low = Get-PortInfo 40010, 40050, 450 -Protocol Tcp -NetworkNamespace $ns
            $reserved.IsReserved | Should -BeTrue
            $inRange.InEphemeralRange | Should -BeTrue
            $low.PrivilegeReason | Should -BeLike '*net.ipv4.ip_unprivileged_port_start = 500*'
            (Get-PortInfo 600 -Protocol Tcp -NetworkNamespace $ns).PrivilegeReason | Should -BeLike '*is not privileged*'
        }
    }

    Context 'A namespace that does not exist or cannot be entered' {
        It 'is a clear error naming it, from every cmdlet that takes one' {
            $commands = @(
                { Get-SocketHost -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Test-PortBind 80 -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Test-PortBind 80 -SocketTable @() -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Resolve-Demux Tcp 198.51.100.9:5000 10.0.0.5:80 -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Get-EphemeralPortRange -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Get-PortInfo 80 -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
                { Measure-EphemeralPortUsage -NetworkNamespace pt-ctx-no-such -ErrorAction Stop }
            )
            foreach ($command in $commands) {
                $record = $null
                try { & $command } catch { $record = $_ }
                $record | Should -Not -BeNullOrEmpty -Because "$command"
                $record.FullyQualifiedErrorId | Should -BeLike 'NetworkNamespaceNotFound,*' -Because "$command"
                $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
                $record.TargetObject | Should -Be 'pt-ctx-no-such'
                $record.Exception.Message | Should -BeLike "Network namespace 'pt-ctx-no-such' was not found*"
            }
        }

        It 'lets Get-SocketHost read the other namespaces it is given' {
            $found = @(Get-SocketHost -NetworkNamespace pt-ctx-no-such, $ns -ErrorVariable failures -ErrorAction SilentlyContinue)
            $found | Should -HaveCount 1
            $found[0].NetworkNamespace.Name | Should -Be $ns
            $failures | Should -HaveCount 1
            $failures[0].TargetObject | Should -Be 'pt-ctx-no-such'
        }

        It 'refuses a file that is not a namespace, saying so' {
            $file = Join-Path $TestDrive 'not-a-namespace'
            Set-Content -LiteralPath $file -Value x
            $record = $null
            try { Get-SocketHost -NetworkNamespace $file -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'NetworkNamespaceNotANamespace,PortTools.Commands.GetSocketHostCommand'
            $record.Exception.Message | Should -BeLike "*is not a network namespace*"
        }
    }
}
