using CsCheck;
using Folio.Core.KvCache;
using Xunit.Abstractions;

namespace Folio.Core.Tests.KvCache;

/// <summary>
/// Random operation sequences against the manager and a simulated backend. The backend keeps one 64-bit
/// "K/V" value per slot: the fingerprint of the sequence's key and tokens up to that position, written
/// when a token is computed and moved by the reported copies and swaps exactly as a GPU backend would.
/// After every operation: KvInvariants.Check, and every touched sequence must read back its own
/// fingerprints and token ids, so a prefix hit, copy-on-write or swap that aliased or lost a block fails.
/// </summary>
public class KvCachePropertyTests
{
    private const int Runs = 1000;
    private const int OpsPerRun = 1000;
    private readonly ITestOutputHelper _output;

    public KvCachePropertyTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void RandomOperations_KeepEveryInvariant_AndFreeEverythingAtTheEnd()
    {
        long total = 0;
        var counts = new Counters();
        Gen<Config> config = Gen.Select(Gen.Int[0, 4], Gen.Int[3, 40], Gen.Int[0, 24], Gen.Int[0, 9],
            (bs, gpu, cpu, mode) => new Config(
                BlockSize: bs switch { 0 => 1, 1 => 2, 2 => 4, 3 => 4, _ => 16 },
                GpuBlocks: gpu,
                CpuBlocks: cpu < 6 ? 0 : cpu,
                PrefixCaching: mode != 0,
                WeakHasher: mode >= 8));
        Gen<Op> op = Gen.Select(Gen.Int[0, 99], Gen.Int[0, 1 << 30], Gen.Int[0, 1 << 30], Gen.Int[0, 1 << 30],
            (k, a, b, c) => new Op(k, a, b, c));
        Gen.Select(config, op.Array[OpsPerRun]).Sample((cfg, ops) =>
        {
            var sim = new Simulation(cfg);
            sim.Run(ops);
            Interlocked.Add(ref total, ops.Length);
            counts.Add(sim.Counts);
        }, iter: Runs);
        Assert.True(total >= 1_000_000, $"only {total} operations ran");
        _output.WriteLine($"{total} operations: {counts}");
        // The paths this test exists for must have run many times.
        Assert.True(counts.HitTokens > 10_000 && counts.RevivedBlocks > 1_000 && counts.SaltedHits > 1_000, counts.ToString());
        Assert.True(counts.Copies > 1_000 && counts.Evictions > 1_000 && counts.Forks > 1_000, counts.ToString());
        Assert.True(counts.SwapOuts > 1_000 && counts.SwapIns > 1_000 && counts.GroupSwaps > 100, counts.ToString());
    }

    internal readonly record struct Config(int BlockSize, int GpuBlocks, int CpuBlocks, bool PrefixCaching, bool WeakHasher);

    internal readonly record struct Op(int Kind, int A, int B, int C);

    /// <summary>How often the interesting paths ran, so that the test proves it exercised them.</summary>
    internal sealed class Counters
    {
        public long Allocations, HitTokens, RevivedBlocks, SaltedHits, Copies, Evictions, Forks, SwapOuts, SwapIns, GroupSwaps;

        public void Add(Counters o)
        {
            lock (this)
            {
                Allocations += o.Allocations; HitTokens += o.HitTokens; RevivedBlocks += o.RevivedBlocks;
                SaltedHits += o.SaltedHits; Copies += o.Copies; Evictions += o.Evictions; Forks += o.Forks;
                SwapOuts += o.SwapOuts; SwapIns += o.SwapIns; GroupSwaps += o.GroupSwaps;
            }
        }

        public override string ToString() =>
            $"allocations {Allocations}, hit tokens {HitTokens}, revived blocks {RevivedBlocks}, salted hits {SaltedHits}, " +
            $"copy-on-write {Copies}, evictions {Evictions}, forks {Forks}, swap-outs {SwapOuts}, swap-ins {SwapIns}, group swaps {GroupSwaps}";
    }

    /// <summary>Collides often: 8 distinct values, ignoring all but a few inputs.</summary>
    private sealed class WeakHasher : IBlockHasher
    {
        public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey)
            => (parentHash * 31 + (ulong)blockTokens[0] + extraKey) % 8;
    }

    private sealed class Sequence
    {
        public required BlockTable Table;
        public required List<int> Tokens;
        public required List<ulong> Fingerprints;
        public required List<int> Pending;   // prompt tokens not yet allocated (chunked prefill)
        public required ulong KeySeed;
        public required int Group;
    }

    private sealed class Simulation
    {
        private readonly Config _cfg;
        private readonly KvCacheManager _kv;
        private readonly ulong[] _gpuKv;
        private readonly ulong[] _cpuKv;
        private readonly List<Sequence> _seqs = new();
        private readonly List<BlockCopy> _copies = new();
        private readonly List<BlockMove> _moves = new();
        private int _nextToken = 1_000_000;
        private int _nextGroup;
        private int _opIndex;

        public Counters Counts { get; } = new();

        public Simulation(Config cfg)
        {
            _cfg = cfg;
            _kv = new KvCacheManager(new KvCacheOptions
            {
                NumGpuBlocks = cfg.GpuBlocks,
                BlockSizeTokens = cfg.BlockSize,
                NumCpuBlocks = cfg.CpuBlocks,
                EnablePrefixCaching = cfg.PrefixCaching,
                Hasher = cfg.WeakHasher ? new WeakHasher() : null,
            });
            _gpuKv = new ulong[cfg.GpuBlocks * cfg.BlockSize];
            _cpuKv = new ulong[cfg.CpuBlocks * cfg.BlockSize];
        }

        private int Bs => _cfg.BlockSize;

        public void Run(Op[] ops)
        {
            foreach (Op op in ops)
            {
                Step(op);
                try
                {
                    KvInvariants.Check(_kv);
                    if (_opIndex % 64 == 0)
                        foreach (Sequence s in _seqs)
                            Verify(s);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"after op #{_opIndex} {op} ({_cfg}): {e.Message}", e);
                }
                _opIndex++;
            }
            // Everything freed: every block of both pools is free again.
            foreach (Sequence s in _seqs.ToArray())
                Free(s);
            KvInvariants.Check(_kv);
            Assert.Equal(_cfg.GpuBlocks, _kv.GpuPool.NumFreeBlocks);
            Assert.Equal(_cfg.CpuBlocks, _kv.CpuPool?.NumFreeBlocks ?? 0);
            Assert.Equal(0, _kv.GetStats().TokenStates);
            Assert.Empty(_kv.LiveTables);
        }

        private void Step(Op op)
        {
            int k = op.Kind;
            if (k < 15) Allocate(op);
            else if (k < 45) Decode(op);
            else if (k < 55) AppendChunk(op);
            else if (k < 61) Fork(op);
            else if (k < 73) CacheFull(op);
            else if (k < 85) FreeOne(op);
            else if (k < 90) SwapOut(op);
            else if (k < 96) SwapIn(op);
            else Pressure(op);
        }

        private void Allocate(Op op)
        {
            if (_seqs.Count >= 24)
            {
                FreeOne(op);
                return;
            }
            // A prompt: part of one of four shared prefixes, then fresh tokens.
            int family = op.A % 4;
            int prefixLen = (op.B & 3) == 0 ? op.B % (3 * Bs + 3) : 2 * Bs + op.B % (Bs + 3);
            int suffixLen = 1 + op.C % (2 * Bs + 1);
            var prompt = new List<int>(prefixLen + suffixLen);
            for (int i = 0; i < prefixLen; i++)
                prompt.Add(family * 100_000 + i);
            for (int i = 0; i < suffixLen; i++)
                prompt.Add(_nextToken++);
            string? salt = ((op.A >> 4) % 4) switch { 1 => "x", 2 => "y", _ => null };
            string? adapter = ((op.A >> 6) % 3) == 1 ? "lora" : null;
            Admit(prompt.ToArray(), new CacheKey(salt, adapter), chunked: ((op.C >> 12) & 1) == 1, op.B >> 10);
        }

        private void Admit(int[] prompt, CacheKey key, bool chunked, int random)
        {
            PrefixHit hit = _kv.FindCachedPrefix(prompt, key);
            Assert.True(hit.NumCachedTokens < Math.Max(1, prompt.Length));
            int numTokens = chunked
                ? hit.NumCachedTokens + 1 + random % (prompt.Length - hit.NumCachedTokens)
                : prompt.Length;
            if (!_kv.CanAllocate(hit, numTokens))
                return;
            int cachedBefore = _kv.GpuPool.NumCachedBlocks;
            BlockTable table = _kv.Allocate(prompt, hit, numTokens, key);
            Counts.Allocations++;
            Counts.HitTokens += hit.NumCachedTokens;
            Counts.RevivedBlocks += hit.NumRevivedBlocks;
            if (key.Salt is not null && hit.NumCachedTokens > 0)
                Counts.SaltedHits++;
            Counts.Evictions += Math.Max(0, cachedBefore - _kv.GpuPool.NumCachedBlocks);
            ulong seed = Mix(Mix(0x5EED, Str(key.Salt)), Str(key.Adapter));
            var s = new Sequence
            {
                Table = table, Tokens = new(), Fingerprints = new(), Pending = prompt[numTokens..].ToList(),
                KeySeed = seed, Group = _nextGroup++,
            };
            for (int p = 0; p < numTokens; p++)
                AddToken(s, prompt[p]);
            // The backend computes only the tokens after the hit; the hit's slots must already hold them.
            for (int p = hit.NumCachedTokens; p < numTokens; p++)
                _gpuKv[table.SlotOf(p)] = s.Fingerprints[p];
            _seqs.Add(s);
            // Usually the step runs at once and its full blocks enter the cache; sometimes a second sequence
            // computes the same prefix first (duplicate contents).
            if ((random & 3) != 0)
                _kv.CacheFullBlocks(table);
            Verify(s);
        }

        private void Decode(Op op) => Grow(op, 1);

        private void AppendChunk(Op op) => Grow(op, 1 + op.B % (2 * Bs + 1));

        private void Grow(Op op, int n)
        {
            Sequence? s = Pick(op.A, BlockLocation.Gpu);
            if (s is null)
                return;
            // Pending prompt tokens first (a prefill chunk), then decoded ones; consumed only on success.
            int fromPending = Math.Min(n, s.Pending.Count);
            var tokens = new int[n];
            for (int i = 0; i < n; i++)
                tokens[i] = i < fromPending ? s.Pending[i] : (op.C >> (i % 16)) % 5;   // small alphabet: equal blocks under different parents
            if (!_kv.CanAppend(s.Table, n))
                return;
            s.Pending.RemoveRange(0, fromPending);
            int cachedBefore = _kv.GpuPool.NumCachedBlocks;
            int before = s.Table.NumTokens;
            _copies.Clear();
            _kv.Append(s.Table, tokens, _copies);
            foreach (BlockCopy c in _copies)
                Array.Copy(_gpuKv, c.SrcBlock * Bs, _gpuKv, c.DstBlock * Bs, Bs);
            Assert.True(_copies.Count <= 1);
            Counts.Copies += _copies.Count;
            Counts.Evictions += Math.Max(0, cachedBefore - _kv.GpuPool.NumCachedBlocks);
            foreach (int t in tokens)
                AddToken(s, t);
            for (int p = before; p < s.Table.NumTokens; p++)
                _gpuKv[s.Table.SlotOf(p)] = s.Fingerprints[p];
            if ((op.B & 1) != 0)
                _kv.CacheFullBlocks(s.Table);
            Verify(s);
        }

        private void Fork(Op op)
        {
            if (_seqs.Count >= 24 || _seqs.Count == 0)
                return;
            Sequence p = _seqs[op.A % _seqs.Count];
            int freeBefore = _kv.GpuPool.NumFreeBlocks;
            var child = new Sequence
            {
                Table = _kv.Fork(p.Table), Tokens = new(p.Tokens), Fingerprints = new(p.Fingerprints),
                Pending = new(p.Pending), KeySeed = p.KeySeed, Group = p.Group,
            };
            Assert.Equal(freeBefore, _kv.GpuPool.NumFreeBlocks);
            Counts.Forks++;
            _seqs.Add(child);
            Verify(child);
        }

        private void CacheFull(Op op)
        {
            Sequence? s = Pick(op.A, BlockLocation.Gpu);
            if (s is null)
                return;
            _kv.CacheFullBlocks(s.Table);
            // Every full block is now reachable unless its hash belongs to another block.
            Verify(s);
        }

        private void FreeOne(Op op)
        {
            if (_seqs.Count > 0)
                Free(_seqs[op.A % _seqs.Count]);
        }

        private void Free(Sequence s)
        {
            _kv.Free(s.Table);
            _seqs.Remove(s);
            Assert.False(s.Table.IsAlive);
        }

        private void SwapOut(Op op) => Swap(op, BlockLocation.Gpu);

        private void SwapIn(Op op) => Swap(op, BlockLocation.Cpu);

        private void Swap(Op op, BlockLocation from)
        {
            Sequence? any = Pick(op.A, from);
            if (any is null)
                return;
            Sequence[] members = _seqs.Where(s => s.Group == any.Group && s.Table.Location == from).ToArray();
            BlockTable[] group = members.Select(s => s.Table).ToArray();
            bool can = from == BlockLocation.Gpu ? _kv.CanSwapOut(group) : _kv.CanSwapIn(group);
            if (!can)
                return;
            int distinct = group.SelectMany(t => t.Blocks.ToArray()).Distinct().Count();
            _moves.Clear();
            if (from == BlockLocation.Gpu)
                _kv.SwapOut(group, _moves);
            else
                _kv.SwapIn(group, _moves);
            Assert.Equal(distinct, _moves.Count);
            if (from == BlockLocation.Gpu)
                Counts.SwapOuts++;
            else
                Counts.SwapIns++;
            if (group.Length > 1)
                Counts.GroupSwaps++;
            (ulong[] src, ulong[] dst) = from == BlockLocation.Gpu ? (_gpuKv, _cpuKv) : (_cpuKv, _gpuKv);
            foreach (BlockMove m in _moves)
                Array.Copy(src, m.SrcBlock * Bs, dst, m.DstBlock * Bs, Bs);
            foreach (Sequence s in members)
                Verify(s);
        }

        private void Pressure(Op op)
        {
            // A large fresh prompt: evicts cached blocks, or frees a sequence when it does not fit.
            int free = _kv.GpuPool.NumFreeBlocks;
            int len = Math.Max(1, (op.B % 4 == 0 ? free - op.C % 2 : free / 2) * Bs);
            int[] prompt = Enumerable.Range(_nextToken, len).ToArray();
            _nextToken += len;
            int before = _seqs.Count;
            Admit(prompt, default, chunked: false, 0);
            if (_seqs.Count == before)
                FreeOne(op);
        }

        private Sequence? Pick(int r, BlockLocation location)
        {
            int n = 0;
            foreach (Sequence s in _seqs)
                if (s.Table.Location == location)
                    n++;
            if (n == 0)
                return null;
            int pick = r % n;
            foreach (Sequence s in _seqs)
                if (s.Table.Location == location && pick-- == 0)
                    return s;
            return null;
        }

        private static void AddToken(Sequence s, int token)
        {
            ulong prev = s.Fingerprints.Count == 0 ? s.KeySeed : s.Fingerprints[^1];
            s.Tokens.Add(token);
            s.Fingerprints.Add(Mix(prev, (ulong)(uint)token));
        }

        /// <summary>The sequence reads back its own token ids and K/V fingerprints at every position.</summary>
        private void Verify(Sequence s)
        {
            BlockTable t = s.Table;
            Assert.Equal(s.Tokens.Count, t.NumTokens);
            BlockPool pool = t.Location == BlockLocation.Gpu ? _kv.GpuPool : _kv.CpuPool!;
            ulong[] kv = t.Location == BlockLocation.Gpu ? _gpuKv : _cpuKv;
            for (int p = 0; p < t.NumTokens; p++)
            {
                int slot = t.SlotOf(p);
                if (pool.TokensOf(slot / Bs)[p % Bs] != s.Tokens[p])
                    Assert.Fail($"position {p}: block {slot / Bs} records token {pool.TokensOf(slot / Bs)[p % Bs]}, expected {s.Tokens[p]}");
                if (kv[slot] != s.Fingerprints[p])
                    Assert.Fail($"position {p}: slot {slot} on the {t.Location} holds K/V of another context (aliasing or a lost copy)");
            }
        }

        private static ulong Str(string? s) => s is null ? 0 : DefaultBlockHasher.HashString(s);

        private static ulong Mix(ulong a, ulong b)
        {
            ulong z = a * 0x9E3779B97F4A7C15UL + b + 0x632BE59BD9B4E019UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
