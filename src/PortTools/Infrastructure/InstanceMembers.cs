using System;
using System.Linq;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;

namespace PortTools.Commands
{
    /// <summary>
    /// Whether an object may carry instance members (notes such as the PSComputerName remoting adds),
    /// asked without creating any. PowerShell's public way to look, PSObject.Properties, gives every
    /// object it is asked about an empty member table, kept in a weak table keyed by the object: on a
    /// table of a million sockets that is a million entries, more work than converting the table. The
    /// engine's own test (PSObject.HasInstanceMembers) only looks; where it cannot be found (another
    /// PowerShell), every object may have members and is asked the public way.
    /// </summary>
    internal static class InstanceMembers
    {
        private static readonly Func<object, bool>? s_has = Compile();

        /// <summary>Whether <paramref name="item"/> (a PSObject or any object) may have instance members; false only when it has none.</summary>
        /// <param name="item">The object.</param>
        /// <returns>False when it certainly has none.</returns>
        public static bool MayHave(object item) => s_has is null || s_has(item);

        /// <summary>Whether the engine's own test was found (false: every object is asked the public way).</summary>
        internal static bool IsExact => s_has is not null;

        private static Func<object, bool>? Compile()
        {
            try
            {
                MethodInfo? method = typeof(PSObject)
                    .GetMethods(BindingFlags.Static | BindingFlags.NonPublic)
                    .FirstOrDefault(m => m.Name == "HasInstanceMembers" && m.ReturnType == typeof(bool) && m.GetParameters() is { Length: 2 } p
                        && p[0].ParameterType == typeof(object) && p[1].ParameterType.IsByRef);
                if (method is null)
                {
                    return null;
                }

                ParameterExpression item = Expression.Parameter(typeof(object), "item");
                ParameterExpression members = Expression.Variable(method.GetParameters()[1].ParameterType.GetElementType()!, "members");
                Func<object, bool> has = Expression.Lambda<Func<object, bool>>(Expression.Block(new[] { members }, Expression.Call(method, item, members)), item).Compile();
                _ = has(new object()); // a host that denies the call says so here (MethodAccessException), not at the first socket
                return has;
            }
            catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or MemberAccessException or NotSupportedException or System.Security.SecurityException)
            {
                return null;
            }
        }
    }
}
