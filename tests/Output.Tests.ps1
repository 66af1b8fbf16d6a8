BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Start = if ($script:OnLinux) { [int](Get-Content /proc/sys/net/ipv4/ip_unprivileged_port_start) } else { 0 }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # One object of every output type, from tables given as text so that no host state is needed.
    $script:Table = @(
        'tcp LISTEN 0.0.0.0:8080 uid=1000 pid=7865 process=python3'
        'tcp LISTEN [::1]:8080 v6only uid=1000 pid=7865 process=python3'
        'tcp ESTAB 10.0.0.5:40000 203.0.113.10:443 pid=812 process=curl'
        'udp UNCONN 0.0.0.0:5353'
    ) | ConvertFrom-SocketTable
    $script:Outputs = [ordered]@{
        SocketTuple        = $script:Table[0]
        PortBindResult     = Test-PortBind -Port 8080 -Address 0.0.0.0 -SocketTable $script:Table -TargetOS Linux
        DemuxResult        = Resolve-Demux -Protocol Tcp -SourceAddress 198.51.100.7 -SourcePort 40001 -DestinationAddress 10.0.0.5 -DestinationPort 8080 -SocketTable $script:Table -TargetOS Linux
        PortConnectResult  = Test-PortConnect -Destination 203.0.113.10:443 -SocketTable $script:Table -TargetOS Linux
        PortInfo           = Get-PortInfo 443 -Protocol Tcp
        EphemeralPortRange = Get-EphemeralPortRange -TargetOS Linux -Protocol Tcp | Select-Object -First 1
        EphemeralPortUsage = $script:Table | Measure-EphemeralPortUsage -TargetOS Linux
        SocketHost         = Get-SocketHost
        UnixSocket         = 'u_str LISTEN 0 128 /run/test.sock 12345 * 0 users:(("sshd",pid=1,fd=3))' | ConvertFrom-SocketTable -Protocol Unix
    }
    $script:Temp = Join-Path ([System.IO.Path]::GetTempPath()) ('porttools-output-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $script:Temp
}

AfterAll {
    Remove-Item -LiteralPath $script:Temp -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Output for machines' {
    Context 'ConvertTo-Json of <_>' -ForEach @('SocketTuple', 'PortBindResult', 'DemuxResult', 'PortConnectResult', 'PortInfo', 'EphemeralPortRange', 'EphemeralPortUsage', 'SocketHost', 'UnixSocket') {
        BeforeAll {
            $script:Object = $script:Outputs[$_]
            $script:Json = $script:Object | ConvertTo-Json -WarningAction SilentlyContinue
        }

        It 'has an object to write' {
            $script:Object | Should -Not -BeNullOrEmpty
            $script:Object.GetType().FullName | Should -Be "PortTools.$_"
        }

        It 'writes enums by name' {
            $script:Json | Should -Not -Match '"(Protocol|State|AddressFamily|Exposure|Method|TargetOS|OS|Outcome|Class|Type|Pool|FileType)":\s*-?\d'
        }

        It 'writes addresses as text, never as IPAddress objects' {
            $script:Json | Should -Not -Match '"Address":\s*\d'
            $script:Json | Should -Not -Match 'ScopeId|IsIPv6Multicast|IsIPv4MappedToIPv6'
        }

        It 'writes no list as its type name' {
            $script:Json | Should -Not -Match 'System\.Collections'
        }
    }

    Context 'Enum names and address text' {
        It 'writes a socket as "Protocol": "Tcp", "State": "Listen" and "LocalAddress": "0.0.0.0"' {
            $json = $script:Outputs.SocketTuple | ConvertTo-Json | ConvertFrom-Json
            $json.Protocol | Should -Be 'Tcp'
            $json.State | Should -Be 'Listen'
            $json.AddressFamily | Should -Be 'InterNetwork'
            $json.LocalAddress | Should -Be '0.0.0.0'
            $json.Local | Should -Be '0.0.0.0:8080'
        }

        It 'writes the IPv6 socket''s address as text' {
            ($script:Table[1] | ConvertTo-Json | ConvertFrom-Json).LocalAddress | Should -Be '::1'
        }

        It 'writes a bind result''s address, and its conflicts readable at the default depth' {
            $json = $script:Outputs.PortBindResult | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
            $json.Address | Should -Be '0.0.0.0'
            $json.Method | Should -Be 'Simulated'
            @($json.Conflicts).Count | Should -BeGreaterThan 0
            @($json.Conflicts)[0].Local | Should -Be '0.0.0.0:8080'
            @($json.Conflicts)[0].Protocol | Should -Be 'Tcp'
        }

        It 'writes a delivery''s endpoints as text' {
            $json = $script:Outputs.DemuxResult | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
            $json.Source | Should -Be '198.51.100.7:40001'
            $json.Destination | Should -Be '10.0.0.5:8080'
            $json.Outcome | Should -Be 'Delivered'
            $json.Receiver | Should -Match '^0\.0\.0\.0:8080 python3 \(7865\)$'
        }

        It 'keeps the .NET values for C# and the text for PowerShell' {
            $socket = $script:Outputs.SocketTuple
            $socket.LocalAddress | Should -BeOfType [string]
            $socket.psobject.BaseObject.GetType().GetProperty('LocalAddress').GetValue($socket.psobject.BaseObject) | Should -BeOfType [ipaddress]
            $socket.Protocol | Should -BeOfType [PortTools.TransportProtocol]
        }
    }

    Context 'Export-Csv of collections' {
        It 'writes a bind result''s conflicts as ;-separated canonical lines' {
            $path = Join-Path $script:Temp 'bind.csv'
            $script:Outputs.PortBindResult | Export-Csv -LiteralPath $path -NoTypeInformation
            $row = Import-Csv -LiteralPath $path
            $row.Conflicts | Should -Not -Match 'System\.Collections'
            $row.Conflicts | Should -Match '^tcp LISTEN 0\.0\.0\.0:8080 .*python3'
            $row.Address | Should -Be '0.0.0.0'
            $row.Protocol | Should -Be 'Tcp'
        }

        It 'writes <Name> without a type name' -ForEach @(
            @{ Name = 'DemuxResult'; Columns = 'Sockets', 'Candidates', 'DependsOn' }
            @{ Name = 'PortInfo'; Columns = 'ServiceNames', 'ServiceSources' }
            @{ Name = 'EphemeralPortRange'; Columns = @('Reserved') }
            @{ Name = 'PortConnectResult'; Columns = 'Conflicts', 'DependsOn' }
            @{ Name = 'SocketHost'; Columns = 'Addresses', 'ReservedPorts' }
            @{ Name = 'SocketTuple'; Columns = @('Processes') }
        ) {
            $path = Join-Path $script:Temp "$Name.csv"
            $script:Outputs[$Name] | Export-Csv -LiteralPath $path -NoTypeInformation
            $row = Import-Csv -LiteralPath $path
            foreach ($column in $Columns) {
                $row.$column | Should -Not -Match 'System\.|PortTools\.' -Because "$Name.$column"
            }
        }

        It 'writes a delivery''s candidates one per ;-separated item' {
            $path = Join-Path $script:Temp 'demux-candidates.csv'
            $script:Outputs.DemuxResult | Export-Csv -LiteralPath $path -NoTypeInformation
            (Import-Csv -LiteralPath $path).Candidates -split '; ' | Should -HaveCount @($script:Outputs.DemuxResult.Candidates).Count
        }
    }

    Context 'Round trip through ConvertFrom-SocketTable' {
        It 'reads back its own JSON' {
            $path = Join-Path $script:Temp 'sockets.json'
            $script:Table | ConvertTo-Json | Set-Content -LiteralPath $path
            $back = ConvertFrom-SocketTable -Path $path
            @($back).Count | Should -Be $script:Table.Count
            for ($i = 0; $i -lt $script:Table.Count; $i++) {
                $back[$i].ToString() | Should -Be $script:Table[$i].ToString()
            }
        }

        It 'reads back its own CSV' {
            $path = Join-Path $script:Temp 'sockets.csv'
            $script:Table | Export-Csv -LiteralPath $path -NoTypeInformation
            $back = ConvertFrom-SocketTable -Path $path
            @($back).Count | Should -Be $script:Table.Count
            for ($i = 0; $i -lt $script:Table.Count; $i++) {
                $back[$i].ToString() | Should -Be $script:Table[$i].ToString()
            }
        }

        It 'reads back Import-Csv and ConvertFrom-Json objects' {
            $path = Join-Path $script:Temp 'objects.csv'
            $script:Table | Export-Csv -LiteralPath $path -NoTypeInformation
            @(Import-Csv -LiteralPath $path | ConvertFrom-SocketTable).Count | Should -Be $script:Table.Count
            @($script:Table | ConvertTo-Json | ConvertFrom-Json | ForEach-Object { $_ } | ConvertFrom-SocketTable).Count | Should -Be $script:Table.Count
        }

        It 'still builds a socket from a hashtable, an address given as text or as an IPAddress' {
            $socket = [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = [ipaddress]'::1'; LocalPort = 80 }
            $socket.ToString() | Should -Be 'tcp LISTEN [::1]:80'
            ([PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = '127.0.0.2'; LocalPort = 80 }).LocalAddress | Should -Be '127.0.0.2'
        }

        It 'still binds a socket''s properties by name' {
            $result = $script:Table[0] | Test-PortBind -SocketTable $script:Table -TargetOS Linux
            $result.Port | Should -Be 8080
            $result.Address | Should -Be '0.0.0.0'
        }

        It 'rehydrates through the serializer with its addresses and enums' {
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($script:Table[1]))
            $socket = [PortTools.SocketTuple]$copy
            $socket.ToString() | Should -Be $script:Table[1].ToString()
        }
    }
}

Describe 'Table headers are properties' {
    It '<Command> filters on every header of its table under StrictMode' -ForEach @(
        @{ Command = 'Get-PortInfo'; Object = { Get-PortInfo 443 -Protocol Tcp } }
        @{ Command = 'Get-EphemeralPortRange'; Object = { Get-EphemeralPortRange -TargetOS Linux | Select-Object -First 1 } }
        @{ Command = 'Measure-EphemeralPortUsage'; Object = { 'tcp ESTAB 10.0.0.5:40000 203.0.113.10:443' | Measure-EphemeralPortUsage -TargetOS Linux } }
        @{ Command = 'Resolve-Demux'; Object = { Resolve-Demux -Protocol Tcp -SourceAddress 198.51.100.7 -SourcePort 40001 -DestinationAddress 10.0.0.5 -DestinationPort 8080 -SocketTable ('tcp LISTEN 0.0.0.0:8080' | ConvertFrom-SocketTable) -TargetOS Linux } }
    ) {
        $object = & $Object
        $headers = ($object | Format-Table | Out-String -Width 250) -split "`n" | Where-Object { $_ -match '^\s*-{2,}' } | Select-Object -First 1
        $labels = (($object | Format-Table | Out-String -Width 250) -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1).Trim() -split '\s+'
        $labels.Count | Should -BeGreaterThan 2
        & {
            Set-StrictMode -Version Latest
            foreach ($label in $labels) {
                { $null = $object | Where-Object $label } | Should -Not -Throw -Because "$label is a header of $Command"
                $object.psobject.Properties[$label] | Should -Not -BeNullOrEmpty -Because "$label is a header of $Command"
            }
        }
    }
}

Describe 'Get-PortInfo Privileged is the port''s fact' -Skip:(-not $script:OnLinux) {
    BeforeAll {
        $script:Start = [int](Get-Content /proc/sys/net/ipv4/ip_unprivileged_port_start)
        $script:Privileged = [Math]::Max(1, $script:Start - 1)
    }

    It 'shows a port below ip_unprivileged_port_start as Privileged whoever asks, and the reason agrees' -Skip:($script:Start -le 1) {
        $info = Get-PortInfo $script:Privileged -Protocol Tcp
        $info.Privileged | Should -BeTrue
        $info.PrivilegeReason | Should -Match "Port $($script:Privileged) is privileged on this host"
        @(Get-PortInfo $script:Privileged -Protocol Tcp | Where-Object Privileged).Count | Should -Be 1
    }

    It 'says root may bind it' -Skip:(-not $script:IsRoot -or $script:Start -le 1) {
        $info = Get-PortInfo $script:Privileged -Protocol Tcp
        $info.CallerMayBind | Should -BeTrue
        $info.RequiresPrivilege | Should -BeFalse
        $info.PrivilegeReason | Should -Match 'has CAP_NET_BIND_SERVICE'
    }

    It 'answers for another user with -UserId: still Privileged, but that user may not bind it' -Skip:($script:Start -le 1) {
        $info = Get-PortInfo $script:Privileged -Protocol Tcp -UserId 1000
        $info.Privileged | Should -BeTrue
        $info.CallerMayBind | Should -BeFalse
        $info.RequiresPrivilege | Should -BeTrue
        $info.PrivilegeReason | Should -Match 'user 1000 is not root'
        (Get-PortInfo $script:Privileged -Protocol Tcp -UserId 0).CallerMayBind | Should -BeTrue
    }

    It 'shows a port at or above the start as not Privileged, and any caller may bind it' {
        $info = Get-PortInfo ([Math]::Max($script:Start, 1024)) -Protocol Tcp -UserId 1000
        $info.Privileged | Should -BeFalse
        $info.CallerMayBind | Should -BeTrue
    }
}

Describe 'ConvertFrom-SocketTable on text that is not a socket table' {
    BeforeAll {
        $script:Services = 1..400 | ForEach-Object { "service$_        $($_ + 1000)/tcp        # a service" }
    }

    It 'stops after the first lines fail with one error that names the first line and -Force' {
        $errors = $null
        $sockets = $script:Services | ConvertFrom-SocketTable -ErrorVariable errors -ErrorAction SilentlyContinue
        $sockets | Should -BeNullOrEmpty
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'SocketTableNotRecognized*'
        $errors[0].TargetObject | Should -Be $script:Services[0]
        $errors[0].Exception.Message | Should -Match 'not a socket table'
        $errors[0].Exception.Message | Should -Match "line 1 \('service1 "
        $errors[0].Exception.Message | Should -Match '-Force'
    }

    It 'stops reading a file too' {
        $path = Join-Path $script:Temp 'services.txt'
        $script:Services | Set-Content -LiteralPath $path
        $errors = $null
        $null = ConvertFrom-SocketTable -Path $path -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors | Should -HaveCount 1
        $errors[0].Exception.Message | Should -Match ([regex]::Escape($path))
    }

    It 'reads every line with -Force' {
        $errors = $null
        $null = $script:Services | ConvertFrom-SocketTable -Force -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be $script:Services.Count
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'SocketTableLineNotParsed*'
    }

    It 'still reports each bad line of a table that has sockets' {
        $errors = $null
        $text = @('tcp LISTEN 0.0.0.0:80') + (1..60 | ForEach-Object { "tcp LISTEN 0.0.0.0:bad$_" })
        $sockets = $text | ConvertFrom-SocketTable -ErrorVariable errors -ErrorAction SilentlyContinue
        @($sockets).Count | Should -Be 1
        $errors.Count | Should -Be 60
    }

    It 'reports each line of a short text that is not a table, as before' {
        $errors = $null
        $null = 'not a table', 'nor this' | ConvertFrom-SocketTable -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 2
    }
}

Describe 'Process names from text are the live reader''s' {
    It '<Format> gives <Expected>' -ForEach @(
        @{ Format = 'netstat -p with a rewritten title'; Text = @('Active Internet connections (servers and established)', 'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name', 'tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      812/nginx: master   '); Expected = 'nginx' }
        @{ Format = 'netstat -p cut after the colon'; Text = @('Active Internet connections (servers and established)', 'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name', 'tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      812/nginx:'); Expected = 'nginx' }
        @{ Format = 'ss -p'; Text = @('tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=812,fd=6))'); Expected = 'nginx' }
        @{ Format = 'lsof with \x20'; Text = @('COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME', 'my\x20app 812 root    6u  IPv4  12345      0t0  TCP *:80 (LISTEN)'); Expected = 'my app' }
        @{ Format = 'Windows netstat -b'; Text = @('  Proto  Local Address          Foreign Address        State           PID', '  TCP    0.0.0.0:80             0.0.0.0:0              LISTENING       812', ' [nginx.exe]'); Expected = 'nginx' }
    ) {
        $socket = $Text | ConvertFrom-SocketTable
        @($socket).Count | Should -Be 1
        $socket.ProcessName | Should -Be $Expected
        $socket.ProcessId | Should -Be 812
    }
}
