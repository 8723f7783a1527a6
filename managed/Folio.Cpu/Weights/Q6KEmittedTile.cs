using Folio.Cpu.Emit;

namespace Folio.Cpu.Weights;

/// <summary>
/// <see cref="KQuantGemm"/>'s Q6_K batch tile (Q3_K too: it is repacked as Q6_K panels) as emitted AVX-512 VNNI code
/// (why emitted: <see cref="Int8EmittedTile"/>): 4 to 8 rows × two neighbouring 8-column panels. Per sub-block j of 16
/// inputs: the two nibble vectors and the high-bits vector of both panels, four value vectors q (0..63) made as the
/// managed <c>Values</c> makes them (a shift, a mask, one vpternlogd each), and per row four vpdpbusd of them by the row's
/// broadcast quads, started at −32 · the sub-block's Σ x_q (<see cref="Int8Activations.Q6KOffsets"/>), times sc_j
/// (sign-extended, vpmulld) into the super-block's S; then acc = fma(S, d · x_b, acc): <see cref="KQuantGemm.Element"/>'s
/// integers and fp32 steps in its order, the same bits as the managed tiles (tested).
/// </summary>
internal static class Q6KEmittedTile
{
    /// <summary>Variant (rows − 4) · 2 + bias.</summary>
    private static readonly EmittedTiles.Variants Code = new(5 * 2, i => Emit(EmittedTiles.MinRows + i / 2, (i & 1) != 0));

    public static bool Available => Code.Available;

    /// <summary>Rows r .. r + <paramref name="rows"/> − 1 (4 to 8) × panels p and p + 1 of a Q6_K part (both whole).</summary>
    public static void Run(Int8Activations act, int r, int rows, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y)
    {
        if (rows is < EmittedTiles.MinRows or > 8)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "the emitted tile takes 4 to 8 rows");
        KQuantTileCall.Run(Code.For((rows - EmittedTiles.MinRows) * 2 + (bias is not null ? 1 : 0)), act, r, w, part, p, bias, y,
            KQuantPanels.Q6KBytes, act.Q6KOffsets, act.RowBytes / 16);
    }

    /// <summary>The tile's code for <paramref name="rows"/> rows. Registers as <see cref="Q4KEmittedTile"/>'s, with the
    /// offsets (r13/r14 rows 0 / 4, r15/rbp one and three rows) in place of the paired sums. zmm8–15 a sub-block's sums
    /// per row, zmm16–23 S, zmm24–31 the accumulators; zmm0/1 the nibble vectors, zmm2 the high bits, zmm3 a value
    /// vector, zmm4 0x0F and zmm5 0x30 bytes, zmm6 sc_j, zmm7 a temporary.</summary>
    internal static byte[] Emit(int rows, bool withBias)
    {
        var a = new X64Assembler();
        Gpr rax = Gpr.Rax, rcx = Gpr.Rcx, rdx = Gpr.Rdx, rbx = Gpr.Rbx, rbp = Gpr.Rbp, rsi = Gpr.Rsi, rdi = Gpr.Rdi,
            r8 = Gpr.R8, r9 = Gpr.R9, r10 = Gpr.R10, r11 = Gpr.R11, r12 = Gpr.R12, r13 = Gpr.R13, r14 = Gpr.R14, r15 = Gpr.R15;
        EmittedTiles.Enter(a, rows);
        a.MovLoad(r9, new Mem(rdi, Disp: 16));
        a.MovLoad(r10, new Mem(rdi, Disp: 24));
        EmittedTiles.LoadTable(a, r11, rbx, rax, r12, at: 32, strideAt: 40);   // the block scales
        EmittedTiles.LoadTable(a, r13, r14, r15, rbp, at: 48, strideAt: 56);   // the offsets
        a.MovLoad(rdi, new Mem(rdi, Disp: 64));

        Vec na = new(0), nb = new(1), h = new(2), v = new(3), low = new(4), top = new(5), sc = new(6), t = new(7);
        static Vec Sub(int row) => new(8 + row);
        static Vec S(int row) => new(16 + row);
        EmittedTiles.Broadcast(a, low, 0x0F0F0F0F);
        EmittedTiles.Broadcast(a, top, 0x30303030);

        Mem XRow(int row, int disp) => EmittedTiles.Row(row, rsi, rdx, rcx, r8, disp);
        // v = v | (b & 0x0F): vpternlogd's table for a | (b & c) with c = 0x0F bytes.
        const byte orMaskedLow = 0xF8;
        var loop = new X64Assembler.Label();
        a.Bind(loop);
        for (int row = 0; row < rows; row++)
            a.Vpxord(S(row), S(row), S(row));
        for (int j = 0; j < 16; j++)
        {
            a.Vmovdqu8Ymm(na, new Mem(r9, Disp: 64 * j));
            a.Vinserti64x4High(na, na, new Mem(r9, r10, 1, 64 * j));
            a.Vmovdqu8Ymm(nb, new Mem(r9, Disp: 64 * j + 32));
            a.Vinserti64x4High(nb, nb, new Mem(r9, r10, 1, 64 * j + 32));
            a.Vmovdqu8Ymm(h, new Mem(r9, Disp: KQuantPanels.Q6KHighs + 32 * j));
            a.Vinserti64x4High(h, h, new Mem(r9, r10, 1, KQuantPanels.Q6KHighs + 32 * j));
            for (int row = 0; row < rows; row++)
                a.VpbroadcastdZmm(Sub(row), EmittedTiles.Row(row, r13, r14, r15, rbp, 4 * j));
            for (int s = 0; s < 4; s++)
            {
                // Value vector s: inputs 16j + 4s .. + 3, the nibble (na low / na high / nb low / nb high) with bits 2s
                // of the high vector moved to bits 4-5.
                switch (s)
                {
                    case 0: a.Vpsllw(v, h, 4); a.Vpandd(v, v, top); a.Vpternlogd(v, na, low, orMaskedLow); break;
                    case 1: a.Vpsllw(v, h, 2); a.Vpandd(v, v, top); a.Vpsrlw(t, na, 4); a.Vpternlogd(v, t, low, orMaskedLow); break;
                    case 2: a.Vpandd(v, h, top); a.Vpternlogd(v, nb, low, orMaskedLow); break;
                    default: a.Vpsrlw(v, h, 2); a.Vpandd(v, v, top); a.Vpsrlw(t, nb, 4); a.Vpternlogd(v, t, low, orMaskedLow); break;
                }
                for (int row = 0; row < rows; row++)
                    a.VpdpbusdBroadcast(Sub(row), v, XRow(row, 16 * j + 4 * s));
            }
            a.VpmovsxbdYmm(sc, new Mem(r9, Disp: KQuantPanels.Q6KScales + 8 * j));
            a.VpmovsxbdYmm(t, new Mem(r9, r10, 1, KQuantPanels.Q6KScales + 8 * j));
            a.Vinserti64x4High(sc, sc, t);
            for (int row = 0; row < rows; row++)
            {
                a.Vpmulld(Sub(row), Sub(row), sc);
                a.Vpaddd(S(row), S(row), Sub(row));
            }
        }
        Vec d = Sub(0);
        a.VmovupsYmm(d, new Mem(r9, Disp: KQuantPanels.Q6KD));
        a.Vinsertf64x4High(d, d, new Mem(r9, r10, 1, KQuantPanels.Q6KD));
        for (int row = 0; row < rows; row++)
        {
            a.VmulpsBroadcast(t, d, EmittedTiles.Row(row, r11, rbx, rax, r12, 0));
            a.Vcvtdq2ps(v, S(row));
            a.Vfmadd231ps(EmittedTiles.Acc(row), v, t);
        }
        a.Add(rsi, 256);
        a.Add(rdx, 256);
        a.Add(r9, KQuantPanels.Q6KBytes);
        a.Add(r11, 4);
        a.Add(rbx, 4);
        a.Add(r13, 64);
        a.Add(r14, 64);
        a.Sub(rdi, 1);
        a.Jnz(loop);

        EmittedTiles.Leave(a, rows, withBias, yAt: 72);
        return a.ToArray();
    }
}
