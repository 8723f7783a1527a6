namespace Folio.Structured;

/// <summary>
/// <see cref="GrammarDefinition"/> → <see cref="CompiledGrammar"/>. Every rule becomes a nonterminal; inside a rule
/// body, each maximal run of reference-free pieces becomes one terminal automaton (so a JSON string or number is
/// one terminal whose trie walk is cached); repetitions and alternations around references become fresh rules.
/// Unproductive alternatives are dropped; left recursion is refused (the parser expands predictions eagerly).
/// </summary>
internal sealed class GrammarLowering
{
    /// <summary>Cap on grammar symbols, so a huge repetition count is refused instead of exhausting memory.</summary>
    public const int MaxSymbols = 2_000_000;

    private readonly GrammarDefinition _def;
    private readonly Dictionary<string, int> _ruleIds = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<List<List<int>>> _alts = [];
    private readonly List<ByteDfa> _terminals = [];
    private readonly Dictionary<string, int> _terminalIds = new(StringComparer.Ordinal);
    private readonly DfaCache _dfaCache;
    private int _symbols;

    private GrammarLowering(GrammarDefinition def, DfaCache dfaCache)
    {
        _def = def;
        _dfaCache = dfaCache;
    }

    internal static CompiledGrammar Lower(GrammarDefinition def, TokenVocabulary vocab, TerminalTokenCache shared, DfaCache dfaCache)
    {
        if (!def.Contains(def.StartRule))
            throw new GrammarException($"the start rule '{def.StartRule}' is not defined");
        var l = new GrammarLowering(def, dfaCache);
        foreach (var name in def.Rules.Keys) l.RuleId(name);
        foreach (var (name, body) in def.Rules) l.LowerRule(l._ruleIds[name], body);
        return l.Finish(vocab, shared);
    }

    private int RuleId(string name)
    {
        if (_ruleIds.TryGetValue(name, out int id)) return id;
        id = NewRule(name);
        _ruleIds[name] = id;
        return id;
    }

    private int NewRule(string name)
    {
        _names.Add(name);
        _alts.Add([]);
        return _names.Count - 1;
    }

    private static int NonTerminal(int rule) => -(rule + 2);

    private void LowerRule(int rule, RxNode body)
    {
        if (body.Kind == RxKind.Alt && HasRef(body))
            foreach (var child in body.Children) AddAlt(rule, LowerSeq(child));
        else
            AddAlt(rule, LowerSeq(body));
    }

    private void AddAlt(int rule, List<int> symbols)
    {
        _symbols += symbols.Count + 1;
        if (_symbols > MaxSymbols)
            throw new GrammarException($"grammar too large (over {MaxSymbols} symbols; a repetition count is too big)");
        _alts[rule].Add(symbols);
    }

    private static bool HasRef(RxNode n) => n.HasRef;

    /// <summary>The symbols of one alternative for <paramref name="node"/>.</summary>
    private List<int> LowerSeq(RxNode node)
    {
        var result = new List<int>();
        // A reference-free body is one terminal: the node itself, whose canonical text may be known already.
        var items = node.Kind == RxKind.Seq && node.HasRef ? node.Children : [node];
        var run = new List<RxNode>();
        foreach (var item in items)
        {
            if (!HasRef(item)) { run.Add(item); continue; }
            FlushRegular(run, result);
            result.Add(LowerComplex(item));
        }
        FlushRegular(run, result);
        return result;
    }

    private void FlushRegular(List<RxNode> run, List<int> output)
    {
        if (run.Count == 0) return;
        var node = run.Count == 1 ? run[0] : RxNode.Seq(run);
        run.Clear();
        if (node.Kind == RxKind.Empty) return;
        int? t = node.Kind == RxKind.Nothing ? null : TerminalFor(node);
        if (t is null)
        {
            // No string: an alternative with an unproductive rule, dropped later.
            output.Add(NonTerminal(NewRule("<nothing>")));
            return;
        }
        if (!Nullable(node)) { output.Add(t.Value); return; }
        int opt = NewRule("<optional>");
        AddAlt(opt, []);
        AddAlt(opt, [t.Value]);
        output.Add(NonTerminal(opt));
    }

    private int? TerminalFor(RxNode node)
    {
        string key = node.ToString();
        if (_terminalIds.TryGetValue(key, out int id)) return id;
        if (!_dfaCache.TryGet(key, out var dfa))
        {
            dfa = DfaBuilder.Build(node);
            _dfaCache.Add(key, dfa);
        }
        if (dfa.IsEmptyLanguage) return null;
        _terminals.Add(dfa);
        _terminalIds[key] = _terminals.Count - 1;
        return _terminals.Count - 1;
    }

    private int LowerComplex(RxNode node)
    {
        switch (node.Kind)
        {
            case RxKind.Ref:
                if (!_ruleIds.TryGetValue(node.Name!, out int r))
                    throw new GrammarException($"unknown rule '{node.Name}'");
                return NonTerminal(r);
            case RxKind.Alt:
            {
                int rule = NewRule("<alt>");
                foreach (var child in node.Children) AddAlt(rule, LowerSeq(child));
                return NonTerminal(rule);
            }
            case RxKind.Seq:
            {
                int rule = NewRule("<seq>");
                AddAlt(rule, LowerSeq(node));
                return NonTerminal(rule);
            }
            case RxKind.Repeat:
                return LowerRepeat(node);
            default:
                throw new InvalidOperationException($"unexpected {node.Kind}");
        }
    }

    private int LowerRepeat(RxNode node)
    {
        var body = LowerSeq(node.Children[0]);
        int min = node.Min, max = node.Max;
        int rule = NewRule("<repeat>");
        var head = new List<int>();
        for (int i = 0; i < min; i++) head.AddRange(body);
        if (max < 0)
        {
            // star ::= ε | body star  (right recursion: the parser has no trouble with it)
            int star = NewRule("<star>");
            AddAlt(star, []);
            AddAlt(star, [.. body, NonTerminal(star)]);
            head.Add(NonTerminal(star));
        }
        else if (max > min)
        {
            // opt_k ::= ε | body opt_(k-1), nested (max - min) deep.
            int inner = -1;
            for (int k = 0; k < max - min; k++)
            {
                int opt = NewRule("<bounded>");
                AddAlt(opt, []);
                AddAlt(opt, inner < 0 ? [.. body] : [.. body, NonTerminal(inner)]);
                inner = opt;
            }
            head.Add(NonTerminal(inner));
        }
        AddAlt(rule, head);
        return NonTerminal(rule);
    }

    private static bool Nullable(RxNode n) => n.Kind switch
    {
        RxKind.Empty => true,
        RxKind.Seq => n.Children.All(Nullable),
        RxKind.Alt => n.Children.Any(Nullable),
        RxKind.Repeat => n.Min == 0 || Nullable(n.Children[0]),
        RxKind.And => Nullable(n.Children[0]) && Nullable(n.Children[1]),
        _ => false,
    };

    private CompiledGrammar Finish(TokenVocabulary vocab, TerminalTokenCache shared)
    {
        int n = _alts.Count;
        // Productive rules: those with an alternative whose every symbol is a terminal or a productive rule.
        var productive = new bool[n];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < n; r++)
                if (!productive[r] && _alts[r].Any(a => a.All(s => s >= 0 || productive[-s - 2])))
                    productive[r] = changed = true;
        }
        int start = _ruleIds[_def.StartRule];
        if (!productive[start])
            throw new GrammarException("no string satisfies this grammar or schema (its language is empty)");
        for (int r = 0; r < n; r++) _alts[r].RemoveAll(a => a.Any(s => s < 0 && !productive[-s - 2]));
        CheckLeftRecursion(n);

        var flat = new List<int> { NonTerminal(start), CompiledGrammar.End };
        var ruleAlts = new int[n][];
        for (int r = 0; r < n; r++)
        {
            ruleAlts[r] = new int[_alts[r].Count];
            for (int a = 0; a < _alts[r].Count; a++)
            {
                ruleAlts[r][a] = flat.Count;
                flat.AddRange(_alts[r][a]);
                flat.Add(CompiledGrammar.End);
            }
        }
        return new CompiledGrammar(vocab, shared, [.. _terminals], [.. flat], ruleAlts, [.. _names]);
    }

    private void CheckLeftRecursion(int n)
    {
        var nullable = new bool[n];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < n; r++)
                if (!nullable[r] && _alts[r].Any(a => a.All(s => s < 0 && nullable[-s - 2])))
                    nullable[r] = changed = true;
        }
        // left[r]: rules that can start r's expansion (through nullable prefixes).
        var left = new List<int>[n];
        for (int r = 0; r < n; r++)
        {
            left[r] = [];
            foreach (var alt in _alts[r])
                foreach (int s in alt)
                {
                    if (s >= 0) break;
                    left[r].Add(-s - 2);
                    if (!nullable[-s - 2]) break;
                }
        }
        var state = new byte[n]; // 0 new, 1 on the path, 2 done
        for (int r = 0; r < n; r++)
        {
            if (state[r] != 0) continue;
            var stack = new Stack<(int Rule, int Next)>();
            stack.Push((r, 0));
            state[r] = 1;
            while (stack.Count > 0)
            {
                var (rule, next) = stack.Pop();
                if (next < left[rule].Count)
                {
                    stack.Push((rule, next + 1));
                    int m = left[rule][next];
                    if (state[m] == 1)
                        throw new GrammarException($"left recursion through rule '{Named(m, rule)}' is not supported; rewrite it with repetition");
                    if (state[m] == 0) { state[m] = 1; stack.Push((m, 0)); }
                }
                else state[rule] = 2;
            }
        }
    }

    private string Named(int rule, int fallback) => _names[rule].StartsWith('<') ? _names[fallback] : _names[rule];
}
