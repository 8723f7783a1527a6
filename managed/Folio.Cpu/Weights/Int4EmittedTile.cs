using System.Runtime.InteropServices;
using Folio.Cpu.Emit;

namespace Folio.Cpu.Weights;

/// <summary>
/// <see cref="Int4Gemm"/>'s 8-row × 16-column batch tile as emitted AVX-512 VNNI code (why emitted: see
/// <see cref="Int8EmittedTile"/>). Per block of 8 inputs: one 64-byte load of the panel pair's nibbles, a 16-bit shift
/// and two masks for the low nibbles (inputs 0–3, unsigned q + 8) and the high ones (inputs 4–7), and for each of 8 rows
/// two vpdpbusd of those by the row's signed quads broadcast from memory. The int32 sums start at the group's −8 · Σ x_q
/// (<see cref="Int8Activations.GroupOffsets"/>), so each ends exactly at Σ x_q · q; per group one FMA by the group's
/// scale d, then the row scale s and the bias at the end: <see cref="Int4Gemm.Element"/>'s operations in its order, the
/// same bits as the managed tiles (the tests compare them).
/// </summary>
internal static unsafe class Int4EmittedTile
{
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public sbyte* X;            // 0: signed x_q of row r (Int8Activations.Signed)
        public nint RowBytes;       // 8
        public byte* W;             // 16: panel c / 8, group 0 (Int4Weight.Nibbles)
        public nint PanelBytes;     // 24
        public ushort* Scales;      // 32: fp16 scales of panel c / 8, group 0
        public nint ScaleStride;    // 40: bytes between the two panels' scales
        public int* Offsets;        // 48: −8 · Σ q of [r, 0] (Int8Activations.GroupOffsets)
        public nint GroupStride;    // 56: bytes between rows of Offsets (groups · 4)
        public nint Groups;         // 64
        public float* Y;            // 72: y[r, c]
        public nint YStride;        // 80
        public float* Bias;         // 88: bias[c] (the variant with a bias only)
        public float* RowScales;    // 96: s[r] (Int8Activations.Scales)
    }

    /// <summary>Variant (rows − 4) · 2 + bias (4 to 8 rows, as <see cref="EmittedTiles.MinRows"/>).</summary>
    private static readonly EmittedTiles.Variants Code = new(5 * 2, i => Emit(EmittedTiles.MinRows + i / 2, (i & 1) != 0));

    public static bool Available => Code.Available;

    /// <summary>Rows r .. r + <paramref name="rows"/> − 1 (4 to 8) × panels c / 8 and c / 8 + 1 (the caller checked the
    /// extents).</summary>
    public static void Run(Int8Activations act, int r, int rows, Int4Weight w, int c, float[]? bias, float[] y)
    {
        if (rows is < EmittedTiles.MinRows or > 8)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "the emitted tile takes 4 to 8 rows");
        int groups = w.Groups, panel = Int4Weight.PanelCols;
        fixed (sbyte* x = act.Signed)
        fixed (byte* q = w.Nibbles)
        fixed (ushort* s = w.Scales)
        fixed (int* offsets = act.GroupOffsets)
        fixed (float* rowScales = act.Scales)
        fixed (float* yp = y)
        fixed (float* bp = bias)
        {
            nint panelBytes = (nint)groups * Int4Weight.GroupBytes;
            var args = new Args
            {
                X = x + (nint)r * act.RowBytes,
                RowBytes = act.RowBytes,
                W = q + c / panel * panelBytes,
                PanelBytes = panelBytes,
                Scales = s + (nint)(c / panel) * groups * panel,
                ScaleStride = (nint)groups * panel * 2,
                Offsets = offsets + (nint)r * groups,
                GroupStride = (nint)groups * 4,
                Groups = groups,
                Y = yp + (nint)r * w.Rows + c,
                YStride = (nint)w.Rows * 4,
                Bias = bp is null ? null : bp + c,
                RowScales = rowScales + r,
            };
            // No GC transition: the tile runs a few µs at most, touches only pinned memory, never blocks or calls back.
            ((delegate* unmanaged[SuppressGCTransition]<Args*, void>)Code.For((rows - EmittedTiles.MinRows) * 2 + (bias is not null ? 1 : 0)))(&args);
        }
    }

    /// <summary>The tile's code for <paramref name="rows"/> rows. Registers: rsi/rdx row 0 / row 4 of x_q, rcx and r8 one and three rows' bytes, r9 the
    /// nibbles, r10 the panel stride, r11 the scales and rax their panel stride, r12/r13 rows 0 / 4 of the offsets, r14 and
    /// r15 one and three rows of those, rdi the groups left (the Args pointer waits on the stack); zmm16–23 the rows'
    /// int32 sums, zmm24–31 their fp32 accumulators, zmm0/zmm5 the low/high nibbles, zmm1 0x0F bytes, zmm2 the scales,
    /// zmm3 a temporary.</summary>
    internal static byte[] Emit(int rows, bool withBias)
    {
        var a = new X64Assembler();
        Gpr rax = Gpr.Rax, rcx = Gpr.Rcx, rdx = Gpr.Rdx, rsi = Gpr.Rsi, rdi = Gpr.Rdi,
            r8 = Gpr.R8, r9 = Gpr.R9, r10 = Gpr.R10, r11 = Gpr.R11, r12 = Gpr.R12, r13 = Gpr.R13, r14 = Gpr.R14, r15 = Gpr.R15;
        EmittedTiles.Enter(a, rows);
        a.MovLoad(r9, new Mem(rdi, Disp: 16));
        a.MovLoad(r10, new Mem(rdi, Disp: 24));
        a.MovLoad(r11, new Mem(rdi, Disp: 32));
        a.MovLoad(rax, new Mem(rdi, Disp: 40));
        EmittedTiles.LoadTable(a, r12, r13, r14, r15, at: 48, strideAt: 56);   // the offsets
        a.MovLoad(rdi, new Mem(rdi, Disp: 64));

        Vec low = new(0), mask = new(1), d = new(2), t = new(3), high = new(5);
        static Vec Sum(int row) => new(16 + row);
        static Vec Acc(int row) => EmittedTiles.Acc(row);
        EmittedTiles.Broadcast(a, mask, 0x0F0F0F0F);

        var loop = new X64Assembler.Label();
        a.Bind(loop);
        for (int row = 0; row < rows; row++)
            a.VpbroadcastdZmm(Sum(row), EmittedTiles.Row(row, r12, r13, r14, r15, 0));
        for (int block = 0; block < Int4Weight.GroupSize / 8; block++)
        {
            int at = block * 32;
            a.Vmovdqu8Ymm(low, new Mem(r9, Disp: at));
            a.Vinserti64x4High(low, low, new Mem(r9, r10, 1, at));
            a.Vpsrlw(high, low, 4);
            a.Vpandd(low, low, mask);
            a.Vpandd(high, high, mask);
            for (int row = 0; row < rows; row++)
            {
                a.VpdpbusdBroadcast(Sum(row), low, EmittedTiles.Row(row, rsi, rdx, rcx, r8, block * 8));
                a.VpdpbusdBroadcast(Sum(row), high, EmittedTiles.Row(row, rsi, rdx, rcx, r8, block * 8 + 4));
            }
        }
        a.Vcvtph2psYmm(d, new Mem(r11));
        a.Vcvtph2psYmm(t, new Mem(r11, rax, 1));
        a.Vinsertf64x4High(d, d, t);
        for (int row = 0; row < rows; row++)
        {
            a.Vcvtdq2ps(t, Sum(row));
            a.Vfmadd231ps(Acc(row), t, d);
        }
        a.Add(rsi, Int4Weight.GroupSize);
        a.Add(rdx, Int4Weight.GroupSize);
        a.Add(r9, Int4Weight.GroupBytes);
        a.Add(r11, Int4Weight.PanelCols * 2);
        a.Add(r12, 4);
        a.Add(r13, 4);
        a.Sub(rdi, 1);
        a.Jnz(loop);

        EmittedTiles.Leave(a, rows, withBias, yAt: 72, rowScalesAt: 96);
        return a.ToArray();
    }
}
