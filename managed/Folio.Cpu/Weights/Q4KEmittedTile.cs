using Folio.Core.Compute;
using Folio.Cpu.Emit;

namespace Folio.Cpu.Weights;

/// <summary>
/// <see cref="KQuantGemm"/>'s Q4_K and Q5_K batch tile as emitted AVX-512 VNNI code (why emitted: <see cref="Int8EmittedTile"/>):
/// 4 to 8 rows × two neighbouring 8-column panels (a zmm holds the same 32-byte nibble vector of both, as the int8 and
/// int4 tiles). Per sub-block j of 32 inputs: four nibble vectors unpacked (a 16-bit shift, two masks; Q5_K: each
/// value's fifth bit shifted in from the sub-block's high vector, as the managed <c>FifthBit</c>) and multiplied
/// with each row's broadcast quads by two vpdpbusd, then the row's int32 sums times sc_j (vpmulld) added into the
/// super-block's S. Per super-block: M = Σ m_j · X_j by vpmaddwd of the panels' (m_2k, m_2k+1) pairs with the row's
/// (X_2k, X_2k+1) (<see cref="Int8Activations.PairedGroupSums"/>), then acc = fma(S, d · x_b, acc) and
/// fma(M, −dmin · x_b, acc): the integers exact, the fp32 steps those of <see cref="KQuantGemm.Element"/> in its order,
/// so the same bits as the managed tiles (tested). Whole panel pairs only (a part's partial last panel stays managed).
/// </summary>
internal static class Q4KEmittedTile
{
    /// <summary>Variant (rows − 4) · 4 + 2 · Q5_K + bias.</summary>
    private static readonly EmittedTiles.Variants Code = new(5 * 4, i => Emit(EmittedTiles.MinRows + i / 4, (i & 1) != 0, (i & 2) != 0));

    public static bool Available => Code.Available;

    /// <summary>Rows r .. r + <paramref name="rows"/> − 1 (4 to 8) × panels p and p + 1 of a Q4_K or Q5_K part (both whole).</summary>
    public static void Run(Int8Activations act, int r, int rows, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y)
    {
        if (rows is < EmittedTiles.MinRows or > 8)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "the emitted tile takes 4 to 8 rows");
        bool five = part.Format == KQuantFormat.Q5K;
        if (!five && part.Format != KQuantFormat.Q4K)
            throw new ArgumentException($"the Q4_K tile does not take {part.Format} panels");
        KQuantTileCall.Run(Code.For((rows - EmittedTiles.MinRows) * 4 + (five ? 2 : 0) + (bias is not null ? 1 : 0)), act, r, w, part, p, bias, y,
            five ? KQuantPanels.Q5KBytes : KQuantPanels.Q4KBytes, act.PairedGroupSums, act.RowBytes / 64);
    }

    /// <summary>The tile's code for <paramref name="rows"/> rows. Registers: rsi/rdx row 0 / row 4 of x_q and rcx/r8 one
    /// and three rows' bytes; r9 panel p's super-block and r10 the panel stride; r11/rbx rows 0 / 4 of the block scales,
    /// rax/r12 one and three rows of those; r13/r14 rows 0 / 4 of the paired sums, r15/rbp one and three rows of those;
    /// rdi the super-blocks left (the Args pointer waits on the stack). zmm8–15 a sub-block's int32 sums per row (at a
    /// super-block's end: the mins pairs, d, −dmin), zmm16–23 the super-block's S per row, zmm24–31 the fp32
    /// accumulators; zmm0/1 low/high nibbles, zmm2 0x0F bytes, zmm3 sc_j, zmm4–7 temporaries (Q5_K, in the sub-block
    /// loop: zmm5 the fifth bits, zmm6 one shifted, zmm7 0x10 bytes).</summary>
    internal static byte[] Emit(int rows, bool withBias, bool five)
    {
        var a = new X64Assembler();
        Gpr rax = Gpr.Rax, rcx = Gpr.Rcx, rdx = Gpr.Rdx, rbx = Gpr.Rbx, rbp = Gpr.Rbp, rsi = Gpr.Rsi, rdi = Gpr.Rdi,
            r8 = Gpr.R8, r9 = Gpr.R9, r10 = Gpr.R10, r11 = Gpr.R11, r12 = Gpr.R12, r13 = Gpr.R13, r14 = Gpr.R14, r15 = Gpr.R15;
        EmittedTiles.Enter(a, rows);
        a.MovLoad(r9, new Mem(rdi, Disp: 16));
        a.MovLoad(r10, new Mem(rdi, Disp: 24));
        EmittedTiles.LoadTable(a, r11, rbx, rax, r12, at: 32, strideAt: 40);   // the block scales
        EmittedTiles.LoadTable(a, r13, r14, r15, rbp, at: 48, strideAt: 56);   // the paired sums
        a.MovLoad(rdi, new Mem(rdi, Disp: 64));

        Vec low = new(0), high = new(1), mask = new(2), sc = new(3), t4 = new(4), t5 = new(5), t6 = new(6), t7 = new(7);
        static Vec Sub(int row) => new(8 + row);
        static Vec S(int row) => new(16 + row);
        static Vec Acc(int row) => EmittedTiles.Acc(row);
        EmittedTiles.Broadcast(a, mask, 0x0F0F0F0F);

        Mem XRow(int row, int disp) => EmittedTiles.Row(row, rsi, rdx, rcx, r8, disp);
        Vec fifth = t5, moved = t6, bit4 = t7;
        // v = v | (b & 0x10): vpternlogd's table for a | (b & c).
        const byte orMasked = 0xF8;
        var loop = new X64Assembler.Label();
        a.Bind(loop);
        if (five)
        {
            // zmm7 is a temporary at the super-block's end: 0x10 bytes again each block.
            EmittedTiles.Broadcast(a, bit4, 0x10101010);
        }
        for (int row = 0; row < rows; row++)
            a.Vpxord(S(row), S(row), S(row));
        for (int j = 0; j < 8; j++)
        {
            for (int row = 0; row < rows; row++)
                a.Vpxord(Sub(row), Sub(row), Sub(row));
            if (five)
            {
                a.Vmovdqu8Ymm(fifth, new Mem(r9, Disp: KQuantPanels.Q5KHighs + 32 * j));
                a.Vinserti64x4High(fifth, fifth, new Mem(r9, r10, 1, KQuantPanels.Q5KHighs + 32 * j));
            }
            for (int t = 0; t < 4; t++)
            {
                int o = 128 * j + 32 * t;
                a.Vmovdqu8Ymm(low, new Mem(r9, Disp: o));
                a.Vinserti64x4High(low, low, new Mem(r9, r10, 1, o));
                a.Vpsrlw(high, low, 4);
                a.Vpandd(low, low, mask);
                a.Vpandd(high, high, mask);
                if (five)
                {
                    // Bit 2t of the fifth-bit bytes to bit 4 of the low values, bit 2t + 1 to bit 4 of the high ones.
                    FifthBit(a, moved, fifth, 2 * t);
                    a.Vpternlogd(low, moved, bit4, orMasked);
                    FifthBit(a, moved, fifth, 2 * t + 1);
                    a.Vpternlogd(high, moved, bit4, orMasked);
                }
                for (int row = 0; row < rows; row++)
                {
                    a.VpdpbusdBroadcast(Sub(row), low, XRow(row, 32 * j + 8 * t));
                    a.VpdpbusdBroadcast(Sub(row), high, XRow(row, 32 * j + 8 * t + 4));
                }
            }
            a.VpmovzxbdYmm(sc, new Mem(r9, Disp: KQuantPanels.Q4KScales + 8 * j));
            a.VpmovzxbdYmm(t4, new Mem(r9, r10, 1, KQuantPanels.Q4KScales + 8 * j));
            a.Vinserti64x4High(sc, sc, t4);
            for (int row = 0; row < rows; row++)
            {
                a.Vpmulld(Sub(row), Sub(row), sc);
                a.Vpaddd(S(row), S(row), Sub(row));
            }
        }
        // The super-block's end: the mins pairs into zmm8–11, d into zmm12, −dmin into zmm13 (the sub-block sums are done).
        for (int k = 0; k < 4; k++)
        {
            a.VpmovzxbwYmm(Sub(k), new Mem(r9, Disp: KQuantPanels.Q4KMins + 16 * k));
            a.VpmovzxbwYmm(t4, new Mem(r9, r10, 1, KQuantPanels.Q4KMins + 16 * k));
            a.Vinserti64x4High(Sub(k), Sub(k), t4);
        }
        Vec d = Sub(4), negMin = Sub(5);
        a.VmovupsYmm(d, new Mem(r9, Disp: KQuantPanels.Q4KD));
        a.Vinsertf64x4High(d, d, new Mem(r9, r10, 1, KQuantPanels.Q4KD));
        a.VmovupsYmm(negMin, new Mem(r9, Disp: KQuantPanels.Q4KNegMin));
        a.Vinsertf64x4High(negMin, negMin, new Mem(r9, r10, 1, KQuantPanels.Q4KNegMin));
        for (int row = 0; row < rows; row++)
        {
            Mem SumRow(int disp) => EmittedTiles.Row(row, r13, r14, r15, rbp, disp);
            Mem ScaleRow() => EmittedTiles.Row(row, r11, rbx, rax, r12, 0);
            // M = Σ_k (m_2k, m_2k+1) · (X_2k, X_2k+1), exact in int32.
            a.VpbroadcastdZmm(t4, SumRow(0));
            a.Vpmaddwd(t5, Sub(0), t4);
            a.VpbroadcastdZmm(t4, SumRow(4));
            a.Vpmaddwd(t6, Sub(1), t4);
            a.Vpaddd(t5, t5, t6);
            a.VpbroadcastdZmm(t4, SumRow(8));
            a.Vpmaddwd(t6, Sub(2), t4);
            a.VpbroadcastdZmm(t7, SumRow(12));
            a.Vpmaddwd(t7, Sub(3), t7);
            a.Vpaddd(t6, t6, t7);
            a.Vpaddd(t5, t5, t6);
            // acc = fma(S, d · x_b, acc), then fma(M, −dmin · x_b, acc).
            a.VmulpsBroadcast(t6, d, ScaleRow());
            a.Vcvtdq2ps(t7, S(row));
            a.Vfmadd231ps(Acc(row), t7, t6);
            a.VmulpsBroadcast(t6, negMin, ScaleRow());
            a.Vcvtdq2ps(t7, t5);
            a.Vfmadd231ps(Acc(row), t7, t6);
        }
        a.Add(rsi, 256);
        a.Add(rdx, 256);
        a.Add(r9, five ? KQuantPanels.Q5KBytes : KQuantPanels.Q4KBytes);
        a.Add(r11, 4);
        a.Add(rbx, 4);
        a.Add(r13, 16);
        a.Add(r14, 16);
        a.Sub(rdi, 1);
        a.Jnz(loop);

        EmittedTiles.Leave(a, rows, withBias, yAt: 72);
        return a.ToArray();
    }

    /// <summary>dst = the 16-bit lanes of <paramref name="bits"/> shifted so that bit <paramref name="bit"/> of each byte
    /// lands on bit 4 (the caller masks it: within a byte for shifts below 8).</summary>
    private static void FifthBit(X64Assembler a, Vec dst, Vec bits, int bit)
    {
        if (bit < 4)
            a.Vpsllw(dst, bits, (byte)(4 - bit));
        else if (bit > 4)
            a.Vpsrlw(dst, bits, (byte)(bit - 4));
        else
            a.Vpandd(dst, bits, bits);
    }
}
