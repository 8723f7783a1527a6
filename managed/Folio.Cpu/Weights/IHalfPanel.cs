using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// A 16-bit element format of <see cref="HalfWeight"/> panels. Each 32-bit word of a panel row holds column j
/// in its high half and column j + 16 in its low half (j = 0 .. 15), so one 512-bit load gives 32 columns and
/// two in-register ops widen them to fp32 (exactly: both formats are subsets of fp32).
/// </summary>
internal interface IHalfPanel
{
    /// <summary>Columns 0..15 (high halves) as fp32.</summary>
    static abstract Vector512<float> High(Vector512<uint> words);

    /// <summary>The same on half a panel row (words j .. j + 7: columns j .. j + 7), for the 256-bit tiles.</summary>
    static abstract Vector256<float> High(Vector256<uint> words);

    /// <summary>Columns 16..31 (low halves) as fp32.</summary>
    static abstract Vector512<float> Low(Vector512<uint> words);

    /// <summary>The same on half a panel row (words j .. j + 7: columns j + 16 .. j + 23).</summary>
    static abstract Vector256<float> Low(Vector256<uint> words);

    /// <summary>The scalar form of the same conversion (for the column remainder and tests).</summary>
    static abstract float ToSingle(ushort bits);

    /// <summary>The 16-bit pattern of <paramref name="value"/>, which must be representable (a widened value of
    /// this format), so the round trip is exact.</summary>
    static abstract ushort FromSingle(float value);
}

/// <summary>A 16-bit weight's element patterns, [o, i] (the scalar path for a partial last panel, and tests).</summary>
internal interface IHalfBits
{
    int Cols { get; }

    ushort Bits(int o, int i);
}
