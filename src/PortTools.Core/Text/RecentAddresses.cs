using System;
using System.Buffers.Binary;
using System.Net;

namespace PortTools.Text
{
    /// <summary>
    /// One IPAddress object per address seen recently, in fixed direct-mapped slots: the few local
    /// addresses of a table are shared by every line, while a peer seen once costs one object and
    /// pushes out one slot. Nothing grows with the text: a dictionary of every address would keep
    /// each peer alive across collections (promoting them, and reallocating its large arrays), which
    /// cost more than the objects it saved.
    /// </summary>
    internal sealed class RecentAddresses
    {
        private const int V4Slots = 4096;
        private const int V6Slots = 1024;
        private readonly uint[] _v4Keys = new uint[V4Slots];
        private readonly IPAddress?[] _v4 = new IPAddress?[V4Slots];
        private readonly V6Key[] _v6Keys = new V6Key[V6Slots];
        private readonly IPAddress?[] _v6 = new IPAddress?[V6Slots];

        public IPAddress Get(ReadOnlySpan<byte> bytes, uint scopeId)
        {
            if (bytes.Length == 4)
            {
                uint key = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                int slot = (int)((key * 2654435769u) >> 20); // Fibonacci hashing: the top 12 bits
                IPAddress? cached = _v4[slot];
                if (cached is not null && _v4Keys[slot] == key)
                {
                    return cached;
                }

                // IPAddress(long) takes the first octet in the lowest byte, on every platform.
                var v4 = new IPAddress(key);
                _v4Keys[slot] = key;
                _v4[slot] = v4;
                return v4;
            }

            bool linkLocal = bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80;
            var key6 = new V6Key(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(8)), linkLocal ? scopeId : 0);
            int slot6 = (int)(key6.Mix() >> (64 - 10));
            IPAddress? cached6 = _v6[slot6];
            if (cached6 is not null && _v6Keys[slot6].Equals(key6))
            {
                return cached6;
            }

            var v6 = new IPAddress(bytes.ToArray(), key6.Scope);
            _v6Keys[slot6] = key6;
            _v6[slot6] = v6;
            return v6;
        }

        private readonly struct V6Key
        {
            public V6Key(ulong high, ulong low, uint scope)
            {
                High = high;
                Low = low;
                Scope = scope;
            }

            public ulong High { get; }

            public ulong Low { get; }

            public uint Scope { get; }

            public bool Equals(V6Key other) => High == other.High && Low == other.Low && Scope == other.Scope;

            public ulong Mix() => unchecked(((High * 0x9E3779B97F4A7C15UL) ^ Low ^ Scope) * 0x9E3779B97F4A7C15UL);
        }
    }
}
