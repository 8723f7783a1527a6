using System.Runtime.InteropServices;
using Folio.Core.Compute;
using Folio.Cuda.Native;

namespace Folio.Cuda.Backend;

/// <summary>Folio.Core's element types as the CUDA library names them, and the host-side conversions to and from
/// fp32 (round to nearest even, as PyTorch's <c>.to(torch.bfloat16)</c> rounds), for uploads and downloads.</summary>
internal static class CudaDtypes
{
    public static FolioCudaDtype Of(DType type) => type switch
    {
        DType.F32 => FolioCudaDtype.F32,
        DType.BF16 => FolioCudaDtype.Bf16,
        DType.F16 => FolioCudaDtype.F16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no CUDA element type"),
    };

    /// <summary>Writes <paramref name="source"/> as <paramref name="type"/> elements into <paramref name="destination"/>.</summary>
    public static void Encode(ReadOnlySpan<float> source, DType type, Span<byte> destination)
    {
        switch (type)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case DType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(destination);
                for (int i = 0; i < source.Length; i++)
                    bf[i] = BFloat16.FromSingle(source[i]);
                break;
            case DType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(destination);
                for (int i = 0; i < source.Length; i++)
                    h[i] = (Half)source[i];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "no CUDA element type");
        }
    }

    /// <summary>Widens <paramref name="source"/> (elements of <paramref name="type"/>) into fp32.</summary>
    public static void Decode(ReadOnlySpan<byte> source, DType type, Span<float> destination)
    {
        switch (type)
        {
            case DType.F32:
                source.CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case DType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(source);
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.UInt32BitsToSingle((uint)bf[i] << 16);
                break;
            case DType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(source);
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)h[i];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "no CUDA element type");
        }
    }

}
