namespace Folio.Structured;

/// <summary>
/// What one trie child contributes to a <see cref="TerminalTokens"/> walk when the automaton enters it in a given
/// residual state: the tokens consumed whole below it (<see cref="Tokens"/>), the nodes after which the terminal may
/// end (<see cref="Exits"/> walked in place, <see cref="Merges"/> merged into the suffix trie), and the fragments of
/// its large descendants (<see cref="Children"/>, shared, not copied). Immutable; cached per (residual, node) by
/// <see cref="TerminalTokenCache"/>, so states that differ only near their start (a key automaton a few names deep)
/// walk only where they differ.
/// </summary>
internal sealed class TrieFragment(int[] tokens, int[] exits, int[] merges, TrieFragment[] children)
{
    public int[] Tokens { get; } = tokens;
    public int[] Exits { get; } = exits;
    public int[] Merges { get; } = merges;
    public TrieFragment[] Children { get; } = children;

    /// <summary>Approximate bytes held (children are counted where they are cached).</summary>
    public long Bytes => 64 + (Tokens.Length + Exits.Length + Merges.Length) * 4L + Children.Length * 8L;
}
