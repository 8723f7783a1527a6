// A .NET host embedding Folio through the managed API: the same engine that libfolio.so exports to C and Python.
//   dotnet run --project samples/Folio.HostSample [MODEL_FOLDER]
// With a Hugging Face folder it runs the model on the CPU backend (token-id prompts); without one it runs the
// scheduler's deterministic fake model.
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cpu;

var kv = new KvCacheOptions { NumGpuBlocks = 256, BlockSizeTokens = 16 };
var options = new EngineOptions { KvCache = kv, Scheduler = new SchedulerOptions { MaxNumSeqs = 64 } };
IModelExecutor executor;
LlamaModel? model = null;
CpuBackend? backend = null;
int vocab = 64;
if (args.Length > 0)
{
    var config = ModelConfig.Load(Path.Combine(args[0], "config.json"));
    backend = new CpuBackend();
    using (var weights = CheckpointWeights.Open(args[0]))
        model = LlamaModel.Load(config, weights, backend);
    executor = new ModelExecutor(model, backend, kv.NumGpuBlocks, 0, kv.BlockSizeTokens, config.EosTokenIds);
    vocab = config.VocabSize;
}
else
{
    executor = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = kv.NumGpuBlocks, BlockSizeTokens = kv.BlockSizeTokens, VocabSize = vocab });
}

var engine = new LlmEngine(options, executor);
var sampling = new SamplingParams { MaxTokens = 8, Temperature = 0.8f, Seed = 42 };

// Streaming: add requests, then step; each step returns the tokens it produced.
engine.AddRequest([1, 2, 3, 4], sampling);
engine.AddRequest([5 % vocab, 6 % vocab], sampling with { N = 2 });
while (engine.HasUnfinished)
{
    foreach (var update in engine.Step())
    {
        if (update.Sequence is { } seq)
            Console.WriteLine($"request {update.Request.Id} seq {seq.Index}: token {seq.GeneratedTokens[^1]}");
        else
            Console.WriteLine($"request {update.Request.Id} finished");
    }
}

// Per-request streams: each yields its request's incremental outputs; a background loop runs the steps.
using (var cts = new CancellationTokenSource())
{
    var loop = engine.RunAsync(cts.Token);
    var stream = engine.Submit([3, 4, 5], sampling);
    await foreach (var output in stream)
        Console.WriteLine($"stream: request {output.RequestId} +[{string.Join(", ", output.Outputs.SelectMany(o => o.TokenIds))}]{(output.Finished ? " finished" : "")}");
    cts.Cancel();
    await loop;
}

// Blocking batch generation.
foreach (var output in engine.Generate([[7, 8, 9], [10, 11]], sampling with { Temperature = 0 }))
    Console.WriteLine($"generate: request {output.RequestId} -> [{string.Join(", ", output.Outputs[0].TokenIds)}] ({output.Outputs[0].FinishReason})");

var stats = engine.GetKvStats();
Console.WriteLine($"KV blocks used {stats.UsedBlocks} of {stats.TotalBlocks}, prefix hit rate {stats.PrefixHitRate:F2}");
(executor as IDisposable)?.Dispose();
model?.Dispose();
backend?.Dispose();
return stats.UsedBlocks == 0 ? 0 : 1;
