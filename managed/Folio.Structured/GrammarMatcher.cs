namespace Folio.Structured;

/// <summary>
/// Matches one sequence against a <see cref="CompiledGrammar"/>, token by token: <see cref="ComputeMask"/> before
/// sampling, <see cref="Accept"/> after. Byte-level parsing over terminal automata with a prediction stack; each
/// token's bytes are stepped through every live thread. Not thread-safe (one matcher per sequence).
/// </summary>
public sealed class GrammarMatcher
{
    private const int RootStack = -1;

    private readonly CompiledGrammar _g;
    private readonly ByteDfa[] _terminals;
    private readonly int[] _flat;
    private readonly int[][] _ruleAlts;

    // Interned stack nodes: node i = resume at _stackPos[i] over parent _stackParent[i].
    private readonly List<int> _stackPos = [];
    private readonly List<int> _stackParent = [];
    private readonly Dictionary<long, int> _stackIndex = [];

    // Scratch: states under construction live in one arena, pushed and popped as a walk descends and returns.
    private ParseConfig[] _arena = new ParseConfig[256];
    private int _top;
    private readonly HashSet<ParseConfig> _seen = [];
    private readonly HashSet<long> _visited = [];

    private readonly List<ParseState> _history = [];
    private bool _stopped;

    internal GrammarMatcher(CompiledGrammar grammar)
    {
        _g = grammar;
        _terminals = grammar.Terminals;
        _flat = grammar.Flat;
        _ruleAlts = grammar.RuleAlts;
        _top = 0;
        BeginBuild();
        bool fin = false;
        Expand(0, RootStack, ref fin);
        _history.Add(new ParseState(_arena[.._top], fin));
    }

    /// <summary>A copy of <paramref name="other"/>'s state (stacks and history copied; parse states are immutable, shared).</summary>
    private GrammarMatcher(GrammarMatcher other)
    {
        _g = other._g;
        _terminals = other._terminals;
        _flat = other._flat;
        _ruleAlts = other._ruleAlts;
        _stackPos = [.. other._stackPos];
        _stackParent = [.. other._stackParent];
        _stackIndex = new Dictionary<long, int>(other._stackIndex);
        _history = [.. other._history];
        _stopped = other._stopped;
    }

    /// <summary>An independent matcher in the same state (a forked sequence continues on its own).</summary>
    public GrammarMatcher Clone() => new(this);

    private ParseState Current => _history[^1];

    /// <summary>The input so far is a complete sentence: end-of-sequence is allowed now.</summary>
    public bool CanStop => !_stopped && Current.CanFinish;

    /// <summary>The input so far is complete and nothing may follow but end-of-sequence.</summary>
    public bool IsTerminated => _stopped || (Current.CanFinish && Current.Configs.Length == 0);

    /// <summary>Tokens accepted so far (end-of-sequence included once accepted).</summary>
    public int TokenCount => _history.Count - 1;

    /// <summary>Writes the allowed tokens into <paramref name="mask"/> (<see cref="TokenVocabulary.MaskWords"/> words).</summary>
    public void ComputeMask(Span<ulong> mask)
    {
        mask.Clear();
        if (_stopped) return;
        var cur = Current;
        LoadCurrent();
        int n = cur.Configs.Length;
        for (int i = 0; i < n; i++)
        {
            var c = _arena[i];
            // A bounded walk's tokens come in two parts (shared, then this state's own): each is ORed and walked alike.
            for (var tt = _g.TokensFor(c.Terminal, c.State); tt is not null; tt = tt.Extra)
            {
                tt.OrInto(mask);
                if (!tt.HasExits) continue;
                int start = _top;
                BeginBuild();
                bool fin = false;
                ExpandStack(c.Stack, ref fin);
                if (!tt.Suffixes.IsEmpty) Walk(tt.Suffixes.View, 0, start, _top - start, fin, mask);
                if (tt.ExitNodes.Length > 0)
                {
                    var vocab = _g.Vocabulary.Trie.View;
                    foreach (int node in tt.ExitNodes) WalkChildren(vocab, node, start, _top - start, fin, mask);
                }
                _top = start;
            }
        }
        if (cur.CanFinish && _g.Vocabulary.EosTokenId is int eos) BitMask.Set(mask, eos);
    }

    /// <summary>
    /// The current parse state in words, for diagnostics (the benchmark's slowest masks): the thread count, then
    /// up to <paramref name="maxThreads"/> threads as terminal index, automaton state / state count, and the
    /// automaton's expression text cut to <paramref name="keyChars"/> characters.
    /// </summary>
    public string DescribeState(int maxThreads = 3, int keyChars = 80)
    {
        var configs = Current.Configs;
        var text = new System.Text.StringBuilder();
        text.Append(configs.Length).Append(configs.Length == 1 ? " thread" : " threads");
        if (_stopped) text.Append(" (stopped)");
        foreach (var c in configs.Take(maxThreads))
        {
            var dfa = _terminals[c.Terminal];
            string key = dfa.Key.Length > keyChars ? dfa.Key[..keyChars] + "..." : dfa.Key;
            text.Append("; t").Append(c.Terminal).Append(" s").Append(c.State).Append('/').Append(dfa.StateCount)
                .Append(' ').Append(key.ReplaceLineEndings(" "));
        }
        if (configs.Length > maxThreads) text.Append("; ...");
        return text.ToString();
    }

    /// <summary>Allows the tokens at <paramref name="node"/> and below that the state in the arena accepts.</summary>
    private void Walk(TrieView trie, int node, int start, int count, bool fin, Span<ulong> mask)
    {
        if (count == 0 && !fin) return;
        for (int t = 0; t < trie.TokenCount[node]; t++) BitMask.Set(mask, trie.Tokens[trie.TokenStart[node] + t]);
        if (count == 0) return;
        WalkChildren(trie, node, start, count, fin, mask);
    }

    private void WalkChildren(TrieView trie, int node, int start, int count, bool fin, Span<ulong> mask)
    {
        if (count == 0) return;
        int first = trie.FirstChild[node], end = first + trie.ChildCount[node];
        for (int ch = first; ch < end; ch++)
        {
            int s2 = Step(start, count, trie.EdgeByte[ch], out bool f2);
            Walk(trie, ch, s2, _top - s2, f2, mask);
            _top = s2;
        }
    }

    /// <summary>Advances by one token; false (and no change) when the grammar does not allow it.</summary>
    public bool Accept(int tokenId)
    {
        if (_stopped) return false;
        if (tokenId == _g.Vocabulary.EosTokenId)
        {
            if (!Current.CanFinish) return false;
            _stopped = true;
            _history.Add(Current);
            return true;
        }
        if ((uint)tokenId >= (uint)_g.Vocabulary.Size || _g.Vocabulary.TokenBytes[tokenId] is not { Length: > 0 } bytes)
            return false;
        return AcceptBytes(bytes);
    }

    /// <summary>Advances by raw bytes as one step of history; false (and no change) when not allowed.</summary>
    public bool AcceptBytes(ReadOnlySpan<byte> bytes)
    {
        if (_stopped) return false;
        LoadCurrent();
        int start = 0, count = Current.Configs.Length;
        bool fin = Current.CanFinish;
        foreach (byte b in bytes)
        {
            if (count == 0) return false;
            start = Step(start, count, b, out fin);
            count = _top - start;
            if (count == 0 && !fin) return false;
        }
        _history.Add(new ParseState(_arena[start.._top], fin));
        return true;
    }

    /// <summary>Undoes the last <paramref name="tokens"/> accepted tokens (cheap: states are kept).</summary>
    public void Rollback(int tokens)
    {
        if (tokens < 0 || tokens > TokenCount) throw new ArgumentOutOfRangeException(nameof(tokens));
        if (tokens == 0) return;
        // End-of-sequence is always the last token accepted, so any rollback undoes it.
        _history.RemoveRange(_history.Count - tokens, tokens);
        _stopped = false;
    }

    /// <summary>
    /// Bytes the grammar forces next (one continuation only, and the input not yet complete), up to
    /// <paramref name="max"/>; an engine may append tokens spelling them without sampling. Does not advance.
    /// </summary>
    public byte[] ForcedBytes(int max = 256)
    {
        var result = new List<byte>();
        if (_stopped) return [];
        LoadCurrent();
        int start = 0, count = Current.Configs.Length;
        bool fin = Current.CanFinish;
        while (!fin && count > 0 && result.Count < max)
        {
            int only = -1;
            for (int b = 0; b < 256; b++)
            {
                int s2 = Step(start, count, (byte)b, out bool f2);
                bool alive = _top > s2 || f2;
                _top = s2;
                if (!alive) continue;
                if (only >= 0) { only = -2; break; }
                only = b;
            }
            if (only < 0) break;
            int next = Step(start, count, (byte)only, out fin);
            start = next;
            count = _top - next;
            result.Add((byte)only);
        }
        return [.. result];
    }

    private void LoadCurrent()
    {
        var configs = Current.Configs;
        EnsureArena(configs.Length);
        configs.CopyTo(_arena, 0);
        _top = configs.Length;
    }

    /// <summary>Steps the state in arena[start .. start+count) by one byte; the new state is arena[result .. _top).</summary>
    private int Step(int start, int count, byte b, out bool fin)
    {
        int result = _top;
        BeginBuild();
        fin = false;
        for (int i = start; i < start + count; i++)
        {
            var c = _arena[i];
            var dfa = _terminals[c.Terminal];
            int q = dfa.Step(c.State, b);
            if (q < 0) continue;
            Add(new ParseConfig(c.Terminal, q, c.Stack));
            if (dfa.IsFinal(q)) ExpandStack(c.Stack, ref fin);
        }
        return result;
    }

    private void BeginBuild()
    {
        _seen.Clear();
        _visited.Clear();
    }

    private void ExpandStack(int stack, ref bool fin) => Expand(_stackPos[stack], _stackParent[stack], ref fin);

    /// <summary>Adds every thread that can start at grammar position <paramref name="pos"/> over <paramref name="parent"/>.</summary>
    private void Expand(int pos, int parent, ref bool fin)
    {
        if (!_visited.Add(((long)pos << 32) | (uint)parent)) return;
        int sym = _flat[pos];
        if (sym == CompiledGrammar.End)
        {
            if (parent == RootStack) fin = true;
            else Expand(_stackPos[parent], _stackParent[parent], ref fin);
            return;
        }
        int resume = Intern(pos + 1, parent);
        if (sym >= 0)
        {
            Add(new ParseConfig(sym, 0, resume));
            return;
        }
        foreach (int alt in _ruleAlts[-sym - 2]) Expand(alt, resume, ref fin);
    }

    private int Intern(int pos, int parent)
    {
        long key = ((long)pos << 32) | (uint)parent;
        if (_stackIndex.TryGetValue(key, out int id)) return id;
        id = _stackPos.Count;
        _stackPos.Add(pos);
        _stackParent.Add(parent);
        _stackIndex[key] = id;
        return id;
    }

    private void Add(ParseConfig c)
    {
        if (!_seen.Add(c)) return;
        EnsureArena(_top + 1);
        _arena[_top++] = c;
    }

    private void EnsureArena(int size)
    {
        if (size > _arena.Length) Array.Resize(ref _arena, Math.Max(size, _arena.Length * 2));
    }
}
