namespace Folio.Interop.Runtime;

/// <summary>
/// The registry behind every opaque handle of the C ABI. A handle is not a pointer: it encodes a slot, the
/// slot's generation and the object's kind, under a magic top byte. Looking up a destroyed handle (older
/// generation), a handle of another kind, or any pointer value this table never issued fails cleanly instead
/// of dereferencing garbage. Process-wide by necessity: a C handle must resolve without any other context.
/// </summary>
public sealed class HandleTable
{
    // Bit layout: [63..56] magic, [55..24] generation, [23..20] kind, [19..0] slot + 1 (0 is never a handle).
    private const ulong Magic = 0xF0UL << 56;
    private const ulong MagicMask = 0xFFUL << 56;
    private const int SlotBits = 20;
    private const int MaxSlots = (1 << SlotBits) - 1;

    private readonly Lock _lock = new();
    private object?[] _objects = new object?[64];
    private uint[] _generations = new uint[64];
    private HandleKind[] _kinds = new HandleKind[64];
    private readonly Stack<int> _free = new();
    private int _used;

    public static HandleTable Shared { get; } = new();

    /// <summary>Registers <paramref name="target"/> and returns its handle, or 0 when the table is full.</summary>
    public nint Add(HandleKind kind, object target)
    {
        lock (_lock)
        {
            int slot;
            if (_free.Count > 0) slot = _free.Pop();
            else
            {
                if (_used == MaxSlots) return 0;
                if (_used == _objects.Length) Grow();
                slot = _used++;
            }
            _objects[slot] = target;
            _kinds[slot] = kind;
            return (nint)Encode(slot, _generations[slot], kind);
        }
    }

    /// <summary>The live object behind <paramref name="handle"/> when it is of <paramref name="kind"/>.</summary>
    public bool TryGet<T>(nint handle, HandleKind kind, out T target) where T : class
    {
        target = null!;
        if (!TryDecode((ulong)handle, kind, out int slot, out uint generation)) return false;
        lock (_lock)
        {
            if (slot >= _used || _generations[slot] != generation || _kinds[slot] != kind) return false;
            if (_objects[slot] is not T typed) return false;
            target = typed;
            return true;
        }
    }

    /// <summary>Unregisters the handle (the slot's generation moves on) and returns its object, if live.</summary>
    public T? Remove<T>(nint handle, HandleKind kind) where T : class
    {
        if (!TryDecode((ulong)handle, kind, out int slot, out uint generation)) return null;
        lock (_lock)
        {
            if (slot >= _used || _generations[slot] != generation || _kinds[slot] != kind) return null;
            if (_objects[slot] is not T typed) return null;
            _objects[slot] = null;
            // Generation 0xFFFFFFFF wraps to 0; a handle would have to outlive 2^32 reuses of its slot to alias.
            _generations[slot]++;
            _free.Push(slot);
            return typed;
        }
    }

    public int LiveCount
    {
        get { lock (_lock) return _used - _free.Count; }
    }

    private static ulong Encode(int slot, uint generation, HandleKind kind) =>
        Magic | ((ulong)generation << 24) | ((ulong)(uint)kind << SlotBits) | (uint)(slot + 1);

    private static bool TryDecode(ulong value, HandleKind kind, out int slot, out uint generation)
    {
        slot = (int)(value & MaxSlots) - 1;
        generation = (uint)(value >> 24);
        return (value & MagicMask) == Magic && slot >= 0 && (HandleKind)((value >> SlotBits) & 0xF) == kind;
    }

    private void Grow()
    {
        int size = Math.Min(_objects.Length * 2, MaxSlots);
        Array.Resize(ref _objects, size);
        Array.Resize(ref _generations, size);
        Array.Resize(ref _kinds, size);
    }
}
