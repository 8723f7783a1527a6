using System.Text.Json.Nodes;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Scheduling;
using Folio.Core.Text;

namespace Folio.Server;

/// <summary>
/// The fake model as a served model (<c>folio serve --model fake</c>, the server's tests and its overhead benchmark):
/// <see cref="FakeExecutor"/> over a vocabulary of 64 two-letter pieces "aa".."hh" (<see cref="FakeTextDecoder"/>,
/// <see cref="PairTokenizer"/>), no end-of-sequence token (every request runs to its max_tokens), and a chat template
/// that renders each message's content followed by "hh" as the generation prompt. It costs no compute, so what
/// is measured against it is the engine's and the server's own work.
/// </summary>
public static class FakeServedModel
{
    public const string ChatTemplateText = "{% for m in messages %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}hh{% endif %}";
    public const int VocabSize = 64;

    /// <param name="simulateKv">True: the executor simulates the K/V per slot and checks every plan (tests); false:
    /// tokens are a hash of the plan's last token and position, as a GPU that works elsewhere (benchmarks).</param>
    /// <param name="wrap">Wraps the executor (tests slow it down).</param>
    /// <param name="numCpuBlocks">A CPU swap pool of this many blocks (preemption then swaps); 0 = none (recompute).</param>
    public static ServedModel Create(string name = "fake", int numGpuBlocks = 1024, int blockSizeTokens = 16, int maxNumSeqs = 64,
        int maxModelLen = 4096, bool chatTemplate = true, bool simulateKv = true, Func<IModelExecutor, IModelExecutor>? wrap = null,
        int numCpuBlocks = 0)
    {
        var fake = new FakeExecutor(new FakeExecutorOptions
        {
            NumGpuBlocks = numGpuBlocks, NumCpuBlocks = numCpuBlocks, BlockSizeTokens = blockSizeTokens, VocabSize = VocabSize, DefaultSeed = 1,
            SimulateKv = simulateKv,
        });
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = numGpuBlocks, NumCpuBlocks = numCpuBlocks, BlockSizeTokens = blockSizeTokens },
            Scheduler = new SchedulerOptions
            {
                MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = Math.Max(2048, maxNumSeqs), EosTokenId = -1,
                PreemptionMode = numCpuBlocks > 0 ? PreemptionMode.Swap : PreemptionMode.Recompute,
            },
        }, wrap is null ? fake : wrap(fake), new FakeTextDecoder())
        {
            ChatTemplate = chatTemplate
                ? ChatTemplate.FromConfig(new JsonObject { ["chat_template"] = ChatTemplateText }.ToJsonString(), null, name)
                : null,
        };
        return new ServedModel { Name = name, Engine = engine, Tokenizer = new PairTokenizer(), MaxModelLen = maxModelLen, VocabSize = VocabSize };
    }
}
