using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.KvCache;

public sealed class KvMapTests
{
    [Fact]
    public void Each_block_shows_its_owner_reference_count_cached_flag_and_slots()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 4);
        var a = Kv.Admit(kv, Kv.Range(100, 6));          // request 10: blocks of 4 + 2 tokens
        kv.CacheFullBlocks(a);
        var aFork = kv.Fork(a);                           // request 10's second sample shares both
        var b = Kv.Admit(kv, Kv.Range(100, 7));          // request 20: a prefix hit on a's full first block, then its own
        var c = Kv.Admit(kv, Kv.Range(500, 3));          // request 30, then swapped out
        kv.SwapOut([c], []);
        var d = Kv.Admit(kv, Kv.Range(900, 4));          // request 40: freed, its full block stays cached
        kv.CacheFullBlocks(d);
        kv.Free(d);

        var map = KvMap.Capture(kv, [(10, a), (10, aFork), (20, b), (30, c)]);

        Assert.Equal(4, map.BlockSizeTokens);
        var gpu = map.Gpu;
        int shared = a.Blocks[0], tail = a.Blocks[1], freed = gpu.RefCount.Select((r, i) => (r, i)).Single(x => x.r == 0 && gpu.Cached[x.i]).i;
        Assert.Equal(b.Blocks[0], shared);
        Assert.Equal((KvMap.ManyOwners, 3, true, 4), (gpu.Owner[shared], gpu.RefCount[shared], gpu.Cached[shared], gpu.Tokens[shared]));
        Assert.Equal((10L, 2, false, 2), (gpu.Owner[tail], gpu.RefCount[tail], gpu.Cached[tail], gpu.Tokens[tail]));
        Assert.Equal((20L, 1, 3), (gpu.Owner[b.Blocks[1]], gpu.RefCount[b.Blocks[1]], gpu.Tokens[b.Blocks[1]]));
        Assert.Equal((KvMap.NoOwner, 0, 4), (gpu.Owner[freed], gpu.RefCount[freed], gpu.Tokens[freed]));
        Assert.Equal(5, gpu.RefCount.Count(r => r == 0));   // all but the shared block and a's and b's tails (c left for the CPU)
        Assert.All(Enumerable.Range(0, 8).Where(i => gpu.RefCount[i] == 0), i => Assert.Equal(KvMap.NoOwner, gpu.Owner[i]));

        var cpu = map.Cpu!;
        int swapped = c.Blocks[0];
        Assert.Equal(BlockLocation.Cpu, c.Location);
        Assert.Equal((30L, 1, 3), (cpu.Owner[swapped], cpu.RefCount[swapped], cpu.Tokens[swapped]));
        Assert.Equal(3, cpu.RefCount.Count(r => r == 0));
    }

    [Fact]
    public void A_used_block_no_table_names_has_no_owner_and_dead_tables_are_skipped()
    {
        var kv = Kv.Make(gpuBlocks: 4, blockSize: 4);
        var a = Kv.Admit(kv, Kv.Range(1, 5));
        var gone = Kv.Admit(kv, Kv.Range(50, 2));
        kv.Free(gone);
        var map = KvMap.Capture(kv, [(7, gone)]);   // a is not named; gone is dead
        Assert.All(a.Blocks.ToArray(), block => Assert.Equal((KvMap.NoOwner, 1), (map.Gpu.Owner[block], map.Gpu.RefCount[block])));
        Assert.Null(map.Cpu);
    }

    [Fact]
    public void The_engine_names_each_running_request_as_the_owner_of_its_blocks()
    {
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 16, BlockSizeTokens = 4 },
            Scheduler = new SchedulerOptions { EosTokenId = -1 },
        }, new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 16, BlockSizeTokens = 4, VocabSize = 64 }));
        var first = engine.AddRequest(Kv.Range(1, 9), new SamplingParams { MaxTokens = 20 });
        var second = engine.AddRequest(Kv.Range(30, 3), new SamplingParams { MaxTokens = 20, N = 2 });
        engine.Step();
        engine.Step();   // the second request has forked: its last block is held by both samples until they diverge

        var map = engine.GetKvMap();
        var owners = map.Gpu.Owner;
        int firstBlocks = owners.Count(o => o == first.Id), secondBlocks = owners.Count(o => o == second.Id);
        Assert.Equal(3, firstBlocks);    // 9 prompt tokens and 1 or 2 generated: 3 blocks of 4
        Assert.True(secondBlocks >= 2, $"the second request holds {secondBlocks} blocks");
        Assert.Equal(engine.GetKvStats().UsedBlocks, firstBlocks + secondBlocks);
        Assert.All(Enumerable.Range(0, 16).Where(b => owners[b] == first.Id), b => Assert.Equal(1, map.Gpu.RefCount[b]));

        while (engine.HasUnfinished) engine.Step();
        Assert.All(engine.GetKvMap().Gpu.Owner, o => Assert.Equal(KvMap.NoOwner, o));
    }
}
