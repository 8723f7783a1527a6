using System.Numerics.Tensors;

namespace Folio.Cpu.Tests.Precision;

/// <summary>
/// The per-row activation rule of <c>Int8Activations.Quantize</c>, written out element by element as the tests'
/// reference: s[r] = max |x[r]| / 127; 1 / s, or 0 where s is 0, NaN or infinite or 1 / s overflows (every q of the
/// row is then 0); q = round-to-even(x · (1 / s)) clamped to [-127, 127], stored + 128, k padded to groups of 32 with
/// q = 0; and the sums the int4 and k-quant kernels take from it.
/// </summary>
internal sealed record RowRule(int RowBytes, byte[] Quants, sbyte[] Signed, float[] Scales, int[] GroupSums,
    int[] Q6KOffsets, int[] PairedGroupSums)
{
    public static RowRule Of(float[] x, int rows, int k)
    {
        int padded = (k + 31) / 32 * 32;
        var quants = new byte[rows * padded];
        var signed = new sbyte[rows * padded];
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * k, k);
            float scale = Math.Abs(TensorPrimitives.MaxMagnitude(row)) / 127f;
            float inverse = scale == 0f || !float.IsFinite(scale) || !float.IsFinite(1f / scale) ? 0f : 1f / scale;
            scales[r] = scale;
            for (int i = 0; i < padded; i++)
            {
                int q = i < k && inverse != 0f ? (int)Math.Clamp(MathF.Round(row[i] * inverse), -127f, 127f) : 0;
                quants[r * padded + i] = (byte)(q + 128);
                signed[r * padded + i] = (sbyte)q;
            }
        }
        int Sum(int r, int from, int count)
        {
            int sum = 0;
            for (int i = from; i < from + count; i++)
                sum += signed[r * padded + i];
            return sum;
        }
        int groups = padded / 32, sixteens = padded / 16, pairs = padded / 64;
        var groupSums = new int[rows * groups];
        var q6k = new int[rows * sixteens];
        var paired = new int[rows * pairs];
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
                groupSums[r * groups + g] = 8 * Sum(r, 32 * g, 32);
            for (int i = 0; i < sixteens; i++)
                q6k[r * sixteens + i] = -32 * Sum(r, 16 * i, 16);
            for (int p = 0; p < pairs; p++)
                paired[r * pairs + p] = (Sum(r, 64 * p, 32) & 0xFFFF) | (Sum(r, 64 * p + 32, 32) << 16);
        }
        return new RowRule(padded, quants, signed, scales, groupSums, q6k, paired);
    }
}
