using System.Numerics;

namespace Folio.Core.KvCache;

/// <summary>
/// The prefix cache's hash → block id map: open addressing with linear probing over two preallocated
/// arrays, at most half full (capacity = the next power of two ≥ 2 × blocks), so it never resizes or
/// allocates after construction. The slot comes from a Fibonacci multiply of the key, so a weak block hasher
/// with poor low bits still spreads. Deletion shifts the following run back (no tombstones), so lookups stay
/// short however many blocks are evicted.
/// </summary>
internal sealed class BlockHashMap
{
    private const int Empty = -1;
    private readonly ulong[] _keys;
    private readonly int[] _values;
    private readonly int _mask;
    private readonly int _shift;

    internal BlockHashMap(int maxEntries)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, maxEntries * 2));
        _keys = new ulong[capacity];
        _values = new int[capacity];
        Array.Fill(_values, Empty);
        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        MaxEntries = maxEntries;
    }

    internal int Count { get; private set; }
    internal int MaxEntries { get; }
    internal int Capacity => _keys.Length;

    internal bool TryGetValue(ulong key, out int value)
    {
        int i = Home(key);
        while (true)
        {
            int v = _values[i];
            if (v == Empty)
            {
                value = Empty;
                return false;
            }
            if (_keys[i] == key)
            {
                value = v;
                return true;
            }
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds the pair unless the key is present. At most <see cref="MaxEntries"/> entries.</summary>
    internal bool TryAdd(ulong key, int value)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(nameof(value), value, "block ids are >= 0.");
        int i = Home(key);
        while (_values[i] != Empty)
        {
            if (_keys[i] == key)
                return false;
            i = (i + 1) & _mask;
        }
        if (Count == MaxEntries)
            throw new InvalidOperationException($"BlockHashMap is full ({MaxEntries} entries).");
        _keys[i] = key;
        _values[i] = value;
        Count++;
        return true;
    }

    internal bool Remove(ulong key)
    {
        int i = Home(key);
        while (true)
        {
            if (_values[i] == Empty)
                return false;
            if (_keys[i] == key)
                break;
            i = (i + 1) & _mask;
        }
        // Backward-shift deletion: move each later entry of the run into the hole when its home slot is at
        // or before the hole (cyclically), so no lookup ever stops early at the hole.
        int hole = i;
        int j = (i + 1) & _mask;
        while (_values[j] != Empty)
        {
            int home = Home(_keys[j]);
            // j's entry may move to the hole iff home is not in the cyclic interval (hole, j].
            bool homeInRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeInRange)
            {
                _keys[hole] = _keys[j];
                _values[hole] = _values[j];
                hole = j;
            }
            j = (j + 1) & _mask;
        }
        _values[hole] = Empty;
        _keys[hole] = 0;
        Count--;
        return true;
    }

    /// <summary>The entry in slot <paramref name="slot"/> (0 ≤ slot &lt; Capacity), if any; for invariant checks.</summary>
    internal bool TryGetSlot(int slot, out ulong key, out int value)
    {
        key = _keys[slot];
        value = _values[slot];
        return value != Empty;
    }

    /// <summary>Whether every entry is reachable from its home slot without crossing an empty slot.</summary>
    internal bool IsWellFormed(out string problem)
    {
        int count = 0;
        for (int i = 0; i < _values.Length; i++)
        {
            if (_values[i] == Empty)
                continue;
            count++;
            for (int k = Home(_keys[i]); k != i; k = (k + 1) & _mask)
            {
                if (_values[k] == Empty)
                {
                    problem = $"entry {_keys[i]:x16} at slot {i} is cut off from its home slot by an empty slot {k}.";
                    return false;
                }
            }
        }
        if (count != Count)
        {
            problem = $"{count} occupied slots but Count is {Count}.";
            return false;
        }
        problem = "";
        return true;
    }

    private int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift) & _mask;
}
