using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Paging and batching are invisible in the results: a sequence's logits are bit-identical alone or in a
/// batch, with any block size, and whether its prompt is computed in one step or in chunks.
/// </summary>
public sealed class InvarianceTests
{
    // qwen2_tied attends to every earlier position; qwen2_swa's second layer only to the last 8, so chunks and
    // blocks that straddle the window's edge are covered too. llama_bf16_sharded's bf16 weights run three ways: packed
    // from the mapping into 32-column panels, exponent-coded (CodedBf16Gemm, the default with AVX-512 BW), with the
    // suffix Plain as 16-bit panels (HalfGemm), and with the suffix InPlace used in place (Bf16RowGemm: its row-major
    // dot products must be as batch-invariant as the packed kernels).
    public static TheoryData<string> Models => new() { "qwen2_tied", "qwen2_swa", "llama_bf16_sharded", "llama_bf16_sharded" + Plain, "llama_bf16_sharded" + InPlace };

    private const string InPlace = ":in-place";
    private const string Plain = ":plain";

    /// <summary>The fixture's backend: two threads; the mapped bf16 kernel for the InPlace variant, plain 16-bit panels
    /// for the Plain one, the default (exponent-coded panels where AVX-512 BW runs) otherwise.</summary>
    private static CpuBackend Backend(string fixture) => Backend(fixture, 2);

    private static CpuBackend Backend(string fixture, int threads) => new(threads,
        packMappedBf16: !fixture.EndsWith(InPlace, StringComparison.Ordinal), codeBf16: fixture.EndsWith(Plain, StringComparison.Ordinal) ? false : null);

    private static string Folder(string fixture) => Fixtures.Hf(fixture.Replace(InPlace, "", StringComparison.Ordinal).Replace(Plain, "", StringComparison.Ordinal));

    private static int[] Prompt(int seed, int length)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.Next(3, 512)).ToArray();
    }

    /// <summary>Greedy decode of one prompt alone; returns every step's logits.</summary>
    private static List<float[]> Alone(DecoderModel model, int[] prompt, int steps, int blockSize, int chunk = int.MaxValue)
    {
        var runner = new PagedSequenceRunner(model, blockSize, numBlocks: 256);
        int s = runner.AddSequence();
        float[] logits = [];
        for (int at = 0; at < prompt.Length; at += chunk)
            logits = runner.Step([(s, prompt[at..Math.Min(prompt.Length, at + chunk)])])[0];
        var all = new List<float[]> { logits };
        for (int i = 0; i < steps; i++)
        {
            logits = runner.Step([(s, [PagedSequenceRunner.ArgMax(logits)])])[0];
            all.Add(logits);
        }
        return all;
    }

    /// <summary>One thread and two give the same bits: a lone decode row's attention then runs as one item of both KV
    /// heads (prefetching) or as two items of one (PagedAttentionKernel.KvHeadsPerItem), and the GEMMs deal their
    /// columns differently.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void LogitsAreBitIdenticalOnOneAndTwoThreads(string fixture)
    {
        var prompt = Prompt(7, 37);
        var byThreads = new List<List<float[]>>();
        foreach (int threads in new[] { 1, 2 })
        {
            using var backend = Backend(fixture, threads);
            using var model = HfParityTests.LoadModel(Folder(fixture), backend);
            byThreads.Add(Alone(model, prompt, steps: 6, blockSize: 16));
        }
        for (int step = 0; step < byThreads[0].Count; step++)
            Assert.True(byThreads[0][step].AsSpan().SequenceEqual(byThreads[1][step]), $"step {step}: logits differ on one and two threads");
    }

    [Theory]
    [InlineData(1, 4, 2, 2)]    // b8's batch-1 decode on two threads: two items of two heads
    [InlineData(1, 4, 1, 4)]    // one thread: the whole row, one item
    [InlineData(1, 2, 2, 1)]
    [InlineData(1, 3, 2, 1)]    // heads that do not split evenly: one an item
    [InlineData(3, 4, 2, 1)]    // a few rows: one head an item, dealt over the threads
    [InlineData(8, 4, 2, 4)]    // rows enough: whole rows
    public void AttentionItemsTakeTheHeadsTheyShould(int rows, int kvHeads, int threads, int expected) =>
        Assert.Equal(expected, PagedAttentionKernel.KvHeadsPerItem(rows, kvHeads, threads));

    [Theory]
    [MemberData(nameof(Models))]
    public void LogitsAreBitIdenticalAloneAndInABatchOf64(string fixture)
    {
        using var backend = Backend(fixture);
        using var model = HfParityTests.LoadModel(Folder(fixture), backend);
        if (fixture.StartsWith("llama_bf16_sharded", StringComparison.Ordinal))
            Assert.All(backend.WeightKernels, k => Assert.StartsWith(
                !backend.PackMappedBf16 ? Weights.Bf16RowGemm.KernelName
                : backend.CodeBf16 ? Weights.CodedBf16Gemm.KernelName
                : "bf16 weights, widened in registers from 32-column panels", k));
        const int batch = 64, steps = 4;
        var prompts = Enumerable.Range(0, batch).Select(i => Prompt(100 + i, 1 + i % 23)).ToArray();
        var runner = new PagedSequenceRunner(model, blockSize: 16, numBlocks: 512);
        var seqs = prompts.Select(_ => runner.AddSequence()).ToArray();
        var logits = runner.Step(seqs.Select(s => (s, prompts[s])).ToList());
        var batched = seqs.Select(s => new List<float[]> { logits[s] }).ToArray();
        for (int step = 0; step < steps; step++)
        {
            logits = runner.Step(seqs.Select(s => (s, new[] { PagedSequenceRunner.ArgMax(batched[s][^1]) })).ToList());
            foreach (int s in seqs)
                batched[s].Add(logits[s]);
        }
        foreach (int i in new[] { 0, 1, 17, 63 })
        {
            var alone = Alone(model, prompts[i], steps, blockSize: 16);
            for (int step = 0; step <= steps; step++)
                Assert.True(alone[step].AsSpan().SequenceEqual(batched[i][step]), $"sequence {i} step {step}: logits differ alone vs batched");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LogitsAreBitIdenticalForBlockSizes1_16_64AndChunkedPrefill(string fixture)
    {
        using var backend = Backend(fixture);
        using var model = HfParityTests.LoadModel(Folder(fixture), backend);
        int[] prompt = Prompt(5, 70);   // crosses block boundaries of 16 and 64
        var reference = Alone(model, prompt, steps: 6, blockSize: 16);
        var variants = new (int BlockSize, int Chunk)[] { (1, int.MaxValue), (64, int.MaxValue), (16, 7), (1, 33), (64, 1) };
        foreach (var (blockSize, chunk) in variants)
        {
            var other = Alone(model, prompt, steps: 6, blockSize, chunk);
            for (int step = 0; step < reference.Count; step++)
                Assert.True(reference[step].AsSpan().SequenceEqual(other[step]),
                    $"block size {blockSize}, chunk {chunk}, step {step}: logits differ from block size 16 unchunked");
        }
    }

    /// <summary>A decode step padded as a graphed step is (<c>DecodePadding</c>: padding rows with slot −1 and a
    /// one-token context in block 0, block tables re-laid at a wider stride) gives its real rows the logits they get
    /// unpadded, bit for bit, and writes no K/V for the padding (the next unpadded step still agrees).</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void PaddedDecodeStepsGiveTheRealRowsTheirOwnLogits(string fixture)
    {
        using var backend = Backend(fixture);
        using var model = HfParityTests.LoadModel(Folder(fixture), backend);
        var prompts = Enumerable.Range(0, 3).Select(i => Prompt(300 + i, 5 + 11 * i)).ToArray();
        var plain = new PagedSequenceRunner(model, blockSize: 4, numBlocks: 128);
        var padded = new PagedSequenceRunner(model, blockSize: 4, numBlocks: 128);
        var seqs = prompts.Select(_ => plain.AddSequence()).ToArray();
        foreach (var _ in prompts)
            padded.AddSequence();
        var a = plain.Step(seqs.Select(s => (s, prompts[s])).ToList());
        var b = padded.Step(seqs.Select(s => (s, prompts[s])).ToList());
        for (int step = 0; step < 4; step++)
        {
            var next = seqs.Select(s => (s, new[] { PagedSequenceRunner.ArgMax(a[s]) })).ToList();
            a = plain.Step(next);
            // Odd steps padded (3 real rows to 8, tables to 32 columns); even steps not: padding must leave no trace.
            b = step % 2 == 1 ? padded.Step(next, false, (8, 32)) : padded.Step(next);
            foreach (int s in seqs)
                Assert.True(a[s].AsSpan().SequenceEqual(b[s]), $"step {step}, sequence {s}: logits differ with padding");
        }
    }
}
