using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_rope_config</c> (host-side; <c>folio_rope_inv_freq</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FolioCudaRopeConfig
{
    public uint StructSize;
    public int RotaryDim;
    public float Theta;
    public int Scaling;
    public float Factor;
    public float LowFreqFactor;
    public float HighFreqFactor;
    public int OriginalMaxPosition;
}
