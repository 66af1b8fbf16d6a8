using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Collections.Specialized;
using System.Linq;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;

namespace PortTools.Commands
{
    /// <summary>
    /// Reads a property bag (a PSObject over a PSCustomObject: deserialized without the module's types,
    /// [pscustomobject], Import-Csv) straight from the engine's member collections, as PSObject.Properties
    /// would list it: the visible instance members (notes) and the adapted members a deserializer restores.
    /// PSObject.Properties builds an integrating view of every collection and the type table for each
    /// object it is asked about, which cost about two thirds of converting a bag. The collections are
    /// internal, reached as <see cref="InstanceMembers"/> reaches the engine's test; where they cannot
    /// be (another PowerShell), or a bag holds anything but notes and deserialized properties, or the
    /// type table adds properties to its type names, the caller reads the bag the public way.
    /// </summary>
    internal sealed class PropertyBagReader
    {
        // Type-name lists seen in one conversion: beyond these, bags are read the public way.
        private const int MaxShapes = 16;

        private static readonly Accessors? s_accessors = Accessors.Compile();

        private readonly List<Shape> _shapes = new List<Shape>();

        /// <summary>Whether the engine's collections were found (false: every bag is read the public way).</summary>
        internal static bool IsAvailable => s_accessors is not null;

        /// <summary>
        /// Reads a bag's properties into <paramref name="into"/> (emptied first), values without wrappers.
        /// The first bag of each list of type names is also read the public way, to learn whether the type
        /// table adds properties to those names (then such bags are not read here).
        /// </summary>
        /// <param name="bag">A PSObject whose base object is a PSCustomObject.</param>
        /// <param name="into">Receives the properties.</param>
        /// <returns>False when the bag must be read the public way.</returns>
        public bool TryRead(PSObject bag, SocketPropertyBag into)
        {
            into.Clear();
            Accessors? accessors = s_accessors;
            if (accessors is null)
            {
                return false;
            }

            Collection<string> typeNames = accessors.TypeNames(bag);
            Shape? shape = Find(typeNames);
            if (shape is { ReadsAsPublic: false })
            {
                return false;
            }

            if (!TryReadMembers(accessors, bag, into))
            {
                into.Clear();
                return false;
            }

            if (shape is null)
            {
                if (_shapes.Count >= MaxShapes)
                {
                    into.Clear();
                    return false;
                }

                shape = new Shape(typeNames.ToArray(), ReadsAsPublic(bag, into));
                _shapes.Add(shape);
                if (!shape.ReadsAsPublic)
                {
                    into.Clear();
                    return false;
                }
            }

            return true;
        }

        private static bool TryReadMembers(Accessors accessors, PSObject bag, SocketPropertyBag into)
        {
            // Instance members before adapted ones, as PSObject.Properties lists them; a name in both is the instance member's.
            OrderedDictionary? instance = accessors.InstanceMembers(bag);
            if (instance is not null && !TryAdd(accessors, instance, into))
            {
                return false;
            }

            OrderedDictionary? adapted = accessors.AdaptedMembers(bag);
            return adapted is null || TryAdd(accessors, adapted, into);
        }

        // The collection's own table, read by position: its indexer and enumerator would take its lock, or copy it, for each member.
        private static bool TryAdd(Accessors accessors, OrderedDictionary members, SocketPropertyBag into)
        {
            int count = members.Count;
            for (int index = 0; index < count; index++)
            {
                PSMemberInfo? info = members[index] as PSMemberInfo;
                if (info is not PSPropertyInfo property || accessors.IsHidden(info))
                {
                    continue; // methods, member sets, and the hidden members the engine generates (PSTypeNames, psbase...)
                }

                if (property is not PSNoteProperty and not PSProperty)
                {
                    return false; // script, alias and code properties: their values are the engine's to compute
                }

                object? value;
                try
                {
                    value = property.Value;
                }
                catch (GetValueException)
                {
                    continue; // as the public way: a property whose getter throws says nothing about the socket
                }

                _ = into.Add(property.Name, PowerShellObjects.Unwrap(value));
            }

            return true;
        }

        // Whether PSObject.Properties lists exactly the names read from the collections.
        private static bool ReadsAsPublic(PSObject bag, SocketPropertyBag read)
        {
            int listed = 0;
            foreach (PSPropertyInfo property in bag.Properties)
            {
                listed++;
                if (!read.Contains(property.Name))
                {
                    return false;
                }
            }

            return listed == read.Count;
        }

        private Shape? Find(Collection<string> typeNames)
        {
            foreach (Shape shape in _shapes)
            {
                if (shape.Matches(typeNames))
                {
                    return shape;
                }
            }

            return null;
        }

        private sealed class Shape
        {
            private readonly string[] _typeNames;

            public Shape(string[] typeNames, bool readsAsPublic)
            {
                _typeNames = typeNames;
                ReadsAsPublic = readsAsPublic;
            }

            /// <summary>Whether bags of these type names read from the collections as PSObject.Properties lists them.</summary>
            public bool ReadsAsPublic { get; }

            public bool Matches(Collection<string> typeNames)
            {
                if (typeNames.Count != _typeNames.Length)
                {
                    return false;
                }

                for (int i = 0; i < _typeNames.Length; i++)
                {
                    string name = typeNames[i];
                    if (!ReferenceEquals(name, _typeNames[i]) && !string.Equals(name, _typeNames[i], StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }
        }

        /// <summary>Compiled calls of the engine's internal members; null when one is missing or denied.</summary>
        private sealed class Accessors
        {
            public Func<PSObject, Collection<string>> TypeNames { get; private set; } = null!;

            /// <summary>The table of a PSObject's instance members, or null when it has none.</summary>
            public Func<PSObject, OrderedDictionary?> InstanceMembers { get; private set; } = null!;

            /// <summary>The table of the adapted members a deserializer restored, or null.</summary>
            public Func<PSObject, OrderedDictionary?> AdaptedMembers { get; private set; } = null!;

            public Func<PSMemberInfo, bool> IsHidden { get; private set; } = null!;

            public static Accessors? Compile()
            {
                try
                {
                    const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
                    Type? collection = typeof(PSObject).Assembly.GetType("System.Management.Automation.PSMemberInfoInternalCollection`1");
                    MethodInfo? has = typeof(PSObject)
                        .GetMethods(BindingFlags.Static | BindingFlags.NonPublic)
                        .FirstOrDefault(m => m.Name == "HasInstanceMembers" && m.ReturnType == typeof(bool) && m.GetParameters() is { Length: 2 } p
                            && p[0].ParameterType == typeof(object) && p[1].ParameterType.IsByRef);
                    PropertyInfo? typeNames = typeof(PSObject).GetProperty("InternalTypeNames", Instance);
                    PropertyInfo? adapted = typeof(PSObject).GetProperty("AdaptedMembers", Instance);
                    PropertyInfo? hidden = typeof(PSMemberInfo).GetProperty("IsHidden", Instance);
                    if (collection is null || has is null || typeNames is null || !typeof(Collection<string>).IsAssignableFrom(typeNames.PropertyType)
                        || adapted is null || hidden is null || hidden.PropertyType != typeof(bool))
                    {
                        return null;
                    }

                    Type members = collection.MakeGenericType(typeof(PSMemberInfo));
                    Type properties = collection.MakeGenericType(typeof(PSPropertyInfo));
                    if (has.GetParameters()[1].ParameterType.GetElementType() != members || adapted.PropertyType != properties)
                    {
                        return null;
                    }

                    PropertyInfo? memberTable = members.GetProperty("Members", Instance);
                    PropertyInfo? propertyTable = properties.GetProperty("Members", Instance);
                    if (memberTable?.PropertyType != typeof(OrderedDictionary) || propertyTable?.PropertyType != typeof(OrderedDictionary))
                    {
                        return null;
                    }

                    ParameterExpression shell = Expression.Parameter(typeof(PSObject), "shell");
                    ParameterExpression found = Expression.Variable(members, "members");
                    ParameterExpression restored = Expression.Variable(properties, "restored");
                    Expression none = Expression.Constant(null, typeof(OrderedDictionary));
                    var accessors = new Accessors
                    {
                        TypeNames = Expression.Lambda<Func<PSObject, Collection<string>>>(
                            Expression.Convert(Expression.Property(shell, typeNames), typeof(Collection<string>)), shell).Compile(),
                        InstanceMembers = Expression.Lambda<Func<PSObject, OrderedDictionary?>>(
                            Expression.Block(
                                new[] { found },
                                Expression.Condition(Expression.Call(has, shell, found), Expression.Property(found, memberTable), none)),
                            shell).Compile(),
                        AdaptedMembers = Expression.Lambda<Func<PSObject, OrderedDictionary?>>(
                            Expression.Block(
                                new[] { restored },
                                Expression.Assign(restored, Expression.Property(shell, adapted)),
                                Expression.Condition(Expression.ReferenceEqual(restored, Expression.Constant(null, properties)), none, Expression.Property(restored, propertyTable))),
                            shell).Compile(),
                    };
                    ParameterExpression info = Expression.Parameter(typeof(PSMemberInfo), "info");
                    accessors.IsHidden = Expression.Lambda<Func<PSMemberInfo, bool>>(Expression.Property(info, hidden), info).Compile();

                    // A host that denies the calls says so here (MethodAccessException), not at the first socket.
                    var probe = new PSObject();
                    probe.Properties.Add(new PSNoteProperty("Probe", 1));
                    OrderedDictionary? probeMembers = accessors.InstanceMembers(probe);
                    if (probeMembers?["Probe"] is not PSNoteProperty note || accessors.IsHidden(note) || accessors.TypeNames(probe) is null)
                    {
                        return null;
                    }

                    _ = accessors.AdaptedMembers(probe);
                    return accessors;
                }
                catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or MemberAccessException or NotSupportedException
                    or System.Security.SecurityException or AmbiguousMatchException)
                {
                    return null;
                }
            }
        }
    }
}
