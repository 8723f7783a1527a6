using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>Quantizing a weight a few rows at a time (how a load keeps its peak low) gives the bits of quantizing it whole.</summary>
public sealed class StreamedQuantizationTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(13, 77, 5)]
    [InlineData(40, 64, 7)]
    public void PiecesGiveTheWholeTensorsBits(int outFeatures, int inFeatures, int rowsPerPiece)
    {
        float[] w = HalfGemmTests.Random(outFeatures * inFeatures, 11);
        var whole8 = Int8Weight.Quantize(w, outFeatures, inFeatures);
        var whole4 = Int4Weight.Quantize(w, outFeatures, inFeatures);
        var piece8 = Int8Weight.Create(outFeatures, inFeatures);
        var piece4 = Int4Weight.Create(outFeatures, inFeatures);
        for (int r = 0; r < outFeatures; r += rowsPerPiece)
        {
            var rows = w.AsSpan(r * inFeatures, Math.Min(rowsPerPiece, outFeatures - r) * inFeatures);
            piece8.QuantizeRows(rows, r);
            piece4.QuantizeRows(rows, r);
        }
        Assert.Equal(whole8.Quants, piece8.Quants);
        Assert.Equal(whole8.Scales, piece8.Scales);
        Assert.Equal(whole4.Nibbles, piece4.Nibbles);
        Assert.Equal(whole4.Scales, piece4.Scales);
        Assert.Throws<ArgumentException>(() => piece4.QuantizeRows(w.AsSpan(0, inFeatures), outFeatures));
    }

    [Theory]
    [InlineData(WeightQuantization.Int8)]
    [InlineData(WeightQuantization.Int4)]
    public void ALoadStreamsEveryWeightAndGivesTheWholeTensorLoadsLogits(WeightQuantization quantization)
    {
        var config = BuiltinModels.TryGet("tiny", out var c)
            ? c with { VocabSize = 300, NumLayers = 2, HiddenSize = 64, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, IntermediateSize = 96 }
            : throw new InvalidOperationException();
        var seeded = new SeededWeights(4);
        var streamed = new CountingRows(seeded);
        using var a = new CpuBackend(1, quantization);
        using var b = new CpuBackend(1, quantization);
        using var piecewise = LlamaModel.Load(config, streamed, a);
        using var whole = LlamaModel.Load(config, new WholeOnly(seeded), b);
        // q, k, v, o, gate, up, down per layer, and lm_head: every MatMul weight's tensor came through ReadRows.
        Assert.Equal(config.NumLayers * 7 + 1, streamed.Tensors.Count);
        Assert.Equal(a.WeightBytes, b.WeightBytes);
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6];
        var x = new PagedSequenceRunner(piecewise, 16, 4);
        var y = new PagedSequenceRunner(whole, 16, 4);
        Assert.Equal(y.Step([(y.AddSequence(), tokens)], allRows: true)[0], x.Step([(x.AddSequence(), tokens)], allRows: true)[0]);
    }

    private sealed class CountingRows(SeededWeights inner) : IWeightSource
    {
        public HashSet<string> Tensors { get; } = [];
        public bool Contains(string name) => inner.Contains(name);
        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination) => inner.Read(name, expectedShape, destination);
        public bool ReadsRows => true;
        public void ReadRows(string name, ReadOnlySpan<long> expectedShape, long firstRow, Span<float> destination)
        {
            Tensors.Add(name);
            inner.ReadRows(name, expectedShape, firstRow, destination);
        }
    }

    private sealed class WholeOnly(IWeightSource inner) : IWeightSource
    {
        public bool Contains(string name) => inner.Contains(name);
        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination) => inner.Read(name, expectedShape, destination);
    }
}
