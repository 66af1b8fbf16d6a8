BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function ConvertTo-Deserialized {
        # What remoting, jobs and Import-Clixml hand back: a property bag, serialized at the type's depth.
        param([Parameter(ValueFromPipeline)] $InputObject)
        begin { $items = [System.Collections.Generic.List[object]]::new() }
        process { $items.Add($InputObject) }
        end { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($items.ToArray())) }
    }

    $socket = [PortTools.SocketTuple]'tcp LISTEN [::]:8080 reuseaddr reuseport v6only dev=eth0 uid=33 pid=812,813 process=nginx'
}

Describe 'Objects that travel: remoting, jobs and snapshots' {
    Context 'Type data' {
        It 'gives back a real SocketTuple: every field, enums that compare by name, owners as objects' {
            $copy = $socket | ConvertTo-Deserialized
            $copy | Should -BeOfType PortTools.SocketTuple
            $copy.ToString() | Should -Be $socket.ToString()
            $copy.Protocol | Should -BeOfType PortTools.TransportProtocol
            @($copy | Where-Object State -EQ Listen) | Should -HaveCount 1
            "$($copy.LocalAddress)" | Should -Be '::'
            $copy.LocalPort | Should -Be 8080
            $copy.ReuseAddress | Should -BeTrue
            $copy.ReusePort | Should -BeTrue
            $copy.IPv6Only | Should -BeTrue
            $copy.BoundInterface | Should -Be 'eth0'
            $copy.UserId | Should -Be 33
            $copy.Processes | Should -HaveCount 2
            $copy.Processes[0] | Should -BeOfType PortTools.SocketOwner
            $copy.Processes[0].ProcessId | Should -Be 812
            $copy.Processes[1].ProcessName | Should -Be 'nginx'
        }

        It 'serializes at the default depth, so that enums travel as their names' {
            $xml = [System.Management.Automation.PSSerializer]::Serialize($socket)
            $xml | Should -Match '<S N="State">Listen</S>'
            $xml | Should -Match '<S N="Protocol">Tcp</S>'
        }

        It 'keeps the conflicts of a bind as socket text that converts back' {
            $result = Test-PortBind 8080 -Address :: -IPv6Only -SocketTable $socket -TargetOS Linux -UserId 1000
            $copy = $result | ConvertTo-Deserialized
            $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.PortBindResult'
            $copy.CanBind | Should -BeFalse
            $copy.Error | Should -Be 'EADDRINUSE'
            $copy.Method | Should -Be 'Simulated'
            $conflict = [PortTools.SocketTuple]$copy.Conflicts[0]
            $conflict.Processes[0].ProcessId | Should -Be 812
        }

        It 'keeps the receiving socket of a delivery as socket text, and the outcome by name' {
            $result = Resolve-Demux Tcp '[2001:db8::7]:40000' '[2001:db8::5]:8080' -Interface eth0 -SocketTable $socket -TargetOS Linux
            $copy = $result | ConvertTo-Deserialized
            $copy.Outcome | Should -Be 'Delivered'
            ([PortTools.SocketTuple]$copy.Socket).ProcessName | Should -Be 'nginx'
        }

        It 'shows deserialized results with their table view' {
            $result = Test-PortBind 8080 -Address :: -IPv6Only -SocketTable $socket -TargetOS Linux -UserId 1000
            $live = ($result | Format-Table | Out-String -Width 200).Trim()
            $copy = ($result | ConvertTo-Deserialized | Format-Table | Out-String -Width 200).Trim()
            $copy | Should -Be $live
        }
    }

    Context 'Deserialized sockets as input, as property bags' {
        BeforeAll {
            $table = @(
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 uid=0 pid=900 process=nginx'
                [PortTools.SocketTuple]'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443 uid=1000 pid=4242 process=curl'
            ) | ForEach-Object { $_ } | ConvertTo-PropertyBag
            # As Invoke-Command delivers them: each object names the computer it came from.
            $table | ForEach-Object { $_.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01')) }
        }

        It 'are property bags here, as in a session without PortTools' {
            $table[0] | Should -Not -BeOfType PortTools.SocketTuple
            $table[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PortTools.SocketTuple'
            $table[0].State | Should -Be 'Listen'
        }

        It 'converts them back into SocketTuples equal to the originals, with the computer name' {
            $sockets = @($table | ConvertFrom-SocketTable)
            $sockets | ForEach-Object { $_ | Should -BeOfType PortTools.SocketTuple }
            $sockets[0].ToString() | Should -Be 'tcp LISTEN 0.0.0.0:80 uid=0 pid=900 process=nginx'
            $sockets.ComputerName | Should -Be @('web01', 'web01')
        }

        It 'takes them as the -SocketTable of Test-PortBind and Resolve-Demux, whose results name the computer' {
            $bind = Test-PortBind 80 -SocketTable $table -TargetOS Linux -Privileged
            $bind.CanBind | Should -BeFalse
            $bind.ComputerName | Should -Be 'web01'
            $demux = Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:80 -SocketTable $table -TargetOS Linux
            $demux.Socket.ProcessName | Should -Be 'nginx'
            $demux.ComputerName | Should -Be 'web01'
        }

        It 'measures them through the pipeline, per computer' {
            $usage = @($table | Measure-EphemeralPortUsage -TargetOS Linux)
            $usage | Should -HaveCount 1
            $usage[0].Destination | Should -Be '203.0.113.10:443'
            $usage[0].ComputerName | Should -Be 'web01'
        }
    }

    Context 'Property bags read from the engine''s member tables (the -SocketTable fast path)' {
        BeforeAll {
            $module = (Get-Command Test-PortBind).ImplementingType.Assembly
            $nonPublic = [System.Reflection.BindingFlags]'NonPublic, Public, Static, Instance'
            $readerType = $module.GetType('PortTools.Commands.PropertyBagReader', $true)

            # What -SocketTable does with its entries (SocketTableInput.Convert), with the errors it would write.
            function Convert-Table([object[]] $Entries) {
                $errors = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
                $convert = $module.GetType('PortTools.Commands.SocketTableInput', $true).GetMethod('Convert')
                $table = $convert.Invoke($null, @($Entries, [Action[System.Management.Automation.ErrorRecord]] { param($record) $errors.Add($record) }.GetNewClosure(), 0, $null))
                [pscustomobject]@{ Sockets = @($table); Errors = @($errors) }
            }

            # Whether the reader takes a bag from the member tables (false: the public way reads it).
            function Test-ReadsFast($Bag) {
                $reader = [Activator]::CreateInstance($readerType, $true)
                $properties = [Func[object, System.Collections.Generic.IEnumerable[System.Collections.Generic.KeyValuePair[string, object]]]] { param($value) $null }
                $readerType.GetMethod('TryRead').Invoke($reader, @($Bag, [PortTools.SocketPropertyBag]::new($properties)))
            }

            # Every property of a socket as text, unknown (null) told apart from false, empty and zero.
            function Get-Facts([PortTools.SocketTuple] $Socket) {
                foreach ($property in [PortTools.SocketTuple].GetProperties()) {
                    if ($property.GetIndexParameters().Count -eq 0) {
                        $value = $property.GetValue($Socket)
                        "$($property.Name)=$(if ($null -eq $value) { '<null>' } else { @($value | ForEach-Object { "$_" }) -join ',' })"
                    }
                }
            }

            $originals = @(
                [PortTools.SocketTuple]'tcp LISTEN [::]:443 reuseaddr noreuseport reuseport_lb exclusiveaddruse v6only dev=eth0 uid=1000 pid=812,813 process=nginx'
                [PortTools.SocketTuple]'tcp ESTAB 10.0.0.5:50000 203.0.113.10:443 uid=1000 pid=4242 process=curl'
                [PortTools.SocketTuple]'udp UNCONN 0.0.0.0:53 netns=red:4026532301'
                [PortTools.SocketTuple]'tcp TIME-WAIT 10.0.0.5:50001 203.0.113.10:443 timer=timewait,52.3s,0'
                ([PortTools.SocketTuple]'tcp LISTEN 127.0.0.1:631 noreuseaddr container=docker:3f2a').WithComputerName('db01')
            )
            $bags = @($originals | ConvertTo-PropertyBag)
            $bags[1].PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01'))
        }

        It 'is in force on this PowerShell' -Skip:($PSVersionTable.PSEdition -eq 'Desktop') {
            $readerType.GetProperty('IsAvailable', $nonPublic).GetValue($null) | Should -BeTrue
            Test-ReadsFast $bags[0] | Should -BeTrue
            Test-ReadsFast ([pscustomobject]@{ Protocol = 'Tcp'; Local = '0.0.0.0:80' }) | Should -BeTrue
        }

        It 'converts deserialized sockets to sockets equal in every property to what the public way converts, and to the originals' {
            $fast = Convert-Table $bags
            $fast.Errors | Should -HaveCount 0
            $public = @($bags | ConvertFrom-SocketTable)
            $fast.Sockets | Should -HaveCount $originals.Count
            for ($i = 0; $i -lt $originals.Count; $i++) {
                Get-Facts $fast.Sockets[$i] | Should -Be @(Get-Facts $public[$i]) -Because "socket $i"
                $fast.Sockets[$i].ToString() | Should -Be $originals[$i].ToString()
            }

            $fast.Sockets.ComputerName | Should -Be @($null, 'web01', $null, $null, 'db01')
            $fast.Sockets[1].ReuseAddress | Should -BeNullOrEmpty -Because 'an option the table did not say is unknown, not off'
            $fast.Sockets[1].IPv6Only | Should -BeNullOrEmpty
            $fast.Sockets[4].ReuseAddress | Should -BeFalse
            $fast.Sockets[4].ReuseAddress | Should -Not -BeNullOrEmpty
            $fast.Sockets[0].BoundInterface | Should -Be 'eth0'
            $fast.Sockets[2].NetworkNamespace.Inode | Should -Be 4026532301
            $fast.Sockets[0].Processes.ProcessId | Should -Be @(812, 813)
        }

        It 'converts [pscustomobject] rows as the public way does' {
            $rows = @(
                [pscustomobject]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = '10.0.0.1'; LocalPort = 80; RemoteAddress = '0.0.0.0'; RemotePort = 0; ProcessId = 900; ProcessName = 'nginx' }
                [pscustomobject]@{ protocol = 'udp'; local = '[::1]:53'; ipv6only = 'True'; PSComputerName = 'dns01' }
            )
            $fast = Convert-Table $rows
            $public = @($rows | ConvertFrom-SocketTable)
            $fast.Sockets | Should -HaveCount 2
            for ($i = 0; $i -lt 2; $i++) { Get-Facts $fast.Sockets[$i] | Should -Be @(Get-Facts $public[$i]) }
            $fast.Sockets[1].ComputerName | Should -Be 'dns01'
        }

        It 'leaves to the public way a bag with a script property, and one whose type names have properties in the type table' {
            $scripted = [pscustomobject]@{ Protocol = 'Tcp'; LocalAddress = '10.0.0.1' } | Add-Member -MemberType ScriptProperty -Name LocalPort -Value { 8080 } -PassThru
            Test-ReadsFast $scripted | Should -BeFalse
            (Convert-Table @($scripted)).Sockets[0].LocalPort | Should -Be 8080

            Update-TypeData -TypeName 'PortToolsTest.TypedBag' -MemberType ScriptProperty -MemberName LocalPort -Value { 8443 } -Force
            try {
                $typed = [pscustomobject]@{ PSTypeName = 'PortToolsTest.TypedBag'; Protocol = 'Tcp'; LocalAddress = '10.0.0.1' }
                Test-ReadsFast $typed | Should -BeFalse
                $converted = Convert-Table @($typed, $typed)
                $converted.Errors | Should -HaveCount 0
                $converted.Sockets.LocalPort | Should -Be @(8443, 8443)
            }
            finally {
                Remove-TypeData -TypeName 'PortToolsTest.TypedBag'
            }
        }

        It 'reports a bag whose value does not convert as the public way does, naming the entry and the value, and uses the rest' {
            $bad = [pscustomobject]@{ Protocol = 'Tcp'; LocalAddress = '10.0.0.300'; LocalPort = 80 }
            $converted = Convert-Table @($bags[0], $bad, $bags[1])
            $converted.Sockets | Should -HaveCount 2
            $converted.Errors | Should -HaveCount 1
            $converted.Errors[0].FullyQualifiedErrorId | Should -Be 'InvalidSocketTableEntry'
            $converted.Errors[0].TargetObject | Should -Be $bad
            $converted.Errors[0].Exception.Message | Should -Be "Socket table entry 2 is not a socket and was left out: LocalAddress: expected an IPv4 or IPv6 address, found '10.0.0.300'."

            $errors = $null
            $result = Test-PortBind 443 -SocketTable $bags[0], $bad -TargetOS Linux -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors | Should -HaveCount 1
            $errors[0].Exception.Message | Should -Be $converted.Errors[0].Exception.Message
            $result.CanBind | Should -BeFalse
        }
    }

    Context 'Tables of several computers' {
        BeforeAll {
            $fleet = @(
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:22 pid=700 process=sshd'
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 pid=900 process=nginx'
            ) | ConvertTo-PropertyBag
            $fleet[0].PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01'))
            $fleet[1].PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web02'))
        }

        It 'answers Test-PortBind per computer, never merged' {
            $results = @(Test-PortBind 22, 80 -SocketTable $fleet -TargetOS Linux -Privileged)
            $results | Should -HaveCount 4
            # Computer by computer, so each stands under one ComputerName header of the view.
            @($results | ForEach-Object { "$($_.ComputerName):$($_.Port)" }) | Should -Be @('web01:22', 'web01:80', 'web02:22', 'web02:80')
            $web01 = @($results | Where-Object ComputerName -EQ 'web01')
            ($web01 | Where-Object Port -EQ 22).CanBind | Should -BeFalse
            ($web01 | Where-Object Port -EQ 80).CanBind | Should -BeTrue
            $web02 = @($results | Where-Object ComputerName -EQ 'web02')
            ($web02 | Where-Object Port -EQ 22).CanBind | Should -BeTrue
            ($web02 | Where-Object Port -EQ 80).CanBind | Should -BeFalse
        }

        It 'answers Resolve-Demux per computer' {
            $results = @(Resolve-Demux Tcp 198.51.100.7:40000 10.0.0.5:80 -SocketTable $fleet -TargetOS Linux)
            $results | Should -HaveCount 2
            ($results | Where-Object ComputerName -EQ 'web01').Outcome | Should -Be 'Refused'
            ($results | Where-Object ComputerName -EQ 'web02').Outcome | Should -Be 'Delivered'
        }

        It 'finds the PSComputerName of rehydrated SocketTuples, wrapped or not, in any collection' {
            # As remoting returns them where PortTools is loaded: real SocketTuples whose wrapper carries the note.
            $rehydrated = @(
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:22 pid=700 process=sshd'
                [PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 pid=900 process=nginx'
            ) | ForEach-Object { $_ }
            [psobject]::AsPSObject($rehydrated[0]).PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01'))
            [psobject]::AsPSObject($rehydrated[1]).PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web02'))
            foreach ($table in @($rehydrated), [PortTools.SocketTuple[]]$rehydrated, [Collections.Generic.List[PortTools.SocketTuple]]$rehydrated) {
                $results = @(Test-PortBind 22 -SocketTable $table -TargetOS Linux -Privileged)
                $results.ComputerName | Should -Be @('web01', 'web02')
                ($results | Where-Object ComputerName -EQ 'web01').CanBind | Should -BeFalse
                ($results | Where-Object ComputerName -EQ 'web02').CanBind | Should -BeTrue
            }
        }

        It 'refuses one -SocketHost for several computers, saying how to split the table' {
            $facts = '{"OS":"Linux"}'
            { Test-PortBind 22 -SocketTable $fleet -SocketHost $facts -ErrorAction Stop } | Should -Throw -ErrorId 'SocketTableOfSeveralComputers,PortTools.Commands.TestPortBindCommand'
            { Test-PortBind 22 -SocketTable $fleet -SocketHost $facts -ErrorAction Stop } | Should -Throw '*Group-Object ComputerName*'
        }

        It 'warns that a live trial bind of remote sockets ran on this host' {
            $warnings = $null
            $null = $fleet | Test-PortBind -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | Should -HaveCount 2
            $warnings[0] | Should -BeLike '*Sockets of web01 were piped in, but the trial bind ran on this host*'
        }
    }

    Context 'Snapshots with Export-Clixml' {
        It 'keeps the PSComputerName remoting added, beside ComputerName' {
            $remote = [psobject]::AsPSObject([PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:80 pid=900 process=nginx')
            $remote.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web01'))
            $other = [psobject]::AsPSObject([PortTools.SocketTuple]'tcp LISTEN 0.0.0.0:22 pid=700 process=sshd')
            $other.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'web02'))
            $path = Join-Path $TestDrive 'fleet.xml'
            $remote, $other | Export-Clixml -LiteralPath $path
            $saved = @(Import-Clixml -LiteralPath $path)
            $saved[0] | Should -BeOfType PortTools.SocketTuple
            $saved[0].PSComputerName | Should -Be 'web01'
            $saved[0].ComputerName | Should -Be 'web01'
            @($saved | Group-Object PSComputerName) | Should -HaveCount 2
        }

        It 'round-trips a live table, owners included, and compares it with the host now' {
            $listener = New-TestSocket -Address (New-LoopbackAddress) -Listen
            try {
                $path = Join-Path $TestDrive 'before.xml'
                Get-SocketTuple -Listening -Protocol Tcp | Export-Clixml -LiteralPath $path
                $before = Import-Clixml -LiteralPath $path | ConvertFrom-SocketTable
                $mine = $before | Where-Object LocalPort -EQ $listener.LocalEndPoint.Port
                $mine | Should -Not -BeNullOrEmpty
                $mine.ProcessId | Should -Be $PID
                @(Compare-Object $before (Get-SocketTuple -Listening -Protocol Tcp) -Property Local, ProcessId | Where-Object Local -EQ $mine.Local) | Should -HaveCount 0
            }
            finally {
                $listener.Dispose()
            }
        }
    }

    Context 'Jobs and parallel runspaces' {
        It 'reads sockets in a background job and gets them back with the job''s computer name' -Skip:(-not ($OnLinux -or $OnWindows -or $OnMacOS)) {
            $listener = New-TestSocket -Address ([System.Net.IPAddress]::Loopback) -Listen
            try {
                $port = $listener.LocalEndPoint.Port
                $job = Start-Job -ScriptBlock {
                    param($ModuleManifest, $Port)
                    Import-Module -Name $ModuleManifest
                    Get-SocketTuple -LocalPort $Port -Listening
                } -ArgumentList (Join-Path $ModulePath 'PortTools.psd1'), $port
                $received = @($job | Wait-Job -Timeout 60 | Receive-Job)
                $job | Remove-Job -Force
                $received | Should -HaveCount 1
                $received[0] | Should -BeOfType PortTools.SocketTuple # rehydrated: the module is loaded here
                $received[0].Source | Should -Be 'Live'
                $socket = $received | ConvertFrom-SocketTable
                $socket.LocalPort | Should -Be $port
                $socket.ProcessId | Should -Be $PID
                $socket.ComputerName | Should -Be 'localhost'
                (Test-PortBind $port -Address 127.0.0.1 -SocketTable $received).CanBind | Should -BeFalse
            }
            finally {
                $listener.Dispose()
            }
        }

        It 'gets real SocketTuples back from WinRM remoting, where the session''s type data applies' -Skip:(-not ($OnWindows -and (Test-WSMan -ComputerName localhost -ErrorAction SilentlyContinue))) {
            # Unlike SSH remoting (built-in type data only), WinRM sessions deserialize with this
            # session's type data, as Start-Job does. CI enables WinRM on its Windows runners.
            $listener = New-TestSocket -Address ([System.Net.IPAddress]::Loopback) -Listen
            try {
                $port = $listener.LocalEndPoint.Port
                $received = @(Invoke-Command -ComputerName localhost -ScriptBlock {
                        param($ModuleManifest, $Port)
                        Import-Module -Name $ModuleManifest
                        Get-SocketTuple -LocalPort $Port -Listening
                    } -ArgumentList (Join-Path $ModulePath 'PortTools.psd1'), $port)
                $received | Should -HaveCount 1
                $received[0] | Should -BeOfType PortTools.SocketTuple
                $received[0].PSComputerName | Should -Be 'localhost'
                $received[0].LocalPort | Should -Be $port
            }
            finally {
                $listener.Dispose()
            }
        }

        It 'works in ForEach-Object -Parallel runspaces' -Skip:($PSVersionTable.PSVersion.Major -lt 7) {
            $manifest = Join-Path $ModulePath 'PortTools.psd1'
            $results = 80, 8080 | ForEach-Object -Parallel {
                Import-Module -Name $using:manifest
                Test-PortBind $_ -SocketTable 'tcp LISTEN 0.0.0.0:80 pid=900 process=nginx' -TargetOS Linux -Privileged
            } -ThrottleLimit 2
            ($results | Sort-Object Port).CanBind | Should -Be @($false, $true)
        }
    }

    Context 'A real PowerShell remoting session over SSH on loopback' {
        BeforeDiscovery {
            $sshd = Get-Command -Name sshd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
            if (-not $sshd -and (Test-Path -LiteralPath '/usr/sbin/sshd')) { $sshd = '/usr/sbin/sshd' }
            $ssh = Get-Command -Name ssh, ssh-keygen -CommandType Application -ErrorAction SilentlyContinue
            $script:SshMissing = if (-not $OnLinux) { 'the SSH test runs on Linux' }
            elseif (-not $sshd) { 'sshd is not installed (apt-get install openssh-server)' }
            elseif (@($ssh).Count -lt 2) { 'ssh or ssh-keygen is not installed (apt-get install openssh-client)' }
            elseif (-not $IsRoot) { 'sshd on a port of the test''s own needs root here' }
        }

        BeforeAll {
            if ($script:SshMissing) { return }
            # A throwaway sshd on 127.0.0.1 and a free port: its own host key, one authorized key made
            # here, and a PowerShell subsystem that runs this PowerShell. Removed in AfterAll.
            $script:SshRoot = Join-Path ([System.IO.Path]::GetTempPath()) ('porttools-ssh-' + [guid]::NewGuid().ToString('N'))
            $null = New-Item -ItemType Directory -Path $SshRoot
            & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $SshRoot 'host_key') | Out-Null
            & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $SshRoot 'user_key') | Out-Null
            Copy-Item -LiteralPath (Join-Path $SshRoot 'user_key.pub') -Destination (Join-Path $SshRoot 'authorized_keys')
            $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $probe.Start(); $script:SshPort = $probe.LocalEndpoint.Port; $probe.Stop()
            $config = Join-Path $SshRoot 'sshd_config'
            @(
                "Port $SshPort"
                'ListenAddress 127.0.0.1'
                "HostKey $(Join-Path $SshRoot 'host_key')"
                "PidFile $(Join-Path $SshRoot 'sshd.pid')"
                "AuthorizedKeysFile $(Join-Path $SshRoot 'authorized_keys')"
                'PasswordAuthentication no'
                'KbdInteractiveAuthentication no'
                'PubkeyAuthentication yes'
                'PermitRootLogin yes'
                'StrictModes no'
                'UsePAM no'
                "Subsystem powershell $(Get-PowerShellPath) -sshs -NoLogo -NoProfile"
            ) | Set-Content -LiteralPath $config
            $null = New-Item -ItemType Directory -Path '/run/sshd' -Force # privilege separation directory
            $sshdPath = if (Get-Command sshd -CommandType Application -ErrorAction SilentlyContinue) { (Get-Command sshd -CommandType Application)[0].Source } else { '/usr/sbin/sshd' }
            $script:Sshd = Start-Process -FilePath $sshdPath -ArgumentList '-D', '-e', '-f', $config -PassThru -RedirectStandardError (Join-Path $SshRoot 'sshd.log')
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ([DateTime]::UtcNow -lt $deadline -and -not (Get-SocketTuple -LocalPort $SshPort -Listening)) { Start-Sleep -Milliseconds 100 }
            $script:SshOptions = @{
                HostName    = '127.0.0.1'
                Port        = $SshPort
                UserName    = 'root'
                KeyFilePath = (Join-Path $SshRoot 'user_key')
                Options     = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
            }
            $script:Manifest = Join-Path $ModulePath 'PortTools.psd1'
            $script:Session = New-PSSession @SshOptions -ErrorAction Stop
            Invoke-Command -Session $Session { param($Manifest) Import-Module -Name $Manifest } -ArgumentList $Manifest
        }

        AfterAll {
            if ($script:SshMissing) { return }
            if ($script:Session) { Remove-PSSession -Session $Session }
            if ($script:Sshd -and -not $Sshd.HasExited) { Stop-Process -Id $Sshd.Id }
            Remove-Item -LiteralPath $SshRoot -Recurse -Force -ErrorAction SilentlyContinue
        }

        It 'brings sockets back with PSComputerName, which ConvertFrom-SocketTable turns into real SocketTuples with their ComputerName' -Skip:([bool]$SshMissing) {
            $remote = @(Invoke-Command -Session $Session { param($Port) Get-SocketTuple -LocalPort $Port -Listening } -ArgumentList $SshPort)
            $remote | Should -HaveCount 1
            $remote[0].PSComputerName | Should -Be '127.0.0.1'
            "$($remote[0].State)" | Should -Be 'Listen'
            $sockets = @($remote | ConvertFrom-SocketTable)
            $sockets[0] | Should -BeOfType PortTools.SocketTuple
            $sockets[0].ComputerName | Should -Be '127.0.0.1'
            $sockets[0].ProcessName | Should -Be 'sshd'
        }

        It 'answers Test-PortBind and Resolve-Demux against the remote table, naming its computer' -Skip:([bool]$SshMissing) {
            $remote = @(Invoke-Command @SshOptions { param($Manifest, $Port) Import-Module -Name $Manifest; Get-SocketTuple -LocalPort $Port -Listening } -ArgumentList $Manifest, $SshPort)
            $bind = Test-PortBind $SshPort -Address 127.0.0.1 -SocketTable $remote -TargetOS Linux
            $bind.CanBind | Should -BeFalse
            $bind.ComputerName | Should -Be '127.0.0.1'
            $demux = Resolve-Demux Tcp 127.0.0.1:40000 "127.0.0.1:$SshPort" -SocketTable $remote -TargetOS Linux
            $demux.Outcome | Should -Be 'Delivered'
            $demux.ComputerName | Should -Be '127.0.0.1'
        }

        It 'keeps the Receiver of a remote Resolve-Demux in its view, and PSComputerName through Export-Clixml' -Skip:([bool]$SshMissing) {
            $job = Invoke-Command -Session $Session { param($Port) Resolve-Demux Tcp 127.0.0.1:40000 "127.0.0.1:$Port" } -ArgumentList $SshPort -AsJob
            $result = $job | Wait-Job -Timeout 60 | Receive-Job
            $job | Remove-Job -Force
            $result.PSComputerName | Should -Be '127.0.0.1'
            ($result | Format-Table | Out-String -Width 200) | Should -Match "127\.0\.0\.1:$SshPort sshd"
            $sockets = Invoke-Command -Session $Session { param($Port) Get-SocketTuple -LocalPort $Port -Listening } -ArgumentList $SshPort
            $path = Join-Path $TestDrive 'remote.xml'
            $sockets | Export-Clixml -LiteralPath $path
            $saved = Import-Clixml -LiteralPath $path
            $saved | Should -BeOfType PortTools.SocketTuple
            $saved.PSComputerName | Should -Be '127.0.0.1'
        }

        It 'measures remote sockets per computer, with its name' -Skip:([bool]$SshMissing) {
            $remote = @(Invoke-Command -Session $Session { Get-SocketTuple -State Established })
            $usage = @($remote | Measure-EphemeralPortUsage -TargetOS Linux 3>$null)
            $usage | Should -Not -BeNullOrEmpty -Because 'the ssh client''s own connection to sshd is an outbound connection of this host'
            ($usage | Where-Object Destination -EQ "127.0.0.1:$SshPort") | Should -Not -BeNullOrEmpty
            $usage | ForEach-Object { $_.ComputerName | Should -Be '127.0.0.1' }
        }
    }
}
