namespace Folio.Core.Compute;

/// <summary>How a backend stores MatMul weights, chosen when a model loads (<c>--quantization</c>). None keeps
/// the checkpoint's own precision (fp32, bf16 or fp16); Int8 and Int4 quantize every MatMul weight at load time
/// (group-wise symmetric, 32 weights per fp16 scale; see the CPU backend's <c>Int8Weight</c> and <c>Int4Weight</c>).</summary>
public enum WeightQuantization
{
    None,
    Int8,
    Int4,
}

public static class WeightQuantizations
{
    /// <summary>The CLI / C ABI / Python spelling: <c>none</c> (or empty), <c>int8</c> and <c>int4</c>.</summary>
    public static bool TryParse(string? text, out WeightQuantization quantization)
    {
        (bool ok, quantization) = text switch
        {
            null or "" or "none" => (true, WeightQuantization.None),
            "int8" => (true, WeightQuantization.Int8),
            "int4" => (true, WeightQuantization.Int4),
            _ => (false, WeightQuantization.None),
        };
        return ok;
    }

    public static string Name(this WeightQuantization q) => q switch
    {
        WeightQuantization.Int8 => "int8",
        WeightQuantization.Int4 => "int4",
        _ => "none",
    };
}
