# Shared set-up for the Pester tests: import the staged module (build.ps1 -Task Test sets
# PORTTOOLS_MODULE_PATH; otherwise the newest build under output/ is used) and small helpers.
# Dot-source it in BeforeAll (and in BeforeDiscovery where -Skip conditions need it).

$script:RepositoryRoot = Split-Path -Parent $PSScriptRoot
$script:ModulePath = if ($env:PORTTOOLS_MODULE_PATH) {
    $env:PORTTOOLS_MODULE_PATH
}
else {
    Get-ChildItem -Path (Join-Path $script:RepositoryRoot 'output/PortTools') -Directory -ErrorAction SilentlyContinue |
        Sort-Object { [version]$_.Name } -Descending |
        Select-Object -First 1 -ExpandProperty FullName
}

if (-not $script:ModulePath -or -not (Test-Path -LiteralPath (Join-Path $script:ModulePath 'PortTools.psd1'))) {
    throw "The staged module was not found. Run ./build.ps1 first (looked in '$script:ModulePath')."
}

# $IsLinux does not exist in Windows PowerShell 5.1, which only runs on Windows.
$script:OnLinux = ($PSVersionTable.PSEdition -eq 'Core') -and $IsLinux
$script:OnWindows = ($PSVersionTable.PSEdition -eq 'Desktop') -or $IsWindows
$script:OnMacOS = ($PSVersionTable.PSEdition -eq 'Core') -and $IsMacOS
$script:IsRoot = $script:OnLinux -and ((& id -u) -eq '0')

Import-Module -Name (Join-Path $script:ModulePath 'PortTools.psd1') -Force -ErrorAction Stop

function Get-PowerShellPath {
    # The executable of this PowerShell, for a child process of the same edition and version. It is in
    # $PSHOME however PowerShell was installed; this process's own path is not: PowerShell installed as
    # a .NET tool runs in the dotnet host. build.ps1 chooses its child the same way.
    $name = if ($PSVersionTable.PSEdition -eq 'Desktop') { 'powershell.exe' } elseif ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
    $path = Join-Path $PSHOME $name
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw "This PowerShell's executable is not in its home folder: $path does not exist."
    }
    $path
}

function Get-ToolPowerShellPath {
    # The launcher of the PowerShell .ci/run installs as a .NET tool (build.ps1's -ToolPath: PORTTOOLS_TOOLS,
    # else output/tools), whether or not it is installed.
    $tools = if ($env:PORTTOOLS_TOOLS) { $env:PORTTOOLS_TOOLS } else { Join-Path $script:RepositoryRoot 'output/tools' }
    $name = if ($script:OnWindows) { 'pwsh.exe' } else { 'pwsh' }
    Join-Path $tools $name
}

function New-LoopbackAddress {
    # A private 127.x.y.z address per test (Linux treats all of 127.0.0.0/8 as local).
    [System.Net.IPAddress]::Parse(('127.{0}.{1}.{2}' -f (Get-Random -Minimum 20 -Maximum 250), (Get-Random -Minimum 1 -Maximum 250), (Get-Random -Minimum 1 -Maximum 250)))
}

function New-TestSocket {
    param(
        [ValidateSet('Tcp', 'Udp')] [string] $Protocol = 'Tcp',
        [System.Net.IPAddress] $Address = [System.Net.IPAddress]::Loopback,
        [int] $Port = 0,
        [switch] $Listen
    )
    $type = if ($Protocol -eq 'Tcp') { [System.Net.Sockets.SocketType]::Stream } else { [System.Net.Sockets.SocketType]::Dgram }
    $socket = [System.Net.Sockets.Socket]::new($Address.AddressFamily, $type, [System.Net.Sockets.ProtocolType]$Protocol)
    $socket.Bind([System.Net.IPEndPoint]::new($Address, $Port))
    if ($Listen) {
        $socket.Listen(5)
    }
    $socket
}

function ConvertTo-PropertyBag {
    # What a session without PortTools gets: deserialized in a runspace that has no PortTools type
    # data, so nothing rehydrates them. The bags come back to this runspace as they are.
    param([Parameter(ValueFromPipeline)] $InputObject)
    begin { $items = [System.Collections.Generic.List[object]]::new() }
    process { $items.Add($InputObject) }
    end {
        $xml = [System.Management.Automation.PSSerializer]::Serialize($items.ToArray())
        $shell = [powershell]::Create()
        try {
            $shell.AddScript('param($xml) [System.Management.Automation.PSSerializer]::Deserialize($xml)').AddArgument($xml).Invoke()
        }
        finally {
            $shell.Dispose()
        }
    }
}
