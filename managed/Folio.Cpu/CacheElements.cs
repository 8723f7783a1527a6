using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>How the attention kernels read cached K or V values as fp32 lanes: the cache's element type as a type
/// argument, so the JIT compiles one kernel per element type with the loads inlined.</summary>
internal interface ICacheElements<T> where T : unmanaged
{
    /// <summary>Elements at[i .. i + 15] as fp32 (AVX-512: the one-pass kernel, and the two-pass one where Vector512 runs).</summary>
    static abstract Vector512<float> Load(ref T at, nuint i);

    /// <summary>Elements at[i .. i + 7] as fp32 (the two-pass kernel).</summary>
    static abstract Vector256<float> Load8(ref T at, nuint i);

    /// <summary>Element at[i] as fp32 (the two-pass kernel's tails).</summary>
    static abstract float Load1(ref T at, nuint i);
}

/// <summary>An fp32 cache: the values as they are.</summary>
internal readonly struct F32Elements : ICacheElements<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float at, nuint i) => Vector512.LoadUnsafe(ref at, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref float at, nuint i) => Vector256.LoadUnsafe(ref at, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref float at, nuint i) => Unsafe.Add(ref at, i);
}

/// <summary>A bf16 cache: each 16-bit value is the high half of its fp32, so widening is exact (zero-extend, shift).</summary>
internal readonly struct Bf16Elements : ICacheElements<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref ushort at, nuint i) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref at, i)), 16).AsSingle();

    /// <summary>Zero-extended to 32 bits and shifted: vpmovzxwd from memory and vpslld on AVX2 (the portable widening
    /// elsewhere).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref ushort at, nuint i)
    {
        var h = Vector128.LoadUnsafe(ref at, i);
        if (Avx2.IsSupported)
            return Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(h), 16).AsSingle();
        return (Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h)) << 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref ushort at, nuint i) => BitConverter.Int32BitsToSingle(Unsafe.Add(ref at, i) << 16);
}
