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
}
