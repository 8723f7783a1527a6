namespace Folio.Core.Models;

/// <summary>Where a model's weights come from: a checkpoint folder, or generated (the built-in model).</summary>
public interface IWeightSource
{
    bool Contains(string name);

    /// <summary>Reads tensor <paramref name="name"/> as fp32, after checking that its shape is
    /// <paramref name="expectedShape"/>; a missing tensor or other shape is a <see cref="ModelFormatException"/>.</summary>
    void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination);

    /// <summary>The element type tensor <paramref name="name"/> is stored in (what <see cref="Read"/> widens to
    /// fp32); generated weights are fp32.</summary>
    Compute.DType StoredType(string name) => Compute.DType.F32;

    /// <summary>The weight quantization that reproduces tensor <paramref name="name"/>'s stored values exactly,
    /// when it is stored block-quantized in such a format (GGUF Q8_0 → Int8, Q4_0 → Int4); None otherwise.</summary>
    Compute.WeightQuantization ExactQuantization(string name) => Compute.WeightQuantization.None;

    /// <summary>Tensor <paramref name="name"/>'s blocks as stored, when it is stored in a k-quant format a backend may
    /// keep (GGUF Q4_K, Q6_K), after the shape check of <see cref="Read"/>; null for any other type.</summary>
    Compute.KQuantRows? ReadKQuant(string name, ReadOnlySpan<long> expectedShape) => null;

    /// <summary>Tensor <paramref name="name"/> as int8 groups holding its stored values exactly, when it is stored in
    /// a block format that has that form (GGUF Q5_0, IQ4_NL, IQ4_XS), after the shape check of <see cref="Read"/>; null for
    /// any other type.</summary>
    Compute.Int8GroupRows? ReadInt8Groups(string name, ReadOnlySpan<long> expectedShape) => null;

    /// <summary>Tensor <paramref name="name"/> in place (its stored bytes in a read-only file mapping, no copy),
    /// after the shape check of <see cref="Read"/>; null where the source cannot (generated weights, a layout that
    /// needs rearranging). The caller owns the result: the mapping stays open until it is disposed.</summary>
    MappedTensor? Map(string name, ReadOnlySpan<long> expectedShape) => null;

    /// <summary>Whether <see cref="ReadRows"/> reads a range of rows without reading the whole tensor.</summary>
    bool ReadsRows => false;

    /// <summary>Rows [firstRow, firstRow + destination.Length / cols) of tensor <paramref name="name"/> as fp32 (the
    /// shape checked as by <see cref="Read"/>), so that a loader can convert a large tensor in pieces. Only where
    /// <see cref="ReadsRows"/>.</summary>
    void ReadRows(string name, ReadOnlySpan<long> expectedShape, long firstRow, Span<float> destination) =>
        throw new NotSupportedException($"{GetType().Name} does not read row ranges");
}
