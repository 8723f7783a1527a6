using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>How the one-pass attention kernel reads 16 cached K or V values as fp32 lanes: the cache's element type
/// as a type argument, so the JIT compiles one kernel per element type with the load inlined.</summary>
internal interface ICacheElements<T> where T : unmanaged
{
    /// <summary>Elements at[i .. i + 15] as fp32.</summary>
    static abstract Vector512<float> Load(ref T at, nuint i);
}

/// <summary>An fp32 cache: the values as they are.</summary>
internal readonly struct F32Elements : ICacheElements<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float at, nuint i) => Vector512.LoadUnsafe(ref at, i);
}

/// <summary>A bf16 cache: each 16-bit value is the high half of its fp32, so widening is exact (zero-extend, shift).</summary>
internal readonly struct Bf16Elements : ICacheElements<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref ushort at, nuint i) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref at, i)), 16).AsSingle();
}
