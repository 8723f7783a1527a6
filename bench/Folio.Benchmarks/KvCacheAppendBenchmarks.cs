using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Folio.Core.KvCache;

namespace Folio.Benchmarks;

/// <summary>
/// Appending one decode token to a sequence (<c>Append</c> + <c>SlotOf</c>, what a decode step does per
/// sequence). Block size 16: one append in 16 takes a new block (and may evict); block size 4096: none does.
/// Each iteration starts from a freshly admitted one-token sequence whose id array was sized up front
/// (<c>BlockTable.EnsureCapacity</c>), so the measured path is appends only.
/// </summary>
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 6, iterationCount: 20, invocationCount: Invocations, id: "Short")]
[InProcessJobConfig]
[MemoryDiagnoser]
[MinColumn, MedianColumn, MaxColumn]
public class KvCacheAppendBenchmarks
{
    private const int AppendsPerInvoke = 4096;
    private const int Invocations = 64;
    private const int TokensPerIteration = AppendsPerInvoke * Invocations + 1;
    private KvCacheManager _kv = null!;
    private BlockTable? _table;
    private readonly List<BlockCopy> _copies = new(16);
    private readonly int[] _prompt = [1];
    private readonly int[] _flat = new int[TokensPerIteration];
    private int _flatPos;

    [Params(16, 4096)]
    public int BlockSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Tier the manager's code up first (call counting, then tier 1 with PGO after a delay): an engine runs
        // for hours, and a short measured run would otherwise time tier-0 code for part of its iterations.
        var warm = new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 1024, BlockSizeTokens = BlockSize });
        for (int round = 0; round < 4; round++)
        {
            BlockTable t = warm.Allocate(_prompt, default, 1, default);
            int token = 3;
            for (int i = 0; i < 1024 * 16 - 1; i++)
            {
                warm.Append(t, new ReadOnlySpan<int>(in token), _copies);
                _ = t.SlotOf(t.NumTokens - 1);
            }
            warm.Free(t);
            Thread.Sleep(250);
        }
        _table = null;
        _kv = new KvCacheManager(new KvCacheOptions
        {
            NumGpuBlocks = TokensPerIteration / BlockSize + 2,
            BlockSizeTokens = BlockSize,
        });
    }

    [IterationSetup]
    public void NewSequence()
    {
        if (_table is not null)
            _kv.Free(_table);
        _table = _kv.Allocate(_prompt, default, 1, default);
        _table.EnsureCapacity(TokensPerIteration);
        _flatPos = 0;
    }

    /// <summary>The floor: store the token in a flat array and take its index as the slot (no paging at all).</summary>
    // The loops themselves are fully optimised from the first call: with a fixed invocation count there are too
    // few calls for tiering to replace their on-stack-replacement code (runs differed by 5x without it).
    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvoke)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int FlatArrayBaseline()
    {
        int[] flat = _flat;
        int pos = _flatPos;
        int sum = 0;
        for (int i = 0; i < AppendsPerInvoke; i++)
        {
            flat[pos] = 7;
            sum += pos;
            pos++;
        }
        _flatPos = pos;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int AppendSlot()
    {
        BlockTable table = _table!;
        int token = 7;
        int sum = 0;
        for (int i = 0; i < AppendsPerInvoke; i++)
        {
            _kv.Append(table, new ReadOnlySpan<int>(in token), _copies);
            sum += table.SlotOf(table.NumTokens - 1);
        }
        return sum;
    }
}
