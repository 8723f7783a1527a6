using System.Collections.Concurrent;

namespace Folio.Structured;

/// <summary>
/// A grammar ready to match: terminals are byte automata; rules are flattened into <see cref="Flat"/>, where each
/// alternative is a run of symbols ended by <see cref="End"/> (terminal t ≥ 0; rule r as -(r + 2)). Position 0 holds
/// the start rule followed by End. Immutable and thread-safe; one instance serves any number of matchers.
/// </summary>
public sealed class CompiledGrammar
{
    internal const int End = -1;

    private readonly ConcurrentDictionary<long, TerminalTokens> _local = new();
    private readonly TerminalTokenCache _shared;

    internal CompiledGrammar(TokenVocabulary vocabulary, TerminalTokenCache shared, ByteDfa[] terminals, int[] flat, int[][] ruleAlts, string[] ruleNames)
    {
        Vocabulary = vocabulary; _shared = shared; Terminals = terminals; Flat = flat; RuleAlts = ruleAlts; RuleNames = ruleNames;
    }

    public TokenVocabulary Vocabulary { get; }
    internal ByteDfa[] Terminals { get; }
    internal int[] Flat { get; }
    /// <summary>Per rule, the positions in <see cref="Flat"/> where its alternatives start.</summary>
    internal int[][] RuleAlts { get; }
    internal string[] RuleNames { get; }

    public int TerminalCount => Terminals.Length;
    public int RuleCount => RuleAlts.Length;

    public GrammarMatcher CreateMatcher() => new(this);

    internal TerminalTokens TokensFor(int terminal, int state)
    {
        long localKey = ((long)terminal << 32) | (uint)state;
        if (_local.TryGetValue(localKey, out var t)) return t;
        var dfa = Terminals[terminal];
        int residual = _shared.ResidualId(dfa, state);
        t = _shared.TryGet(residual) ?? Build(dfa, state, residual);
        _shared.TryAdd(residual, t);
        _local.TryAdd(localKey, t);
        return t;
    }

    private TerminalTokens Build(ByteDfa dfa, int state, int residual)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        // A state too large to sign (a counted string: each length left is its own residual) may share the walk of
        // the short tokens with states that agree on the next BoundedSignature.Depth bytes.
        var t = (TerminalTokenCache.IsUnsigned(residual) ? TerminalTokens.BuildBounded(dfa, state, _shared) : null)
            ?? TerminalTokens.Build(dfa, state, _shared);
        _shared.CountWalk(System.Diagnostics.Stopwatch.GetTimestamp() - start);
        return t;
    }
}
