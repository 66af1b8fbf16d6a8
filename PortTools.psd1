# Module manifest for PortTools. ModuleVersion is the single source of the version:
# Directory.Build.props reads it for the assemblies and build.ps1 for the output folder.
@{
    # The loader: it imports bin/net472 on Windows PowerShell 5.1 and bin/netstandard2.0 on PowerShell 7,
    # then the type data, which names a converter from the cmdlet assembly.
    RootModule             = 'PortTools.psm1'
    ModuleVersion          = '0.1.0'
    GUID                   = '5b0f3c57-8e0c-4b55-9a41-2f7d6c1e9a10'
    Author                 = 'PortTools contributors'
    CompanyName            = 'PortTools'
    Copyright              = '(c) PortTools contributors. MIT License.'
    Description            = 'Who holds a port, why a bind fails, which socket a packet reaches, and when ephemeral ports run out: socket tables and the kernels'' bind and delivery rules for Linux, Windows and macOS.'
    CompatiblePSEditions   = @('Desktop', 'Core')
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @('PortTools.format.ps1xml')
    CmdletsToExport        = @(
        'ConvertFrom-SocketTable'
        'Get-EphemeralPortRange'
        'Get-PortInfo'
        'Get-SocketHost'
        'Get-SocketTuple'
        'Measure-EphemeralPortUsage'
        'Resolve-Demux'
        'Test-PortBind'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('network', 'socket', 'port', 'tcp', 'udp', 'netstat', 'ss', 'bind', 'linux', 'windows', 'macos', 'PSEdition_Core', 'PSEdition_Desktop')
            LicenseUri   = 'https://github.com/porttools/PortTools/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/porttools/PortTools'
            ReleaseNotes = 'See CHANGELOG.md'
        }
    }
}
