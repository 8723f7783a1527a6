using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Cli.Bench;

/// <summary>
/// <c>folio bench --model DIR --structured-sample DIR [--requests 256] [--rounds 3]</c>: issue 17's throughput
/// criterion. The same requests (random prompts; each constrained one with a JSON schema from the folder, cycled) run
/// constrained and unconstrained alternately in one process, all submitted at once; each unconstrained request writes
/// exactly as many tokens as its constrained twin wrote in the latest constrained round (EOS ignored), so both sides
/// produce the same tokens and differ only in the constraint. Prefix caching is off, so every round prefills its prompts. Prints output tokens/s per round, their ratio, the
/// fast-forward share (tokens the grammar forced, appended without sampling) and the time steps waited for masks
/// after their forward pass. The model needs a tokenizer (a folder with a tokenizer.json: for <c>b8</c>, one written by
/// <c>folio model init --shape b8</c> with Llama 2's tokenizer.json copied in).
/// </summary>
internal static class StructuredThroughputBench
{
    public sealed record Options(string Model, string SampleDir, int Requests, int InputLen, int OutputLen, int Rounds,
        int MaxNumSeqs, int BlockSize, int KvMib, int Threads, long Seed);

    private readonly record struct Round(string Kind, int Index, double Seconds, long Tokens, long Forced, double MaskWaitS, int Stopped, double MaskS, long Masks, int Length, int Other, string? FirstOther, double CpuS);

    public static int Run(Options o)
    {
        if (!Directory.Exists(o.SampleDir)) throw new UsageException($"--structured-sample '{o.SampleDir}': no such directory");
        using var stack = new EngineStack(o.Model, default, o.Threads, o.BlockSize, 0, (long)o.KvMib * 1024 * 1024, o.MaxNumSeqs,
            Math.Max(2048, o.MaxNumSeqs), prefixCaching: false, o.Seed);   // off: later rounds would find the prompts cached
        if (stack.Source.Tokenizer is null)
            throw new UsageException($"--structured-sample: model '{o.Model}' has no tokenizer, so it cannot take a structured output " +
                "(for b8: folio model init --shape b8 --out DIR, then copy Llama 2's tokenizer.json into DIR)");
        var engine = stack.Engine;
        var schemas = CompilableSchemas(engine, o.SampleDir, out int refused);
        if (schemas.Count == 0) throw new UsageException($"--structured-sample '{o.SampleDir}': no schema there compiles");
        var rng = new Random((int)o.Seed);
        int vocab = stack.Config.VocabSize;
        var prompts = Enumerable.Range(0, o.Requests)
            .Select(_ => Enumerable.Range(0, o.InputLen).Select(_ => rng.Next(3, vocab)).ToArray()).ToArray();

        var rounds = new List<Round>();
        int[] lengths = [];
        for (int r = 0; r < o.Rounds; r++)
        {
            // Order rotated: C U, U C, C U, ... (the first round must be constrained: it gives the lengths).
            bool constrainedFirst = r % 2 == 0;
            for (int half = 0; half < 2; half++)
            {
                bool constrained = (half == 0) == constrainedFirst;
                if (constrained) rounds.Add(RunRound(stack, prompts, i => Constrained(schemas[i % schemas.Count], o), r, "constrained", out lengths));
                else
                {
                    int[] twin = lengths;
                    rounds.Add(RunRound(stack, prompts, i => Unconstrained(twin[i], o), r, "unconstrained", out _));
                }
            }
        }
        Print(o, stack, schemas.Count, refused, rounds);
        return ExitCodes.Ok;
    }

    private static SamplingParams Constrained(string schema, Options o) => new()
    {
        Temperature = 1.0f, TopP = 1.0f, Seed = o.Seed, MaxTokens = o.OutputLen,
        StructuredOutputs = new StructuredOutputs { Json = schema },
    };

    private static SamplingParams Unconstrained(int tokens, Options o) => new()
    {
        Temperature = 1.0f, TopP = 1.0f, Seed = o.Seed, MaxTokens = Math.Max(1, tokens), IgnoreEos = true,
    };

    private static Round RunRound(EngineStack stack, int[][] prompts, Func<int, SamplingParams> sampling, int index, string kind, out int[] lengths)
    {
        var engine = stack.Engine;
        long forced0 = engine.GetSchedulerStats().ForcedTokens;
        double wait0 = stack.Executor.MaskWaitSeconds, mask0 = stack.Executor.MaskTime.Seconds;
        long masks0 = stack.Executor.MaskTime.Masks;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var requests = prompts.Select((p, i) => engine.AddRequest(p, sampling(i))).ToArray();
        while (engine.HasUnfinished) engine.Step();
        double seconds = clock.Elapsed.TotalSeconds;
        // Process CPU time: less sensitive than wall time to other processes on a shared machine.
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        lengths = [.. requests.Select(r => r.Sequences[0].GeneratedTokens.Length)];
        // The sequence's reason (n = 1): a request's own is set only when it ends as a whole (abort, rejection).
        int stopped = requests.Count(r => r.Sequences[0].FinishReason == FinishReason.Stop);
        int length = requests.Count(r => r.Sequences[0].FinishReason == FinishReason.Length);
        var other = requests.Where(r => r.Sequences[0].FinishReason is not (FinishReason.Stop or FinishReason.Length)).ToList();
        string? firstOther = other.Count == 0 ? null : $"{other[0].Sequences[0].FinishReason}: {other[0].Sequences[0].StopReason ?? other[0].RejectReason}";
        return new(kind, index, seconds, lengths.Sum(l => (long)l), engine.GetSchedulerStats().ForcedTokens - forced0,
            stack.Executor.MaskWaitSeconds - wait0, stopped, stack.Executor.MaskTime.Seconds - mask0, stack.Executor.MaskTime.Masks - masks0,
            length, other.Count, firstOther, cpuSeconds);
    }

    /// <summary>The folder's schemas (MaskBench case files' <c>schema</c>, or bare schema files) that the engine admits;
    /// each is compiled here once, outside the timed rounds (a server compiles a schema once and caches it).</summary>
    private static List<string> CompilableSchemas(LlmEngine engine, string dir, out int refused)
    {
        var schemas = new List<string>();
        refused = 0;
        foreach (var f in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(f));
            string schema = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("schema", out var s)
                ? s.GetRawText() : doc.RootElement.GetRawText();
            try
            {
                engine.AddRequest([1, 2, 3], new SamplingParams { Temperature = 0, MaxTokens = 1, StructuredOutputs = new StructuredOutputs { Json = schema } });
                schemas.Add(schema);
            }
            catch (ArgumentException)
            {
                refused++;
            }
        }
        while (engine.HasUnfinished) engine.Step();   // also the warm-up (JIT, thread pool)
        return schemas;
    }

    private static void Print(Options o, EngineStack stack, int schemas, int refused, List<Round> rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"model {stack.Source.Name} on {stack.BackendName}; {o.Requests} requests of {o.InputLen} prompt tokens, up to {o.OutputLen} output tokens; {schemas} schemas from {o.SampleDir} ({refused} refused at admission, left out)"));
        Console.WriteLine("round kind           seconds   cpu s   tokens   tok/s  tok/cpu-s  forced  forced%  stop length other    masks  mask s  mask us/mask  mask wait s");
        foreach (var r in rounds)
            Console.WriteLine(string.Create(inv, $"{r.Index,5} {r.Kind,-13} {r.Seconds,8:F2} {r.CpuS,7:F2} {r.Tokens,8} {r.Tokens / r.Seconds,7:F1} {r.Tokens / r.CpuS,10:F1} {r.Forced,7} {100.0 * r.Forced / Math.Max(1, r.Tokens),7:F2}% {r.Stopped,5} {r.Length,6} {r.Other,5} {r.Masks,8} {r.MaskS,7:F2} {1e6 * r.MaskS / Math.Max(1, r.Masks),13:F1} {r.MaskWaitS,12:F3}"));
        foreach (var r in rounds.Where(r => r.FirstOther is not null))
            Console.WriteLine($"round {r.Index} {r.Kind}: {r.Other} requests ended otherwise, e.g. {r.FirstOther}");
        var c = rounds.Where(r => r.Kind == "constrained").ToList();
        var u = rounds.Where(r => r.Kind == "unconstrained").ToList();
        // Ratio per round (each unconstrained run against the constrained run whose lengths it copied), then overall.
        var ratios = rounds.GroupBy(r => r.Index).Select(g => g.First(x => x.Kind == "constrained").TokPerS() / g.First(x => x.Kind == "unconstrained").TokPerS()).ToList();
        Console.WriteLine(string.Create(inv, $"constrained   tok/s: {string.Join(" / ", c.Select(r => r.TokPerS().ToString("F1", inv)))}"));
        Console.WriteLine(string.Create(inv, $"unconstrained tok/s: {string.Join(" / ", u.Select(r => r.TokPerS().ToString("F1", inv)))}"));
        Console.WriteLine(string.Create(inv, $"constrained / unconstrained per round: {string.Join(" / ", ratios.Select(x => x.ToString("F3", inv)))} (median {Median(ratios):F3})"));
        var cpuRatios = rounds.GroupBy(r => r.Index).Select(g => g.First(x => x.Kind == "unconstrained").CpuS / g.First(x => x.Kind == "constrained").CpuS).ToList();
        Console.WriteLine(string.Create(inv, $"per CPU second, constrained / unconstrained per round: {string.Join(" / ", cpuRatios.Select(x => x.ToString("F3", inv)))} (median {Median(cpuRatios):F3})"));
        Console.WriteLine(string.Create(inv, $"fast-forward share (constrained rounds): {100.0 * c.Sum(r => r.Forced) / Math.Max(1, c.Sum(r => r.Tokens)):F2}% of output tokens"));
    }

    private static double TokPerS(this Round r) => r.Tokens / r.Seconds;

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count == 0 ? 0 : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
