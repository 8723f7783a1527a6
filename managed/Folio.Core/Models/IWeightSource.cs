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
}
