BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function Get-Completion {
        # What Tab offers at the end of the line, as the console would ask for it.
        param([string] $Line)
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Tab completion' {
    Context 'Closed sets, from enums' {
        It 'completes <Line>' -ForEach @(
            @{ Line = 'Get-SocketTuple -Protocol T'; Expected = 'Tcp' }
            @{ Line = 'Get-SocketTuple -State Tim'; Expected = 'TimeWait' }
            @{ Line = 'Get-SocketTuple -Exposure Pub'; Expected = 'Public' }
            @{ Line = 'Test-PortBind 80 -SocketTable @() -TargetOS Free'; Expected = 'FreeBSD' }
            @{ Line = 'ConvertFrom-SocketTable -Format Netstat'; Expected = 'NetstatWindows' }
        ) {
            (Get-Completion $Line).CompletionText | Should -Contain $Expected
        }
    }

    Context 'Open sets, from argument completers' {
        It 'completes -ProcessName with the names of running processes' {
            $name = (Get-Process -Id $PID).ProcessName
            $offered = Get-Completion ('Get-SocketTuple -ProcessName ' + $name.Substring(0, [Math]::Min(3, $name.Length)))
            $offered.CompletionText | Should -Contain $name
            $offered | ForEach-Object { $_.ResultType | Should -Be 'ParameterValue' }
        }

        It 'completes -ProcessName with the command name a process''s sockets carry, not its rewritten title' -Skip:(-not $script:OnLinux) {
            # exec -a gives argv[0] a title, as nginx and postgres do; the command name stays sleep.
            # One argument string: as an array element, the script's own double quotes split it
            # apart on the way through Start-Process, and bash ran a bare "exec" that exited at once.
            $process = Start-Process -FilePath bash -ArgumentList '-c "exec -a ''porttoolsfake: worker process'' sleep 30"' -PassThru
            try {
                # Until bash has exec'd: a fixed pause lost that race on a loaded CI machine.
                $comm = "/proc/$($process.Id)/comm"
                $deadline = [DateTime]::UtcNow.AddSeconds(15)
                while ([DateTime]::UtcNow -lt $deadline -and ((Get-Content -LiteralPath $comm -ErrorAction SilentlyContinue) -ne 'sleep')) {
                    Start-Sleep -Milliseconds 50
                }
                Get-Content -LiteralPath $comm | Should -Be 'sleep' -Because 'the child must have exec''d sleep within 15 s'
                (Get-Content -LiteralPath "/proc/$($process.Id)/cmdline" -Raw) | Should -BeLike 'porttoolsfake: worker process*'
                $offered = (Get-Completion 'Get-SocketTuple -ProcessName porttoolsfa').CompletionText
                $offered | Should -BeNullOrEmpty
                (Get-Completion 'Get-SocketTuple -ProcessName slee').CompletionText | Should -Contain 'sleep'
            }
            finally {
                Stop-Process -Id $process.Id -Force -ErrorAction SilentlyContinue
            }
        }

        It 'does not complete -ProcessName with kernel threads, which own no sockets' -Skip:(-not $script:OnLinux) {
            (Get-Completion 'Get-SocketTuple -ProcessName kthread').CompletionText | Should -Not -Contain 'kthreadd'
        }

        It 'completes -Service with service names, ignoring case' {
            $offered = Get-Completion 'Get-PortInfo -Service POSTGRE'
            $offered.CompletionText | Should -Contain 'postgresql'
            $offered.CompletionText | ForEach-Object { $_ | Should -BeLike 'postgre*' }
        }

        It 'completes -Address and -LocalAddress with this host''s addresses and the wildcards' {
            (Get-Completion 'Test-PortBind 80 -Address 127.0').CompletionText | Should -Contain '127.0.0.1'
            (Get-Completion 'Test-PortBind 80 -Address 0.').CompletionText | Should -Contain '0.0.0.0'
            (Get-Completion 'Get-SocketTuple -LocalAddress 127.0').CompletionText | Should -Contain '127.0.0.1'
            (Get-Completion 'Resolve-Demux Tcp -SourceAddress 198.51.100.7 -SourcePort 4000 -DestinationPort 80 -DestinationAddress 127.0').CompletionText | Should -Contain '127.0.0.1'
        }

        It 'completes -Interface with this host''s interfaces' {
            $interface = [System.Net.NetworkInformation.NetworkInterface]::GetAllNetworkInterfaces() | Select-Object -First 1 -ExpandProperty Name
            $prefix = $interface.Substring(0, 1)
            (Get-Completion "Test-PortBind 80 -Interface $prefix").CompletionText -replace "^'|'$" | Should -Contain $interface
            (Get-Completion "Resolve-Demux Tcp 198.51.100.7:4000 127.0.0.1:80 -Interface $prefix").CompletionText -replace "^'|'$" | Should -Contain $interface
        }

        It 'offers nothing that does not match what was typed' {
            Get-Completion 'Get-PortInfo -Service zzz-no-such-service' | Should -BeNullOrEmpty
        }
    }

    Context 'Network namespaces' -Skip:(-not $IsRoot) {
        BeforeAll {
            $namespace = 'pt-test-complete-' + $PID
            & ip netns add $namespace
        }

        AfterAll {
            & ip netns del $namespace
        }

        It 'completes -NetworkNamespace with the named namespaces' {
            (Get-Completion 'Get-SocketTuple -NetworkNamespace pt-test-complete').CompletionText | Should -Contain $namespace
        }
    }
}
