namespace Folio.Core.Compute;

/// <summary>llama.cpp's "k-quant" block formats that a backend may keep as stored (256 weights a super-block).
/// Q4_K: 144 bytes (fp16 d, fp16 dmin, 12 bytes of 6-bit sub-block scales and mins, 128 bytes of nibbles), 8
/// sub-blocks of 32, w = d · sc · q − dmin · m. Q6_K: 210 bytes (128 bytes of low nibbles, 64 of high 2 bits, 16
/// int8 sub-block scales, fp16 d), 16 sub-blocks of 16, w = d · sc · (q − 32). Q5_K: 176 bytes, Q4_K's with 32 bytes
/// of fifth bits between the scales and the nibbles (bit j of byte l: value l of sub-block j), q 0..31. Q3_K: 110 bytes
/// (32 of high bits, 64 of 2-bit values, 12 of 6-bit signed scales, fp16 d), 16 sub-blocks of 16, w = d · sc · q with
/// q in −4..3, which Q6_K's form holds exactly (q + 32 as Q6_K's stored value): a backend may keep it as Q6_K.</summary>
public enum KQuantFormat
{
    Q4K,
    Q6K,
    Q5K,
    Q3K,
}

public static class KQuantFormats
{
    /// <summary>Weights per super-block.</summary>
    public const int BlockElements = 256;

    /// <summary>Bytes per super-block, as constants for the kernels' block strides.</summary>
    public const int Q4KBlockBytes = 144, Q6KBlockBytes = 210, Q5KBlockBytes = 176, Q3KBlockBytes = 110;

    public static int BlockBytes(this KQuantFormat format) => format switch
    {
        KQuantFormat.Q4K => Q4KBlockBytes,
        KQuantFormat.Q6K => Q6KBlockBytes,
        KQuantFormat.Q5K => Q5KBlockBytes,
        KQuantFormat.Q3K => Q3KBlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public static string Name(this KQuantFormat format) => format switch
    {
        KQuantFormat.Q4K => "Q4_K",
        KQuantFormat.Q6K => "Q6_K",
        KQuantFormat.Q5K => "Q5_K",
        KQuantFormat.Q3K => "Q3_K",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins (Q5_K is Q4_K with a fifth bit a value).</summary>
    public static bool HasMins(this KQuantFormat format) => format is KQuantFormat.Q4K or KQuantFormat.Q5K;

    /// <summary>The format a backend's kernels run a file format in: Q3_K as Q6_K (the same values exactly), the
    /// others as themselves.</summary>
    public static KQuantFormat PanelFormat(this KQuantFormat format) => format == KQuantFormat.Q3K ? KQuantFormat.Q6K : format;
}
