using System.Diagnostics;
using System.Text.Json;

namespace Folio.Structured.MaskBench;

/// <summary>
/// Scores MaskBench cases (one JSON file each: schema + tests) the way MaskBench does: compile (time to first mask,
/// TTFM, includes the first mask); for each valid instance, serialized compactly and tokenized, every token must be
/// allowed by the mask computed before it (time between masks, TBM) and end-of-sequence allowed at the end; each
/// invalid instance must be rejected before its end. One thread.
/// </summary>
public sealed class MaskBenchScorer(GrammarCompiler compiler, Func<string, IReadOnlyList<int>> encode, double compileLimitS = 10)
{
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
        CompiledGrammar grammar;
        try
        {
            grammar = compiler.CompileJsonSchema(schemaText);
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
        if (ttfm > compileLimitS * 1e6)
            return new(name, category, MaskBenchOutcome.Timeout, $"compiled in {ttfm / 1e6:F1} s", ttfm, tbm);
        try
        {
            foreach (var (text, valid) in tests)
            {
                var ids = encode(text);
                var m = grammar.CreateMatcher();
                bool rejected = false;
                for (int i = 0; i <= ids.Count; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    m.ComputeMask(mask);
                    tbm.Add(Us(t0));
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
