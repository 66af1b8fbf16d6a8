using System;
using System.Collections;
using System.Collections.Generic;

namespace PortTools
{
    /// <summary>
    /// A read-only list whose text is its items' text joined with "; ", so that Export-Csv and string
    /// conversion write "tcp LISTEN 0.0.0.0:80 pid=812; tcp LISTEN [::]:80 pid=812" rather than the
    /// list's type name. ConvertTo-Json still writes it as an array.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    public sealed class TextList<T> : IReadOnlyList<T>
    {
        /// <summary>The separator between items in the text form.</summary>
        public const string Separator = "; ";

        private readonly T[] _items;

        private TextList(T[] items)
        {
            _items = items;
        }

        /// <summary>The empty list.</summary>
        public static TextList<T> Empty { get; } = new TextList<T>(Array.Empty<T>());

        /// <inheritdoc/>
        public int Count => _items.Length;

        /// <inheritdoc/>
        public T this[int index] => _items[index];

        /// <summary>The items as a text list: itself when it already is one, else a copy.</summary>
        /// <param name="items">The items; null is the empty list.</param>
        /// <returns>The list.</returns>
        public static TextList<T> From(IEnumerable<T>? items)
        {
            switch (items)
            {
                case null:
                    return Empty;
                case TextList<T> list:
                    return list;
                case ICollection<T> { Count: 0 }:
                case IReadOnlyCollection<T> { Count: 0 }:
                    return Empty;
                default:
                    var copy = new List<T>(items).ToArray();
                    return copy.Length == 0 ? Empty : new TextList<T>(copy);
            }
        }

        /// <inheritdoc/>
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

        /// <inheritdoc/>
        IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

        /// <summary>The items' text joined with "; "; empty for an empty list.</summary>
        public override string ToString() => string.Join(Separator, _items);
    }
}
