using System.Runtime.CompilerServices;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] kept in a 16-bit format (<see cref="DType.BF16"/> or
/// <see cref="DType.F16"/>): half the bytes of fp32, widened in registers by <see cref="HalfGemm{TPanel}"/>.
/// Layout: panels of 32 output columns, k-major inside, one 32-bit word per (k, column pair j, j + 16), j = 0 .. 15,
/// with column j in the high half (see <see cref="IHalfPanel"/>): one 512-bit load is a panel row, and two widening
/// ops give its columns 0..15 and 16..31 as fp32 in order, no shuffle. The last panel is zero-padded.
/// </summary>
internal sealed class HalfWeight : DeviceTensor, IHalfBits
{
    public const int PanelCols = 32;

    private HalfWeight(AlignedPanels<uint> words, int rows, int cols, DType dtype) : base(rows, cols, dtype) => Words = words;

    /// <summary>Panels already packed elsewhere (a decoded block of a <see cref="CodedBf16Weight"/>), as a weight of
    /// <paramref name="rows"/> output columns.</summary>
    internal static HalfWeight Over(AlignedPanels<uint> words, int rows, int cols) => new(words, rows, cols, DType.BF16);

    /// <summary>The panels, from a 64-byte (or 2 MiB) boundary.</summary>
    internal AlignedPanels<uint> Words { get; }

    /// <summary>The panels' bytes (not the slack before and after them that aligns them).</summary>
    internal long StoredBytes => (long)(Rows + PanelCols - 1) / PanelCols * Cols * (PanelCols / 2) * sizeof(uint);

    public static HalfWeight Pack<TPanel>(ReadOnlySpan<float> w, int outFeatures, int inFeatures, DType dtype)
        where TPanel : struct, IHalfPanel
    {
        var panels = AlignedPanels<uint>.Allocate((long)(outFeatures + PanelCols - 1) / PanelCols * inFeatures * (PanelCols / 2));
        var words = panels.Span;
        for (int o = 0; o < outFeatures; o++)
        {
            int panel = o / PanelCols * inFeatures * (PanelCols / 2);
            int lane = o % (PanelCols / 2);
            int shift = o % PanelCols < PanelCols / 2 ? 16 : 0;
            for (int i = 0; i < inFeatures; i++)
            {
                float v = w[o * inFeatures + i];
                ushort bits;
                try
                {
                    bits = TPanel.FromSingle(v);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"weight element [{o}, {i}]: {e.Message}", e);
                }
                words[panel + i * (PanelCols / 2) + lane] |= (uint)bits << shift;
            }
        }
        return new HalfWeight(panels, outFeatures, inFeatures, dtype);
    }

    /// <summary>A mapped bf16 weight's rows packed into panels: its 16-bit patterns copied as they are (no fp32 on
    /// the way). Rows split over <paramref name="runner"/>'s threads by whole panels (each panel's words are written
    /// by one item).</summary>
    internal static HalfWeight PackBf16(MappedBf16Weight w, ParallelRunner runner)
    {
        int outFeatures = w.Rows, inFeatures = w.Cols;
        var words = AlignedPanels<uint>.Allocate((long)(outFeatures + PanelCols - 1) / PanelCols * inFeatures * (PanelCols / 2));
        int panels = (outFeatures + PanelCols - 1) / PanelCols;
        runner.For(panels, (long)outFeatures * inFeatures, (w, words), static (s, panel) =>
        {
            var (w, words) = s;
            int k = w.Cols, end = Math.Min(w.Rows, (panel + 1) * PanelCols);
            for (int o = panel * PanelCols; o < end; o++)
            {
                int at = panel * k * (PanelCols / 2) + o % (PanelCols / 2);
                int shift = o % PanelCols < PanelCols / 2 ? 16 : 0;
                ref ushort row = ref w.Row(o);
                var span = words.Span;
                for (int i = 0; i < k; i++)
                    span[at + i * (PanelCols / 2)] |= (uint)Unsafe.Add(ref row, i) << shift;
            }
        });
        return new HalfWeight(words, outFeatures, inFeatures, DType.BF16);
    }

    /// <summary>The 16-bit pattern of element [o, i] (tests and the scalar remainder).</summary>
    public ushort Bits(int o, int i)
    {
        uint word = Words[(long)o / PanelCols * Cols * (PanelCols / 2) + i * (PanelCols / 2) + o % (PanelCols / 2)];
        return (ushort)(o % PanelCols < PanelCols / 2 ? word >> 16 : word);
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
