namespace PortTools
{
    /// <summary>The three port ranges of RFC 6335 section 6, which IANA's registry follows.</summary>
    // long-based: ConvertTo-Json (Windows PowerShell 5.1 and PowerShell 7) writes such enums by name, not as numbers.
    public enum PortClass : long
    {
        /// <summary>0-1023, the System or well-known ports, assigned by IETF review.</summary>
        WellKnown,

        /// <summary>1024-49151, the User or registered ports.</summary>
        Registered,

        /// <summary>49152-65535, the Dynamic or private ports, never assigned; the IANA-suggested ephemeral range.</summary>
        Dynamic,
    }
}
