#!/usr/bin/env pwsh
# Writes the porttools-ps7*.csv/json fixtures: the sockets below (the same as
# Text/ExportRoundTripTests.cs SampleSockets) exported the ways users export Get-SocketTuple.
# Run with PowerShell 7 from this folder after building the core:
#   pwsh ./make-porttools-exports.ps1 ../../../src/PortTools.Core/bin/Debug/netstandard2.0/PortTools.Core.dll
# With -ModulePath (the staged module, output/PortTools/<version>), the module is loaded instead, and
# only the porttools-ps7-module.* files are written: exports with its type data, which gives enums
# by name and addresses as text.
param([string] $CoreAssembly, [string] $ModulePath)
$ErrorActionPreference = 'Stop'
if ($ModulePath) { Import-Module (Join-Path $ModulePath 'PortTools.psd1') } else { Add-Type -Path $CoreAssembly }
# [NullString]::Value: a [string] parameter would turn $null into an empty name.
function Owner([int] $id, $name) { [PortTools.SocketOwner]::new($id, $(if ($null -ne $name) { [string]$name } else { [NullString]::Value })) }
$sockets = @(
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Established'; LocalAddress = [ipaddress]'192.0.2.10'; LocalPort = 443; RemoteAddress = [ipaddress]'198.51.100.7'; RemotePort = 40000; Processes = [PortTools.SocketOwner[]]@((Owner 812 'nginx'), (Owner 813 'nginx')); UserId = 33; Inode = 123456; ReceiveQueue = 0; SendQueue = 17; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = [ipaddress]'0.0.0.0'; LocalPort = 8080; ReusePort = $true; UserId = 1000; Inode = 4294967296; ReceiveQueue = 0; SendQueue = 511; Processes = [PortTools.SocketOwner[]]@((Owner 2001 'Web Content')); Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = [ipaddress]'::'; LocalPort = 22; IPv6Only = $false; Processes = [PortTools.SocketOwner[]]@((Owner 900 'sshd')); UserId = 0; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Listen'; LocalAddress = [ipaddress]'::1'; LocalPort = 631; IPv6Only = $true; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Udp'; State = 'Unconnected'; LocalAddress = [ipaddress]'0.0.0.0'; LocalPort = 68; BoundInterface = 'eth0'; Processes = [PortTools.SocketOwner[]]@((Owner 1 $null)); Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Udp'; State = 'Connected'; LocalAddress = [ipaddress]'::ffff:10.0.0.1'; LocalPort = 5353; RemoteAddress = [ipaddress]'::ffff:10.0.0.2'; RemotePort = 53; IPv6Only = $false; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'TimeWait'; LocalAddress = [ipaddress]'127.0.0.1'; LocalPort = 36257; RemoteAddress = [ipaddress]'127.0.0.1'; RemotePort = 37181; UserId = 0; ReceiveQueue = 0; SendQueue = 0; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Udp'; State = 'Unconnected'; LocalAddress = [ipaddress]'fe80::1%2'; LocalPort = 546; BoundInterface = 'eth0'; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'Bound'; LocalAddress = [ipaddress]'127.0.0.1'; LocalPort = 5000; ReuseAddress = $false; ReusePort = $false; Source = 'Live' }
    [PortTools.SocketTuple]@{ Protocol = 'Tcp'; State = 'SynSent'; LocalAddress = [ipaddress]'2001:db8::5'; LocalPort = 50000; RemoteAddress = [ipaddress]'2001:db8::80'; RemotePort = 443; Processes = [PortTools.SocketOwner[]]@((Owner 77 'curl')); Source = 'Live' }
)
if ($ModulePath) {
    $sockets | Export-Csv -LiteralPath porttools-ps7-module.csv
    $sockets | ConvertTo-Json -WarningAction SilentlyContinue | Set-Content -LiteralPath porttools-ps7-module.json
    return
}

$sockets | Export-Csv -LiteralPath porttools-ps7.csv
$sockets | Export-Csv -LiteralPath porttools-ps7-typeinfo-semicolon.csv -IncludeTypeInformation -Delimiter ';'
$sockets | Export-Csv -LiteralPath porttools-ps7-quotes-asneeded.csv -UseQuotes AsNeeded
$sockets | ConvertTo-Json -WarningAction SilentlyContinue | Set-Content -LiteralPath porttools-ps7.json
$sockets | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath porttools-ps7-depth3.json
$sockets | ConvertTo-Json -Compress -WarningAction SilentlyContinue | Set-Content -LiteralPath porttools-ps7-compress.json
$sockets | ConvertTo-Json -EnumsAsStrings -WarningAction SilentlyContinue | Set-Content -LiteralPath porttools-ps7-enumsasstrings.json
$sockets[0] | ConvertTo-Json -WarningAction SilentlyContinue | Set-Content -LiteralPath porttools-ps7-single.json
$sockets | ForEach-Object { $_ | ConvertTo-Json -Compress -WarningAction SilentlyContinue } | Set-Content -LiteralPath porttools-ps7-lines.json
