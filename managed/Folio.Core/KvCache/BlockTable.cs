using System.Numerics;

namespace Folio.Core.KvCache;

/// <summary>
/// One sequence's map from logical blocks to physical block ids. Created only by <see cref="KvCacheManager"/>
/// (Allocate, Fork) and owned by one sequence; dead after <see cref="KvCacheManager.Free"/>.
/// The K/V of position <c>p</c> lives in slot <c>Blocks[p / bs] * bs + p % bs</c>.
/// </summary>
public sealed class BlockTable
{
    private int[] _blocks;

    internal BlockTable(KvCacheManager owner, int[] blocks, CacheKey key)
    {
        Owner = owner;
        _blocks = blocks;
        Key = key;
        BlockSizeTokens = owner.BlockSizeTokens;
        // A power-of-two block size (the usual case) turns SlotOf's division into a shift and a mask.
        _shift = BitOperations.IsPow2(BlockSizeTokens) ? BitOperations.Log2((uint)BlockSizeTokens) : -1;
    }

    private readonly int _shift;

    /// <summary>Token slots allocated so far (positions 0 .. NumTokens-1).</summary>
    public int NumTokens { get; internal set; }

    public int NumBlocks { get; private set; }

    /// <summary>Physical block ids (in the pool of <see cref="Location"/>) in logical order.</summary>
    public ReadOnlySpan<int> Blocks => _blocks.AsSpan(0, NumBlocks);

    public BlockLocation Location { get; internal set; }
    public CacheKey Key { get; }
    public int BlockSizeTokens { get; }

    /// <summary>False once the table was freed.</summary>
    public bool IsAlive { get; internal set; } = true;

    /// <summary>The slot of the token at <paramref name="position"/> (0 ≤ position &lt; NumTokens).</summary>
    public int SlotOf(int position)
    {
        if ((uint)position >= (uint)NumTokens)
            ThrowPositionOutOfRange(position);
        if (_shift >= 0)
            return (_blocks[position >> _shift] << _shift) | (position & (BlockSizeTokens - 1));
        int logical = position / BlockSizeTokens;
        return _blocks[logical] * BlockSizeTokens + (position - logical * BlockSizeTokens);
    }

    /// <summary>
    /// Sizes the table's id array for <paramref name="numTokens"/> tokens, so that appends up to that length
    /// allocate nothing even when they add blocks (a caller that knows a request's maximum length).
    /// </summary>
    public void EnsureCapacity(int numTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numTokens);
        int blocks = (int)(((long)numTokens + BlockSizeTokens - 1) / BlockSizeTokens);
        if (blocks > _blocks.Length)
            Array.Resize(ref _blocks, blocks);
    }

    private void ThrowPositionOutOfRange(int position)
        => throw new ArgumentOutOfRangeException(nameof(position), position, $"position must be in [0, {NumTokens}).");

    /// <summary>Free slots in the last block (0 when it is full or there is none): no division on the hot path.</summary>
    internal int RoomInLastBlock
    {
        // Marked: in the scheduler's large running loop the JIT's inlining budget ran out before reaching it.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => NumBlocks * BlockSizeTokens - NumTokens;
    }

    internal KvCacheManager Owner { get; }

    /// <summary>Index in the manager's live-table list (for O(1) removal).</summary>
    internal int LiveIndex { get; set; } = -1;

    /// <summary>Leading full blocks already offered to the prefix cache, and the chain hash of the last of them.</summary>
    internal int NumHashedBlocks { get; set; }
    internal ulong LastHash { get; set; }

    /// <summary>The hasher's numbers for <see cref="Key"/>'s salt and adapter, computed once per table (the key never
    /// changes) instead of at every block boundary; valid when <see cref="KeyHashed"/>.</summary>
    internal ulong SaltHash { get; private set; }
    internal ulong AdapterHash { get; private set; }
    internal bool KeyHashed { get; private set; }

    internal void SetKeyHashes(ulong saltHash, ulong adapterHash)
    {
        SaltHash = saltHash;
        AdapterHash = adapterHash;
        KeyHashed = true;
    }

    /// <summary>
    /// True when this table's last write went into its last block while that block had reference count 1, and
    /// nothing has shared it since (<see cref="KvCacheManager.Fork"/> and swaps clear it): the decode fast path
    /// (<see cref="KvCacheManager.TryAppendDecode"/>) then appends without reading the pool's reference count. A
    /// hint that may only err towards false (the slow path re-checks); <see cref="KvInvariants"/> checks that a
    /// table marked so with room in its last block holds that block alone.
    /// </summary>
    internal bool LastBlockPrivate { get; set; }

    /// <summary>Scratch mark used by group operations to detect a table passed twice.</summary>
    internal long Stamp { get; set; }

    /// <summary>The last block's id (the table's length must be > 0). Kept in a field, not read from the id array:
    /// the decode fast path then touches the table object alone.</summary>
    internal int LastBlock => _lastBlock;

    // _blocks[NumBlocks - 1], or -1 when the table holds no block; every write to _blocks keeps it.
    private int _lastBlock = -1;

    internal int BlockAt(int index) => _blocks[index];

    internal void SetBlock(int index, int block)
    {
        _blocks[index] = block;
        if (index == NumBlocks - 1)
            _lastBlock = block;
    }

    /// <summary>Appends a block id; the array grows by doubling (only when a block is added, never per token).</summary>
    internal void AddBlock(int block)
    {
        if (NumBlocks == _blocks.Length)
            Array.Resize(ref _blocks, Math.Max(4, _blocks.Length * 2));
        _blocks[NumBlocks++] = block;
        _lastBlock = block;
    }

    internal void Kill()
    {
        IsAlive = false;
        LastBlockPrivate = false;
        NumBlocks = 0;
        _lastBlock = -1;
        NumTokens = 0;
    }

    internal int[] CopyBlocks()
    {
        var copy = new int[Math.Max(4, NumBlocks)];
        Blocks.CopyTo(copy);
        return copy;
    }

    internal void InitBlocks(int numBlocks)
    {
        NumBlocks = numBlocks;
        _lastBlock = numBlocks > 0 ? _blocks[numBlocks - 1] : -1;
    }
}
