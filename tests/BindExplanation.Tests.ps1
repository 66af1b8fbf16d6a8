# Test-PortBind's Holder column and Reasons (cause, then remedy; conflicts of a kind summarized) with
# real listeners and TIME-WAIT sockets on loopback, and Get-SocketTuple's kernel timers against ss -o.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:HasPython = $OnLinux -and [bool](Get-Command python3 -ErrorAction SilentlyContinue)
    $script:HasSs = $OnLinux -and [bool](Get-Command ss -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function Start-PythonListener {
        # A python3 process listening on 127.0.0.1:$Port (with SO_REUSEPORT when asked), for at most 120 s.
        param([int] $Port, [switch] $ReusePort)
        $option = if ($ReusePort) { 's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); ' } else { '' }
        $code = "import socket, time; s = socket.socket(); ${option}s.bind(('127.0.0.1', $Port)); s.listen(); print('ready', flush=True); time.sleep(120)"
        $process = Start-Process -FilePath python3 -ArgumentList '-c', "`"$code`"" -PassThru -RedirectStandardOutput ([System.IO.Path]::GetTempFileName())
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Get-SocketTuple -LocalPort $Port -Listening | Where-Object ProcessId -EQ $process.Id) -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 100
        }
        $process
    }

    function New-TimeWait {
        # Closes $Count loopback connections to $Port from this side first, so their client ports go to TIME-WAIT;
        # with -OnServerPort the server side closes first and the TIME-WAIT sockets sit on $Port itself.
        param([int] $Port, [int] $Count = 1, [switch] $OnServerPort)
        $listener = New-TestSocket -Port $Port -Listen
        try {
            foreach ($i in 1..$Count) {
                $client = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
                $client.Connect([System.Net.IPEndPoint]::new([ipaddress]::Loopback, $Port))
                $accepted = $listener.Accept()
                if ($OnServerPort) { $accepted.Close(); Start-Sleep -Milliseconds 20; $client.Close() }
                else { $client.Close(); Start-Sleep -Milliseconds 20; $accepted.Close() }
            }
        }
        finally {
            $listener.Close()
        }
    }

    function Get-FreeLoopbackPort {
        $probe = New-TestSocket
        try { $probe.LocalEndPoint.Port } finally { $probe.Close() }
    }
}

Describe 'Test-PortBind names the holder and explains' {
    Context 'Real python3 listeners' -Skip:(-not $HasPython) {
        BeforeAll {
            $port = Get-FreeLoopbackPort
            $single = Start-PythonListener -Port $port
            $shared = Get-FreeLoopbackPort
            $group = 1..3 | ForEach-Object { Start-PythonListener -Port $shared -ReusePort }
            $results = @(
                Test-PortBind $port -Address 127.0.0.1
                Test-PortBind $shared -Address 127.0.0.1
            )
        }

        AfterAll {
            @($single) + @($group) | Where-Object { $_ } | ForEach-Object { Stop-Process -Id $_.Id -Force -ErrorAction SilentlyContinue }
        }

        It 'has a Holder property with the first owner and how many more' {
            $results[0].Holder | Should -Be "python3 ($($single.Id))"
            # The kernel meets the newest of a SO_REUSEPORT group first, so any of the three may be named.
            $results[1].Holder -match '^python3 \((\d+)\) \+2$' | Should -BeTrue -Because $results[1].Holder
            [int]$Matches[1] | Should -BeIn $group.Id
        }

        It 'gives the cause first, then the remedy, and counts several listeners' {
            $results[0].Reason | Should -Be ("127.0.0.1:$port/tcp is held by python3 (pid $($single.Id)), listening, and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT. " +
                'Stop it, choose another port, or set SO_REUSEPORT on both sockets as the same user.')
            $results[1].Reason | Should -Match ('^3 listening sockets hold ' + [regex]::Escape("127.0.0.1:$shared/tcp") + ' \(python3 \(pid \d+\), python3 \(pid \d+\) and 1 more\), and this socket sets neither SO_REUSEADDR nor SO_REUSEPORT\. Stop them, ')
            $results[1].Conflicts | Should -HaveCount 3
        }

        It 'fits 80 columns with the holder shown' {
            $lines = ($results | Format-Table | Out-String -Width 80) -split "`r?`n" | Where-Object { $_ }
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $lines[0] | Should -Match '^Protocol\s+Address\s+Port\s+CanBind\s+Error\s+Holder\s+Reason$'
            $lines | Should -Contain ($lines | Where-Object { $_ -match "EADDRINUSE\s+python3 \($($single.Id)\)\s" })
            ($lines -join "`n") | Should -Match 'EADDRINUSE\s+python3 \(\d+\) \+2 '
        }

        It 'shows the start of the cause at 120 columns' {
            $text = $results | Format-Table | Out-String -Width 120
            $text | Should -Match ([regex]::Escape("python3 ($($single.Id))") + '\s+' + [regex]::Escape("127.0.0.1:$port/tcp is held by python3"))
            $text | Should -Match ([regex]::Escape("3 listening sockets hold 127.0.0.1:$shared/tcp"))
        }

        It 'shows the whole Reason with -Wrap' {
            # -Wrap breaks lines inside words, so compare without white space.
            $text = ($results[0] | Format-Table -Wrap | Out-String -Width 120) -replace '\s+', ''
            $text | Should -BeLike '*Stopit,chooseanotherport,orsetSO_REUSEPORTonbothsocketsasthesameuser.*'
        }
    }

    Context 'Real TIME-WAIT sockets' -Skip:(-not $OnLinux) {
        BeforeAll {
            $port = Get-FreeLoopbackPort
            New-TimeWait -Port $port -Count 3 -OnServerPort
            $live = Test-PortBind $port -Address 127.0.0.1
            $saved = Test-PortBind $port -Address 127.0.0.1 -SocketTable (Get-SocketTuple -LocalPort $port | ForEach-Object ToString)
        }

        It 'summarizes three TIME-WAIT sockets in one sentence with when the last expires' {
            $live.Error | Should -Be 'EADDRINUSE'
            $live.Holder | Should -Be 'TIME-WAIT +2'
            $live.Conflicts | Should -HaveCount 3
            $live.Reason -match "^3 TIME-WAIT sockets hold 127\.0\.0\.1:$port/tcp; the last expires in (\d+) s\. Wait, or set SO_REUSEADDR" | Should -BeTrue -Because $live.Reason
            [int]$Matches[1] | Should -BeLessOrEqual 60
            $live.Reason.Length | Should -BeLessThan 200
        }

        It 'says a saved table''s expiry counts from when it was read' {
            $saved.Reason | Should -Match '; the last expires \d+ s after the table was read\.'
        }
    }
}

Describe 'Get-SocketTuple kernel timers' -Skip:(-not $OnLinux) {
    BeforeAll {
        $server = Get-FreeLoopbackPort
        New-TimeWait -Port $server -Count 2
        $sockets = @(Get-SocketTuple -RemotePort $server -State TimeWait)
    }

    It 'shows TIME-WAIT sockets with Timer TimeWait and an expiry of at most 60 s' {
        $sockets | Should -HaveCount 2
        foreach ($socket in $sockets) {
            $socket.Timer | Should -Be 'TimeWait'
            $socket.TimerExpiresIn | Should -BeOfType [timespan]
            $socket.TimerExpiresIn.TotalSeconds | Should -BeGreaterThan 0
            $socket.TimerExpiresIn.TotalSeconds | Should -BeLessOrEqual 60
            $socket.Retransmits | Should -Be 0
        }
    }

    It 'agrees with ss -tano' -Skip:(-not $HasSs) {
        $lines = & ss -tanoH state time-wait "dport = :$server"
        foreach ($socket in $sockets) {
            $line = $lines | Where-Object { $_ -match "127\.0\.0\.1:$($socket.LocalPort)\s" }
            $line -match 'timer:\(timewait,(\d+)sec,0\)' | Should -BeTrue -Because "$line"
            [math]::Abs([int]$Matches[1] - $socket.TimerExpiresIn.TotalSeconds) | Should -BeLessOrEqual 3
        }
    }

    It 'leaves listeners with no timer, and no expiry or count' {
        $listener = New-TestSocket -Listen
        try {
            $socket = Get-SocketTuple -LocalPort $listener.LocalEndPoint.Port -Listening | Select-Object -First 1
            $socket.Timer | Should -Be 'None'
            $socket.TimerExpiresIn | Should -BeNullOrEmpty
            $socket.Retransmits | Should -BeNullOrEmpty
        }
        finally {
            $listener.Close()
        }
    }

    It 'carries the timer through the text form, Export-Clixml and JSON' {
        $socket = $sockets[0]
        $socket.ToString() | Should -Match ' timer=timewait,\d+(\.\d+)?s,0'
        ([PortTools.SocketTuple]$socket.ToString()).TimerExpiresIn | Should -Be $socket.TimerExpiresIn

        $path = Join-Path ([System.IO.Path]::GetTempPath()) "timers-$PID.xml"
        try {
            $socket | Export-Clixml -LiteralPath $path
            $back = [PortTools.SocketTuple](Import-Clixml -LiteralPath $path)
            $back.Timer | Should -Be 'TimeWait'
            $back.TimerExpiresIn | Should -Be $socket.TimerExpiresIn
        }
        finally {
            Remove-Item -LiteralPath $path -ErrorAction SilentlyContinue
        }

        $json = $socket | ConvertTo-Json | ConvertFrom-SocketTable
        $json.Timer | Should -Be 'TimeWait'
        $json.TimerExpiresIn | Should -Be $socket.TimerExpiresIn
    }

    It 'has a Timers view whose headers are properties' {
        $text = $sockets | Format-Table -View Timers | Out-String -Width 120
        $text | Should -Match 'State\s+Local\s+Remote\s+Timer\s+TimerExpiresIn\s+Retransmits\s+ProcessName'
        $text | Should -Match 'TimeWait\s+\d+(\.\d+)? s\s+0'
    }
}
