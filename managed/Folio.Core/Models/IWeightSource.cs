namespace Folio.Core.Models;

/// <summary>Where a model's weights come from: a checkpoint folder, or generated (the built-in model).</summary>
public interface IWeightSource
{
    bool Contains(string name);

    /// <summary>Reads tensor <paramref name="name"/> as fp32, after checking that its shape is
    /// <paramref name="expectedShape"/>; a missing tensor or other shape is a <see cref="ModelFormatException"/>.</summary>
    void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination);
}
