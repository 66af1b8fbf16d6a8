BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A network namespace of its own lets a test set the port sysctls without touching the host's.
    $CanUnshare = $false
    if ($IsRoot -and (Get-Command -Name unshare -CommandType Application -ErrorAction SilentlyContinue)) {
        & unshare -n true 2>$null
        $CanUnshare = $LASTEXITCODE -eq 0
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Get-EphemeralPortRange' {
    Context 'Module surface' {
        It 'is exported with help that has at least three examples' {
            $command = Get-Command -Name Get-EphemeralPortRange -Module PortTools
            $command.CommandType | Should -Be 'Cmdlet'
            $help = Get-Help -Name Get-EphemeralPortRange -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }) {
                ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description | Should -Not -BeNullOrEmpty -Because "-$parameter needs help"
            }
        }

        It 'declares EphemeralPortRange as its output type' {
            (Get-Command Get-EphemeralPortRange).OutputType.Name | Should -Be 'PortTools.EphemeralPortRange'
        }

        It 'shows the range, usable and reserved counts, TIME_WAIT and the source by default' {
            $table = Get-EphemeralPortRange -TargetOS Linux -Protocol Tcp -AddressFamily InterNetwork | Format-Table | Out-String -Width 200
            $table | Should -Match 'Protocol\s+AddressFamily\s+Start\s+End\s+UsableCount\s+ReservedCount\s+TimeWaitSeconds\s+Source'
            $table | Should -Match 'Tcp\s+InterNetwork\s+32768\s+60999\s+28232\s+0\s+60\s+default for Linux'
        }
    }

    Context 'This host on Linux' -Skip:(-not $OnLinux) {
        BeforeAll {
            $bounds = (Get-Content -Path '/proc/sys/net/ipv4/ip_local_port_range' -Raw).Trim() -split '\s+' | ForEach-Object { [int]$_ }
            $ranges = @(Get-EphemeralPortRange -WarningVariable warnings)
        }

        It 'gives one range per protocol and family, each equal to ip_local_port_range' {
            $ranges | Should -HaveCount 4
            ($ranges | ForEach-Object { '{0} {1}' -f $_.Protocol, $_.AddressFamily }) | Should -Be @('Tcp InterNetwork', 'Tcp InterNetworkV6', 'Udp InterNetwork', 'Udp InterNetworkV6')
            foreach ($range in $ranges) {
                $range.PSObject.TypeNames[0] | Should -Be 'PortTools.EphemeralPortRange'
                $range.OS | Should -Be 'Linux'
                $range.Start | Should -Be $bounds[0]
                $range.End | Should -Be $bounds[1]
                $range.Count | Should -Be ($bounds[1] - $bounds[0] + 1)
                $range.UsableCount | Should -Be ($range.Count - $range.ReservedCount)
                $range.Source | Should -Be '/proc/sys/net/ipv4/ip_local_port_range'
            }
        }

        It 'reads without warnings' {
            $warnings | Should -BeNullOrEmpty
        }

        It 'gives TCP the fixed 60 s of TIME_WAIT and UDP none' {
            ($ranges | Where-Object Protocol -EQ 'Tcp').TimeWaitSeconds | Should -Be @(60, 60)
            ($ranges | Where-Object Protocol -EQ 'Tcp')[0].TimeWaitSource | Should -BeLike 'fixed in the Linux kernel: TCP_TIMEWAIT_LEN = 60 s*'
            ($ranges | Where-Object Protocol -EQ 'Udp').TimeWaitSeconds | Should -Be @(0, 0)
        }

        It 'counts the reserved ports of ip_local_reserved_ports that lie in the range' -Skip:(-not $CanUnshare) {
            # A new network namespace has its own sysctls: the host's are left alone.
            $pwsh = Get-PowerShellPath
            $manifest = Join-Path $ModulePath 'PortTools.psd1'
            $script = "Import-Module '$manifest'; Get-EphemeralPortRange -Protocol Tcp -AddressFamily InterNetwork | ConvertTo-Json -Depth 3 -Compress"
            $shell = "sysctl -q -w net.ipv4.ip_local_port_range='40000 40999' && sysctl -q -w net.ipv4.ip_local_reserved_ports=40100-40199,40500,50000 && exec '$pwsh' -NoProfile -NonInteractive -Command `"$script`""
            $json = & unshare -n sh -c $shell
            $LASTEXITCODE | Should -Be 0
            $range = $json | ConvertFrom-Json
            $range.Start | Should -Be 40000
            $range.End | Should -Be 40999
            $range.Count | Should -Be 1000
            $range.ReservedCount | Should -Be 101 -Because '40100-40199 and 40500 lie in the range; 50000 does not'
            $range.UsableCount | Should -Be 899
            @($range.Reserved | ForEach-Object { '{0}-{1}' -f $_.Start, $_.End }) | Should -Be @('40100-40199', '40500-40500', '50000-50000')
        }
    }

    Context 'This host on Windows' -Skip:(-not $OnWindows) {
        It 'reads the dynamic port ranges with netsh, without a warning' {
            $ranges = @(Get-EphemeralPortRange -WarningVariable warnings)
            $ranges | Should -HaveCount 4
            $warnings | Should -BeNullOrEmpty
            $ranges | ForEach-Object { $_.Source | Should -BeLike 'netsh int*' }
            $ranges | ForEach-Object { $_.OS | Should -Be 'Windows' }
            # What netsh itself says for TCP over IPv4.
            $text = (netsh int ipv4 show dynamicport tcp) -join "`n"
            $numbers = [regex]::Matches($text, '\d+') | ForEach-Object { [int]$_.Value }
            $tcp4 = $ranges | Where-Object { $_.Protocol -eq 'Tcp' -and $_.AddressFamily -eq 'InterNetwork' }
            $tcp4.Start | Should -Be $numbers[0]
            $tcp4.Count | Should -Be $numbers[1]
        }
    }

    Context 'This host on macOS' -Skip:(-not $OnMacOS) {
        It 'reads the range with sysctl, without a warning' {
            $ranges = @(Get-EphemeralPortRange -WarningVariable warnings)
            $ranges | Should -HaveCount 4
            $warnings | Should -BeNullOrEmpty
            $ranges | ForEach-Object { $_.Source | Should -BeLike 'net.inet.ip.portrange.first-last =*' }
            $ranges[0].Start | Should -Be ([int](sysctl -n net.inet.ip.portrange.first))
            $ranges[0].End | Should -Be ([int](sysctl -n net.inet.ip.portrange.last))
        }
    }

    Context 'Documented defaults of other systems' {
        It '<TargetOS>: <Start>-<End>, TCP TIME_WAIT <TimeWait> s' -ForEach @(
            @{ TargetOS = 'Windows'; Start = 49152; End = 65535; TimeWait = 120 }
            @{ TargetOS = 'Linux'; Start = 32768; End = 60999; TimeWait = 60 }
            @{ TargetOS = 'MacOS'; Start = 49152; End = 65535; TimeWait = 30 }
            @{ TargetOS = 'FreeBSD'; Start = 10000; End = 65535; TimeWait = 60 }
        ) {
            $ranges = @(Get-EphemeralPortRange -TargetOS $TargetOS -WarningVariable warnings)
            $warnings | Should -BeNullOrEmpty -Because 'a what-if question is not a failure to read the host'
            $ranges | Should -HaveCount 4
            foreach ($range in $ranges) {
                $range.OS | Should -Be $TargetOS
                $range.Start | Should -Be $Start
                $range.End | Should -Be $End
                $range.UsableCount | Should -Be ($End - $Start + 1)
                $range.ReservedCount | Should -Be 0
                $range.Source | Should -Be ('default for {0}: {1}-{2} (documented {0} defaults, not read from a host)' -f $TargetOS, $Start, $End)
            }
            ($ranges | Where-Object Protocol -EQ 'Tcp').TimeWaitSeconds | Should -Be @($TimeWait, $TimeWait)
            ($ranges | Where-Object Protocol -EQ 'Udp').TimeWaitSeconds | Should -Be @(0, 0)
        }

        It 'gives Windows 49152-65535, 16384 ports, and says so with -Verbose' {
            $output = @(Get-EphemeralPortRange -TargetOS Windows -Protocol Tcp -AddressFamily InterNetwork -Verbose 4>&1)
            $range = $output | Where-Object { $_ -is [PortTools.EphemeralPortRange] }
            $range.ToString() | Should -Be 'tcp IPv4 49152-65535 (16384 usable)'
            $range.TimeWaitSource | Should -BeLike 'default TcpTimedWaitDelay = 120 s*'
            ($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Be 'Using documented Windows defaults, not read from a host.'
        }
    }

    Context 'Filters' {
        It 'filters by protocol, positionally too' {
            (Get-EphemeralPortRange -TargetOS Windows -Protocol Udp).Protocol | Should -Be @('Udp', 'Udp')
            (Get-EphemeralPortRange Tcp -TargetOS Windows).Protocol | Should -Be @('Tcp', 'Tcp')
            Get-EphemeralPortRange -TargetOS Windows -Protocol Tcp, Udp | Should -HaveCount 4
        }

        It 'filters by address family' {
            (Get-EphemeralPortRange -TargetOS Windows -AddressFamily InterNetworkV6).AddressFamily | Should -Be @('InterNetworkV6', 'InterNetworkV6')
            $one = @(Get-EphemeralPortRange -TargetOS Windows -Protocol Udp -AddressFamily InterNetwork)
            $one | Should -HaveCount 1
            $one[0].ToString() | Should -Be 'udp IPv4 49152-65535 (16384 usable)'
        }

        It 'rejects address families other than IPv4 and IPv6' {
            { Get-EphemeralPortRange -AddressFamily Unix } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PortTools.Commands.GetEphemeralPortRangeCommand'
        }

        It 'rejects an unknown target OS' {
            { Get-EphemeralPortRange -TargetOS Solaris } | Should -Throw -ExpectedMessage '*Solaris*'
        }
    }
}
