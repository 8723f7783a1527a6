namespace Folio.Core.Models.Gguf;

/// <summary>ggml's tensor element types as GGUF numbers them (ggml.h's enum ggml_type). Folio reads the ones
/// <see cref="GgmlTypes.IsSupported"/> names; the others are known by name so that a refusal can say which.</summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
}

public static class GgmlTypes
{
    /// <summary>Elements per block and bytes per block of the types Folio dequantizes (ggml's type traits).</summary>
    public static bool TryBlock(GgmlType type, out int blockElements, out int blockBytes)
    {
        (blockElements, blockBytes) = type switch
        {
            GgmlType.F32 => (1, 4),
            GgmlType.F16 or GgmlType.BF16 => (1, 2),
            GgmlType.Q8_0 => (32, 34),     // fp16 d, 32 × int8
            GgmlType.Q4_0 => (32, 18),     // fp16 d, 16 bytes of nibbles
            GgmlType.Q4_1 => (32, 20),     // fp16 d, fp16 m, 16 bytes of nibbles
            GgmlType.Q5_0 => (32, 22),     // fp16 d, 32 high bits, 16 bytes of nibbles
            GgmlType.Q5_1 => (32, 24),     // fp16 d, fp16 m, 32 high bits, 16 bytes of nibbles
            GgmlType.IQ4_NL => (32, 18),   // fp16 d, 16 bytes of nibbles indexing a fixed table of 16 values
            GgmlType.Q2_K => (256, 84),    // 16 bytes of 4-bit scales/mins, 64 bytes of 2-bit values, fp16 d, fp16 dmin
            GgmlType.Q3_K => (256, 110),   // 32 bytes of high bits, 64 bytes of 2-bit values, 12 bytes of 6-bit scales, fp16 d
            GgmlType.Q4_K => (256, 144),   // fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
            GgmlType.Q5_K => (256, 176),   // as Q4_K, with 32 bytes of high bits before the nibbles
            GgmlType.Q6_K => (256, 210),   // 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, fp16 d
            GgmlType.IQ4_XS => (256, 136), // fp16 d, 16 bits of high scale bits, 4 bytes of low scale nibbles, 128 bytes of nibbles
            _ => (0, 0),
        };
        return blockElements > 0;
    }

    public static bool IsSupported(GgmlType type) => TryBlock(type, out _, out _);

    /// <summary>The types Folio reads, by name, for a refusal's message.</summary>
    public static string SupportedNames => string.Join(", ", Enum.GetValues<GgmlType>().Where(IsSupported).Select(Name));

    /// <summary>"Q4_K", or "type 77" for a number ggml does not define.</summary>
    public static string Name(GgmlType type) => Enum.IsDefined(type) ? type.ToString() : $"type {(uint)type}";
}
