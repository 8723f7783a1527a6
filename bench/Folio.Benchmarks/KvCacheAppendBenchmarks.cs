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
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: Invocations, id: "Short")]
[InProcessJobConfig]
[MemoryDiagnoser]
public class KvCacheAppendBenchmarks
{
    private const int AppendsPerInvoke = 4096;
    private const int Invocations = 64;
    private const int TokensPerIteration = AppendsPerInvoke * Invocations + 1;
    private KvCacheManager _kv = null!;
    private BlockTable? _table;
    private readonly List<BlockCopy> _copies = new(16);
    private readonly int[] _prompt = [1];

    [Params(16, 4096)]
    public int BlockSize { get; set; }

    [GlobalSetup]
    public void Setup()
        => _kv = new KvCacheManager(new KvCacheOptions
        {
            NumGpuBlocks = TokensPerIteration / BlockSize + 2,
            BlockSizeTokens = BlockSize,
        });

    [IterationSetup]
    public void NewSequence()
    {
        if (_table is not null)
            _kv.Free(_table);
        _table = _kv.Allocate(_prompt, default, 1, default);
        _table.EnsureCapacity(TokensPerIteration);
    }

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke)]
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
