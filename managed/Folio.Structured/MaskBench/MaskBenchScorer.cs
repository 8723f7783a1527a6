using System.Diagnostics;
using System.Text.Json;

namespace Folio.Structured.MaskBench;

/// <summary>
/// Scores MaskBench cases (one JSON file each: schema + tests) the way MaskBench does: compile (time to first mask,
/// TTFM, includes the first mask); for each valid instance, serialized compactly and tokenized, every token must be
/// allowed by the mask computed before it (time between masks, TBM) and end-of-sequence allowed at the end; each
/// invalid instance must be rejected before its end. One thread. With <paramref name="slowest"/> &gt; 0 it also keeps
/// the slowest masks and the slowest first masks (TTFM) with their parse states (<see cref="SlowestMasks"/>).
/// </summary>
public sealed class MaskBenchScorer(GrammarCompiler compiler, Func<string, IReadOnlyList<int>> encode, double compileLimitS = 10, int slowest = 0)
{
    // Min-heaps by time: the root is the fastest of the kept ones, replaced when a slower one comes.
    private readonly PriorityQueue<MaskBenchSlowMask, double> _slowMasks = new(), _slowFirst = new();

    /// <summary>Masks over the TBM p99 target (500 us) so far, how many of them built a trie walk (a first visit), and in
    /// how many a garbage collection paused the thread.</summary>
    public (long Masks, long WithWalks, long WithGc) SlowMaskCounts => (_over, _overWithWalks, _overWithGc);

    private const double SlowMaskUs = 500;
    private long _over, _overWithWalks, _overWithGc;

    /// <summary>The slowest masks between tokens so far (TBM), slowest first.</summary>
    public IReadOnlyList<MaskBenchSlowMask> SlowestMasks => Sorted(_slowMasks);

    /// <summary>The slowest first masks so far (TTFM: compilation and the first mask), slowest first.</summary>
    public IReadOnlyList<MaskBenchSlowMask> SlowestFirstMasks => Sorted(_slowFirst);

    public MaskBenchCaseResult Score(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        string category = Category(name);
        string schemaText;
        List<(string Text, bool Valid)> tests;
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(path)))
        {
            schemaText = doc.RootElement.GetProperty("schema").GetRawText();
            tests = [.. doc.RootElement.GetProperty("tests").EnumerateArray()
                .Select(t => (JsonText.Compact(t.GetProperty("data")), t.GetProperty("valid").GetBoolean()))];
        }
        var tbm = new List<double>();
        var mask = new ulong[compiler.Vocabulary.MaskWords];
        long start = Stopwatch.GetTimestamp();
        var walks0 = compiler.WalkStats;
        var gc0 = GC.GetTotalPauseDuration();
        double compileUs = 0;
        CompiledGrammar grammar;
        try
        {
            grammar = compiler.CompileJsonSchema(schemaText);
            compileUs = Us(start);
            grammar.CreateMatcher().ComputeMask(mask);
        }
        catch (GrammarException e)
        {
            return new(name, category, MaskBenchOutcome.CompileError, e.Message, Us(start), tbm);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new(name, category, MaskBenchOutcome.Crash, e.GetType().Name + ": " + e.Message, Us(start), tbm);
        }
        double ttfm = Us(start);
        if (Slow(_slowFirst, ttfm))
            Keep(_slowFirst, walks0, gc0, new(name, -1, -1, ttfm, 0, 0, 0, $"compile {compileUs:F0} us, {grammar.TerminalCount} terminals, {grammar.RuleCount} rules"));
        if (ttfm > compileLimitS * 1e6)
            return new(name, category, MaskBenchOutcome.Timeout, $"compiled in {ttfm / 1e6:F1} s", ttfm, tbm);
        try
        {
            for (int instance = 0; instance < tests.Count; instance++)
            {
                var (text, valid) = tests[instance];
                var ids = encode(text);
                var m = grammar.CreateMatcher();
                bool rejected = false;
                for (int i = 0; i <= ids.Count; i++)
                {
                    var w0 = slowest > 0 ? compiler.WalkStats : default;
                    var g0 = slowest > 0 ? GC.GetTotalPauseDuration() : default;
                    long t0 = Stopwatch.GetTimestamp();
                    m.ComputeMask(mask);
                    double us = Us(t0);
                    tbm.Add(us);
                    if (slowest > 0 && us > SlowMaskUs)
                    {
                        _over++;
                        if (compiler.WalkStats.Walks > w0.Walks) _overWithWalks++;
                        if (GC.GetTotalPauseDuration() > g0) _overWithGc++;
                    }
                    if (Slow(_slowMasks, us)) Keep(_slowMasks, w0, g0, new(name, instance, i, us, 0, 0, 0, m.DescribeState()));
                    bool allowed = i < ids.Count ? BitMask.Get(mask, ids[i]) : m.CanStop;
                    if (!allowed)
                    {
                        rejected = true;
                        break;
                    }
                    if (i < ids.Count && !m.Accept(ids[i]))
                        return new(name, category, MaskBenchOutcome.Crash, $"token {ids[i]} allowed by the mask but not accepted", ttfm, tbm);
                }
                if (valid && rejected)
                    return new(name, category, MaskBenchOutcome.ValidationError, text.Length > 300 ? text[..300] : text, ttfm, tbm);
                if (!valid && !rejected)
                    return new(name, category, MaskBenchOutcome.InvalidationError, text.Length > 300 ? text[..300] : text, ttfm, tbm);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new(name, category, MaskBenchOutcome.Crash, e.GetType().Name + ": " + e.Message, ttfm, tbm);
        }
        return new(name, category, MaskBenchOutcome.Passing, null, ttfm, tbm);
    }

    /// <summary>Whether a mask of <paramref name="us"/> belongs among the slowest kept in <paramref name="heap"/>.</summary>
    private bool Slow(PriorityQueue<MaskBenchSlowMask, double> heap, double us) =>
        slowest > 0 && (heap.Count < slowest || (heap.TryPeek(out _, out double fastest) && us > fastest));

    /// <summary>Keeps <paramref name="entry"/> with the walks built and the collections' pause since <paramref name="walks0"/>
    /// and <paramref name="gc0"/>, dropping the fastest kept when full.</summary>
    private void Keep(PriorityQueue<MaskBenchSlowMask, double> heap, (long Walks, TimeSpan Time) walks0, TimeSpan gc0, MaskBenchSlowMask entry)
    {
        var (walks, time) = compiler.WalkStats;
        entry = entry with { Walks = walks - walks0.Walks, WalkUs = (time - walks0.Time).TotalMicroseconds, GcUs = (GC.GetTotalPauseDuration() - gc0).TotalMicroseconds };
        if (heap.Count >= slowest) heap.EnqueueDequeue(entry, entry.Us);
        else heap.Enqueue(entry, entry.Us);
    }

    private static List<MaskBenchSlowMask> Sorted(PriorityQueue<MaskBenchSlowMask, double> heap) =>
        [.. heap.UnorderedItems.Select(x => x.Element).OrderByDescending(x => x.Us)];

    /// <summary>The category: the file name before "---" or before its trailing "_N".</summary>
    public static string Category(string name)
    {
        int dashes = name.IndexOf("---", StringComparison.Ordinal);
        if (dashes >= 0) return name[..dashes];
        int us = name.LastIndexOf('_');
        return us > 0 && name[(us + 1)..].All(char.IsAsciiDigit) ? name[..us] : name;
    }

    private static double Us(long start) => Stopwatch.GetElapsedTime(start).TotalMicroseconds;
}
