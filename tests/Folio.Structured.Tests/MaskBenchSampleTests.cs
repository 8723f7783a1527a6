using Folio.Core.Models;
using Folio.Structured.MaskBench;

namespace Folio.Structured.Tests;

/// <summary>
/// A committed sample of MaskBench (every 80th case of the development split, 119 files) scored with the benchmark's
/// own scorer and GPT-2's tokenizer (the repository's fixture), so the test needs no download. The counts are as
/// measured: a change in any of them is a regression (or an improvement to record here).
/// </summary>
public class MaskBenchSampleTests
{
    [Fact]
    public void SampleScoresAsMeasured()
    {
        string tokenizer = Path.Combine(AppContext.BaseDirectory, "gpt2-tokenizer.json");
        var vocab = ByteLevelVocabulary.Load(tokenizer, eosTokenId: 50256);
        var text = TextTokenizer.FromTokenizerJson(tokenizer, eosTokenId: 50256);
        var scorer = new MaskBenchScorer(new GrammarCompiler(vocab), s => text.Encode(s));
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "maskbench-sample"), "*.json").Order(StringComparer.Ordinal).ToList();
        var results = files.Select(scorer.Score).ToList();
        var total = MaskBenchSummary.Of("TOTAL", results);
        var failures = $"{total}\n" + string.Join("\n", results.Where(r => r.Outcome != MaskBenchOutcome.Passing).Select(r => $"{r.Name}: {r.Outcome}: {r.Detail}"));
        Assert.Equal(119, total.Cases);
        Assert.True(0 == total.InvalidationErrors, failures);
        Assert.True(0 == total.Crashes, failures);
        Assert.True(0 == total.Timeouts, failures);
        Assert.True(ExpectedValidationErrors == total.ValidationErrors, failures);
        Assert.True(ExpectedCompileErrors == total.CompileErrors, failures);
        Assert.True(ExpectedPassing == total.Passing, failures);
    }

    private const int ExpectedPassing = 99;
    private const int ExpectedCompileErrors = 20;
    private const int ExpectedValidationErrors = 0;
}
