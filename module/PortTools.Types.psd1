# The type data of PortTools (PortTools.types.ps1xml), which PortTools.psm1 imports once PortTools.dll,
# whose converters and code properties it names, is loaded. Its version is the module's.
@{
    ModuleVersion  = '0.1.0'
    GUID           = '0c7d2f0e-3a5b-4a8e-9d61-6f1b2e4c8a57'
    Author         = 'PortTools contributors'
    Description    = 'The type data of PortTools, loaded by PortTools.psm1.'
    TypesToProcess = @('PortTools.types.ps1xml')
}
