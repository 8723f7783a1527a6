using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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
    private readonly ConcurrentDictionary<int[], int> _signatureIds = new(BoundedSignature.Comparer.Instance);
    // Only for an automaton whose ids another cache holds (not in practice: a compiler's automata are its own).
    private readonly ConditionalWeakTable<ByteDfa, int[]> _foreignIds = new();
    private long _bytes;
    // Residual ids: even for a signature, odd for a state without one (its reachable part is too large: a candidate for
    // a bounded walk). The parity answers IsUnsigned, which a walk asks for every child of 64+ nodes (it was a set probe).
    private int _nextId;
    private long _walks, _walkTicks;
    private readonly ConcurrentDictionary<int[], BoundedSlot> _bounded = new(BoundedSignature.Comparer.Instance);

    private sealed class BoundedSlot
    {
        public TerminalTokens.BoundedWalk? Walk;
    }

    public TokenTrie Trie => trie;

    /// <summary>Bytes counted against the budget: entries, fragments, their closures, signatures.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Counts a fragment's closure (<see cref="TrieFragment.Closure"/>) against the budget; false past it
    /// (the closure is then used once and not kept).</summary>
    public bool TryCharge(long bytes)
    {
        if (Interlocked.Read(ref _bytes) + bytes > budgetBytes) return false;
        Interlocked.Add(ref _bytes, bytes);
        return true;
    }

    /// <summary>
    /// An id for what <paramref name="dfa"/> accepts from <paramref name="state"/> on: shared with every state of any
    /// automaton that has the same <see cref="ResidualSignature"/>; its own id when its reachable part is too large
    /// to sign (automata are deduplicated by their text, so that is still shared by every grammar using it).
    /// </summary>
    public int ResidualId(ByteDfa dfa, int state)
    {
        var ids = dfa.ResidualIds(this) ?? _foreignIds.GetValue(dfa, static d => Enumerable.Repeat(-1, d.StateCount).ToArray());
        int id = Volatile.Read(ref ids[state]);
        if (id >= 0) return id;
        int[]? signature = ResidualSignature.Of(dfa, state);
        if (signature is null)
        {
            id = Interlocked.Increment(ref _nextId) * 2 + 1;
        }
        else
        {
            id = _signatureIds.GetOrAdd(signature, _ => Interlocked.Increment(ref _nextId) * 2);
            Interlocked.Add(ref _bytes, signature.Length * 4L);
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

    /// <summary>Whether <paramref name="residual"/> was given to a state without a signature.</summary>
    public static bool IsUnsigned(int residual) => (residual & 1) != 0;

    /// <summary>Bounded walks: states that reused a shared one, shared ones built, states walked whole on a signature's first visit.</summary>
    public (long Reused, long Built, long FirstVisits) BoundedStats => (Interlocked.Read(ref _boundedReused), Interlocked.Read(ref _boundedBuilt), Interlocked.Read(ref _boundedFirst));

    private long _boundedReused, _boundedBuilt, _boundedFirst;

    public void CountBounded(bool reused, bool built)
    {
        if (reused) Interlocked.Increment(ref _boundedReused);
        else if (built) Interlocked.Increment(ref _boundedBuilt);
        else Interlocked.Increment(ref _boundedFirst);
    }

    /// <summary>The shared bounded walk of <paramref name="signature"/>, or null; <paramref name="recurring"/> tells
    /// whether the signature was asked for before (its first visit is walked the usual way).</summary>
    public TerminalTokens.BoundedWalk? BoundedEntry(int[] signature, out bool recurring)
    {
        bool added = false;
        var slot = _bounded.GetOrAdd(signature, _ => { added = true; return new BoundedSlot(); });
        recurring = !added;
        if (added) Interlocked.Add(ref _bytes, signature.Length * 4L + 64);
        return Volatile.Read(ref slot.Walk);
    }

    public void TryAddBounded(int[] signature, TerminalTokens.BoundedWalk walk)
    {
        if (Interlocked.Read(ref _bytes) + walk.Bytes > budgetBytes) return;
        if (_bounded.TryGetValue(signature, out var slot) && Interlocked.CompareExchange(ref slot.Walk, walk, null) is null)
            Interlocked.Add(ref _bytes, walk.Bytes);
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
