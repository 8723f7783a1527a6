using System.Diagnostics;
using System.Text.Json;
using Folio.Core.Models;
using Folio.Structured;
using Folio.Structured.MaskBench;

namespace Folio.Cli;

/// <summary>
/// <c>folio bench --structured DIR --tokenizer tokenizer.json [--limit N] [--json]</c>: benchmark B9, MaskBench over
/// every <c>*.json</c> case in DIR (sorted by name), one thread; prints per-category and total counts and TBM/TTFM
/// percentiles (see docs/STRUCTURED_OUTPUT.md).
/// </summary>
public static class StructuredBenchCommand
{
    public static int Run(string dir, string? tokenizerPath, int limit, bool json, bool verbose, int slowest = 0)
    {
        if (!Directory.Exists(dir)) throw new UsageException($"--structured '{dir}': no such directory");
        if (tokenizerPath is null || !File.Exists(tokenizerPath))
            throw new UsageException("--structured needs --tokenizer PATH (a byte-level BPE tokenizer.json, e.g. Llama 3.1's)");
        var files = Directory.GetFiles(dir, "*.json").Where(f => Path.GetFileName(f) != "README.json").Order(StringComparer.Ordinal).ToList();
        if (limit > 0) files = files.Take(limit).ToList();
        var vocab = ByteLevelVocabulary.Load(tokenizerPath, eosTokenId: null);
        var tokenizer = TextTokenizer.FromTokenizerJson(tokenizerPath, eosTokenId: null);
        var compiler = new GrammarCompiler(vocab);
        var scorer = new MaskBenchScorer(compiler, text => tokenizer.Encode(text), slowest: slowest);
        var results = new List<MaskBenchCaseResult>();
        var wall = Stopwatch.StartNew();
        foreach (var f in files)
        {
            var r = scorer.Score(f);
            results.Add(r);
            if (verbose && r.Outcome != MaskBenchOutcome.Passing)
                Console.Error.WriteLine($"{r.Name}: {r.Outcome}: {r.Detail}");
        }
        var summaries = results.GroupBy(r => r.Category).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => MaskBenchSummary.Of(g.Key, [.. g])).ToList();
        summaries.Add(MaskBenchSummary.Of("TOTAL", results));
        if (json) WriteJson(summaries, wall.Elapsed.TotalSeconds);
        else WriteText(summaries, wall.Elapsed.TotalSeconds, files.Count, dir);
        if (slowest > 0) WriteSlowest(scorer, compiler, json);
        return ExitCodes.Ok;
    }

    private static void WriteText(List<MaskBenchSummary> summaries, double wallS, int files, string dir)
    {
        Console.WriteLine($"MaskBench: {files} cases from {dir}, one thread, {wallS:F1} s; times in microseconds");
        Console.WriteLine($"{"category",-22} {"cases",6} {"pass",6} {"pass%",6} {"compile",7} {"valid",6} {"invalid",7} {"crash",5} {"t/o",4} {"TBM p50",8} {"p99",8} {"p99.9",9} {"TTFM p50",9} {"p99",9} {"masks",8}");
        foreach (var s in summaries)
            Console.WriteLine($"{s.Category,-22} {s.Cases,6} {s.Passing,6} {100.0 * s.Passing / Math.Max(1, s.Cases),6:F1} {s.CompileErrors,7} {s.ValidationErrors,6} {s.InvalidationErrors,7} {s.Crashes,5} {s.Timeouts,4} {s.TbmP50Us,8:F1} {s.TbmP99Us,8:F1} {s.TbmP999Us,9:F1} {s.TtfmP50Us,9:F0} {s.TtfmP99Us,9:F0} {s.Masks,8}");
    }

    /// <summary>The slowest masks and first masks with their parse states (to stderr under --json, so stdout stays one object).</summary>
    private static void WriteSlowest(MaskBenchScorer scorer, GrammarCompiler compiler, bool json)
    {
        var o = json ? Console.Error : Console.Out;
        var (walks, time) = compiler.WalkStats;
        o.WriteLine($"trie walks built (first visits): {walks}, {time.TotalSeconds:F2} s in all");
        var (reused, built, first) = compiler.BoundedWalkStats;
        o.WriteLine($"states too large to sign: {reused} reused a bounded walk, {built} built one, {first} walked whole (signature new)");
        var (over, overWithWalks, overWithGc) = scorer.SlowMaskCounts;
        o.WriteLine($"masks over 500 us: {over}, {overWithWalks} of them built a walk, {overWithGc} had a collection pause inside");
        // Pauses for collection land in whichever mask or compile runs then: a tail the walks do not explain.
        o.WriteLine($"GC: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections; paused {GC.GetTotalPauseDuration().TotalSeconds:F2} s in all; {GC.GetTotalAllocatedBytes() / 1e9:F1} GB allocated");
        o.WriteLine($"slowest {scorer.SlowestMasks.Count} masks (us; walks built during it and their us; collection pause us; instance/token; state):");
        foreach (var s in scorer.SlowestMasks)
            o.WriteLine($"  {s.Us,9:F0} {s.Walks,3} {s.WalkUs,9:F0} {s.GcUs,9:F0}  {s.Case} #{s.Instance}/{s.Position}  {s.State}");
        o.WriteLine($"slowest {scorer.SlowestFirstMasks.Count} first masks (TTFM us; walks built and their us; collection pause us; case; compile):");
        foreach (var s in scorer.SlowestFirstMasks)
            o.WriteLine($"  {s.Us,9:F0} {s.Walks,3} {s.WalkUs,9:F0} {s.GcUs,9:F0}  {s.Case}  {s.State}");
    }

    private static void WriteJson(List<MaskBenchSummary> summaries, double wallS)
    {
        using var stream = Console.OpenStandardOutput();
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteNumber("wall_s", wallS);
        w.WriteStartArray("categories");
        foreach (var s in summaries)
        {
            w.WriteStartObject();
            w.WriteString("category", s.Category);
            w.WriteNumber("cases", s.Cases);
            w.WriteNumber("passing", s.Passing);
            w.WriteNumber("compile_errors", s.CompileErrors);
            w.WriteNumber("validation_errors", s.ValidationErrors);
            w.WriteNumber("invalidation_errors", s.InvalidationErrors);
            w.WriteNumber("crashes", s.Crashes);
            w.WriteNumber("timeouts", s.Timeouts);
            w.WriteNumber("tbm_p50_us", s.TbmP50Us);
            w.WriteNumber("tbm_p99_us", s.TbmP99Us);
            w.WriteNumber("tbm_p999_us", s.TbmP999Us);
            w.WriteNumber("ttfm_p50_us", s.TtfmP50Us);
            w.WriteNumber("ttfm_p99_us", s.TtfmP99Us);
            w.WriteNumber("masks", s.Masks);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        Console.WriteLine();
    }
}
