BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function New-UnixSocket {
        param([string] $Path, [ValidateSet('Stream', 'Dgram', 'Seqpacket')] [string] $Type = 'Stream', [switch] $Listen)
        $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]$Type, [System.Net.Sockets.ProtocolType]::Unspecified)
        if ($Path) {
            $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($Path))
        }
        if ($Listen) {
            $socket.Listen(5)
        }
        $socket
    }

    function Invoke-RealBind {
        # What bind() of a fresh stream socket answers here: 'ok' or the errno name .NET reports.
        param([string] $Path)
        $socket = New-UnixSocket
        try {
            $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($Path))
            'ok'
        }
        catch [System.Net.Sockets.SocketException] {
            switch ($_.Exception.SocketErrorCode) {
                'AddressAlreadyInUse' { 'EADDRINUSE' }
                'AccessDenied' { 'EACCES' }
                default { $_.Exception.SocketErrorCode.ToString() }
            }
        }
        finally {
            $socket.Dispose() # .NET unlinks the file it bound
        }
    }
}

Describe 'UNIX domain sockets' -Skip:(-not $OnLinux) {
    BeforeAll {
        $directory = Join-Path ([System.IO.Path]::GetTempPath()) ('pt-pester-unix-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $directory | Out-Null
        $serverPath = Join-Path $directory 'srv.sock'
        $listener = New-UnixSocket -Path $serverPath -Listen
        $client = New-UnixSocket
        $client.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($serverPath))
        $accepted = $listener.Accept()
        $abstract = '@pt-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $abstractSocket = New-UnixSocket -Path ("`0" + $abstract.Substring(1)) -Type Dgram

        # A stale socket file: a second name (hard link) of a socket file whose socket is gone.
        $gone = New-UnixSocket -Path (Join-Path $directory 'gone.sock')
        New-Item -ItemType HardLink -Path (Join-Path $directory 'stale.sock') -Target (Join-Path $directory 'gone.sock') | Out-Null
        $gone.Dispose()
    }

    AfterAll {
        foreach ($s in $accepted, $client, $listener, $abstractSocket) { if ($s) { $s.Dispose() } }
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }

    Context 'Get-SocketTuple -Protocol Unix' {
        It 'lists the listener, both ends of the connection and the abstract socket, with owners and peers' {
            $sockets = @(Get-SocketTuple -Protocol Unix -ProcessId $PID)
            $sockets | ForEach-Object { $_ | Should -BeOfType ([PortTools.UnixSocket]) }

            $server = @($sockets | Where-Object { $_.Path -eq $serverPath -and $_.State -eq 'Listen' })
            $server | Should -HaveCount 1
            $server[0].Type | Should -Be 'Stream'
            $server[0].ProcessId | Should -Be $PID
            $server[0].FileInode | Should -Not -BeNullOrEmpty

            $mine = $sockets | Where-Object { $_.PeerPath -eq $serverPath -and $_.AddressKind -eq 'Unnamed' }
            $mine.State | Should -Be 'Established'
            $mine.PeerProcessId | Should -Be $PID
            ($sockets | Where-Object Inode -EQ $mine.PeerInode).Path | Should -Be $serverPath

            $named = $sockets | Where-Object Path -EQ $abstract
            $named.AddressKind | Should -Be 'Abstract'
            $named.Type | Should -Be 'Datagram'
        }

        It 'filters by path with wildcards, which implies -Protocol Unix, and by -Listening' {
            @(Get-SocketTuple -Path (Join-Path $directory '*')).Count | Should -Be 2 # the listener and the accepted socket carry the path
            @(Get-SocketTuple -Path (Join-Path $directory '*') -Listening).Path | Should -Be $serverPath
            @(Get-SocketTuple -Protocol Unix -Path '@pt-pester-*' -ProcessId $PID).Path | Should -Contain $abstract
            Get-SocketTuple -Path '/no/such/path/*' | Should -BeNullOrEmpty
        }

        It 'shows Type, State, Path, ProcessId, ProcessName and the peer in its table' {
            $table = Get-SocketTuple -Path $serverPath | Format-Table | Out-String -Width 120
            $table | Should -Match 'Type\s+State\s+Path\s+ProcessId\s+ProcessName\s+PeerProcessId\s+PeerProcessName'
            $table | Should -Match ([regex]::Escape($serverPath))
        }

        It 'prints the canonical text and reads it back' {
            $socket = Get-SocketTuple -Path $serverPath -Listening
            $text = $socket.ToString()
            $text | Should -Match ('^u_str LISTEN ' + [regex]::Escape($serverPath) + ' ino=\d+')
            ([PortTools.UnixSocket]$text).Inode | Should -Be $socket.Inode
        }

        It 'refuses TCP/UDP filters, mixed protocols and states no UNIX socket has, naming the input' {
            { Get-SocketTuple -Protocol Unix -LocalPort 80 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterNotForUnixSockets,PortTools.Commands.GetSocketTupleCommand'
            { Get-SocketTuple -Protocol Unix, Tcp -ErrorAction Stop } | Should -Throw -ErrorId 'UnixWithOtherProtocols,PortTools.Commands.GetSocketTupleCommand'
            { Get-SocketTuple -Protocol Unix -State TIME-WAIT -ErrorAction Stop } | Should -Throw -ErrorId 'StateNotForUnixSockets,PortTools.Commands.GetSocketTupleCommand'
            { Get-SocketTuple -Path /x -LocalPort 80 -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,PortTools.Commands.GetSocketTupleCommand'
        }

        It 'still lists TCP and UDP by default, and converts TransportProtocol values to -Protocol' {
            @(Get-SocketTuple -Protocol ([PortTools.TransportProtocol]::Udp) -SkipProcess) | ForEach-Object { $_ | Should -BeOfType ([PortTools.SocketTuple]) }
            (Get-Command Get-SocketTuple).Parameters['Path'].ParameterSets.Keys | Sort-Object | Should -Be @('Unix', 'UnixSkipProcess')
            @(Get-SocketTuple -Path $serverPath -SkipProcess | Where-Object ProcessId) | Should -BeNullOrEmpty
            { Get-SocketTuple -SkipProcess -ProcessName x -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,PortTools.Commands.GetSocketTupleCommand'
        }
    }

    Context 'Test-PortBind -Path' {
        It 'says which process holds a path, and agrees with a real bind()' {
            $result = Test-PortBind -Path $serverPath
            $result | Should -BeOfType ([PortTools.UnixBindResult])
            $result.CanBind | Should -BeFalse
            $result.Error | Should -Be 'EADDRINUSE'
            $result.Stale | Should -BeFalse
            $result.Holders.ProcessId | Should -Contain $PID
            $result.Holder | Should -BeLike "* ($PID)*"
            # The cause first (what holds the path), then the remedy; the errno is in Error, not repeated.
            $result.Reason | Should -Match ('^' + [regex]::Escape($serverPath) + ' is held by .+\. Stop that process or bind another path')
            Invoke-RealBind $serverPath | Should -Be 'EADDRINUSE'
        }

        It 'calls a socket file without a socket stale and safe to unlink' {
            $result = Test-PortBind -Path (Join-Path $directory 'stale.sock')
            $result.Stale | Should -BeTrue
            $result.FileType | Should -Be 'Socket'
            $result.Reason | Should -Match 'safe to unlink \(rm /'
            $result.Reason | Should -Not -Match '^bind\(\) fails'
            $result.Holder | Should -BeNullOrEmpty
            Invoke-RealBind (Join-Path $directory 'stale.sock') | Should -Be 'EADDRINUSE'
        }

        It 'binds a free path, and resolves a relative path against the current location' {
            Push-Location $directory
            try {
                $result = Test-PortBind -Path 'free.sock'
                $result.CanBind | Should -BeTrue
                $result.FullPath | Should -Be (Join-Path $directory 'free.sock')
            }
            finally {
                Pop-Location
            }
            Invoke-RealBind (Join-Path $directory 'free.sock') | Should -Be 'ok'
        }

        It 'names a directory where a socket is expected' {
            New-Item -ItemType Directory -Path (Join-Path $directory 'dir.sock') | Out-Null
            $result = Test-PortBind -Path (Join-Path $directory 'dir.sock')
            $result.FileType | Should -Be 'Directory'
            $result.Reason | Should -Match 'directory where a socket is expected'
        }

        It 'checks abstract names in this namespace' {
            (Test-PortBind -Path $abstract -SocketType Datagram).Holders.ProcessId | Should -Contain $PID
            (Test-PortBind -Path $abstract).CanBind | Should -BeTrue -Because 'abstract names are per socket type'
            (Test-PortBind -Path '@pt-pester-free-name').CanBind | Should -BeTrue
        }

        It 'takes socket files from Get-ChildItem and writes booleans with -Quiet' {
            $results = @(Get-ChildItem -Path $directory -Filter '*.sock' -File | Test-PortBind)
            $results.Count | Should -BeGreaterOrEqual 2
            @(Test-PortBind -Path $serverPath, (Join-Path $directory 'new.sock') -Quiet) | Should -Be @($false, $true)
        }

        It 'answers the 108-byte limit, and refuses a NUL in a path without stopping the rest' {
            $long = Join-Path $directory ('x' * 120)
            (Test-PortBind -Path $long).Error | Should -Be 'EINVAL'
            $results = @(Test-PortBind -Path ((Join-Path $directory "a`0b"), (Join-Path $directory 'ok.sock')) -ErrorVariable problems -ErrorAction SilentlyContinue)
            $results.Count | Should -Be 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'InvalidUnixSocketPath,PortTools.Commands.TestPortBindCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $problems[0].TargetObject | Should -Be (Join-Path $directory "a`0b")
        }

        It 'simulates against a table of UNIX sockets, per namespace, saying what a table cannot know' {
            $table = 'u_str LISTEN @bus netns=4026532301 pid=10 process=dbus', 'u_str LISTEN /run/app.sock netns=4026532302 pid=20 process=app'
            $bus = @(Test-PortBind -Path '@bus' -SocketTable $table)
            $bus.Count | Should -Be 2
            $bus[0].CanBind | Should -BeFalse
            $bus[1].CanBind | Should -BeTrue
            $bus.NetworkNamespace.Inode | Should -Be @(4026532301, 4026532302)
            $app = Test-PortBind -Path '/run/app.sock' -SocketTable $table[1]
            $app.CanBind | Should -BeNullOrEmpty
            $app.DependsOn | Should -Not -BeNullOrEmpty
            Test-PortBind -Path '/run/app.sock' -SocketTable $table[1] -Quiet -WarningVariable warned -WarningAction SilentlyContinue | Should -BeFalse
            $warned | Should -Not -BeNullOrEmpty
        }

        It 'has a table view' {
            Test-PortBind -Path $serverPath | Format-Table | Out-String -Width 120 | Should -Match 'Path\s+CanBind\s+Error\s+Stale\s+Holder\s+Reason'
            # At 80 columns the holder is still whole and the Reason begins.
            $lines = @((Test-PortBind -Path $serverPath | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_ -match 'False' })
            $lines[0] | Should -Match "\($PID\)\s+\S" -Because ($lines -join "`n")
        }
    }

    Context 'ConvertFrom-SocketTable -Protocol Unix' {
        It 'reads ss -xp text with peers resolved' -Skip:(-not (Get-Command ss -ErrorAction SilentlyContinue)) {
            $sockets = @(ss -xap | ConvertFrom-SocketTable -Protocol Unix)
            $sockets | ForEach-Object { $_ | Should -BeOfType ([PortTools.UnixSocket]) }
            $live = Get-SocketTuple -Path $serverPath -Listening
            ($sockets | Where-Object Inode -EQ $live.Inode).Path | Should -Be $serverPath
        }

        It 'reads /proc/net/unix, and without -Protocol Unix says how to read UNIX lines' {
            @(Get-Content /proc/net/unix | ConvertFrom-SocketTable -Protocol Unix | Where-Object Path -EQ $serverPath).Count | Should -BeGreaterOrEqual 1
            $none = @(Get-Content /proc/net/unix | ConvertFrom-SocketTable -WarningVariable hint -WarningAction SilentlyContinue -ErrorAction SilentlyContinue)
            $none.Count | Should -Be 0
            $hint | Should -Match '-Protocol Unix'
        }
    }
}
