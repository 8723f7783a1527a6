namespace Folio.Core.Compute;

/// <summary>How a backend stores MatMul weights, chosen when a model loads (<c>--quantization</c>). None keeps
/// the checkpoint's own precision (fp32, bf16 or fp16); Int8 quantizes every MatMul weight at load time
/// (group-wise symmetric, see the CPU backend's <c>Int8Weight</c>).</summary>
public enum WeightQuantization
{
    None,
    Int8,
}

public static class WeightQuantizations
{
    /// <summary>The CLI / C ABI / Python spelling: <c>none</c> (or empty) and <c>int8</c>.</summary>
    public static bool TryParse(string? text, out WeightQuantization quantization)
    {
        (bool ok, quantization) = text switch
        {
            null or "" or "none" => (true, WeightQuantization.None),
            "int8" => (true, WeightQuantization.Int8),
            _ => (false, WeightQuantization.None),
        };
        return ok;
    }

    public static string Name(this WeightQuantization q) => q == WeightQuantization.Int8 ? "int8" : "none";
}
