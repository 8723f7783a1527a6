using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// Loads for the 512-bit tiles of the int8-activation kernels (<see cref="Int4Gemm"/>, <see cref="Int8Gemm"/>), whose
/// weights come in panels of 8 output columns: a zmm holds the same 32-byte block of two neighbouring panels (the low
/// 256 bits panel p, the high panel p + 1), so one broadcast quad of x_q serves 16 columns.
/// </summary>
internal static class PanelPairs
{
    /// <summary>Whether the kernels' 512-bit 8 × 16 tiles serve batches here: AVX-512 BW without AVX-VNNI (AMD Zen 4/5
    /// VMs: `avx512_vnni` without `avx_vnni`). With AVX-VNNI the 256-bit vpdpbusd tiles do a product-and-sum in one op
    /// already; without AVX-512 BW there is no 512-bit vpmaddubsw.</summary>
    public static bool WideTiles => Avx512BW.IsSupported && !AvxVnni.IsSupported;

    /// <summary>The 32-byte block at <paramref name="at"/> of panel p and the same block of panel p + 1: a ymm load, and
    /// vinserti64x4 from memory for the high half (Vector512.Create(lo, hi) compiles to two loads and two inserts chained
    /// through one register).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load<T>(ref T w, nuint at, nuint panelBytes) where T : unmanaged
    {
        ref byte b = ref Unsafe.As<T, byte>(ref w);
        return Avx512F.InsertVector256(Vector256.LoadUnsafe(ref b, at).ToVector512Unsafe(), Vector256.LoadUnsafe(ref b, at + panelBytes), 1);
    }

    /// <summary>x_q[at .. at + 3] (signed) in every 32-bit lane: one quad for all 16 columns of a pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> BroadcastQuad(ref sbyte x, nuint at) =>
        Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, at)))).AsSByte();

    /// <summary>Stores v (+ bias[c ..]) at y[at], unchecked: a range check after a tile's group loop is a call, and any
    /// call there makes the JIT keep the accumulators in memory across the loop; the kernels check the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, float[] y, int at, float[]? bias, int c)
    {
        if (bias is not null)
            v += Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c);
        v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(y), (nuint)at);
    }

    /// <summary>Sixteen fp16 scales (8 of panel p at <paramref name="at"/>, 8 of panel p + 1 one panel stride on) widened
    /// to fp32: positive normals or zero, so shifting the bits into place and rebiasing by 2^112 is exact (the mask
    /// clears what the sign extension of the 16-bit words put above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(ref ushort at, nuint panelStride)
    {
        var halves = Vector256.Create(
            Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref at)),
            Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref Unsafe.Add(ref at, panelStride))));
        var words = Avx512F.ConvertToVector512Int32(halves);
        return ((words << 13) & Vector512.Create(unchecked((int)0x8FFFFFFFu))).AsSingle() * Vector512.Create(MathF.ScaleB(1f, 112));
    }
}
