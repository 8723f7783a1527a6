using System.Collections.Concurrent;

namespace Folio.Structured;

/// <summary>
/// A compiler's automata by their expression's canonical text, so schemas that share a string or key automaton build
/// it once (and share its walks: unsigned residual ids belong to the automaton object). Bounded by bytes, keys
/// included (a key is the expression's text, up to hundreds of KB for a large names trie): past the budget it starts
/// over, as the grammar cache does, so untrusted schemas cannot grow it without limit.
/// </summary>
internal sealed class DfaCache(long budgetBytes)
{
    private readonly ConcurrentDictionary<string, ByteDfa> _dfas = new(StringComparer.Ordinal);
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);
    public int Count => _dfas.Count;

    public bool TryGet(string key, out ByteDfa dfa) => _dfas.TryGetValue(key, out dfa!);

    public void Add(string key, ByteDfa dfa)
    {
        long bytes = dfa.Bytes;   // its Key is the cache key
        if (bytes > budgetBytes) return;
        if (Interlocked.Read(ref _bytes) + bytes > budgetBytes)
        {
            _dfas.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }
        if (_dfas.TryAdd(key, dfa)) Interlocked.Add(ref _bytes, bytes);
    }
}
