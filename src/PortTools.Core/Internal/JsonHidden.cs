// ConvertTo-Json walks a .NET object's public properties by reflection, skipping those that carry the
// host's ignore attribute (Newtonsoft's JsonIgnore in PowerShell 7, ScriptIgnore in Windows PowerShell
// 5.1), and then adds the object's ETS properties. Raw IPAddress, IPEndPoint and AddressFamily values,
// which it writes as {"Address": 16777343, ...} or numbers, are hidden that way; module/PortTools.types.ps1xml
// gives them back as text under the same names. Neither attribute is read at run time but by those hosts.
#if NETFRAMEWORK
global using HiddenFromJsonAttribute = System.Web.Script.Serialization.ScriptIgnoreAttribute;
#else
global using HiddenFromJsonAttribute = Newtonsoft.Json.JsonIgnoreAttribute;
#endif
