namespace Folio.Core.Compute;

/// <summary>llama.cpp's "k-quant" block formats that a backend may keep as stored (256 weights a super-block).
/// Q4_K: 144 bytes (fp16 d, fp16 dmin, 12 bytes of 6-bit sub-block scales and mins, 128 bytes of nibbles), 8
/// sub-blocks of 32, w = d · sc · q − dmin · m. Q6_K: 210 bytes (128 bytes of low nibbles, 64 of high 2 bits, 16
/// int8 sub-block scales, fp16 d), 16 sub-blocks of 16, w = d · sc · (q − 32). Q5_K: 176 bytes, Q4_K's with 32 bytes
/// of fifth bits between the scales and the nibbles (bit j of byte l: value l of sub-block j), q 0..31.</summary>
public enum KQuantFormat
{
    Q4K,
    Q6K,
    Q5K,
}

public static class KQuantFormats
{
    /// <summary>Weights per super-block.</summary>
    public const int BlockElements = 256;

    /// <summary>Bytes per super-block, as constants for the kernels' block strides.</summary>
    public const int Q4KBlockBytes = 144, Q6KBlockBytes = 210, Q5KBlockBytes = 176;

    public static int BlockBytes(this KQuantFormat format) => format switch
    {
        KQuantFormat.Q4K => Q4KBlockBytes,
        KQuantFormat.Q6K => Q6KBlockBytes,
        KQuantFormat.Q5K => Q5KBlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public static string Name(this KQuantFormat format) => format switch
    {
        KQuantFormat.Q4K => "Q4_K",
        KQuantFormat.Q6K => "Q6_K",
        KQuantFormat.Q5K => "Q5_K",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins (Q5_K is Q4_K with a fifth bit a value).</summary>
    public static bool HasMins(this KQuantFormat format) => format != KQuantFormat.Q6K;
}
