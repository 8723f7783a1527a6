using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>cpu-step MODEL [THREADS] [none|int8|int4] [ROUNDS] [PHASES]</c>: where a CPU forward pass spends its time. Loads MODEL
/// (a folder or built-in name) on <see cref="CpuBackend"/> behind <see cref="TimedBackend"/>, then times three
/// phases as <c>folio bench --requests 32 --input-len 128 --output-len 32</c> and llama-bench's pp128 run them:
/// 32 prompts of 128 tokens prefilled 16 at a time (2,048-row steps), 32 decode steps of 32 sequences (contexts
/// 129-160), one 128-token prompt alone (pp128), and 32 decode steps of one sequence, each ROUNDS times (the KV slots are rewritten, not grown).
/// Per phase: the median step's wall ms and tokens/s, and each op's share of the summed op time, with the GEMMs'
/// GFLOP/s per MatMul shape. PHASES: a comma-separated subset of prefill,decode32,pp128,decode1 (a decode phase
/// runs the prefill it reads first, once and untimed unless that phase is asked for too).
/// </summary>
internal static class CpuStepBenchmark
{
    private const int Sequences = 32, Prompt = 128, Generated = 32, BlockSize = 16;

    public static void Run(string model, int threads, WeightQuantization quantization, int rounds, string phases = "prefill,decode32,pp128,decode1",
        DType kvCacheType = DType.F32)
    {
        var wanted = phases.Split(',');
        using var source = ModelSource.Open(model, 0);
        var timed = new TimedBackend(new CpuBackend(threads, quantization, kvCacheType: kvCacheType));
        using var _ = timed;
        var dm = DecoderModel.Load(source.Config, source.Weights, timed);
        int blocksPerSequence = (Prompt + Generated + BlockSize - 1) / BlockSize;
        var cache = dm.CreateKvCache((Sequences + 1) * blocksPerSequence, BlockSize);
        int vocab = source.Config.VocabSize;
        var logits = new float[Sequences * vocab];
        Console.WriteLine($"{model}: {timed.Name}, {quantization}, {rounds} rounds; {DateTime.UtcNow:u}");

        var prefill = new List<ModelInput>();
        for (int first = 0; first < Sequences; first += 16)
            prefill.Add(Input(Enumerable.Range(first, 16).Select(s => (s, 0, Prompt)).ToArray(), blocksPerSequence, vocab));
        var decode = Enumerable.Range(0, Generated)
            .Select(d => Input(Enumerable.Range(0, Sequences).Select(s => (s, Prompt + d, 1)).ToArray(), blocksPerSequence, vocab))
            .ToArray();
        var pp128 = Input([(Sequences, 0, Prompt)], blocksPerSequence, vocab);
        var single = Enumerable.Range(0, Generated).Select(d => Input([(0, Prompt + d, 1)], blocksPerSequence, vocab)).ToArray();

        if (wanted.Contains("prefill"))
            Phase("prefill, 16 prompts of 128 per step", prefill, 16 * Prompt);
        else if (wanted.Contains("decode32"))   // decode32 reads the K/V the prefill writes: run it once, untimed
            foreach (var step in prefill)
                dm.Forward(step, cache, logits.AsSpan(0, step.NumLogitRows * vocab));
        if (wanted.Contains("decode32"))
            Phase("decode, 32 sequences (contexts 129-160)", decode, Sequences);
        if (wanted.Contains("pp128") || wanted.Contains("decode1"))
            Phase("pp128, one prompt of 128", [pp128], Prompt);
        if (wanted.Contains("decode1"))
            Phase("decode, 1 sequence (contexts 129-160)", single, 1);

        void Phase(string name, IReadOnlyList<ModelInput> steps, int tokensPerStep)
        {
            foreach (var step in steps)   // warm-up (tier-1 JIT), and the K/V the later steps read
                dm.Forward(step, cache, logits.AsSpan(0, step.NumLogitRows * vocab));
            timed.Reset();
            timed.Enabled = true;
            var wall = new List<double>();
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            for (int r = 0; r < rounds; r++)
                foreach (var step in steps)
                {
                    long t = Stopwatch.GetTimestamp();
                    dm.Forward(step, cache, logits.AsSpan(0, step.NumLogitRows * vocab));
                    wall.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
            process.Refresh();
            double cpuPerStep = (process.TotalProcessorTime - cpu0).TotalMilliseconds / wall.Count;
            timed.Enabled = false;
            var sorted = wall.Order().ToArray();
            double median = sorted[sorted.Length / 2];
            Console.WriteLine($"\n{name}: step wall ms median {median:F2} (min {sorted[0]:F2}, max {sorted[^1]:F2}), " +
                $"{tokensPerStep / median * 1e3:F0} tok/s at the median; process CPU ms per step {cpuPerStep:F2}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            double total = timed.Totals.Values.Sum(v => (double)v.Ticks);
            foreach (var (op, (ticks, calls)) in timed.Totals.OrderByDescending(kv => kv.Value.Ticks))
            {
                double ms = ticks * 1e3 / Stopwatch.Frequency / wall.Count;
                string flops = "";
                if (op.StartsWith("MatMul [", StringComparison.Ordinal))
                {
                    var dims = op["MatMul [".Length..^1].Split(", ").Select(long.Parse).ToArray();
                    long rows = dims[0] == vocab ? steps[0].NumLogitRows : steps[0].NumRows;   // lm_head runs on the logits rows
                    double perCall = ticks / (double)Stopwatch.Frequency / calls;
                    flops = $"  {2.0 * rows * dims[0] * dims[1] / perCall / 1e9,7:F1} GFLOP/s";
                }
                Console.WriteLine($"  {op,-24} {ms,8:F2} ms/step {100 * ticks / total,5:F1} %  {calls / wall.Count,3} calls/step{flops}");
            }
        }
    }

    /// <summary>A step in which each (sequence, first position, tokens) appends tokens; sequence s owns blocks
    /// s × blocksPerSequence onward; logits for each sequence's last row.</summary>
    private static ModelInput Input((int Sequence, int Start, int Count)[] work, int blocksPerSequence, int vocab)
    {
        var tokens = new List<int>();
        var positions = new List<int>();
        var slots = new List<long>();
        var starts = new List<int> { 0 };
        var contexts = new List<int>();
        var logitRows = new List<int>();
        var tables = new int[work.Length * blocksPerSequence];
        for (int i = 0; i < work.Length; i++)
        {
            var (s, start, count) = work[i];
            for (int j = 0; j < count; j++)
            {
                int p = start + j;
                tokens.Add((int)((uint)(s * 7919 + p * 104729) % (uint)vocab));
                positions.Add(p);
                slots.Add((long)(s * blocksPerSequence + p / BlockSize) * BlockSize + p % BlockSize);
            }
            logitRows.Add(tokens.Count - 1);
            starts.Add(tokens.Count);
            contexts.Add(start + count);
            for (int b = 0; b < blocksPerSequence; b++)
                tables[i * blocksPerSequence + b] = s * blocksPerSequence + b;
        }
        return new ModelInput
        {
            TokenIds = [.. tokens],
            Positions = [.. positions],
            SlotMapping = [.. slots],
            Attention = new AttentionBatch
            {
                QueryStarts = [.. starts],
                ContextLengths = [.. contexts],
                BlockTables = tables,
                BlockTableStride = blocksPerSequence,
            },
            LogitRows = [.. logitRows],
        };
    }
}
