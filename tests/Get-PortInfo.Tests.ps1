BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Get-PortInfo' {
    Context 'Module surface' {
        It 'is exported with help that has at least three examples' {
            $command = Get-Command -Name Get-PortInfo -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name Get-PortInfo -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }) {
                ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
            }
        }

        It 'declares PortInfo as its output type' {
            (Get-Command Get-PortInfo).OutputType.Name | Should -Be 'PortTools.PortInfo'
        }

        It 'shows Port, Protocol, ServiceName, Class, Privileged, InEphemeralRange and Description by default' {
            $table = Get-PortInfo 443 -Protocol Tcp | Format-Table | Out-String -Width 200
            $table | Should -Match 'Port\s+Protocol\s+ServiceName\s+Class\s+Privileged\s+InEphemeralRange\s+Description'
            $table | Should -Match '443\s+Tcp\s+https\s+WellKnown'
        }
    }

    Context 'Well-known assignments' {
        It '<Port>/<Protocol> is <Name>' -ForEach @(
            @{ Port = 22; Protocol = 'Tcp'; Name = 'ssh' }
            @{ Port = 53; Protocol = 'Udp'; Name = 'domain' }
            @{ Port = 443; Protocol = 'Tcp'; Name = 'https' }
            @{ Port = 3306; Protocol = 'Tcp'; Name = 'mysql' }
            @{ Port = 5432; Protocol = 'Tcp'; Name = 'postgresql' }
        ) {
            $info = Get-PortInfo -Port $Port -Protocol $Protocol
            $info | Should -HaveCount 1
            $info.PSObject.TypeNames[0] | Should -Be 'PortTools.PortInfo'
            $info.Port | Should -Be $Port
            $info.Protocol | Should -Be $Protocol
            $info.ServiceName | Should -Be $Name
            $info.ServiceNames | Should -Contain $Name
            $info.ServiceSources | Should -Contain 'IANA'
            $info.Description | Should -Not -BeNullOrEmpty
            $info.ToString() | Should -Be ('{0}/{1} {2}' -f $Port, $Protocol.ToLowerInvariant(), $Name)
        }

        It 'describes both protocols, TCP first, when -Protocol is left out' {
            $info = Get-PortInfo 53
            $info | ForEach-Object ToString | Should -Be @('53/tcp domain', '53/udp domain')
        }

        It 'names no service for an unassigned port' {
            $info = Get-PortInfo 8001 -Protocol Tcp
            $info.ServiceName | Should -BeNullOrEmpty
            $info.ServiceNames | Should -HaveCount 0
            $info.ToString() | Should -Be '8001/tcp'
        }
    }

    Context 'Classes, privilege and the ephemeral range' {
        It 'classes <Port> as <Class>' -ForEach @(
            @{ Port = 0; Class = 'WellKnown' }
            @{ Port = 1023; Class = 'WellKnown' }
            @{ Port = 1024; Class = 'Registered' }
            @{ Port = 49151; Class = 'Registered' }
            @{ Port = 49152; Class = 'Dynamic' }
            @{ Port = 65535; Class = 'Dynamic' }
        ) {
            (Get-PortInfo -Port $Port -Protocol Tcp).Class | Should -Be $Class
        }

        It 'explains port 0 as the OS picking an ephemeral port, never privileged' {
            $range = Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork -WarningAction SilentlyContinue
            $info = Get-PortInfo 0 -Protocol Tcp
            $info.RequiresPrivilege | Should -BeFalse
            $info.PrivilegeReason | Should -Be 'Port 0 is never privileged: the OS picks an ephemeral port.'
            $info.Note | Should -Be ('Port 0 asks the OS to pick an ephemeral port: on this host one from {0}-{1} ({2:N0} usable).' -f $range.Start, $range.End, $range.UsableCount)
        }

        It 'needs CAP_NET_BIND_SERVICE for a port below ip_unprivileged_port_start on Linux' -Skip:(-not $OnLinux) {
            $start = [int](Get-Content -Path '/proc/sys/net/ipv4/ip_unprivileged_port_start')
            $capEff = ((Get-Content -Path '/proc/self/status') -match '^CapEff:')[0].Split("`t")[-1].Trim()
            $capable = ([Convert]::ToUInt64($capEff, 16) -band (1 -shl 10)) -ne 0
            $info = Get-PortInfo ($start - 1) -Protocol Tcp
            $info.RequiresPrivilege | Should -Be (-not $capable)
            $info.PrivilegeReason | Should -BeLike ("Port {0} is privileged on this host (net.ipv4.ip_unprivileged_port_start = {1}), so binding it needs CAP_NET_BIND_SERVICE; *" -f ($start - 1), $start)
            if ($capable) {
                $info.PrivilegeReason | Should -BeLike '*; this process has CAP_NET_BIND_SERVICE.'
            }
            else {
                $info.PrivilegeReason | Should -BeLike '*; this process lacks CAP_NET_BIND_SERVICE, so bind fails with EACCES.'
            }
            (Get-PortInfo $start -Protocol Tcp).RequiresPrivilege | Should -BeFalse
            (Get-PortInfo $start -Protocol Tcp).PrivilegeReason | Should -BeLike "Port $start is not privileged on this host*"
        }

        It 'has no privileged ports on Windows' -Skip:(-not $OnWindows) {
            $info = Get-PortInfo 443 -Protocol Tcp
            $info.RequiresPrivilege | Should -BeFalse
            $info.PrivilegeReason | Should -BeLike 'Windows has no privileged ports*'
        }

        It 'places ports against this host''s ephemeral range' {
            $range = Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork -WarningAction SilentlyContinue
            (Get-PortInfo $range.Start -Protocol Tcp).InEphemeralRange | Should -BeTrue
            (Get-PortInfo $range.End -Protocol Tcp).InEphemeralRange | Should -BeTrue
            (Get-PortInfo ($range.Start - 1) -Protocol Tcp).InEphemeralRange | Should -BeFalse
            (Get-PortInfo 443 -Protocol Tcp).IsReserved | Should -BeFalse
        }

        It 'warns in the note when a named service lies in the ephemeral range' -Skip:(-not $OnLinux) {
            # Linux's range (32768-60999 by default) holds named services, such as 33434 traceroute.
            $range = Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork -WarningAction SilentlyContinue
            $clash = Get-PortInfo "$($range.Start)-$($range.End)" -Protocol Tcp | Where-Object ServiceName | Select-Object -First 1
            $clash | Should -Not -BeNullOrEmpty
            $clash.Note | Should -BeLike "*It lies in this host's ephemeral range: outgoing connections may take it*"
        }

        It 'applies the rules of Linux on Linux' -Skip:(-not $OnLinux) {
            (Get-PortInfo 80 -Protocol Tcp).OS | Should -Be 'Linux'
        }
    }

    Context 'Ranges and the pipeline' {
        It 'describes every port of a range' {
            $info = Get-PortInfo 8000-8003 -Protocol Tcp
            $info.Port | Should -Be @(8000, 8001, 8002, 8003)
            $info.Protocol | Sort-Object -Unique | Should -Be 'Tcp'
        }

        It 'takes numbers and range strings from the pipeline' {
            (22, '8000-8001' | Get-PortInfo -Protocol Tcp).Port | Should -Be @(22, 8000, 8001)
        }

        It 'takes objects with a LocalPort or Port property, and their Protocol' {
            $info = [pscustomobject]@{ LocalPort = 53; Protocol = 'Udp' } | Get-PortInfo
            $info | Should -HaveCount 1
            $info.ToString() | Should -Be '53/udp domain'
            [pscustomobject]@{ Port = 5432 } | Get-PortInfo | ForEach-Object ToString | Should -Be @('5432/tcp postgresql', '5432/udp postgresql')
        }

        It 'takes SocketTuple objects' {
            $sockets = [PortTools.SocketTuple[]]('tcp LISTEN 0.0.0.0:443', 'udp UNCONN 127.0.0.1:53')
            ($sockets | Get-PortInfo) | ForEach-Object ToString | Should -Be @('443/tcp https', '53/udp domain')
        }

        It 'takes the ports of live listeners from Get-SocketTuple' -Skip:(-not $OnLinux) {
            $address = New-LoopbackAddress
            $listener = New-TestSocket -Address $address -Listen
            try {
                $info = Get-SocketTuple -LocalAddress $address -Protocol Tcp | Get-PortInfo
                $info.Port | Should -Be $listener.LocalEndPoint.Port
                $info.Protocol | Should -Be 'Tcp'
            }
            finally {
                $listener.Dispose()
            }
        }
    }

    Context 'By service name' {
        It 'finds the ports of a service, ignoring case' {
            Get-PortInfo -Service HTTPS | ForEach-Object ToString | Should -Be @('443/tcp https', '443/udp https')
        }

        It 'matches wildcards and narrows by -Protocol' {
            Get-PortInfo -Service postgres* -Protocol Tcp | ForEach-Object ToString | Should -Be '5432/tcp postgresql'
            Get-PortInfo -Service domain -Protocol Udp | ForEach-Object ToString | Should -Be '53/udp domain'
        }

        It 'writes nothing, and no error, for a pattern that matches nothing' {
            $found = @(Get-PortInfo -Service 'zz-no-such*' -ErrorVariable problems -Verbose 4>&1)
            $problems | Should -HaveCount 0
            @($found | Where-Object { $_ -is [PortTools.PortInfo] }) | Should -HaveCount 0
            @($found | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) | Should -Contain "No service name or alias matches 'zz-no-such*'."
        }

        It 'writes UnknownService for a name that matches nothing, and goes on with the next' {
            $found = @(Get-PortInfo -Service no-such-service, ssh -Protocol Tcp -ErrorVariable problems -ErrorAction SilentlyContinue)
            $found | ForEach-Object ToString | Should -Be '22/tcp ssh'
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -Be 'UnknownService,PortTools.Commands.GetPortInfoCommand'
            $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $problems[0].TargetObject | Should -Be 'no-such-service'
            $problems[0].Exception.Message | Should -BeLike "Unknown service 'no-such-service': no service name or alias for tcp in the service table (IANA*) matches it."
        }

        It 'throws the same error id with -ErrorAction Stop' {
            { Get-PortInfo -Service no-such-service -ErrorAction Stop } | Should -Throw -ErrorId 'UnknownService,PortTools.Commands.GetPortInfoCommand'
        }
    }

    Context 'Bad input' {
        It 'names a port out of range' {
            { Get-PortInfo 70000 } | Should -Throw -ExpectedMessage '*Port 70000 is out of range: a port is 0 to 65535."'
            { Get-PortInfo '70000' } | Should -Throw -ExpectedMessage "*'70000' is not a port or port range*"
        }

        It 'names a reversed range' {
            { Get-PortInfo 90-80 } | Should -Throw -ExpectedMessage "*Port range '90-80' is reversed: its start (90) is above its end (80). Write it as 80-90.*"
        }

        It 'does not combine -Port and -Service' {
            { Get-PortInfo -Port 80 -Service http } | Should -Throw -ErrorId 'AmbiguousParameterSet,PortTools.Commands.GetPortInfoCommand'
        }

        It 'rejects an empty service name' {
            { Get-PortInfo -Service '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PortTools.Commands.GetPortInfoCommand'
        }
    }
}
