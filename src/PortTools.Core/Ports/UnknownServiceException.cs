using System;

namespace PortTools
{
    /// <summary>A service name or pattern that names no known service. The message names it.</summary>
    public sealed class UnknownServiceException : ArgumentException
    {
        /// <summary>Creates the exception for a name or pattern.</summary>
        /// <param name="service">The name or pattern that matched nothing.</param>
        /// <param name="message">The message; it names the service.</param>
        public UnknownServiceException(string service, string message)
            : base(message)
        {
            Service = service;
        }

        /// <summary>The name or pattern that matched nothing.</summary>
        public string Service { get; }
    }
}
