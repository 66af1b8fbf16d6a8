# Loads the build of PortTools made for the running edition of PowerShell.
#
# Windows PowerShell 5.1 (Desktop) runs on the .NET Framework, which applies no binding redirects to a
# module: every assembly the module ships must carry exactly the version its referrers ask for. The
# net472 build comes with the .NET Framework assets of its dependencies, which agree with each other
# (the netstandard2.0 assets do not: that System.Memory asks for an older System.Buffers than ships).
# PowerShell 7 (Core) gets the netstandard2.0 build; its runtime provides those dependencies itself.
#
# The type data names a converter compiled into PortTools.dll, so it is added here, once the assembly
# is loaded, rather than through the manifest, which processes types before any root module loads:
# PortTools.Types.psd1 is a manifest of nothing but that type data, imported as a nested module, so
# it goes when PortTools is removed. Only Import-Module runs here, a command of PowerShell's own
# engine: Join-Path or Update-TypeData would first load the Microsoft.PowerShell.Management or
# Utility module, which costs a fresh session more than the rest of the import. Only cmdlets run
# here, so this also works in ConstrainedLanguage mode.

$framework = if ($PSEdition -eq 'Desktop') { 'net472' } else { 'netstandard2.0' }

Import-Module -Name "$PSScriptRoot/bin/$framework/PortTools.dll" -ErrorAction Stop
Import-Module -Name "$PSScriptRoot/PortTools.Types.psd1" -ErrorAction Stop
