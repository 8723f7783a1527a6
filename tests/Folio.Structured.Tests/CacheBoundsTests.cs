namespace Folio.Structured.Tests;

/// <summary>
/// The compiler's caches stay within their byte budgets whatever schemas come (serving untrusted schemas): the
/// automaton cache starts over past its budget, residual ids live on their automaton, fragment closures are charged
/// to the shared walks' budget.
/// </summary>
public class CacheBoundsTests
{
    [Fact]
    public void AutomatonCacheStartsOverPastItsBudget()
    {
        var dfas = Enumerable.Range(0, 20).Select(i => DfaBuilder.Build(RegexParser.ParseFullMatch($"item{i}[a-z]{{2,5}}"))).ToList();
        long one = dfas.Max(d => d.Bytes);
        var cache = new DfaCache(budgetBytes: 3 * one);
        for (int i = 0; i < dfas.Count; i++)
        {
            cache.Add(dfas[i].Key, dfas[i]);
            Assert.InRange(cache.Bytes, 1, 3 * one);
            Assert.InRange(cache.Count, 1, 3);
            Assert.True(cache.TryGet(dfas[i].Key, out var kept) && ReferenceEquals(kept, dfas[i]));
        }
        Assert.False(cache.TryGet(dfas[0].Key, out _));   // dropped when the cache started over

        var small = new DfaCache(budgetBytes: one - 1);
        var big = dfas.First(d => d.Bytes == one);
        small.Add(big.Key, big);
        Assert.Equal(0, small.Count);   // larger than the whole budget: not kept
    }

    [Fact]
    public void CompilerAutomataStayWithinTheirBudget()
    {
        var vocab = ByteVocab.Create();
        const long Budget = 64 * 1024;
        var compiler = new GrammarCompiler(vocab, dfaCacheBytes: Budget);
        for (int i = 0; i < 200; i++)
        {
            compiler.CompileRegex($"(alpha|beta|gamma){i}[0-9]{{1,{1 + i % 7}}}");
            Assert.InRange(compiler.CacheBytes.Automata, 0, Budget);
        }
        Assert.True(compiler.CacheBytes.Automata > 0);
    }

    [Fact]
    public void ResidualIdsBelongToOneCache()
    {
        var dfa = DfaBuilder.Build(RegexParser.ParseFullMatch("ab*c"));
        object owner = new(), other = new();
        var ids = dfa.ResidualIds(owner);
        Assert.NotNull(ids);
        Assert.Equal(dfa.StateCount, ids.Length);
        Assert.All(ids, id => Assert.Equal(-1, id));
        Assert.Same(ids, dfa.ResidualIds(owner));
        Assert.Null(dfa.ResidualIds(other));
    }

    [Fact]
    public void SharedWalksRefuseChargesPastTheirBudget()
    {
        var cache = new TerminalTokenCache(ByteVocab.Create().Trie, budgetBytes: 1000);
        Assert.True(cache.TryCharge(600));
        Assert.False(cache.TryCharge(500));
        Assert.Equal(600, cache.Bytes);
        Assert.True(cache.TryCharge(400));
        Assert.Equal(1000, cache.Bytes);
    }
}
