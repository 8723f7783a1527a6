using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;

namespace Folio.Interop.Tests;

/// <summary>
/// A .NET host uses the managed engine directly (as samples/Folio.HostSample does); the C ABI's engine is a thin
/// shim over that same API, so both give the same tokens for the same requests.
/// </summary>
public class ManagedHostTests
{
    private static EngineOptions Options() => new()
    {
        KvCache = new KvCacheOptions { NumGpuBlocks = 32, BlockSizeTokens = 4 },
        Scheduler = new SchedulerOptions { MaxNumSeqs = 4 },
    };

    [Fact]
    public void The_managed_engine_and_the_abi_engine_give_the_same_tokens()
    {
        var sampling = new SamplingParams { MaxTokens = 9, Seed = 5, N = 2 };
        int[][] prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12], [13]];

        var direct = new LlmEngine(Options(), new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 32, BlockSizeTokens = 4, VocabSize = 64 }));
        var managed = direct.Generate(prompts, sampling);

        var model = new FakeEngineModel();
        var shimmed = new EngineHost(new LlmEngine(Options(), model.CreateExecutor(Options(), 0), model.TextDecoder), model, LogSink.None);
        OutputList abi = shimmed.Generate(prompts, sampling)!;

        Assert.Equal(prompts.Length * 2, abi.Count);
        for (int i = 0; i < abi.Count; i++)
        {
            FolioRequestOutput o = abi[i];
            CompletionOutput expected = managed[i / 2].Outputs[i % 2];
            Assert.Equal(expected.Index, o.SeqIndex);
            Assert.Equal((int)FolioFinishReason.Length, o.FinishReason);
            unsafe
            {
                Assert.Equal(expected.TokenIds, new ReadOnlySpan<int>(o.TokenIds, (int)o.NumTokens).ToArray());
            }
        }
        Assert.Equal(0, direct.GetKvStats().UsedBlocks);
        Assert.Equal(0, shimmed.GetStats().KvBlocksUsed);
        Assert.False(shimmed.HasUnfinished);
    }
}
