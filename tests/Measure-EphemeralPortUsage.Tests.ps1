BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function New-Connections {
        # Canonical lines for Count connections from Local to Destination, with source ports from FirstPort on.
        param([int] $Count, [string] $Local, [string] $Destination, [int] $FirstPort, [string] $State = 'ESTAB')
        for ($i = 0; $i -lt $Count; $i++) {
            'tcp {0} {1}:{2} {3}' -f $State, $Local, ($FirstPort + $i), $Destination
        }
    }
}

Describe 'Measure-EphemeralPortUsage' {
    Context 'Module surface' {
        It 'is exported with help that has at least three examples' {
            $command = Get-Command -Name Measure-EphemeralPortUsage -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name Measure-EphemeralPortUsage -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }) {
                ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
            }
        }

        It 'declares EphemeralPortUsage as its output type' {
            (Get-Command Measure-EphemeralPortUsage).OutputType.Name | Should -Be 'PortTools.EphemeralPortUsage'
        }

        It 'shows the destination, ports in use, what remains, utilization, rate and nearness to exhaustion by default' {
            $table = 'tcp ESTAB 10.0.0.5:40000 203.0.113.10:443' | Measure-EphemeralPortUsage -TargetOS Linux | Format-Table | Out-String -Width 200
            $table | Should -Match 'Protocol\s+Destination\s+InUse\s+Available\s+PercentUsed\s+NearExhaustion\s+LocalAddress\s+TimeWait\s+RatePerSecond'
            $table | Should -Match 'Tcp\s+203\.0\.113\.10:443\s+1\s+28231\s+0[.,]0\s+False\s+10\.0\.0\.5\s+0\s+471'
            # At 80 columns the answer (destination, in use, available, percent, nearness) stands whole, and nothing squeezed follows it.
            $narrow = @(('tcp ESTAB 10.0.0.5:40000 203.0.113.10:443' | Measure-EphemeralPortUsage -TargetOS Linux | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() })
            $narrow[0].TrimEnd() | Should -Be 'Protocol Destination                 InUse Available PercentUsed NearExhaustion'
            $narrow | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        }
    }

    Context 'A what-if table on Linux rules' {
        BeforeAll {
            $table = @(
                New-Connections -Count 100 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 40000
                New-Connections -Count 20 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 41000 -State TIME-WAIT
                New-Connections -Count 5 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 42000 -State SYN-SENT
                New-Connections -Count 10 -Local 10.0.0.5 -Destination 198.51.100.7:5432 -FirstPort 40000
                'tcp LISTEN 0.0.0.0:45000'                         # a listener in the range holds its port for every destination
                'tcp ESTAB 10.0.0.5:45000 192.0.2.9:50000'         # the server side of an accepted connection: not outbound
                'tcp ESTAB 10.0.0.5:1023 203.0.113.10:443'         # a source port outside the range: bound explicitly
                'tcp LISTEN 0.0.0.0:22'                            # a listener outside the range holds nothing of it
            )
            $rows = @($table | Measure-EphemeralPortUsage -TargetOS Linux -WarningVariable warnings)
        }

        It 'writes one row per destination, the most used first' {
            $rows | Should -HaveCount 2
            $rows[0].PSObject.TypeNames[0] | Should -Be 'PortTools.EphemeralPortUsage'
            $rows.Destination | Should -Be @('203.0.113.10:443', '198.51.100.7:5432')
            $rows[0].LocalAddress | Should -Be '10.0.0.5'
            $rows[0].RemotePort | Should -Be 443
            $rows[0].AddressFamily | Should -Be 'InterNetwork'
        }

        It 'counts the ports in use by state' {
            $rows[0].InUse | Should -Be 125
            $rows[0].Established | Should -Be 100
            $rows[0].TimeWait | Should -Be 20
            $rows[0].Other | Should -Be 5
            $rows[1].InUse | Should -Be 10
        }

        It 'gives each destination the usable range less the ports held by listeners (per-destination pool)' {
            $rows[0].Pool | Should -Be 'PerDestination'
            $rows[0].HeldByLocalBinds | Should -Be 1
            $rows[0].Capacity | Should -Be (60999 - 32768 + 1 - 1)
            $rows[0].PoolInUse | Should -Be 125
            $rows[1].PoolInUse | Should -Be 10 -Because 'Linux reuses a source port toward another destination'
            $rows[0].Rule | Should -BeLike 'Linux TCP: connect() reuses a source port toward a different destination*'
        }

        It 'computes utilization and the sustainable rate exactly' {
            $rows[0].UtilizationPercent | Should -Be (125 * 100.0 / 28231)
            $rows[0].TimeWaitSeconds | Should -Be 60
            $rows[0].SustainableRatePerSecond | Should -Be (28231 / 60.0)
            $rows[0].NearExhaustion | Should -BeFalse
            $rows[0].ToString() | Should -Be 'tcp 10.0.0.5 -> 203.0.113.10:443 0.4% (125/28231)'
        }

        It 'warns about nothing below the threshold' {
            $warnings | Should -BeNullOrEmpty
        }

        It 'gives the rate of Linux defaults: 28,232 ports / 60 s' {
            $row = 'tcp ESTAB 10.0.0.5:40000 203.0.113.10:443' | Measure-EphemeralPortUsage -TargetOS Linux
            $row.Capacity | Should -Be 28232
            [math]::Round($row.SustainableRatePerSecond, 1) | Should -Be 470.5
        }

        It 'counts connected UDP sockets against one shared pool, with no TIME_WAIT and no rate' {
            $udp = @('udp ESTAB 10.0.0.5:40000 192.0.2.53:53', 'udp ESTAB 10.0.0.5:40001 192.0.2.54:53', 'udp UNCONN 0.0.0.0:40002' | Measure-EphemeralPortUsage -TargetOS Linux)
            $udp | Should -HaveCount 2
            $udp[0].Pool | Should -Be 'Shared'
            $udp[0].PoolInUse | Should -Be 2
            $udp[0].Established | Should -Be 1
            $udp[0].Capacity | Should -Be 28231
            $udp[0].TimeWaitSeconds | Should -Be 0
            $udp[0].SustainableRatePerSecond | Should -BeNullOrEmpty
        }
    }

    Context 'Near exhaustion' {
        It 'warns when a destination passes 80% of its capacity (Windows: a shared pool of 16,384 ports, 120 s TIME_WAIT)' {
            $table = New-Connections -Count 13200 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152
            $rows = @($table | Measure-EphemeralPortUsage -TargetOS Windows -WarningVariable warnings -WarningAction SilentlyContinue)
            $rows | Should -HaveCount 1
            $rows[0].Pool | Should -Be 'Shared'
            $rows[0].Capacity | Should -Be 16384
            $rows[0].UtilizationPercent | Should -Be (13200 * 100.0 / 16384)
            $rows[0].SustainableRatePerSecond | Should -Be (16384 / 120.0)
            $rows[0].NearExhaustion | Should -BeTrue
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -Be 'TCP IPv4 connections to 1 destination use 80.6% of the 16,384 source ports that all destinations share on Windows; the busiest destination is 203.0.113.10:443.'
        }

        It 'warns once for a shared pool, however many destinations draw on it' {
            $table = @(
                New-Connections -Count 12000 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152
                New-Connections -Count 1200 -Local 10.0.0.5 -Destination 198.51.100.7:5432 -FirstPort 61152
            )
            $rows = @($table | Measure-EphemeralPortUsage -TargetOS Windows -WarningVariable warnings -WarningAction SilentlyContinue)
            $rows | Should -HaveCount 2
            $rows.NearExhaustion | Should -Be @($true, $true)
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -Be 'TCP IPv4 connections to 2 destinations use 80.6% of the 16,384 source ports that all destinations share on Windows; the busiest destination is 203.0.113.10:443.'
        }

        It 'warns per destination where each has the range to itself (Linux)' {
            $table = @(
                New-Connections -Count 25000 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 32768
                New-Connections -Count 24000 -Local 10.0.0.5 -Destination 203.0.113.11:443 -FirstPort 32768
            )
            $null = $table | Measure-EphemeralPortUsage -TargetOS Linux -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | ForEach-Object { "$_" } | Should -Be @(
                'TCP connections from 10.0.0.5 to 203.0.113.10:443 use 88.6% of the 28,232 source ports available for that destination.'
                'TCP connections from 10.0.0.5 to 203.0.113.11:443 use 85% of the 28,232 source ports available for that destination.'
            )
        }

        It 'does not warn at 80% or just below' {
            $table = New-Connections -Count 13107 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152
            $row = $table | Measure-EphemeralPortUsage -TargetOS Windows -WarningVariable warnings
            $row.NearExhaustion | Should -BeFalse
            $warnings | Should -BeNullOrEmpty
        }

        It 'flags only what passes -Threshold (at the threshold itself is not past it)' {
            $table = New-Connections -Count 8192 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152
            ($table | Measure-EphemeralPortUsage -TargetOS Windows -Threshold 50 -WarningVariable atThreshold).NearExhaustion | Should -BeFalse
            $atThreshold | Should -BeNullOrEmpty
            $more = @($table) + 'tcp ESTAB 10.0.0.5:65000 203.0.113.10:443'
            ($more | Measure-EphemeralPortUsage -TargetOS Windows -Threshold 50 -WarningVariable past -WarningAction SilentlyContinue).NearExhaustion | Should -BeTrue
            $past | Should -HaveCount 1
            "$($past[0])" | Should -BeLike '*use 50% of the 16,384 source ports*'
        }

        It 'rejects a threshold outside 1 to 100' {
            { 'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443' | Measure-EphemeralPortUsage -Threshold 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PortTools.Commands.MeasureEphemeralPortUsageCommand'
            { 'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443' | Measure-EphemeralPortUsage -Threshold 101 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PortTools.Commands.MeasureEphemeralPortUsageCommand'
        }
    }

    Context 'Input' {
        It 'measures only the table given by -InputObject, not the live one too' {
            $rows = @(Measure-EphemeralPortUsage -InputObject 'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443' -TargetOS Windows)
            $rows | Should -HaveCount 1
            $rows[0].Destination | Should -Be '203.0.113.10:443'
        }

        It 'writes nothing for an empty pipeline' {
            @() | Measure-EphemeralPortUsage -TargetOS Linux | Should -BeNullOrEmpty
        }

        It 'takes sockets read by ConvertFrom-SocketTable from ss text' {
            $ss = @(
                'State     Recv-Q Send-Q Local Address:Port  Peer Address:Port'
                'ESTAB     0      0          10.0.0.5:40001  203.0.113.10:443'
                'TIME-WAIT 0      0          10.0.0.5:40002  203.0.113.10:443'
                'LISTEN    0      128         0.0.0.0:22         0.0.0.0:*'
            )
            $row = $ss | ConvertFrom-SocketTable | Measure-EphemeralPortUsage -TargetOS Linux
            $row.InUse | Should -Be 2
            $row.TimeWait | Should -Be 1
        }

        It 'takes Import-Csv rows and deserialized sockets' {
            $sockets = [PortTools.SocketTuple[]](New-Connections -Count 3 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 40000)
            $path = Join-Path $TestDrive 'web01.csv'
            $sockets | Export-Csv -LiteralPath $path -NoTypeInformation
            (Import-Csv -LiteralPath $path | Measure-EphemeralPortUsage -TargetOS Linux).InUse | Should -Be 3
            $deserialized = $sockets | ConvertTo-PropertyBag
            ($deserialized | Measure-EphemeralPortUsage -TargetOS Linux).InUse | Should -Be 3
        }

        It 'measures the tables of several computers computer by computer' {
            $web01 = New-Connections -Count 10000 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152 | ConvertFrom-SocketTable -ComputerName web01
            $web02 = New-Connections -Count 10000 -Local 10.0.0.5 -Destination 203.0.113.10:443 -FirstPort 49152 | ConvertFrom-SocketTable -ComputerName web02
            $rows = @($web01 + $web02 | Measure-EphemeralPortUsage -TargetOS Windows -WarningVariable warnings)
            $rows | Should -HaveCount 2
            $rows.ComputerName | Sort-Object | Should -Be @('web01', 'web02')
            $rows.PoolInUse | Should -Be @(10000, 10000)
            $warnings | Should -BeNullOrEmpty
        }

        It 'reports each entry that is not a socket by its position and measures the rest' {
            $rows = @('tcp ESTAB 10.0.0.5:40000 203.0.113.10:443', 'bogus', 'tcp ESTAB 10.0.0.5:40001 203.0.113.10:443' |
                    Measure-EphemeralPortUsage -TargetOS Linux -ErrorVariable problems -ErrorAction SilentlyContinue)
            $rows[0].InUse | Should -Be 2
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'InvalidSocketTableEntry,PortTools.Commands.MeasureEphemeralPortUsageCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            "$($problems[0].TargetObject)" | Should -Be 'bogus'
            $problems[0].Exception.Message | Should -BeLike "Socket table entry 2 is not a socket and was left out: Cannot parse socket text 'bogus'*"
        }
    }

    Context 'Live connections on Linux' -Skip:(-not $OnLinux) {
        BeforeAll {
            $address = New-LoopbackAddress
            $listener = New-TestSocket -Address $address -Listen
            $destination = "$($address):$($listener.LocalEndPoint.Port)"
            $clients = New-Object System.Collections.Generic.List[System.Net.Sockets.Socket]
            $servers = New-Object System.Collections.Generic.List[System.Net.Sockets.Socket]
            for ($i = 0; $i -lt 30; $i++) {
                $client = New-TestSocket -Address $address
                $client.Connect($listener.LocalEndPoint)
                $clients.Add($client)
                $servers.Add($listener.Accept())
            }

            # The side that closes first keeps TIME-WAIT: close 10 clients, then their server sides.
            for ($i = 0; $i -lt 10; $i++) {
                $clients[$i].Close()
            }
            Start-Sleep -Milliseconds 200
            for ($i = 0; $i -lt 10; $i++) {
                $servers[$i].Close()
            }
            $deadline = (Get-Date).AddSeconds(5)
            while (@(Get-SocketTuple -LocalAddress $address -State TimeWait -SkipProcess).Count -lt 10 -and (Get-Date) -lt $deadline) {
                Start-Sleep -Milliseconds 100
            }
            $range = Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork
        }

        AfterAll {
            foreach ($socket in @($clients) + @($servers)) {
                $socket.Dispose()
            }
            $listener.Dispose()
        }

        It 'reads the live table when nothing is piped' {
            $row = Measure-EphemeralPortUsage | Where-Object Destination -EQ $destination
            $row | Should -HaveCount 1
            $row.LocalAddress | Should -Be $address
            $row.InUse | Should -Be 30
            $row.Established | Should -Be 20
            $row.TimeWait | Should -Be 10
            $row.Pool | Should -Be 'PerDestination'
            $row.Capacity | Should -Be ($range.UsableCount - $row.HeldByLocalBinds)
            $row.SustainableRatePerSecond | Should -Be ($row.Capacity / 60.0)
        }

        It 'leaves out the server side of the accepted connections' {
            Measure-EphemeralPortUsage | Where-Object { $_.LocalAddress -eq $address -and $_.RemoteAddress -eq $address -and $_.Destination -ne $destination } | Should -BeNullOrEmpty
        }

        It 'measures the same from Get-SocketTuple through the pipeline' {
            $row = Get-SocketTuple -SkipProcess | Measure-EphemeralPortUsage | Where-Object Destination -EQ $destination
            $row.InUse | Should -Be 30
            $row.TimeWait | Should -Be 10
        }
    }
}
