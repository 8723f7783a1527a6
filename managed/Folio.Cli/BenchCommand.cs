using System.CommandLine;
using System.Text.Json;
using Folio.Cli.Bench;
using Folio.Core.KvCache;
using Folio.Core.Scheduling;
using Spectre.Console;

namespace Folio.Cli;

/// <summary>
/// <c>folio bench [--model DIR|tiny|b8 …]</c>: offline throughput of a real model on the CPU (the default, see
/// <see cref="ModelBenchCommand"/>); with <c>--executor fake</c>, <c>folio bench --executor fake --max-num-seqs N [--requests R] [--n 4 | --beam-width W] [--json]</c>: benchmark
/// B4, the engine step's overhead and memory sharing (see <see cref="BenchRunner"/>); with <c>--server</c>, B10, what
/// <c>folio serve</c> adds over the engine alone (see <see cref="ServerOverheadBench"/>).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var executor = new Option<string>("--executor") { Description = "Model executor: fake (a deterministic stand-in).", DefaultValueFactory = _ => "fake" };
        var verify = new Option<bool>("--verify") { Description = "Fake executor: simulate the K/V per slot and check every plan (slower)." };
        var maxNumSeqs = new Option<int>("--max-num-seqs") { Description = "Cap on running sequences.", DefaultValueFactory = _ => new SchedulerOptions().MaxNumSeqs };
        var maxBatched = new Option<int>("--max-num-batched-tokens") { Description = "Token budget per step (default 8192 for the fake executor and --device cuda: a throughput run, as vLLM's benchmarks raise it; 2048 for a model on the CPU).", DefaultValueFactory = _ => 8192 };
        var blockSize = new Option<int>("--block-size") { Description = "Tokens per KV block.", DefaultValueFactory = _ => KvCacheOptions.DefaultBlockSizeTokens };
        var gpuBlocks = new Option<int>("--gpu-blocks") { Description = "GPU KV blocks (0 = sized for the workload)." };
        var cpuBlocks = new Option<int>("--cpu-blocks") { Description = "CPU swap blocks (0 = no swapping)." };
        var noPrefix = new Option<bool>("--no-prefix-caching") { Description = "Turn automatic prefix caching off." };
        var requests = new Option<int>("--requests") { Description = "Requests in the workload (0 = 60 × max-num-seqs / width)." };
        var n = new Option<int>("--n") { Description = "Parallel samples per request.", DefaultValueFactory = _ => 1 };
        var beam = new Option<int>("--beam-width") { Description = "Beam search with this many beams (0 = off)." };
        var promptLen = new Option<int>("--prompt-len") { Description = "Mean prompt length (Alpaca-like lengths, docs/SIMULATOR.md; 19).", DefaultValueFactory = _ => 19 };
        var outputLen = new Option<int>("--output-len") { Description = "Mean output length (Alpaca-like lengths; 58).", DefaultValueFactory = _ => 58 };
        var sharedPrefix = new Option<int>("--shared-prefix") { Description = "Tokens of a system prompt shared by every prompt (prefix-cache hits; the model path puts them before --input-len tokens of its own); 0 = none." };
        var seed = new Option<int>("--seed") { Description = "Workload seed.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        // The real-model path (issue 4): taken unless --executor is given.
        var model = new Option<string>("--model") { Description = "Model: a Hugging Face folder, a GGUF file or built-in (tiny, b8, llama-1b, llama-8b; also as builtin:NAME; an existing folder of that name wins).", DefaultValueFactory = _ => "tiny" };
        var device = DeviceOption.CreateDevice();
        var dtype = DeviceOption.CreateDtype();
        var noGraphs = DeviceOption.CreateNoGraphs();
        var inputLen = new Option<int>("--input-len") { Description = "Model path: prompt tokens per request.", DefaultValueFactory = _ => 128 };
        var dataset = new Option<string?>("--dataset") { Description = "Model path: sharegpt-like lengths (161 in / 338 out on average), or a file of 'input output' token counts, one request per line." };
        var kvMib = new Option<int>("--kv-mib") { Description = "Model path: KV cache size in MiB (0: on a GPU, what --device cuda's memory share leaves).", DefaultValueFactory = _ => 1024 };
        var threads = new Option<int>("--threads") { Description = "Model path: CPU threads (0 = all cores)." };
        var quantization = QuantizationOption.Create();
        var noMmap = QuantizationOption.CreateNoMmap();
        var kvCacheDtype = QuantizationOption.CreateKvCacheDtype();
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Model path: also measure memory read bandwidth and the decode bound." };
        // Benchmark B9 (issue 17): MaskBench over a folder of cases.
        var structured = new Option<string?>("--structured") { Description = "MaskBench: run every case file in this folder (structured output, B9)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "MaskBench: the tokenizer.json to tokenize instances with (Llama 3.1's)." };
        var limit = new Option<int>("--limit") { Description = "MaskBench: only the first N case files (sorted by name); 0 = all." };
        var verboseFailures = new Option<bool>("--failures") { Description = "MaskBench: print each failing case to stderr." };
        var slowest = new Option<int>("--slowest") { Description = "MaskBench: also print the N slowest masks and first masks with their parse states and the trie walks they built." };
        // Issue 17's throughput criterion: constrained vs unconstrained requests on a model with a tokenizer.
        var structuredSample = new Option<string?>("--structured-sample") { Description = "Model path: run the same requests constrained (JSON schemas from this folder, cycled) and unconstrained, alternately for --rounds rounds (default 256 requests)." };
        // Benchmark B10 (issue 15): folio serve over the fake model against the engine alone.
        var server = new Option<bool>("--server") { Description = "B10: streamed tokens/s and TTFT of folio serve over the fake model vs the engine alone (--clients, --requests, --output-len, --rounds)." };
        var clients = new Option<int>("--clients") { Description = "B10: concurrent streaming clients.", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int>("--rounds") { Description = "B10: rounds (engine alone and HTTP alternately in each).", DefaultValueFactory = _ => 3 };
        var rate = new Option<double>("--rate") { Description = "B10: also an open-loop phase of requests arriving at this rate per second (TTFT at that offered load; 0 = none).", DefaultValueFactory = _ => 400 };

        var command = new Command("bench", "Benchmark the engine step (scheduler + KV cache + executor) on a closed-loop workload.");
        foreach (var option in new Option[] { executor, verify, maxNumSeqs, maxBatched, blockSize, gpuBlocks, cpuBlocks, noPrefix, requests, n, beam, promptLen, outputLen, sharedPrefix, seed, json, model, device, dtype, noGraphs, inputLen, dataset, kvMib, threads, quantization, noMmap, kvCacheDtype, bandwidth, structured, tokenizer, limit, verboseFailures, slowest, structuredSample, server, clients, rounds, rate })
            command.Options.Add(option);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(server))
            {
                int c = parsed.GetValue(clients);
                return ServerOverheadBench.Run(new ServerOverheadBench.Options(c, parsed.GetValue(requests) is > 0 and var r ? r : 10 * c,
                    parsed.GetResult(outputLen) is { Implicit: false } ? parsed.GetValue(outputLen) : 64, 200, parsed.GetValue(rounds), parsed.GetValue(rate)));
            }
            if (parsed.GetValue(structured) is { } dir)
                return StructuredBenchCommand.Run(dir, parsed.GetValue(tokenizer), parsed.GetValue(limit), parsed.GetValue(json), parsed.GetValue(verboseFailures), parsed.GetValue(slowest));
            if (parsed.GetValue(structuredSample) is { } sampleDir)
            {
                int output = parsed.GetResult(outputLen) is { Implicit: false } ? parsed.GetValue(outputLen) : 64;
                return StructuredThroughputBench.Run(new StructuredThroughputBench.Options(parsed.GetValue(model)!, sampleDir,
                    parsed.GetValue(requests) is > 0 and var sr ? sr : 256, parsed.GetValue(inputLen), output, Math.Max(1, parsed.GetValue(rounds)),
                    parsed.GetValue(maxNumSeqs), parsed.GetValue(blockSize), parsed.GetValue(kvMib), parsed.GetValue(threads), parsed.GetValue(seed)));
            }
            if (parsed.GetResult(executor) is not { Implicit: false })
            {
                var selection = DeviceOption.Parse(parsed.GetValue(device), parsed.GetValue(dtype), parsed.GetValue(noGraphs));
                List<(int Input, int Output)>? lengths = null;
                if (parsed.GetValue(dataset) is { } d && d != "sharegpt-like")
                    lengths = File.Exists(d) ? ModelBenchCommand.ReadLengths(d)
                        : throw new UsageException($"--dataset '{d}': only sharegpt-like is known, or an existing file of 'input output' lengths");
                int modelRequests = parsed.GetValue(requests) is > 0 and var given ? given : 32;
                int modelOutput = parsed.GetResult(outputLen) is { Implicit: false } ? parsed.GetValue(outputLen) : 64;
                if (parsed.GetValue(inputLen) < 1 || modelOutput < 1)
                    throw new UsageException("--input-len and --output-len must be at least 1");
                return ModelBenchCommand.Run(parsed.GetValue(model)!, modelRequests, parsed.GetValue(inputLen), modelOutput,
                    parsed.GetValue(dataset) == "sharegpt-like", parsed.GetValue(maxNumSeqs), parsed.GetValue(blockSize), parsed.GetValue(kvMib),
                    parsed.GetValue(threads), parsed.GetValue(json), parsed.GetValue(seed), parsed.GetValue(bandwidth),
                    QuantizationOption.Parse(parsed.GetValue(quantization)), selection,
                    parsed.GetResult(maxBatched) is { Implicit: false } ? parsed.GetValue(maxBatched) : 0,
                    Math.Max(0, parsed.GetValue(sharedPrefix)), !parsed.GetValue(noPrefix), lengths, !parsed.GetValue(noMmap),
                    QuantizationOption.ParseKvCacheDtype(parsed.GetValue(kvCacheDtype)));
            }
            var options = new BenchOptions
            {
                Executor = parsed.GetValue(executor) ?? "fake",
                Verify = parsed.GetValue(verify),
                MaxNumSeqs = parsed.GetValue(maxNumSeqs),
                MaxNumBatchedTokens = parsed.GetValue(maxBatched),
                BlockSizeTokens = parsed.GetValue(blockSize),
                GpuBlocks = parsed.GetValue(gpuBlocks),
                CpuBlocks = parsed.GetValue(cpuBlocks),
                PrefixCaching = !parsed.GetValue(noPrefix),
                Requests = parsed.GetValue(requests),
                N = parsed.GetValue(n),
                BeamWidth = parsed.GetValue(beam),
                PromptLenMean = parsed.GetValue(promptLen),
                OutputLenMean = parsed.GetValue(outputLen),
                Seed = parsed.GetValue(seed),
                SharedPrefixLen = parsed.GetValue(sharedPrefix),
                Json = parsed.GetValue(json),
            };
            var result = RunWithProgress(options);
            if (options.Json)
                Console.WriteLine(JsonSerializer.Serialize(result, BenchJsonContext.Default.BenchResult));
            else
                PrintText(result);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static BenchResult RunWithProgress(BenchOptions options)
    {
        // A progress bar only for a person at a terminal; never in JSON mode or when piped.
        if (options.Json || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return BenchRunner.Run(options);
        BenchResult? result = null;
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("bench", maxValue: 1.0);
            result = BenchRunner.Run(options, fraction => task.Value = fraction);
        });
        return result!;
    }

    private static void PrintText(BenchResult r)
    {
        string mode = r.BeamWidth > 0 ? $"beam width {r.BeamWidth}" : $"n = {r.N}";
        Console.WriteLine($"executor {r.Executor}, max_num_seqs {r.MaxNumSeqs}, {mode}, {r.Requests} requests, {r.GpuBlocks} GPU blocks of {r.BlockSizeTokens} tokens, prefix caching {(r.PrefixCaching ? "on" : "off")}");
        if (!r.SteadyStateMeasured)
        {
            // Zeros here would read as a (very fast) measurement; there was none.
            Console.WriteLine($"nothing to measure: no step was steady ({r.Requests} requests never kept {r.MaxNumSeqs} sequences running " +
                "with more waiting); give more --requests (the default is 60 × max-num-seqs / width)");
        }
        else
        {
            string running = r.MemoryMeasured ? $"{r.RunningSeqs:F0} sequences per step" : "sequences per step not measured (no steady step after the initial fill)";
            Console.WriteLine($"steady state: {r.SteadySteps} steps ({r.MemorySteps} after the initial fill left, for memory), {running}");
            Console.WriteLine($"  steps/s            {r.StepsPerS:F0}");
            Console.WriteLine($"  us/step            {r.UsPerStep:F1} (p50 {r.UsPerStepP50:F1}; process CPU {r.CpuUsPerStep:F1})");
            Console.WriteLine($"    schedule {r.ScheduleUsPerStep:F1}, execute ({r.Executor}) {r.ExecuteUsPerStep:F1}, postprocess {r.PostprocessUsPerStep:F1}");
            Console.WriteLine($"  allocated/step     {r.AllocBytesPerStep:F0} B ({r.RequestsAddedPerStep:F1} requests added per step); inside Step() {r.StepAllocBytesPerStep:F0} B");
        }
        Console.WriteLine($"  preemptions        {r.Preemptions} (recompute {r.RecomputePreemptions}, swap {r.SwapPreemptions})");
        if (r.MemoryMeasured)
        {
            Console.WriteLine($"  KV utilization     {r.KvUtilizationPct:F1}%");
            Console.WriteLine($"  sharing saved      {r.SharingSavedPct:F1}% of blocks while a step computes ({r.PhysicalBlocks:F0} physical vs {r.LogicalBlocks:F0} if unshared, as n = 1 requests would hold)");
            Console.WriteLine($"                     {r.SharingSavedBetweenStepsPct:F1}% sampled between steps ({r.PhysicalBlocksBetweenSteps:F0} vs {r.LogicalBlocksBetweenSteps:F0}; new forks not yet copied)");
        }
        Console.WriteLine($"  prefix hit rate    {r.PrefixHitRatePct:F1}%");
        Console.WriteLine($"total: {r.TotalSteps} steps, {r.TokensGenerated} tokens generated, {r.WallS:F2} s");
    }
}
