using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Folio.Core.Sampling;

/// <summary>
/// e^x in fp32 with the same bits on every machine and in every vector width (scalar, Vector128, Vector256,
/// Vector512), so that a seeded draw stays a function of the row and u alone, as <see cref="BlockSums"/> keeps the sums.
/// <see cref="Exp(float)"/> is the definition; the vector paths perform exactly its IEEE operations lane by lane.
/// Only exactly specified fp32 operations: +, −, ×, fused multiply-add (the vector software fallbacks are element-wise
/// <see cref="MathF.FusedMultiplyAdd"/>, fused too) and integer ops on the bits.
/// x = n·ln 2 + r: n = round-to-nearest-even(x·log₂e) by adding 1.5·2²³ in one fused multiply-add (an IEEE
/// addition, no Round API whose scalar and vector forms could differ; x·log₂e for an fp32 x in range is never exactly
/// halfway between integers, so no tie arises), r = x − n·ln 2 with a two-part ln 2 (|r| ≤ ln 2 / 2), e^r by its
/// degree-7 Taylor polynomial (truncation below 6e-9 relative), times 2ⁿ built from the exponent bits. Within 1 ulp of
/// e^x over the normal range (0.93 ulp the worst of a dense sweep, tested). Tails: x below
/// <see cref="UnderflowBelow"/> (e^x under fp32's normal range, −∞ included) gives +0; exp(0) and exp(−0) are exactly
/// 1 (a row's largest logit weighs 1); NaN gives a NaN; x above <see cref="OverflowAbove"/> gives +∞, and between 88
/// and it the result rounds to +∞ where it passes <see cref="float.MaxValue"/>.
/// <c>TensorPrimitives.Exp</c> widens to double for a correctly rounded result (with its Subtract, ~2.2× the time of
/// <see cref="ExpShifted"/> on the Zen 4 VM) and promises no agreement between its vector and scalar paths.
/// </summary>
internal static partial class PortableExp
{
    /// <summary>The least fp32 x whose e^x is at least 2⁻¹²⁶ (the smallest normal); below it the result is 0.</summary>
    public const float UnderflowBelow = -87.33654f;

    /// <summary>Above this e^x exceeds <see cref="float.MaxValue"/> by far: +∞ without computing it.</summary>
    public const float OverflowAbove = 89f;

    /// <summary>Up to this, n ≤ 127 (2ⁿ is one normal fp32 from its exponent bits): the vector paths' range. A vector
    /// with a lane above it takes <see cref="Exp(float)"/> lane by lane (never after subtracting a row's max).</summary>
    private const float VectorUpTo = 88f;

    private const float Log2E = 1.44269504088896341f;
    /// <summary>1.5·2²³: adding it rounds a value under 2²² in magnitude to an integer, held in the low mantissa bits.</summary>
    private const float Shifter = 12582912f;
    private const int ShifterBits = 0x4B400000;
    /// <summary>ln 2's high part (15 significant bits, so n·it is exact) and the rest.</summary>
    private const float Ln2High = 0.693145751953125f;
    private const float Ln2Low = 1.42860682030941723212e-6f;
    /// <summary>Added to the shifter's bits, then shifted to the exponent field, gives the bits of 2ⁿ.</summary>
    private const int ExponentBiasLessShifter = 127 - ShifterBits;

    private const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    /// <summary>e^x (see the type's summary): the definition every width follows.</summary>
    public static float Exp(float x)
    {
        if (x < UnderflowBelow)
            return 0f;
        if (x > OverflowAbove)
            return float.PositiveInfinity;
        float t = MathF.FusedMultiplyAdd(x, Log2E, Shifter);
        float n = t - Shifter;
        float r = MathF.FusedMultiplyAdd(n, -Ln2High, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Low, r);
        float p = MathF.FusedMultiplyAdd(C7, r, C6);
        p = MathF.FusedMultiplyAdd(p, r, C5);
        p = MathF.FusedMultiplyAdd(p, r, C4);
        p = MathF.FusedMultiplyAdd(p, r, C3);
        p = MathF.FusedMultiplyAdd(p, r, C2);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        if (n > 127f)
            return p * 2f * BitConverter.Int32BitsToSingle(0x7F000000);   // n = 128: 2ⁿ is no fp32; p·2 is exact, then ·2¹²⁷ rounds once (to +∞ past MaxValue)
        return p * Pow2(BitConverter.SingleToInt32Bits(t));
    }

    /// <summary>destination[i] = <see cref="Exp(float)"/>((x[i] − shift) × scale), the subtraction and the product each
    /// rounded to fp32, in the widest vectors this machine accelerates (the same bits in any). In place is allowed
    /// (destination the same span as x).</summary>
    public static void ExpShifted(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination)
    {
        if (Vector512.IsHardwareAccelerated)
            ExpShifted512(x, shift, scale, destination);
        else if (Vector256.IsHardwareAccelerated)
            ExpShifted256(x, shift, scale, destination);
        else if (Vector128.IsHardwareAccelerated)
            ExpShifted128(x, shift, scale, destination);
        else
            ExpShiftedScalar(x, shift, scale, destination, 0);
    }

    /// <summary><see cref="ExpShifted"/> one value at a time from <paramref name="start"/> on.</summary>
    internal static void ExpShiftedScalar(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination, int start)
    {
        CheckLengths(x, destination);
        for (int i = start; i < x.Length; i++)
            destination[i] = Exp((x[i] - shift) * scale);
    }

    private static void CheckLengths(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (destination.Length < x.Length)
            throw new ArgumentException($"{destination.Length} destination values for {x.Length} inputs", nameof(destination));
    }

    /// <summary>2ⁿ from the shifted value's bits (n in [−126, 127]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pow2(int tBits) => BitConverter.Int32BitsToSingle((tBits + ExponentBiasLessShifter) << 23);
}
