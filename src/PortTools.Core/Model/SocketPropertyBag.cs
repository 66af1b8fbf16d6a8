using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using PortTools.Text;

namespace PortTools
{
    /// <summary>
    /// The properties of one object that stands for a socket (a property bag: deserialized without the
    /// module's types, an Import-Csv row), given one at a time and converted as
    /// <see cref="SocketTupleConverter.TryConvertProperties"/> converts the same properties in a
    /// dictionary: the same sockets, the same errors. It is cheaper because each property a socket has
    /// goes to a slot of its own, found by its name once, where a dictionary would hash the name for
    /// every insertion and every lookup; one instance is reused from object to object (<see cref="Clear"/>).
    /// The usual bags map from their values as they are (SocketPropertyBag.Typed.cs), not through text.
    /// </summary>
    public sealed partial class SocketPropertyBag
    {
        // Every name the mapping asks for (ExportRecords, SocketTupleConverter), each with a slot: a field's slot is its number.
        private static readonly string[] s_names = Enum.GetNames(typeof(Field));

        // The slots of the names of each length: a name is compared with at most a few.
        private static readonly int[][] s_slotsByLength = SlotsByLength();

        private readonly Func<object, IEnumerable<KeyValuePair<string, object?>>?> _properties;
        private readonly object?[] _values = new object?[s_names.Length];
        private readonly bool[] _present = new bool[s_names.Length];
        private readonly JsonValue?[] _converted = new JsonValue?[s_names.Length];
        private readonly Record _record;
        private readonly Func<string, bool> _has;

        // Every name, in the order given (the error for an object that is no socket lists them), and the
        // values of names that have no slot (the mapping does not ask for them, but a caller may).
        private readonly List<string> _order = new List<string>();
        private readonly List<KeyValuePair<string, object?>> _others = new List<KeyValuePair<string, object?>>();

        /// <summary>Creates an empty bag.</summary>
        /// <param name="properties">Reads nested objects' properties, as for <see cref="SocketTupleConverter.TryConvert"/>.</param>
        public SocketPropertyBag(Func<object, IEnumerable<KeyValuePair<string, object?>>?> properties)
        {
            _properties = properties ?? throw new ArgumentNullException(nameof(properties));
            _record = new Record(this);
            _has = Contains;
        }

        /// <summary>How many properties the bag holds.</summary>
        public int Count => _order.Count;

        /// <summary>Empties the bag, keeping no value of the object it held.</summary>
        public void Clear()
        {
            if (_order.Count == 0)
            {
                return;
            }

            Array.Clear(_values, 0, _values.Length);
            Array.Clear(_present, 0, _present.Length);
            Array.Clear(_converted, 0, _converted.Length);
            _order.Clear();
            _others.Clear();
        }

        /// <summary>
        /// Adds a property, unless the bag already holds one of that name (compared case-insensitively):
        /// an object lists a name once, and where two of its member collections both have it, the first wins.
        /// </summary>
        /// <param name="name">The property's name.</param>
        /// <param name="value">Its value, without wrappers.</param>
        /// <returns>Whether the property was added.</returns>
        public bool Add(string name, object? value)
        {
            if (name is null)
            {
                throw new ArgumentNullException(nameof(name));
            }

            int slot = Slot(name);
            if (slot >= 0)
            {
                if (_present[slot])
                {
                    return false;
                }

                _present[slot] = true;
                _values[slot] = value;
            }
            else
            {
                if (IndexOfOther(name) >= 0)
                {
                    return false;
                }

                _others.Add(new KeyValuePair<string, object?>(name, value));
            }

            _order.Add(name);
            return true;
        }

        /// <summary>Converts the properties held, as <see cref="SocketTupleConverter.TryConvertProperties"/> would.</summary>
        /// <param name="socket">The socket.</param>
        /// <param name="error">What was wrong with the object, naming it.</param>
        /// <returns>Whether the object converted.</returns>
        public bool TryConvert([NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            if (TryMapTyped(out socket))
            {
                error = null;
                return true;
            }

            return SocketTupleConverter.TryConvertRecord(_record, _has, _order, out socket, out error);
        }

        /// <summary>Whether the bag holds a property of that name (compared case-insensitively).</summary>
        /// <param name="name">The name.</param>
        /// <returns>Whether it does.</returns>
        public bool Contains(string name)
        {
            int slot = Slot(name);
            return slot >= 0 ? _present[slot] : IndexOfOther(name) >= 0;
        }

        private JsonValue? Get(string name)
        {
            int slot = Slot(name);
            if (slot < 0)
            {
                int other = IndexOfOther(name);
                return other < 0 ? null : SocketTupleConverter.ToJson(_others[other].Value, _properties, 1);
            }

            // The mapping asks for some names twice (Local, Source, PSComputerName): converted once.
            return !_present[slot] ? null : _converted[slot] ??= SocketTupleConverter.ToJson(_values[slot], _properties, 1);
        }

        private int IndexOfOther(string name)
        {
            for (int i = 0; i < _others.Count; i++)
            {
                if (string.Equals(_others[i].Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            return -1;
        }

        private static int Slot(string name)
        {
            if (name.Length >= s_slotsByLength.Length)
            {
                return -1;
            }

            // Names mostly come as the mapping and PowerShell spell them: an exact match is cheaper to find first.
            int[] candidates = s_slotsByLength[name.Length];
            foreach (int slot in candidates)
            {
                string known = s_names[slot];
                if (ReferenceEquals(name, known) || string.Equals(name, known, StringComparison.Ordinal))
                {
                    return slot;
                }
            }

            foreach (int slot in candidates)
            {
                if (string.Equals(name, s_names[slot], StringComparison.OrdinalIgnoreCase))
                {
                    return slot;
                }
            }

            return -1;
        }

        private static int[][] SlotsByLength()
        {
            int longest = 0;
            foreach (string name in s_names)
            {
                longest = Math.Max(longest, name.Length);
            }

            var lists = new List<int>[longest + 1];
            for (int slot = 0; slot < s_names.Length; slot++)
            {
                (lists[s_names[slot].Length] ??= new List<int>()).Add(slot);
            }

            var table = new int[longest + 1][];
            for (int length = 0; length < table.Length; length++)
            {
                table[length] = lists[length]?.ToArray() ?? Array.Empty<int>();
            }

            return table;
        }

        private sealed class Record : IFieldRecord
        {
            private readonly SocketPropertyBag _bag;

            public Record(SocketPropertyBag bag) => _bag = bag;

            public JsonValue? Get(string name) => _bag.Get(name);
        }
    }
}
