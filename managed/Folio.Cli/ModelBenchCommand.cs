using System.Diagnostics;
using System.Globalization;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Cli;

/// <summary>
/// The model path of <c>folio bench</c> (<see cref="BenchCommand"/>), <c>folio bench --model DIR|tiny</c>: offline throughput like <c>vllm bench throughput</c>: every request
/// submitted at once with random token-id prompts, EOS ignored, fixed output lengths; prints requests/s,
/// output and total tokens/s, mean batch size, KV utilization, prefix hit rate and preemptions.
/// </summary>
public static class ModelBenchCommand
{
    internal static int Run(string modelName, int numRequests, int inputLen, int outputLen, bool shareGpt, int maxNumSeqs,
        int blockSize, int kvMib, int threads, bool asJson, long seed, bool measureBandwidth,
        Folio.Core.Compute.WeightQuantization quantization = Folio.Core.Compute.WeightQuantization.None,
        DeviceSelection device = default, int maxBatchedTokens = 0, int sharedPrefix = 0, bool prefixCaching = true,
        IReadOnlyList<(int Input, int Output)>? lengths = null, bool mapWeights = true, DType kvCacheType = DType.F32)
    {
        var loadClock = Stopwatch.StartNew();
        // kvMib 0: the backend's default budget (on a GPU, what its memory share leaves after weights and activations).
        var stack = DeviceErrors.OpenOrUsageError(device, () => new EngineStack(modelName, device, threads, blockSize, 0,
            (long)kvMib * 1024 * 1024, maxNumSeqs, maxBatchedTokens > 0 ? maxBatchedTokens : Math.Max(DefaultTokenBudget(device), maxNumSeqs),
            prefixCaching, seed, quantization, mapWeights, kvCacheType));
        // Start-up's first part: source, weights read and uploaded, KV cache allocated (warm-up and captures follow).
        double loadSeconds = loadClock.Elapsed.TotalSeconds;
        using (stack)
        {
            var config = stack.Config;
            var rng = new Random((int)seed);
            var work = new List<(int[] Prompt, int Output)>();
            // B7: every prompt begins with the same sharedPrefix tokens (a few-shot preamble), then its own input.
            int[] preamble = Enumerable.Range(0, sharedPrefix).Select(_ => rng.Next(0, config.VocabSize)).ToArray();
            if (lengths is not null)
                numRequests = lengths.Count;
            for (int i = 0; i < numRequests; i++)
            {
                int inLen = lengths?[i].Input ?? (shareGpt ? LogNormalLength(rng, 161.31, 1024) : inputLen);
                int outLen = lengths?[i].Output ?? (shareGpt ? LogNormalLength(rng, 337.99, 1024) : outputLen);
                int[] prompt = [.. preamble, .. Enumerable.Range(0, inLen).Select(_ => rng.Next(0, config.VocabSize))];
                if (PromptLimits.Check(config, prompt, outLen) is { } problem)
                    throw new UsageException($"request {i}: {problem}");
                work.Add((prompt, outLen));
            }
            var engine = stack.Engine;
            // Warm-up, excluded from the timing, in the workload's own shapes: the first requests' prompt lengths (up to
            // the running-sequence cap, at most 64) with 3 output tokens each, so the timed steps' kernel paths (the
            // prompt step's rows, a full decode batch) are compiled and their buffers sized before the clock starts. The
            // JIT compiles a method at its first call: after the former 8-token warm-up, b8's timed 128-token prompt step
            // took ~104 ms against ~67 ms warm (bench/RESULTS.md); llama-bench warms up on its test's shape too. Fresh
            // random tokens, so no timed prompt finds a warm-up block in the prefix cache.
            var warmRng = new Random(unchecked((int)seed * 31 + 7));
            foreach (var (prompt, _) in work.Take(Math.Clamp(maxNumSeqs, 1, 64)))
                engine.AddRequest(Enumerable.Range(0, prompt.Length).Select(_ => warmRng.Next(0, config.VocabSize)).ToArray(),
                    new SamplingParams { Temperature = 1.0f, TopP = 1.0f, Seed = seed, MaxTokens = 3, IgnoreEos = true });
            while (engine.HasUnfinished)
                engine.Step();
            // The read bound is probed on both sides of the timed run and taken from their mean: a machine whose memory
            // bandwidth drifts (a shared VM read 35 GB/s before one 64-token run and 56 after it, bench/RESULTS.md) is then measured across the
            // run, not only at its end.
            var cpu = stack.CpuBackend;
            // One probe, kept until after the run: its buffer is freed then, not while the timed steps run.
            var probe = measureBandwidth && cpu is not null ? new Folio.Cpu.MemoryBandwidth(cpu.Threads) : null;
            double bandwidthBefore = probe?.MeasureReadGBps() ?? 0;
            long steps0 = stack.Executor.NumSteps, seqs0 = stack.Executor.NumSequencesComputed;
            long preempt0 = engine.GetSchedulerStats().Preemptions;
            var kv0 = engine.GetKvStats();   // the prefix hit rate is the timed requests' own

            foreach (var (prompt, output) in work)
                engine.AddRequest(prompt, new SamplingParams { Temperature = 1.0f, TopP = 1.0f, Seed = seed, MaxTokens = output, IgnoreEos = true });
            long totalOutput = work.Sum(w => (long)w.Output), totalInput = work.Sum(w => (long)w.Prompt.Length);
            bool progress = !asJson && !Console.IsErrorRedirected;
            double utilizationSum = 0;
            long generated = 0, decodeTokens = 0, prefillTokens = 0;
            double decodeSeconds = 0, decodeGpuSeconds = 0, prefillSeconds = 0;
            long decodeSteps = 0;
            var gpu = stack.CudaBackend;
            var clock = Stopwatch.StartNew();
            while (engine.HasUnfinished)
            {
                double before = clock.Elapsed.TotalSeconds;
                long stepTokens = 0;
                foreach (var u in engine.Step())
                    if (u.Sequence is not null)
                        stepTokens += u.NumNewTokens;
                generated += stepTokens;
                if (stack.Executor.LastStepPrefillTokens == 0)
                {
                    // Pure decode steps: what B8 measures (prompt processing excluded).
                    decodeSeconds += clock.Elapsed.TotalSeconds - before;
                    decodeTokens += stepTokens;
                    decodeGpuSeconds += gpu?.LastStepGpuSeconds ?? 0;
                    decodeSteps++;
                }
                else
                {
                    // Steps with prompt tokens: prompt tokens/s (llama-bench's pp128 when one 128-token prompt
                    // runs: its one step is all prompt; with many requests a step may also carry decode rows).
                    prefillSeconds += clock.Elapsed.TotalSeconds - before;
                    prefillTokens += stack.Executor.LastStepPrefillTokens;
                }
                utilizationSum += engine.GetKvStats().UtilizationPct;
                if (progress)
                    Console.Error.Write($"\r{Bar(generated, totalOutput)} {generated}/{totalOutput} tokens");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (progress)
                Console.Error.WriteLine();
            long steps = stack.Executor.NumSteps - steps0;
            var kv = engine.GetKvStats();
            var result = new BenchResult(
                RequestsPerS: numRequests / seconds,
                OutputTokensPerS: totalOutput / seconds,
                TotalTokensPerS: (totalInput + totalOutput) / seconds,
                MeanBatch: steps == 0 ? 0 : (double)(stack.Executor.NumSequencesComputed - seqs0) / steps,
                KvUtilizationPct: steps == 0 ? 0 : utilizationSum / steps,
                PrefixHitRate: kv.PrefixQueryTokens == kv0.PrefixQueryTokens ? 0
                    : (double)(kv.PrefixHitTokens - kv0.PrefixHitTokens) / (kv.PrefixQueryTokens - kv0.PrefixQueryTokens),
                Preemptions: engine.GetSchedulerStats().Preemptions - preempt0);
            double decodePerS = decodeSeconds > 0 ? decodeTokens / decodeSeconds : 0;
            // The device's share of the decode steps' wall time (CUDA events around each step's work): the rest is
            // the host scheduling, sampling bookkeeping and output processing while the GPU waits.
            double gpuBusyPct = gpu is not null && decodeSeconds > 0 ? 100 * decodeGpuSeconds / decodeSeconds : 0;
            double prefillPerS = prefillSeconds > 0 ? prefillTokens / prefillSeconds : 0;
            // Bytes of weights one decode step reads: every MatMul weight as stored (scales included), plus the
            // fp32 norm weights; the embedding table is read only at its rows.
            long weightBytes = cpu is null ? 0 : cpu.WeightBytes + (2L * config.NumLayers + 1) * config.HiddenSize * sizeof(float);
            string precision = cpu is null ? stack.CudaBackend!.ActivationType.ToString().ToLowerInvariant() : Precision(cpu);
            string kernels = cpu is null ? "cuBLASLt" : string.Join("; ", cpu.WeightKernels.Order(StringComparer.Ordinal));
            // And the cached keys and values a batch-1 decode step attends over: its context is the prompt plus the
            // tokens generated so far, input + j − 1 positions for output token j = 2 .. output (token 1 comes from
            // the prompt step), input + output / 2 on average, every layer's K and V rows of every KV head.
            double meanContext = work.Count == 0 ? 0 : work.Average(w => w.Prompt.Length + w.Output / 2.0);
            long kvBytesPerStep = cpu is null ? 0
                : (long)(meanContext * 2L * config.NumLayers * config.NumKvHeads * config.HeadDim * (kvCacheType == DType.BF16 ? 2 : 4));
            double bandwidthAfter = probe?.MeasureReadGBps() ?? 0;
            double bandwidthGBps = (bandwidthBefore + bandwidthAfter) / 2;
            double boundPerS = weightBytes > 0 ? bandwidthGBps * 1e9 / (weightBytes + kvBytesPerStep) : 0;
            var inv = CultureInfo.InvariantCulture;
            var profile = stack.CudaProfile;
            // After the run (its largest steps and every graph captured): what the process and others hold on the
            // device, to compare with utilization × total.
            var memory = gpu is not null ? Folio.Cuda.DeviceMemoryInfo.Query() : default;
            if (asJson)
            {
                Console.WriteLine(string.Create(inv,
                    $"{{\"requests_per_s\": {result.RequestsPerS:F3}, \"output_tokens_per_s\": {result.OutputTokensPerS:F2}, \"total_tokens_per_s\": {result.TotalTokensPerS:F2}, \"mean_batch\": {result.MeanBatch:F2}, \"kv_utilization_pct\": {result.KvUtilizationPct:F2}, \"prefix_hit_rate\": {result.PrefixHitRate:F4}, \"preemptions\": {result.Preemptions}, \"decode_tokens_per_s\": {decodePerS:F2}, \"prefill_tokens_per_s\": {prefillPerS:F2}, \"bandwidth_gb_s\": {bandwidthGBps:F2}, \"bandwidth_before_gb_s\": {bandwidthBefore:F2}, \"bandwidth_after_gb_s\": {bandwidthAfter:F2}, \"bound_tokens_per_s\": {boundPerS:F2}, \"precision\": \"{precision}\", \"weight_bytes\": {weightBytes}, \"kv_read_bytes_per_step\": {kvBytesPerStep}, \"kernels\": \"{kernels}\", \"decode_gpu_busy_pct\": {gpuBusyPct:F1}, \"cuda_graphs\": {(gpu?.GraphsEnabled == true ? "true" : "false")}, \"graphed_steps\": {stack.Executor.NumGraphedSteps}, \"load_seconds\": {loadSeconds:F3}, \"kv_blocks\": {stack.NumBlocks}, \"kv_cache_dtype\": \"{(kvCacheType == DType.BF16 ? "bf16" : "fp32")}\", \"activation_peak_mib\": {Mib(profile?.PeakBytes)}, \"activation_held_mib\": {Mib(profile?.HeldBytes)}, \"decode_workspace_mib\": {Mib(profile?.DecodeWorkspaceBytes)}, \"device_used_mib_after\": {Mib(gpu is null ? null : memory.TotalBytes - memory.FreeBytes)}, \"device_total_mib\": {Mib(gpu is null ? null : memory.TotalBytes)}}}"));
            }
            else
            {
                Console.WriteLine(string.Create(inv, $"model {stack.Source.Name} ({config.ParameterCount() / 1e6:F1}M parameters, {precision} weights: {kernels}) on {stack.BackendName}; {numRequests} requests, {totalInput} prompt + {totalOutput} output tokens, {seconds:F2} s"));
                Console.WriteLine(string.Create(inv, $"model load        {loadSeconds:F2} s (weights read and placed, KV cache allocated)"));
                Console.WriteLine(string.Create(inv, $"requests/s        {result.RequestsPerS:F3}"));
                Console.WriteLine(string.Create(inv, $"output tokens/s   {result.OutputTokensPerS:F2}"));
                Console.WriteLine(string.Create(inv, $"total tokens/s    {result.TotalTokensPerS:F2}"));
                Console.WriteLine(string.Create(inv, $"mean batch        {result.MeanBatch:F2}"));
                Console.WriteLine(string.Create(inv, $"KV utilization    {result.KvUtilizationPct:F2} % ({stack.NumBlocks} blocks of {stack.BlockSizeTokens})"));
                if (profile is { } p)
                    Console.WriteLine(string.Create(inv, $"KV cache sizing   largest step ({p.Tokens} tokens, {p.Sequences} sequences) measured at {Mib(p.PeakBytes)} MiB, {Mib(p.HeldBytes)} MiB of it kept by the backend; decode workspace {Mib(p.DecodeWorkspaceBytes)} MiB"));
                Console.WriteLine(string.Create(inv, $"prefix hit rate   {result.PrefixHitRate:P2}"));
                Console.WriteLine(string.Create(inv, $"preemptions       {result.Preemptions}"));
                Console.WriteLine(string.Create(inv, $"decode tokens/s   {decodePerS:F2} (pure decode steps)"));
                if (gpu is not null)
                    Console.WriteLine(string.Create(inv, $"CUDA graphs       {(gpu.GraphsEnabled ? "on" : "off")}: {stack.Executor.NumGraphedSteps} of {steps} steps replayed or captured, {gpu.GraphsCaptured} captures"));
                if (gpu is not null)
                    Console.WriteLine(string.Create(inv, $"GPU busy          {gpuBusyPct:F1} % of the decode steps' wall time ({1000 * decodeGpuSeconds / Math.Max(1, decodeSteps):F3} ms of device time, {1000 * decodeSeconds / Math.Max(1, decodeSteps):F3} ms of wall time per decode step)"));
                Console.WriteLine(string.Create(inv, $"prompt tokens/s   {prefillPerS:F2} (steps with prompt tokens)"));
                if (measureBandwidth)
                    Console.WriteLine(string.Create(inv, $"read bandwidth    {bandwidthGBps:F2} GB/s (before the run {bandwidthBefore:F2}, after {bandwidthAfter:F2}) -> decode bound {boundPerS:F2} steps/s ({weightBytes / 1e6:F0} MB of weights + {kvBytesPerStep / 1e6:F1} MB of KV cache at the mean batch-1 context per step); batch-1 decode at {100 * decodePerS / boundPerS:F0} % of it"));
            }
        }
        return ExitCodes.Ok;
    }

    private static string Mib(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "null";

    /// <summary>What the MatMul weights are stored as: int8 when quantized, else the checkpoint's type(s).</summary>
    private static string Precision(Folio.Cpu.CpuBackend cpu) =>
        cpu.Quantization != Folio.Core.Compute.WeightQuantization.None
            ? cpu.Quantization.Name()
            : string.Join("+", cpu.WeightKernels.SelectMany(k => k.Split(' ')[0].Split('+')).Distinct().Order(StringComparer.Ordinal));

    private readonly record struct BenchResult(double RequestsPerS, double OutputTokensPerS, double TotalTokensPerS, double MeanBatch,
        double KvUtilizationPct, double PrefixHitRate, long Preemptions);

    /// <summary>The step's token budget when none is given: 8,192 on a GPU (a throughput run, as vLLM's offline default:
    /// 256 prompts of 256 tokens are admitted in 8 steps, not 32, so the decode batch stays full; measured on the H100
    /// in bench/RESULTS.md), 2,048 on the CPU (whose prefill is slow enough that a smaller chunk keeps decodes going).</summary>
    internal static int DefaultTokenBudget(DeviceSelection device) => device.Cuda ? 8192 : 2048;

    /// <summary>The requests of <c>--dataset FILE</c>: one "input output" pair of token counts per line (the same lengths
    /// a baseline run reads, as bench/e2e.py does for HF).</summary>
    internal static List<(int Input, int Output)> ReadLengths(string path)
    {
        var result = new List<(int, int)>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (text.Trim().Length == 0)
                continue;
            string[] parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int input) ||
                !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int output) || input < 1 || output < 1)
                throw new UsageException($"--dataset {path}: line {line} must be two positive token counts, 'input output'");
            result.Add((input, output));
        }
        if (result.Count == 0)
            throw new UsageException($"--dataset {path}: no requests");
        return result;
    }

    /// <summary>A length with the given mean from a log-normal (σ = 1, as conversation lengths are heavy-tailed), in [4, cap].</summary>
    private static int LogNormalLength(Random rng, double mean, int cap)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        double mu = Math.Log(mean) - 0.5;   // E[lognormal(mu, 1)] = exp(mu + 1/2)
        return (int)Math.Clamp(Math.Exp(mu + normal), 4, cap);
    }

    private static string Bar(long done, long total)
    {
        const int Width = 30;
        int filled = total == 0 ? Width : (int)(Width * done / total);
        return "[" + new string('#', filled) + new string('.', Width - filled) + "]";
    }
}
