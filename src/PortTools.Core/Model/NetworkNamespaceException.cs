using System;

namespace PortTools
{
    /// <summary>Why a network namespace could not be read.</summary>
    public enum NetworkNamespaceError
    {
        /// <summary>No such name, path or process.</summary>
        NotFound,

        /// <summary>The caller may not open or enter it.</summary>
        AccessDenied,

        /// <summary>The file is not a network namespace.</summary>
        NotANamespace,
    }

    /// <summary>A network namespace could not be found, opened or entered.</summary>
    public sealed class NetworkNamespaceException : Exception
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="error">The kind of failure.</param>
        /// <param name="specification">The namespace as the user named it.</param>
        /// <param name="message">The message.</param>
        public NetworkNamespaceException(NetworkNamespaceError error, string specification, string message)
            : base(message)
        {
            Error = error;
            Specification = specification;
        }

        /// <summary>The kind of failure.</summary>
        public NetworkNamespaceError Error { get; }

        /// <summary>The namespace as the user named it.</summary>
        public string Specification { get; }
    }
}
