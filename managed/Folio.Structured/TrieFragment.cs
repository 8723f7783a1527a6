namespace Folio.Structured;

/// <summary>
/// What one trie child contributes to a <see cref="TerminalTokens"/> walk when the automaton enters it in a given
/// residual state: the tokens consumed whole below it (<see cref="Tokens"/>), the nodes after which the terminal may
/// end (<see cref="Exits"/> walked in place, <see cref="Merges"/> merged into the suffix trie), and the fragments of
/// its large descendants (<see cref="Children"/>, shared, not copied). Immutable but for a lazily built
/// <see cref="Closure"/>; cached per (residual, node) by <see cref="TerminalTokenCache"/>, so states that differ only
/// near their start (a key automaton a few names deep) walk only where they differ.
/// </summary>
internal sealed class TrieFragment
{
    /// <summary>Fragments with at least this many tokens below them (children included) get a <see cref="Closure"/> at
    /// their second collection: a bitset of the vocabulary is then no larger than the id lists it replaces.</summary>
    public const int ClosureMinTokens = 4096;

    public TrieFragment(int[] tokens, int[] exits, int[] merges, TrieFragment[] children)
    {
        Tokens = tokens; Exits = exits; Merges = merges; Children = children;
        long total = tokens.Length;
        foreach (var c in children) total += c.TotalTokens;
        TotalTokens = total;
    }

    public int[] Tokens { get; }
    public int[] Exits { get; }
    public int[] Merges { get; }
    public TrieFragment[] Children { get; }

    /// <summary>Tokens here and in every descendant fragment.</summary>
    public long TotalTokens { get; }

    private int _collections;
    private FragmentClosure? _closure;

    /// <summary>Everything below, flattened (tokens as a bitset over the vocabulary, exits and merges as lists), or null.</summary>
    public FragmentClosure? Closure => Volatile.Read(ref _closure);

    /// <summary>Counts a collection; true when this one should build the closure (large, and collected before).</summary>
    public bool ShouldBuildClosure() => TotalTokens >= ClosureMinTokens && Interlocked.Increment(ref _collections) == 2;

    public void SetClosure(FragmentClosure closure) => Interlocked.CompareExchange(ref _closure, closure, null);

    /// <summary>Approximate bytes held (children are counted where they are cached).</summary>
    public long Bytes => 64 + (Tokens.Length + Exits.Length + Merges.Length) * 4L + Children.Length * 8L;
}

/// <summary>A fragment's contribution with its descendants', flattened: an OR and two list copies instead of a recursion
/// over every token id below (the "any string" fragments, collected by every extra-key walk, hold ~100k ids).</summary>
internal sealed record FragmentClosure(ulong[] Tokens, int[] Exits, int[] Merges)
{
    public long Bytes => 64 + Tokens.Length * 8L + (Exits.Length + Merges.Length) * 4L;
}
