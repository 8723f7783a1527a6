namespace Folio.Core.Compute;

/// <summary>The one fp32 → bf16 rule every backend and writer uses: round to nearest, ties to even (PyTorch's
/// <c>.to(torch.bfloat16)</c>), keeping the top 16 bits of the rounded fp32 pattern; a NaN stays a quiet NaN (rounding
/// could carry it into ∞), a value past bf16's largest finite one becomes ∞.</summary>
public static class BFloat16
{
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000)
            return (ushort)((bits | 0x00400000) >> 16);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
