using System.Collections.Concurrent;

namespace Folio.Structured;

/// <summary>
/// <see cref="TerminalTokens"/> shared by every grammar compiled for one vocabulary, keyed by the automaton's
/// canonical text and state: the JSON string automaton, walked over the whole trie once, serves every schema.
/// Past a byte budget, new entries stay with their grammar only (<see cref="CompiledGrammar"/>'s own cache).
/// </summary>
internal sealed class TerminalTokenCache(TokenTrie trie, long budgetBytes)
{
    private readonly ConcurrentDictionary<(string Key, int State), TerminalTokens> _entries = new();
    private long _bytes;

    public TokenTrie Trie => trie;

    public TerminalTokens? TryGet(string key, int state) => _entries.TryGetValue((key, state), out var t) ? t : null;

    /// <summary>Keeps <paramref name="tokens"/> if the budget allows; returns whether it did.</summary>
    public bool TryAdd(string key, int state, TerminalTokens tokens)
    {
        if (Interlocked.Read(ref _bytes) + tokens.Bytes > budgetBytes) return false;
        if (_entries.TryAdd((key, state), tokens)) Interlocked.Add(ref _bytes, tokens.Bytes);
        return true;
    }
}
