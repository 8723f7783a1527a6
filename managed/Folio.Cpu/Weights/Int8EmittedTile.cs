using System.Runtime.InteropServices;
using Folio.Cpu.Emit;

namespace Folio.Cpu.Weights;

/// <summary>
/// <see cref="Int8Gemm"/>'s 8-row × 16-column batch tile as machine code emitted at run time, for CPUs with AVX-512
/// VNNI. .NET 10 exposes vpdpbusd only as AVX-VNNI's 256-bit VEX form (<c>AvxVnni</c>, which AMD Zen 4 and Intel Ice
/// Lake / Cascade Lake lack) and has no AVX-512 VNNI class, so the managed 512-bit tile (Int8Gemm.Tiles512.cs) spends
/// four instructions (two vpmaddubsw on the weights' nibbles, two vpaddw) where 512-bit vpdpbusd spends one; on the Zen
/// 4 VM that tile runs at its vpmaddubsw + vpaddw pair rate and caps the int8 batch GEMM. This tile does per quad of k:
/// the panel pair's 64 bytes of weights (a ymm load and vinserti64x4 of the other panel's 32), one xor by 0x80 (u = q + 128,
/// unsigned), and for each of 8 rows one
/// vpdpbusd of u by that row's signed quad broadcast from memory ({1to16}); the int32 sums start at the group's
/// −128 · Σ q (<see cref="Int8Activations.GroupOffsets"/>), so each ends exactly at Σ x_q · q. Per group each row's sum
/// becomes fp32 (exact: |Σ| &lt; 2^24) and is folded in by one FMA by d · s (vmulps then vfmadd231ps), the bias added at
/// the end: the same operations in the same order as <see cref="Int8Gemm.Element"/>, so the same bits as every other
/// tile (the tests compare them). Emitted once per process for each row count (4–8: a strip's last rows too), kind of
/// scale and bias (twenty variants, ~1–2 KiB each); where code cannot be made executable (<see cref="ExecutableCode"/>)
/// the managed tiles run.
/// </summary>
internal static unsafe class Int8EmittedTile
{
    /// <summary>The tile's operands, passed by pointer (one register): byte strides and element pointers already offset
    /// to row r, column c.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public sbyte* X;            // 0: signed x_q of row r, group 0 (Int8Activations.Signed)
        public nint RowBytes;       // 8: bytes between rows of x_q
        public sbyte* W;            // 16: panel c / 8, group 0 (Int8Weight.Quants)
        public nint PanelBytes;     // 24: bytes between panel c / 8 and c / 8 + 1
        public byte* Scales;        // 32: the weight scales of panel c / 8, group 0 (fp16 or fp32)
        public nint ScaleStride;    // 40: bytes between the two panels' scales
        public float* XScales;      // 48: s[r, 0] (Int8Activations.GroupScales)
        public int* Offsets;        // 56: −128 · Σ q of [r, 0] (Int8Activations.GroupOffsets)
        public nint GroupStride;    // 64: bytes between rows of XScales and Offsets (groups · 4)
        public nint Groups;         // 72: groups of 32 along k (at least 1)
        public float* Y;            // 80: y[r, c]
        public nint YStride;        // 88: bytes between rows of y
        public float* Bias;         // 96: bias[c] (the variant with a bias only)
    }

    /// <summary>Variant (rows − 4) · 4 + 2 · fp16 scales + bias.</summary>
    private static readonly EmittedTiles.Variants Code = new(5 * 4, i => Emit(EmittedTiles.MinRows + i / 4, (i & 2) != 0, (i & 1) != 0));

    /// <summary>Whether the tile serves here: the CPU has it and the code was made executable.</summary>
    public static bool Available => Code.Available;

    /// <summary>Rows r .. r + <paramref name="rows"/> − 1 (4 to 8) × panels c / 8 and c / 8 + 1 (the caller checked the
    /// extents).</summary>
    public static void Run<TScales>(Int8Activations act, int r, int rows, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        if (rows is < EmittedTiles.MinRows or > 8)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "the emitted tile takes 4 to 8 rows");
        int groups = w.Groups, panel = Int8Weight.PanelCols;
        int scaleBytes = TScales.IsHalf ? 2 : 4;
        fixed (sbyte* x = act.Signed)
        fixed (sbyte* q = w.Quants)
        fixed (ushort* halves = w.Scales)
        fixed (float* singles = w.SingleScales)
        fixed (float* xs = act.GroupScales)
        fixed (int* offsets = act.GroupOffsets)
        fixed (float* yp = y)
        fixed (float* bp = bias)
        {
            byte* s = TScales.IsHalf ? (byte*)halves : (byte*)singles;
            nint panelBytes = (nint)groups * Int8Weight.GroupBytes;
            var args = new Args
            {
                X = x + (nint)r * act.RowBytes,
                RowBytes = act.RowBytes,
                W = q + c / panel * panelBytes,
                PanelBytes = panelBytes,
                Scales = s + (nint)(c / panel) * groups * panel * scaleBytes,
                ScaleStride = (nint)groups * panel * scaleBytes,
                XScales = xs + (nint)r * groups,
                Offsets = offsets + (nint)r * groups,
                GroupStride = (nint)groups * 4,
                Groups = groups,
                Y = yp + (nint)r * w.Rows + c,
                YStride = (nint)w.Rows * 4,
                Bias = bp is null ? null : bp + c,
            };
            nint code = Code.For((rows - EmittedTiles.MinRows) * 4 + (TScales.IsHalf ? 2 : 0) + (bias is not null ? 1 : 0));
            // No GC transition: the tile runs a few µs at most, touches only pinned memory, never blocks or calls back.
            ((delegate* unmanaged[SuppressGCTransition]<Args*, void>)code)(&args);
        }
    }

    /// <summary>The tile's code for <paramref name="rows"/> rows. Registers: rsi/rdx row 0 / row 4 of x_q, rcx and r8 one and three rows' bytes, r9 the
    /// weights, r10 the panel stride, r11 the weight scales and rax their panel stride, rbx/rbp rows 0 / 4 of s,
    /// r12/r13 rows 0 / 4 of the offsets, r14 and r15 one and three rows of those, rdi the groups left (the Args pointer
    /// waits on the stack); zmm16–23 the rows' int32 sums, zmm24–31 their fp32 accumulators, zmm0 the weights, zmm1
    /// 0x80 bytes, zmm2 the 16 weight scales, zmm3/zmm4 temporaries. Only SysV caller-saved vector registers are used.</summary>
    internal static byte[] Emit(int rows, bool halfScales, bool withBias)
    {
        var a = new X64Assembler();
        Gpr rax = Gpr.Rax, rcx = Gpr.Rcx, rdx = Gpr.Rdx, rbx = Gpr.Rbx, rbp = Gpr.Rbp, rsi = Gpr.Rsi, rdi = Gpr.Rdi,
            r8 = Gpr.R8, r9 = Gpr.R9, r10 = Gpr.R10, r11 = Gpr.R11, r12 = Gpr.R12, r13 = Gpr.R13, r14 = Gpr.R14, r15 = Gpr.R15;
        EmittedTiles.Enter(a, rows);
        a.MovLoad(r9, new Mem(rdi, Disp: 16));
        a.MovLoad(r10, new Mem(rdi, Disp: 24));
        a.MovLoad(r11, new Mem(rdi, Disp: 32));
        a.MovLoad(rax, new Mem(rdi, Disp: 40));
        EmittedTiles.LoadTable(a, rbx, rbp, r14, r15, at: 48, strideAt: 64);   // s
        EmittedTiles.LoadTable(a, r12, r13, r14, r15, at: 56, strideAt: null); // the offsets, the same stride
        a.MovLoad(rdi, new Mem(rdi, Disp: 72));

        Vec w = new(0), x80 = new(1), d = new(2), t = new(3), u = new(4);
        static Vec Sum(int row) => new(16 + row);
        static Vec Acc(int row) => EmittedTiles.Acc(row);
        EmittedTiles.Broadcast(a, x80, unchecked((int)0x80808080));

        var loop = new X64Assembler.Label();
        a.Bind(loop);
        for (int row = 0; row < rows; row++)
            a.VpbroadcastdZmm(Sum(row), EmittedTiles.Row(row, r12, r13, r14, r15, 0));
        for (int quad = 0; quad < Int8Weight.GroupSize / 4; quad++)
        {
            int at = quad * 4 * Int8Weight.PanelCols;
            a.Vmovdqu8Ymm(w, new Mem(r9, Disp: at));
            a.Vinserti64x4High(w, w, new Mem(r9, r10, 1, at));
            a.Vpxord(w, w, x80);
            for (int row = 0; row < rows; row++)
                a.VpdpbusdBroadcast(Sum(row), w, EmittedTiles.Row(row, rsi, rdx, rcx, r8, quad * 4));
        }
        if (halfScales)
        {
            a.Vcvtph2psYmm(d, new Mem(r11));
            a.Vcvtph2psYmm(t, new Mem(r11, rax, 1));
            a.Vinsertf64x4High(d, d, t);
        }
        else
        {
            a.VmovupsYmm(d, new Mem(r11));
            a.Vinsertf64x4High(d, d, new Mem(r11, rax, 1));
        }
        for (int row = 0; row < rows; row++)
        {
            a.Vcvtdq2ps(t, Sum(row));
            a.VmulpsBroadcast(u, d, EmittedTiles.Row(row, rbx, rbp, r14, r15, 0));
            a.Vfmadd231ps(Acc(row), t, u);
        }
        a.Add(rsi, Int8Weight.GroupSize);
        a.Add(rdx, Int8Weight.GroupSize);
        a.Add(r9, Int8Weight.GroupBytes);
        a.Add(r11, Int8Weight.PanelCols * (halfScales ? 2 : 4));
        a.Add(rbx, 4);
        a.Add(rbp, 4);
        a.Add(r12, 4);
        a.Add(r13, 4);
        a.Sub(rdi, 1);
        a.Jnz(loop);

        EmittedTiles.Leave(a, rows, withBias, yAt: 80);
        return a.ToArray();
    }
}
