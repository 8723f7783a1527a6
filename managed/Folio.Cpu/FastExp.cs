using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>
/// e^x in 16 fp32 lanes for the CPU kernels' softmax and SiLU: x = n·ln 2 + r with n = round(x·log₂e) and r reduced
/// by a two-part ln 2 (|r| ≤ ln 2 / 2), e^r by its degree-7 Taylor polynomial (truncation below 6e-9 relative;
/// within 2 ulp of the correctly rounded result, tested), then ·2ⁿ by <c>vscalefps</c> (exact; 0 below the denormals, ∞ above the range). exp(0) is exactly 1
/// (a softmax's largest score weighs 1) and NaN stays NaN. <see cref="Vector512.Exp(Vector512{float})"/> computes in
/// double precision for a correctly rounded result, ~3× the instructions; a softmax or a SiLU needs neither.
/// </summary>
internal static class FastExp
{
    /// <summary>Whether <see cref="Exp"/> runs here (AVX-512F: <c>vscalefps</c>).</summary>
    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // Past these e^x is 0 or ∞ in fp32 anyway; clamping keeps n·ln 2 and r finite (NaN passes through Max/Min).
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(89f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693145751953125f), x);   // ln 2's high part: n·it exact
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-1.42860682030941723212e-6f), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 5040), r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }
}
