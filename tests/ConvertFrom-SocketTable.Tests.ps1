BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function Get-ToolOutput {
        # The lines a native tool prints, or $null when it is not installed.
        param([string] $Name, [string[]] $Arguments)
        if (-not (Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue)) {
            return $null
        }
        , @(& $Name @Arguments 2>$null)
    }
}

Describe 'ConvertFrom-SocketTable' {
    Context 'Module surface' {
        It 'is exported with help that has at least three examples' {
            $command = Get-Command -Name ConvertFrom-SocketTable -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name ConvertFrom-SocketTable -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }) {
                ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
            }
        }

        It 'declares SocketTuple (and UnixSocket, for -Protocol Unix) as its output types' {
            (Get-Command ConvertFrom-SocketTable).OutputType.Name | Sort-Object | Should -Be @('PortTools.SocketTuple', 'PortTools.UnixSocket')
        }
    }

    Context 'Real ss, netstat, lsof and /proc/net output on Linux' -Skip:(-not $OnLinux) {
        BeforeAll {
            $address = New-LoopbackAddress
            $listener = New-TestSocket -Address $address -Listen
            $port = $listener.LocalEndPoint.Port
            $client = New-TestSocket -Address $address
            $client.Connect($listener.LocalEndPoint)
            $accepted = $listener.Accept()
            $clientPort = $client.LocalEndPoint.Port
            $udp = New-TestSocket -Protocol Udp -Address $address
            $udpPort = $udp.LocalEndPoint.Port
            $live = Get-SocketTuple -LocalAddress $address
            $endpoint = "$($address):$port"
            $clientEndpoint = "$($address):$clientPort"
        }

        AfterAll {
            $client.Dispose()
            $accepted.Dispose()
            $listener.Dispose()
            $udp.Dispose()
        }

        It 'reads ss -tuanpe: every line a socket, owners, inodes and the Netid column' {
            $text = Get-ToolOutput -Name ss -Arguments '-tuanpe'
            if ($null -eq $text) {
                Set-ItResult -Skipped -Because 'ss (iproute2) is not installed'
                return
            }
            $sockets = @($text | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $problems | Should -BeNullOrEmpty
            $sockets.Count | Should -Be ($text.Count - 1) -Because 'ss prints one header, then one line per TCP or UDP socket'
            $sockets[0].Source | Should -Be 'ss:2'

            $found = $sockets | Where-Object Local -EQ $endpoint | Where-Object State -EQ 'Listen'
            $found | Should -HaveCount 1
            $found.Protocol | Should -Be 'Tcp'
            $found.ProcessId | Should -Be $PID
            $found.Inode | Should -Be ($live | Where-Object State -EQ 'Listen').Inode

            $connection = $sockets | Where-Object Local -EQ $clientEndpoint
            $connection.State | Should -Be 'Established'
            $connection.Remote | Should -Be $endpoint

            $datagram = $sockets | Where-Object Local -EQ "$($address):$udpPort"
            $datagram.Protocol | Should -Be 'Udp'
            $datagram.State | Should -Be 'Unconnected'
        }

        It 'reads ss -tan (no Netid column) as TCP and ss -uan as UDP' {
            $tcp = Get-ToolOutput -Name ss -Arguments '-tan', 'src', $address.ToString()
            if ($null -eq $tcp) {
                Set-ItResult -Skipped -Because 'ss (iproute2) is not installed'
                return
            }
            $sockets = @($tcp | ConvertFrom-SocketTable)
            $sockets.Protocol | Sort-Object -Unique | Should -Be 'Tcp'
            ($sockets | Where-Object State -EQ 'Listen').Local | Should -Be $endpoint

            $udpText = Get-ToolOutput -Name ss -Arguments '-uan', 'src', $address.ToString()
            $datagram = @($udpText | ConvertFrom-SocketTable)
            $datagram | Should -HaveCount 1
            $datagram[0].Protocol | Should -Be 'Udp'
            $datagram[0].LocalPort | Should -Be $udpPort
        }

        It 'reads net-tools netstat -tuanp' {
            $text = Get-ToolOutput -Name netstat -Arguments '-tuanp'
            if ($null -eq $text) {
                Set-ItResult -Skipped -Because 'netstat (net-tools) is not installed'
                return
            }
            $sockets = @($text | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $problems | Should -BeNullOrEmpty
            $sockets.Count | Should -Be @($text | Where-Object { $_ -match '^(tcp|udp)' }).Count
            $sockets[0].Source | Should -BeLike 'netstat-linux:*'

            $found = $sockets | Where-Object Local -EQ $endpoint | Where-Object State -EQ 'Listen'
            $found | Should -HaveCount 1
            $found.ProcessId | Should -Be $PID
            ($sockets | Where-Object Local -EQ $clientEndpoint).Remote | Should -Be $endpoint
        }

        It 'reads lsof -nP -iTCP -iUDP' {
            $text = Get-ToolOutput -Name lsof -Arguments '-nP', "-iTCP@$address", "-iUDP@$address"
            if ($null -eq $text) {
                Set-ItResult -Skipped -Because 'lsof is not installed'
                return
            }
            $sockets = @($text | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $problems | Should -BeNullOrEmpty
            $sockets[0].Source | Should -BeLike 'lsof:*'
            $found = $sockets | Where-Object Local -EQ $endpoint | Where-Object State -EQ 'Listen'
            $found.ProcessId | Should -Be $PID
            $found.Inode | Should -Be ($live | Where-Object State -EQ 'Listen').Inode
            ($sockets | Where-Object Local -EQ "$($address):$udpPort").State | Should -Be 'Unconnected'
        }

        It 'reads /proc/net/tcp with and without -Protocol' {
            $text = Get-Content -Path '/proc/net/tcp'
            $sockets = @($text | ConvertFrom-SocketTable -Protocol Tcp)
            $sockets.Count | Should -Be ($text.Count - 1)
            $found = $sockets | Where-Object Local -EQ $endpoint | Where-Object State -EQ 'Listen'
            $found | Should -HaveCount 1
            $found.Inode | Should -Be ($live | Where-Object State -EQ 'Listen').Inode
            $found.Source | Should -BeLike 'proc-net:*'
            (@($text | ConvertFrom-SocketTable) | Where-Object Local -EQ $clientEndpoint).Protocol | Should -Be 'Tcp' -Because 'the header of /proc/net/tcp says TCP'
            (Get-Content -Path '/proc/net/udp' | ConvertFrom-SocketTable | Where-Object LocalPort -EQ $udpPort | Where-Object LocalAddress -EQ $address).Protocol | Should -Be 'Udp'
        }

        It 'gives back the live sockets from their text form, CSV and JSON' {
            # The text form leaves out the inode and queues, so it comes back as equal text; the exports carry everything.
            @($live | ForEach-Object ToString | ConvertFrom-SocketTable | ForEach-Object ToString) | Should -Be @($live | ForEach-Object ToString)
            $fromCsv = @($live | ConvertTo-Csv -NoTypeInformation | ConvertFrom-SocketTable)
            $fromJson = @($live | ConvertTo-Json -Depth 3 | ConvertFrom-SocketTable)
            $fromCsv | Should -HaveCount $live.Count
            $fromJson | Should -HaveCount $live.Count
            for ($i = 0; $i -lt $live.Count; $i++) {
                $fromCsv[$i].Equals($live[$i]) | Should -BeTrue -Because "$($live[$i]) should come back equal from CSV"
                $fromJson[$i].Equals($live[$i]) | Should -BeTrue -Because "$($live[$i]) should come back equal from JSON"
            }
        }
    }

    Context 'Formats from other systems and format detection' {
        It 'detects Windows netstat -ano from its banner and keeps the PIDs' {
            $text = @(
                ''
                'Active Connections'
                ''
                '  Proto  Local Address          Foreign Address        State           PID'
                '  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1052'
                '  TCP    10.0.0.5:52113         52.113.194.132:443     ESTABLISHED     8712'
                '  TCP    10.0.0.5:52118         20.42.65.90:443        TIME_WAIT       0'
                '  TCP    [::1]:49669            [::]:0                 LISTENING       3012'
                '  UDP    0.0.0.0:500            *:*                                    4180'
            )
            $sockets = @($text | ConvertFrom-SocketTable)
            $sockets | Should -HaveCount 5
            $sockets[0].Source | Should -Be 'netstat-windows:5'
            $sockets[0].State | Should -Be 'Listen'
            $sockets[0].ProcessId | Should -Be 1052
            $sockets[1].Remote | Should -Be '52.113.194.132:443'
            $sockets[2].State | Should -Be 'TimeWait'
            $sockets[2].ProcessId | Should -BeNullOrEmpty -Because 'netstat shows PID 0 for TIME_WAIT, which no process owns'
            $sockets[3].Local | Should -Be '[::1]:49669'
            $sockets[4].Protocol | Should -Be 'Udp'
            $sockets[4].State | Should -Be 'Unconnected'
        }

        It 'reads Windows netstat lines without banner or header when -Format says so' {
            $socket = '  TCP    127.0.0.1:49670        127.0.0.1:49671        ESTABLISHED     3344' | ConvertFrom-SocketTable -Format NetstatWindows
            $socket.ToString() | Should -Be 'tcp ESTAB 127.0.0.1:49670 127.0.0.1:49671 pid=3344'
        }

        It 'reads macOS netstat -an with dot-separated ports' {
            $text = @(
                'Active Internet connections (including servers)'
                'Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    '
                'tcp4       0      0  192.168.1.20.52344     17.253.144.10.443      ESTABLISHED'
                'tcp46      0      0  *.80                   *.*                    LISTEN     '
                'tcp6       0      0  ::1.5432               *.*                    LISTEN     '
            )
            $sockets = @($text | ConvertFrom-SocketTable)
            $sockets | ForEach-Object ToString | Should -Be @(
                'tcp ESTAB 192.168.1.20:52344 17.253.144.10:443'
                'tcp LISTEN [::]:80 nov6only'
                'tcp LISTEN [::1]:5432'
            )
            $sockets[0].Source | Should -Be 'netstat-bsd:3'
        }

        It 'reads ss lines printed without a header (ss -H)' {
            $socket = 'ESTAB 0 0 10.0.0.1:22 10.0.0.2:51000 users:(("sshd",pid=812,fd=4),("sshd",pid=845,fd=4))' | ConvertFrom-SocketTable
            $socket.Protocol | Should -Be 'Tcp'
            $socket.State | Should -Be 'Established'
            @($socket.Processes.ProcessId) | Should -Be @(812, 845)
            $socket.Source | Should -Be 'ss:1'
        }

        It 'takes the protocol from -Protocol when ss printed only ESTAB lines' {
            ('ESTAB 0 0 10.0.0.1:5000 10.0.0.2:53' | ConvertFrom-SocketTable).Protocol | Should -Be 'Tcp'
            ('ESTAB 0 0 10.0.0.1:5000 10.0.0.2:53' | ConvertFrom-SocketTable -Protocol Udp).Protocol | Should -Be 'Udp'
        }

        It 'decodes /proc/net hex in the byte order of the host that wrote it' {
            $little = '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0'
            $big = '   0: 7F000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0'
            ($little | ConvertFrom-SocketTable).ToString() | Should -Be 'tcp LISTEN 127.0.0.1:8080 uid=1000'
            ($little | ConvertFrom-SocketTable).Inode | Should -Be 12345
            ($big | ConvertFrom-SocketTable -ProcNetByteOrder BigEndian).ToString() | Should -Be 'tcp LISTEN 127.0.0.1:8080 uid=1000'
        }

        It 'reads the canonical text and a whole text in one string (Get-Content -Raw)' {
            $text = "tcp LISTEN 0.0.0.0:8080 reuseport uid=1000`nudp UNCONN [::]:5353 v6only`n"
            $sockets = @(ConvertFrom-SocketTable -InputObject $text)
            $sockets | Should -HaveCount 2
            $sockets[0].ReusePort | Should -BeTrue
            $sockets[1].Source | Should -Be 'canonical:2'
        }

        It 'fails lines that do not fit a format given with -Format' {
            $sockets = @('tcp LISTEN 0.0.0.0:80' | ConvertFrom-SocketTable -Format Ss -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | Should -HaveCount 0
            $problems | Should -HaveCount 1
            $problems[0].Exception.Message | Should -BeLike "*expected the Recv-Q column*"
        }
    }

    Context 'Objects that carry sockets' {
        BeforeAll {
            $table = [PortTools.SocketTuple[]]@(
                'tcp LISTEN 0.0.0.0:80 uid=0 pid=812,813,814 process=nginx'
                'tcp LISTEN [::]:80 v6only uid=0 pid=812,813,814 process=nginx'
                'tcp ESTAB 10.0.0.5:41000 203.0.113.10:443 uid=1000 pid=2210 process=curl'
                'tcp TIME-WAIT 10.0.0.5:41001 203.0.113.10:443'
                'udp UNCONN 127.0.0.1:5353 uid=107 pid=640 process=avahi-daemon'
            )

            function Assert-SameSockets {
                param($Actual)
                $Actual | Should -HaveCount $table.Count
                for ($i = 0; $i -lt $table.Count; $i++) {
                    $Actual[$i].PSObject.TypeNames[0] | Should -Be 'PortTools.SocketTuple'
                    $Actual[$i].Equals($table[$i]) | Should -BeTrue -Because "'$($table[$i])' should come back equal, not '$($Actual[$i])'"
                }
            }
        }

        It 'round-trips Export-Csv through Import-Csv objects and through the CSV text' {
            $path = Join-Path $TestDrive 'sockets.csv'
            $table | Export-Csv -LiteralPath $path -NoTypeInformation
            Assert-SameSockets @(Import-Csv -LiteralPath $path | ConvertFrom-SocketTable)
            Assert-SameSockets @(ConvertFrom-SocketTable -LiteralPath $path)
            (ConvertFrom-SocketTable -LiteralPath $path)[0].Source | Should -Be 'csv:2'
        }

        It 'round-trips ConvertTo-Json through ConvertFrom-Json objects and through the JSON text' {
            $json = $table | ConvertTo-Json -Depth 3
            Assert-SameSockets @($json | ConvertFrom-Json | ForEach-Object { $_ } | ConvertFrom-SocketTable)
            Assert-SameSockets @($json | ConvertFrom-SocketTable)
            Assert-SameSockets @($table | ForEach-Object { $_ | ConvertTo-Json -Depth 3 -Compress } | ConvertFrom-SocketTable)
        }

        It 'round-trips deserialized property bags (as a session without PortTools gets them from remoting)' {
            $deserialized = @($table | ConvertTo-PropertyBag)
            $deserialized[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.SocketTuple'
            Assert-SameSockets @($deserialized | ConvertFrom-SocketTable)
        }

        It 'round-trips sockets that PortTools rehydrated on deserialization' {
            $rehydrated = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($table))
            $rehydrated[0] | Should -BeOfType PortTools.SocketTuple
            Assert-SameSockets @($rehydrated | ConvertFrom-SocketTable)
        }

        It 'round-trips Export-Clixml and Import-Clixml' {
            $path = Join-Path $TestDrive 'sockets.clixml'
            $table | Export-Clixml -LiteralPath $path
            Assert-SameSockets @(Import-Clixml -LiteralPath $path | ConvertFrom-SocketTable)
        }

        It 'passes SocketTuple objects through and reads hashtables' {
            Assert-SameSockets @($table | ConvertFrom-SocketTable)
            (@{ Protocol = 'Tcp'; Local = '127.0.0.1:8080'; State = 'Listen' } | ConvertFrom-SocketTable).ToString() | Should -Be 'tcp LISTEN 127.0.0.1:8080'
        }

        It 'keeps PSComputerName as ComputerName' {
            $row = [pscustomobject]@{ Protocol = 'Tcp'; Local = '10.0.0.5:22'; State = 'Listen'; PSComputerName = 'web01' }
            ($row | ConvertFrom-SocketTable).ComputerName | Should -Be 'web01'
        }

        It 'writes one error per object that is not a socket and goes on' {
            $objects = [pscustomobject]@{ Name = 'x'; Value = 1 }, $table[0]
            $sockets = @($objects | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | Should -HaveCount 1
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'InputObjectNotASocket,PortTools.Commands.ConvertFromSocketTableCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $problems[0].TargetObject.Name | Should -Be 'x'
            $problems[0].Exception.Message | Should -BeLike 'Input object 1 is not a socket*properties Name, Value*'
        }
    }

    Context 'Lines that cannot be read' {
        It 'writes a non-terminating error naming the line and reads the rest' {
            $lines = 'tcp LISTEN 0.0.0.0:80', 'tcp LISTN 0.0.0.0:81', 'udp UNCONN 127.0.0.1:53'
            $sockets = @($lines | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | ForEach-Object ToString | Should -Be @('tcp LISTEN 0.0.0.0:80', 'udp UNCONN 127.0.0.1:53')
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'SocketTableLineNotParsed,PortTools.Commands.ConvertFromSocketTableCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $problems[0].TargetObject | Should -Be 'tcp LISTN 0.0.0.0:81'
            $problems[0].Exception.Message | Should -BeLike "line 2 ('tcp LISTN 0.0.0.0:81') was not understood: *unknown state 'LISTN'*"
        }

        It 'stops at the bad line with -ErrorAction Stop' {
            { 'tcp LISTEN 0.0.0.0:80', 'not a socket line' | ConvertFrom-SocketTable -ErrorAction Stop } |
                Should -Throw -ErrorId 'SocketTableLineNotParsed,PortTools.Commands.ConvertFromSocketTableCommand'
        }

        It 'says so when the first line shows no known format' {
            $sockets = @('garbage here', 'tcp LISTEN 0.0.0.0:80' | ConvertFrom-SocketTable -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | Should -HaveCount 1
            $problems | Should -HaveCount 1
            $record = $problems[0]
            $record.FullyQualifiedErrorId | Should -Be 'SocketTableLineNotParsed,PortTools.Commands.ConvertFromSocketTableCommand'
            $record.Exception.Message | Should -BeLike "line 1 ('garbage here') was not understood: cannot tell the format*"
        }

        It 'skips headers and blank lines quietly and sums up with -Verbose' {
            $lines = 'State  Recv-Q Send-Q Local Address:Port  Peer Address:Port', '', 'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*', 'ESTAB 0 0 10.0.0.1:22 10.0.0.2:51000'
            $output = @($lines | ConvertFrom-SocketTable -Verbose -ErrorVariable problems 4>&1)
            $problems | Should -BeNullOrEmpty
            @($output | Where-Object { $_ -is [PortTools.SocketTuple] }) | Should -HaveCount 2
            $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $verbose | Should -HaveCount 1
            $verbose[0].Message | Should -Be 'Pipeline input: Read 4 lines as Ss: 2 sockets from 2 lines, 2 skipped, 0 failed.'
        }
    }

    Context 'Files' {
        BeforeAll {
            $ssText = @(
                'State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process'
                'LISTEN 0      511          0.0.0.0:80         0.0.0.0:*     users:(("nginx",pid=812,fd=6))'
                'ESTAB  0      0         10.0.0.5:80       192.0.2.7:51234 users:(("nginx",pid=813,fd=11))'
            )
            $netstatText = @(
                'Active Internet connections (servers and established)'
                'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name'
                'tcp        0      0 127.0.0.1:5432          0.0.0.0:*               LISTEN      901/postgres'
            )
            Set-Content -LiteralPath (Join-Path $TestDrive 'web01-ss.txt') -Value $ssText
            Set-Content -LiteralPath (Join-Path $TestDrive 'db01-netstat.txt') -Value $netstatText
            Set-Content -LiteralPath (Join-Path $TestDrive 'odd[1].txt') -Value 'udp UNCONN 0.0.0.0:69'
        }

        It 'reads files matched by a wildcard, each with its own format and line numbers' {
            $sockets = @(ConvertFrom-SocketTable -Path (Join-Path $TestDrive '*0*-*.txt'))
            $sockets | Should -HaveCount 3
            ($sockets | Where-Object LocalPort -EQ 5432).Source | Should -Be 'netstat-linux:3'
            ($sockets | Where-Object LocalPort -EQ 5432).ProcessName | Should -Be 'postgres'
            ($sockets | Where-Object State -EQ 'Established').Source | Should -Be 'ss:3'
        }

        It 'names each file in the -Verbose summary' {
            $verbose = @(ConvertFrom-SocketTable -Path (Join-Path $TestDrive 'web01-ss.txt') -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $verbose[-1].Message | Should -BeLike '*web01-ss.txt: Read 3 lines as Ss: 2 sockets from 2 lines, 1 skipped, 0 failed.'
        }

        It 'reads a name with wildcard characters through -LiteralPath' {
            (ConvertFrom-SocketTable -LiteralPath (Join-Path $TestDrive 'odd[1].txt')).ToString() | Should -Be 'udp UNCONN 0.0.0.0:69'
        }

        It 'names the file and the line in the error for a bad line in a file' {
            $path = Join-Path $TestDrive 'bad.txt'
            Set-Content -LiteralPath $path -Value 'tcp LISTEN 0.0.0.0:80', 'tcp LISTEN 0.0.0.0:99999'
            $sockets = @(ConvertFrom-SocketTable -LiteralPath $path -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'SocketTableLineNotParsed,PortTools.Commands.ConvertFromSocketTableCommand'
            $problems[0].Exception.Message | Should -BeLike "*bad.txt, line 2 ('tcp LISTEN 0.0.0.0:99999') was not understood*"
        }

        It 'writes SocketTableFileNotFound for a missing file, given by -Path or -LiteralPath, and reads the others' {
            $missing = Join-Path $TestDrive 'missing.txt'
            foreach ($parameters in @{ Path = $missing, (Join-Path $TestDrive 'web01-ss.txt') }, @{ LiteralPath = $missing, (Join-Path $TestDrive 'web01-ss.txt') }) {
                $sockets = @(ConvertFrom-SocketTable @parameters -ErrorVariable problems -ErrorAction SilentlyContinue)
                $sockets | Should -HaveCount 2
                $problems | Should -HaveCount 1
                $problems[0].FullyQualifiedErrorId | Should -Be 'SocketTableFileNotFound,PortTools.Commands.ConvertFromSocketTableCommand'
                $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
                $problems[0].TargetObject | Should -Be $missing
            }
        }

        It 'reads files piped from Get-ChildItem, each on its own' {
            $sockets = @(Get-ChildItem -LiteralPath $TestDrive -Filter '*0*-*.txt' | Sort-Object Name | ConvertFrom-SocketTable)
            $sockets | Should -HaveCount 3
            $sockets[0].Source | Should -Be 'netstat-linux:3'
            $sockets[1].Source | Should -Be 'ss:2'
        }

        It 'writes SocketTableFileIsDirectory for a directory, by path or from Get-ChildItem, and reads the rest' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'captures')
            $sockets = @(ConvertFrom-SocketTable -LiteralPath $folder.FullName, (Join-Path $TestDrive 'web01-ss.txt') -ErrorVariable problems -ErrorAction SilentlyContinue)
            $sockets | Should -HaveCount 2
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'SocketTableFileIsDirectory,PortTools.Commands.ConvertFromSocketTableCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $problems[0].Exception.Message | Should -BeLike "'*captures' is a directory, not a socket table file: give a file, or a wildcard such as *"

            $null = $folder | ConvertFrom-SocketTable -ErrorVariable piped -ErrorAction SilentlyContinue
            $piped | Should -HaveCount 1
            $piped[0].FullyQualifiedErrorId | Should -Be 'SocketTableFileIsDirectory,PortTools.Commands.ConvertFromSocketTableCommand'
        }

        It 'labels every socket with -ComputerName, over the name the input carries' {
            $sockets = @(ConvertFrom-SocketTable -LiteralPath (Join-Path $TestDrive 'web01-ss.txt') -ComputerName web01)
            $sockets.ComputerName | Should -Be @('web01', 'web01')
            ('tcp LISTEN 0.0.0.0:22' | ConvertFrom-SocketTable -ComputerName db01).ComputerName | Should -Be 'db01'
            $remote = [pscustomobject]@{ Protocol = 'Tcp'; Local = '10.0.0.5:22'; State = 'Listen'; PSComputerName = 'web01' }
            ($remote | ConvertFrom-SocketTable -ComputerName renamed).ComputerName | Should -Be 'renamed'
            ('tcp LISTEN 0.0.0.0:22' | ConvertFrom-SocketTable).ComputerName | Should -BeNullOrEmpty
        }

        It 'writes nothing for a wildcard that matches no file, as Get-Content does' {
            $sockets = @(ConvertFrom-SocketTable -Path (Join-Path $TestDrive 'none-*.txt') -ErrorVariable problems)
            $sockets | Should -HaveCount 0
            $problems | Should -BeNullOrEmpty
        }
    }

    Context 'Files parsed on a worker thread while the pipeline writes' {
        BeforeAll {
            # Several times the worker's batch (1024 results) and what it may run ahead (4 batches), with
            # bad lines scattered, on and around batch boundaries, and UNIX socket lines passed over.
            # Each line is one result, so line 1024 ends the first batch and line 5121 is in an array used twice.
            $lineCount = 6000
            $badLines = @(3, 1024, 1025, 1026, 2048, 2049, 4096, 4097, 5120, 5121, 5555, 6000)
            $unixLines = @(500, 3000, 5800)
            $lines = [System.Collections.Generic.List[string]]::new()
            $lines.Add('Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process')
            for ($number = 2; $number -le $lineCount; $number++) {
                $line = if ($number -in $badLines) {
                    "tcp ESTAB 0 0 10.0.0.1:bad$number 10.0.0.2:443"
                }
                elseif ($number -in $unixLines) {
                    "u_str ESTAB 0 0 * $number * $($number + 1)"
                }
                else {
                    'tcp ESTAB 0 0 10.0.{0}.{1}:{2} 192.0.2.7:443 users:(("app",pid={3},fd=3))' -f ($number -shr 8), ($number -band 255), (1024 + $number), $number
                }
                $lines.Add($line)
            }
            $bigFile = Join-Path $TestDrive 'big-ss.txt'
            [System.IO.File]::WriteAllLines($bigFile, $lines)

            function Get-WorkerThreadCount {
                # The worker names its thread; Linux shows the name (cut to 15 characters) in /proc/self/task/*/comm.
                @(Get-ChildItem -LiteralPath /proc/self/task | ForEach-Object { Get-Content -LiteralPath (Join-Path $_.FullName 'comm') -ErrorAction SilentlyContinue } |
                        Where-Object { $_ -like 'PortTools*' }).Count
            }

            function Assert-FileReleased([string] $Path) {
                # Exclusive access is refused while any handle is open (FileShare on Windows, flock on Unix).
                [System.IO.File]::Open($Path, 'Open', 'ReadWrite', 'None').Dispose()
                if ($OnLinux) {
                    @(Get-ChildItem -LiteralPath /proc/self/fd -ErrorAction SilentlyContinue | Where-Object { $_.LinkTarget -eq $Path }) | Should -HaveCount 0
                    Get-WorkerThreadCount | Should -Be 0 -Because 'the worker thread has exited'
                }
            }
        }

        It 'writes every socket and every line error in the order of the lines, across batch boundaries' {
            $output = @(ConvertFrom-SocketTable -LiteralPath $bigFile -ComputerName web01 -WarningVariable warnings -ErrorAction Continue 2>&1 3>$null)
            $expected = for ($number = 2; $number -le $lineCount; $number++) {
                if ($number -in $unixLines) { continue }
                if ($number -in $badLines) {
                    "error SocketTableLineNotParsed,PortTools.Commands.ConvertFromSocketTableCommand InvalidData [$($lines[$number - 1])] $bigFile, line $number ('$($lines[$number - 1])') was not understood: bad local port 'bad$number'"
                }
                else {
                    "socket ss:$number port $(1024 + $number) pid $number web01"
                }
            }
            $actual = foreach ($item in $output) {
                if ($item -is [System.Management.Automation.ErrorRecord]) {
                    "error $($item.FullyQualifiedErrorId) $($item.CategoryInfo.Category) [$($item.TargetObject)] $($item.Exception.Message -replace ' in .*$')"
                }
                else {
                    "socket $($item.Source) port $($item.LocalPort) pid $($item.ProcessId) $($item.ComputerName)"
                }
            }
            $actual.Count | Should -Be ($lineCount - 1 - $unixLines.Count)
            $actual | Should -Be $expected
            $warnings | Should -HaveCount 1
            $warnings[0].Message | Should -BeLike '3 line(s) describe UNIX domain sockets*'
        }

        It 'reads the same file, line by line, as the same lines piped as text' {
            $fromFile = @(ConvertFrom-SocketTable -LiteralPath $bigFile -ErrorAction SilentlyContinue -WarningAction SilentlyContinue).ForEach({ $_.ToString() })
            $piped = @(Get-Content -LiteralPath $bigFile | ConvertFrom-SocketTable -ErrorAction SilentlyContinue -WarningAction SilentlyContinue).ForEach({ $_.ToString() })
            $fromFile.Count | Should -Be ($lineCount - 1 - $unixLines.Count - $badLines.Count)
            $fromFile | Should -Be $piped
        }

        It 'reads -Protocol Unix files the same way' {
            $unix = @(ConvertFrom-SocketTable -LiteralPath $bigFile -Protocol Unix -ErrorAction SilentlyContinue)
            $unix | Should -HaveCount $unixLines.Count
            $unix[0].Source | Should -Be 'ss-unix:500'
        }

        It 'stops reading and closes the file when Select-Object -First has what it wants' {
            if ($OnLinux) {
                # While the first socket is downstream the worker is alive: the check after it is not vacuous.
                $during = ConvertFrom-SocketTable -LiteralPath $bigFile -ErrorAction SilentlyContinue | Select-Object -First 1 | ForEach-Object { Get-WorkerThreadCount }
                $during | Should -Be 1
            }
            $first = @(ConvertFrom-SocketTable -LiteralPath $bigFile -ErrorAction SilentlyContinue | Select-Object -First 5)
            $first | Should -HaveCount 5
            $first[4].Source | Should -Be 'ss:7' -Because 'line 3 is bad'
            Assert-FileReleased $bigFile
            $null = ConvertFrom-SocketTable -LiteralPath $bigFile -Protocol Unix -ErrorAction SilentlyContinue | Select-Object -First 1
            Assert-FileReleased $bigFile

            $copy = Join-Path $TestDrive 'deleted-after-first.txt'
            Copy-Item -LiteralPath $bigFile -Destination $copy
            $null = ConvertFrom-SocketTable -LiteralPath $copy -ErrorAction SilentlyContinue | Select-Object -First 1
            Remove-Item -LiteralPath $copy
            Test-Path -LiteralPath $copy | Should -BeFalse
        }

        It 'stops the worker and closes the file when the pipeline is stopped (Ctrl+C)' {
            $started = [System.Threading.ManualResetEventSlim]::new($false)
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript({
                        param($ModuleManifest, $Path, $Started)
                        Import-Module $ModuleManifest
                        ConvertFrom-SocketTable -LiteralPath $Path -ErrorAction SilentlyContinue | ForEach-Object { $Started.Set(); Start-Sleep -Milliseconds 20 }
                    }).AddArgument((Join-Path $ModulePath 'PortTools.psd1')).AddArgument($bigFile).AddArgument($started)
                $running = $shell.BeginInvoke()
                $started.Wait([TimeSpan]::FromMinutes(2)) | Should -BeTrue -Because 'the pipeline got its first socket'
                $shell.Stop()
                $shell.InvocationStateInfo.State | Should -Be 'Stopped'
                $stopped = $null
                try { $shell.EndInvoke($running) } catch { $stopped = $_.Exception.InnerException }
                $stopped | Should -BeOfType System.Management.Automation.PipelineStoppedException
            }
            finally {
                $shell.Dispose()
                $started.Dispose()
            }
            Assert-FileReleased $bigFile
        }

        It 'stops with the same terminating error as before when reading the file fails' -Skip:(-not $OnLinux) {
            # /proc/self/mem opens, but reading its first page fails with EIO: the read fails on the worker.
            foreach ($parameters in @{ LiteralPath = '/proc/self/mem' }, @{ LiteralPath = '/proc/self/mem'; Protocol = 'Unix' }) {
                $failure = $null
                try {
                    ConvertFrom-SocketTable @parameters -ErrorAction SilentlyContinue
                }
                catch {
                    $failure = $_
                }
                $failure | Should -Not -BeNullOrEmpty -Because 'a failed read stops the command, whatever -ErrorAction says'
                $failure.FullyQualifiedErrorId | Should -Be 'System.IO.IOException,PortTools.Commands.ConvertFromSocketTableCommand'
                $failure.Exception | Should -BeOfType System.IO.IOException
                $failure.Exception.Message | Should -BeLike "*'/proc/self/mem'*"
                $failure.Exception.StackTrace | Should -BeLike '*StreamReader.ReadBuffer*' -Because 'the exception is the reader''s own, with its stack'
            }
            Get-WorkerThreadCount | Should -Be 0
        }

        It 'produces the batches on the pipeline thread when there is one processor, in order, with a failure after the items before it' {
            $batchesType = (Get-Command ConvertFrom-SocketTable).ImplementingType.Assembly.GetType('PortTools.Commands.BackgroundBatches`1', $true).MakeGenericType([int])
            # Items 0 to 2,499, then a failure, produced lazily on the thread that takes them (a scriptblock needs this runspace).
            $source = [Func[Threading.CancellationToken, Collections.Generic.IEnumerable[int]]] {
                param($token)
                , [Linq.Enumerable]::Select([Linq.Enumerable]::Range(0, 3000), [Func[int, int]] { param($i) if ($i -eq 2500) { throw 'the source failed at 2500' }; $i })
            }
            $batches = [Activator]::CreateInstance($batchesType, [Reflection.BindingFlags]'Instance,Public,NonPublic', $null, @($source, [Threading.CancellationToken]::None, $null, 1024, 4, $false), $null)
            try {
                $taken = [Collections.Generic.List[int]]::new()
                $take = $batchesType.GetMethod('TryTake')
                $failure = $null
                try {
                    while ($true) {
                        $arguments = [object[]]::new(3)
                        if (-not $take.Invoke($batches, $arguments)) { break }
                        for ($i = 0; $i -lt $arguments[1]; $i++) { $taken.Add($arguments[0][$i]) }
                    }
                }
                catch {
                    $failure = $_.Exception.InnerException
                }

                $taken.Count | Should -Be 2500
                ($taken -join ',') | Should -Be ((0..2499) -join ',')
                $failure.Message | Should -BeLike '*the source failed at 2500*'
                if ($OnLinux) { Get-WorkerThreadCount | Should -Be 0 } # thread names are read from /proc
            }
            finally {
                $batches.Dispose()
            }
        }
    }
}
