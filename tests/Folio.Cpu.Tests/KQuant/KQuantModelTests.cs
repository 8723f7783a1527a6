using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Tests.KQuant;

/// <summary>A model whose MatMul weights are Q4_K (v and down: Q6_K, as llama.cpp's Q4_K_M puts it in some layers)
/// runs on the blocks as stored, and its logits stay close to the same model run on those blocks dequantized to fp32
/// (the only difference: the activations' int8 rounding); each sequence's logits are the same alone and in a batch.</summary>
public sealed class KQuantModelTests
{
    /// <summary>The built-in "tiny" shape's seeded weights, every MatMul weight whose rows are whole 256-blocks
    /// and the token table quantized by <see cref="KQuantTestBlocks"/>: served as blocks (<paramref name="blocks"/>) or as their dequantized fp32.</summary>
    private sealed class KQuantSource(IWeightSource inner, bool blocks) : IWeightSource
    {
        public bool Contains(string name) => inner.Contains(name);

        private static KQuantFormat? FormatOf(string name, ReadOnlySpan<long> shape) =>
            shape.Length != 2 || shape[1] % 256 != 0 ? null
            : name.Contains("v_proj", StringComparison.Ordinal) || name.Contains("down_proj", StringComparison.Ordinal) || name.StartsWith("lm_head", StringComparison.Ordinal)
                ? KQuantFormat.Q6K : KQuantFormat.Q4K;

        private KQuantRows Quantized(string name, ReadOnlySpan<long> shape, KQuantFormat format)
        {
            var w = new float[shape[0] * shape[1]];
            inner.Read(name, shape, w);
            return new KQuantRows(name, format, (int)shape[0], (int)shape[1], KQuantTestBlocks.Quantize(format, w));
        }

        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
        {
            if (FormatOf(name, expectedShape) is not { } f)
            {
                inner.Read(name, expectedShape, destination);
                return;
            }
            var q = Quantized(name, expectedShape, f);
            GgufDequantize.Blocks(f == KQuantFormat.Q4K ? GgmlType.Q4_K : GgmlType.Q6_K, q.Blocks, destination);
        }

        public KQuantRows? ReadKQuant(string name, ReadOnlySpan<long> expectedShape) =>
            blocks && FormatOf(name, expectedShape) is { } f ? Quantized(name, expectedShape, f) : null;
    }

    private static readonly int[] Tokens = [1, 17, 250, 3, 99, 42, 7, 7, 120, 5, 0, 255, 64, 31, 200, 2];

    private static (float[][] Alone, float[][] Batched, string[] Kernels) TeacherForced(bool blocks)
    {
        using var source = ModelSource.Open("tiny");
        using var backend = new CpuBackend(2);
        using var decoder = DecoderModel.Load(source.Config, new KQuantSource(source.Weights, blocks), backend);
        int vocab = source.Config.VocabSize;
        float[][] Split(float[] all) => Enumerable.Range(0, all.Length / vocab).Select(i => all[(i * vocab)..((i + 1) * vocab)]).ToArray();
        var runner = new PagedSequenceRunner(decoder, 16, 16);
        var alone = Split(runner.Step([(runner.AddSequence(), Tokens)], allRows: true)[0]);
        var batch = new PagedSequenceRunner(decoder, 16, 16);
        var both = batch.Step([(batch.AddSequence(), Tokens[..5]), (batch.AddSequence(), Tokens)], allRows: true);
        return (alone, Split(both[1]), [.. backend.WeightKernels]);
    }

    [Fact]
    public void LogitsStayNearTheDequantizedFp32RunAndAreBatchInvariant()
    {
        var (q, qBatched, kernels) = TeacherForced(blocks: true);
        var (f, _, fp32Kernels) = TeacherForced(blocks: false);
        Assert.Contains(kernels, k => k.StartsWith("Q4_K blocks", StringComparison.Ordinal));
        Assert.Contains(kernels, k => k.StartsWith("Q6_K blocks", StringComparison.Ordinal));
        Assert.Contains(kernels, k => k.StartsWith("Q4_K+Q6_K blocks", StringComparison.Ordinal));   // fused q/k/v
        Assert.DoesNotContain(fp32Kernels, k => k.Contains("blocks", StringComparison.Ordinal));
        double kl = 0;
        int top1 = 0;
        for (int i = 0; i < Tokens.Length; i++)
        {
            Assert.Equal(q[i], qBatched[i]);
            double[] p = Softmax(f[i]), r = Softmax(q[i]);
            kl += p.Zip(r).Sum(t => t.First * Math.Log(t.First / t.Second));
            top1 += Array.IndexOf(f[i], f[i].Max()) == Array.IndexOf(q[i], q[i].Max()) ? 1 : 0;
        }
        kl /= Tokens.Length;
        // Measured: mean KL 1.99e-4, top-1 16/16 (the int8 activations alone; the weights are the same values).
        Assert.True(kl <= 1e-3 && top1 >= 14, $"mean KL(dequantized fp32 || blocks) {kl:E3}, top-1 agreement {top1}/{Tokens.Length}");
    }

    /// <summary>A source whose lm_head is the embedding table (the same blocks read again under the lm_head's name).</summary>
    private sealed class LmHeadIsTable(IWeightSource inner) : IWeightSource
    {
        private static string Name(string name) => name == "lm_head.weight" ? "model.embed_tokens.weight" : name;
        public bool Contains(string name) => inner.Contains(Name(name));
        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination) => inner.Read(Name(name), expectedShape, destination);
        public KQuantRows? ReadKQuant(string name, ReadOnlySpan<long> expectedShape) => inner.ReadKQuant(Name(name), expectedShape);
    }

    /// <summary>With tied embeddings the k-quant table serves as the lm_head itself: the logits of a model whose
    /// lm_head is the same blocks uploaded a second time, bit for bit, with the lm_head's panels not counted twice.</summary>
    [Fact]
    public void ATiedKQuantTableServesAsTheLmHead()
    {
        using var source = ModelSource.Open("tiny");
        float[] Run(ModelConfig config, IWeightSource weights, out long bytes)
        {
            using var backend = new CpuBackend(2);
            using var decoder = DecoderModel.Load(config, weights, backend);
            bytes = backend.WeightBytes;
            var runner = new PagedSequenceRunner(decoder, 16, 16);
            return runner.Step([(runner.AddSequence(), Tokens)], allRows: true)[0];
        }
        var blocks = new KQuantSource(source.Weights, blocks: true);
        float[] shared = Run(source.Config with { TieWordEmbeddings = true }, blocks, out long sharedBytes);
        float[] twice = Run(source.Config with { TieWordEmbeddings = false }, new LmHeadIsTable(blocks), out long twiceBytes);
        Assert.Equal(twice, shared);
        Assert.True(sharedBytes < twiceBytes, $"{sharedBytes} bytes shared, {twiceBytes} with the lm_head uploaded again");
    }

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        double[] e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
