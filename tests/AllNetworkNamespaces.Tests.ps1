BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

# Root only: namespaces are made (and removed) by the test, each with a listener on 127.0.0.1:8080.
Describe 'Get-SocketTuple -AllNetworkNamespaces' -Skip:(-not $IsRoot) {
    BeforeAll {
        $suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
        $names = "pt-pester-$suffix-a", "pt-pester-$suffix-b"
        $pwsh = Join-Path $PSHOME 'pwsh'
        $directory = Join-Path ([System.IO.Path]::GetTempPath()) "pt-pester-ns-$suffix"
        New-Item -ItemType Directory -Path $directory | Out-Null
        $holders = @()

        function Start-Holder([string] $Tag, [string[]] $Prefix) {
            $ready = Join-Path $directory "$Tag.pid"
            $script = "& ip link set lo up; `$l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 8080); `$l.Start(); " +
                "`$u = [System.Net.Sockets.Socket]::new('Unix', 'Stream', 'Unspecified'); `$u.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new([char]0 + 'pt-pester-$suffix')); `$u.Listen(1); " +
                "Set-Content -LiteralPath '$ready' -Value `$PID; Start-Sleep -Seconds 300"
            $arguments = @($Prefix | Select-Object -Skip 1) + @($pwsh, '-NoProfile', '-NonInteractive', '-Command', $script)
            Start-Process -FilePath $Prefix[0] -ArgumentList $arguments -PassThru
            $ready
        }

        foreach ($name in $names) {
            & ip netns add $name
            & ip -n $name link set lo up
        }
        & ip -n $names[0] addr add 192.0.2.77/32 dev lo # an address only the first namespace has

        $readyFiles = @()
        $holders += Start-Holder 'a' @('ip', 'netns', 'exec', $names[0])
        $holders += Start-Holder 'b' @('ip', 'netns', 'exec', $names[1])
        $holders += Start-Holder 'hidden' @('unshare', '-n', '--')
        $readyFiles = $holders | Where-Object { $_ -is [string] }
        $processes = $holders | Where-Object { $_ -is [System.Diagnostics.Process] }
        $deadline = (Get-Date).AddSeconds(60)
        while (@($readyFiles | Where-Object { Test-Path -LiteralPath $_ }).Count -lt 3 -and (Get-Date) -lt $deadline) {
            Start-Sleep -Milliseconds 200
        }
        $pids = @($readyFiles | ForEach-Object { [int](Get-Content -LiteralPath $_) })
        $table = @(Get-SocketTuple -AllNetworkNamespaces -LocalPort 8080 -Listening -ProcessId $pids)
    }

    AfterAll {
        foreach ($name in $names) { & ip netns del $name 2>$null }
        $processes | Stop-Process -Force -ErrorAction SilentlyContinue
        $pids | ForEach-Object { Stop-Process -Id $_ -Force -ErrorAction SilentlyContinue }
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'finds the listener of every namespace, each marked with its own namespace' {
        $pids.Count | Should -Be 3
        $table.Count | Should -Be 3
        @($table.NetworkNamespace.Inode | Sort-Object -Unique).Count | Should -Be 3
        foreach ($socket in $table) {
            $link = (Get-Item -LiteralPath "/proc/$($socket.ProcessId)/ns/net").Target
            $link | Should -Be "net:[$($socket.NetworkNamespace.Inode)]"
        }
        ($table | Where-Object { $_.NetworkNamespace.Name -eq $names[0] }).ProcessId | Should -Be $pids[0]
        ($table | Where-Object { $_.NetworkNamespace.Name -eq $names[1] }).ProcessId | Should -Be $pids[1]
        ($table | Where-Object ProcessId -EQ $pids[2]).NetworkNamespace.Name | Should -BeNullOrEmpty
    }

    It 'shows the namespace and container columns when the read spans namespaces' {
        $text = $table | Format-Table | Out-String -Width 120
        $text | Should -Match 'Protocol\s+State\s+Local\s+Remote\s+ProcessName\s+NetworkNamespace\s+Container'
        $text | Should -Match ([regex]::Escape($names[0]))
    }

    It 'reports no conflict across namespaces: each answer names only its own listener' {
        $answers = @(Test-PortBind 8080 -Address 127.0.0.1 -Listen -SocketTable $table -LocalAddress 127.0.0.1)
        $answers.Count | Should -Be 3
        foreach ($answer in $answers) {
            $answer.Error | Should -Be 'EADDRINUSE'
            $answer.Conflicts.Count | Should -Be 1
            $answer.Conflicts[0].NetworkNamespace | Should -Be $answer.NetworkNamespace
        }
        @(Resolve-Demux Tcp 127.0.0.1:40000 127.0.0.1:8080 -SocketTable $table).Socket.ProcessId | Sort-Object | Should -Be ($pids | Sort-Object)
    }

    It 'answers each namespace with its own host facts' {
        $answers = @(Test-PortBind 8500 -Address 192.0.2.77 -SocketTable $table)
        $answers.Count | Should -Be 3
        ($answers | Where-Object { $_.NetworkNamespace.Name -eq $names[0] }).CanBind | Should -BeTrue
        @($answers | Where-Object { $_.NetworkNamespace.Name -ne $names[0] }).Error | Should -Be @('EADDRNOTAVAIL', 'EADDRNOTAVAIL')
        (Test-PortBind 8500 -Address 192.0.2.77 -SocketTable $table -NetworkNamespace $names[1]).Error | Should -Be 'EADDRNOTAVAIL'
        { Test-PortBind 8500 -SocketTable $table -NetworkNamespace $PID -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNamespaceNotInSocketTable,PortTools.Commands.TestPortBindCommand'
    }

    It 'lists UNIX sockets of every namespace: one abstract name, three holders' {
        $unix = @(Get-SocketTuple -Protocol Unix -AllNetworkNamespaces -Path "@pt-pester-$suffix")
        $unix.Count | Should -Be 3
        ($unix.ProcessId | Sort-Object) | Should -Be ($pids | Sort-Object)
        @(Test-PortBind -Path "@pt-pester-$suffix" -SocketTable $unix).Error | Should -Be @('EADDRINUSE', 'EADDRINUSE', 'EADDRINUSE')
    }

    It 'refuses a single namespace together with all of them' {
        { Get-SocketTuple -AllNetworkNamespaces -NetworkNamespace $names[0] -ErrorAction Stop } | Should -Throw -ErrorId 'AllAndOneNetworkNamespace,PortTools.Commands.GetSocketTupleCommand'
    }
}
