using System;

namespace PortTools.Text
{
    /// <summary>
    /// Returns one string per distinct text (process and interface names repeat on most lines), looked up
    /// by span so a repeated name costs no allocation. Bounded: past its capacity new texts are not kept.
    /// </summary>
    internal sealed class StringPool
    {
        private const int Capacity = 8192;
        private readonly Entry?[] _buckets = new Entry?[1024];
        private int _count;

        public string Get(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty)
            {
                return string.Empty;
            }

            int hash = Hash(text);
            ref Entry? bucket = ref _buckets[hash & (_buckets.Length - 1)];
            for (Entry? entry = bucket; entry is not null; entry = entry.Next)
            {
                if (entry.Hash == hash && text.SequenceEqual(entry.Value.AsSpan()))
                {
                    return entry.Value;
                }
            }

            string value = text.ToString();
            if (_count < Capacity)
            {
                bucket = new Entry(hash, value, bucket);
                _count++;
            }

            return value;
        }

        private static int Hash(ReadOnlySpan<char> text)
        {
            unchecked
            {
                int hash = (int)2166136261;
                foreach (char c in text)
                {
                    hash = (hash ^ c) * 16777619;
                }

                return hash;
            }
        }

        private sealed class Entry
        {
            public Entry(int hash, string value, Entry? next)
            {
                Hash = hash;
                Value = value;
                Next = next;
            }

            public int Hash { get; }

            public string Value { get; }

            public Entry? Next { get; }
        }
    }
}
