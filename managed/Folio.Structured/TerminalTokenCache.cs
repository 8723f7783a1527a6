using System.Collections.Concurrent;

namespace Folio.Structured;

/// <summary>
/// Token-trie walks shared by every grammar compiled for one vocabulary: whole <see cref="TerminalTokens"/> and the
/// <see cref="TrieFragment"/>s they are made of, keyed by residual id (<see cref="ResidualId"/>: equal ids accept
/// the same continuations), so the JSON string state, walked over the whole trie once, serves every schema and
/// every key automaton that ends in it. Past a byte budget, new entries stay with their grammar only
/// (<see cref="CompiledGrammar"/>'s own cache) and fragments are not kept.
/// </summary>
internal sealed class TerminalTokenCache(TokenTrie trie, long budgetBytes)
{
    private readonly ConcurrentDictionary<int, TerminalTokens> _entries = new();
    private readonly ConcurrentDictionary<long, TrieFragment> _fragments = new();
    private readonly ConcurrentDictionary<string, int> _signatureIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ByteDfa, int[]> _stateIds = new(ReferenceEqualityComparer.Instance);
    private long _bytes;
    private int _nextId;
    private long _walks, _walkTicks;

    public TokenTrie Trie => trie;

    /// <summary>
    /// An id for what <paramref name="dfa"/> accepts from <paramref name="state"/> on: shared with every state of any
    /// automaton that has the same <see cref="ResidualSignature"/>; its own id when its reachable part is too large
    /// to sign (automata are deduplicated by their text, so that is still shared by every grammar using it).
    /// </summary>
    public int ResidualId(ByteDfa dfa, int state)
    {
        var ids = _stateIds.GetOrAdd(dfa, static d => Enumerable.Repeat(-1, d.StateCount).ToArray());
        int id = Volatile.Read(ref ids[state]);
        if (id >= 0) return id;
        string? signature = ResidualSignature.Of(dfa, state);
        if (signature is null) id = Interlocked.Increment(ref _nextId);
        else
        {
            id = _signatureIds.GetOrAdd(signature, _ => Interlocked.Increment(ref _nextId));
            Interlocked.Add(ref _bytes, signature.Length * 2L);
        }
        int existing = Interlocked.CompareExchange(ref ids[state], id, -1);
        return existing >= 0 ? existing : id;
    }

    /// <summary>Whole-trie walks built so far (first visits of a residual) and their summed time, for diagnostics.</summary>
    public (long Walks, TimeSpan Time) WalkStats => (Interlocked.Read(ref _walks), System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _walkTicks)));

    public void CountWalk(long stopwatchTicks)
    {
        Interlocked.Increment(ref _walks);
        Interlocked.Add(ref _walkTicks, stopwatchTicks);
    }

    public TerminalTokens? TryGet(int residual) => _entries.TryGetValue(residual, out var t) ? t : null;

    /// <summary>Keeps <paramref name="tokens"/> if the budget allows; returns whether it did.</summary>
    public bool TryAdd(int residual, TerminalTokens tokens)
    {
        if (Interlocked.Read(ref _bytes) + tokens.Bytes > budgetBytes) return false;
        if (_entries.TryAdd(residual, tokens)) Interlocked.Add(ref _bytes, tokens.Bytes);
        return true;
    }

    public TrieFragment? TryGetFragment(int residual, int node) =>
        _fragments.TryGetValue(FragmentKey(residual, node), out var f) ? f : null;

    public void TryAddFragment(int residual, int node, TrieFragment fragment)
    {
        if (Interlocked.Read(ref _bytes) + fragment.Bytes > budgetBytes) return;
        if (_fragments.TryAdd(FragmentKey(residual, node), fragment)) Interlocked.Add(ref _bytes, fragment.Bytes);
    }

    private static long FragmentKey(int residual, int node) => ((long)residual << 32) | (uint)node;
}
