namespace Folio.Cpu.Emit;

/// <summary>A general-purpose 64-bit register (its encoding number: rax 0 … r15 15).</summary>
internal readonly record struct Gpr(int Id)
{
    public static readonly Gpr Rax = new(0), Rcx = new(1), Rdx = new(2), Rbx = new(3), Rsp = new(4), Rbp = new(5),
        Rsi = new(6), Rdi = new(7), R8 = new(8), R9 = new(9), R10 = new(10), R11 = new(11), R12 = new(12),
        R13 = new(13), R14 = new(14), R15 = new(15);
}

/// <summary>A vector register zmm0 … zmm31 (ymm/xmm views are the same number; the instruction says the width).</summary>
internal readonly record struct Vec(int Id);

/// <summary>A memory operand [base + index · scale + disp] (no index where <see cref="Index"/> is null).</summary>
internal readonly record struct Mem(Gpr Base, Gpr? Index = null, int Scale = 1, int Disp = 0)
{
    public Mem At(int disp) => this with { Disp = Disp + disp };
}

/// <summary>
/// Encodes the few x86-64 instructions Folio's emitted CPU kernels use (<see cref="Int8EmittedTile"/>): AVX-512 forms
/// that .NET 10 has no intrinsic for (vpdpbusd on zmm with an embedded broadcast: AVX-512 VNNI without AVX-VNNI, as on
/// AMD Zen 4 and Intel Ice Lake / Cascade Lake), the loads, stores and fp32 arithmetic around them, and the integer
/// bookkeeping of a loop. Every memory operand is encoded with a 32-bit displacement (ModRM mod = 10), so EVEX's
/// compressed 8-bit displacements never arise; the encodings are checked against GNU as in the tests
/// (X64AssemblerTests). This is not a general assembler: each method is one instruction form, named after it.
/// </summary>
internal sealed class X64Assembler
{
    private readonly List<byte> _code = [];
    private readonly List<(int At, Label Target)> _fixups = [];

    /// <summary>A jump target, placed by <see cref="Bind"/>.</summary>
    public sealed class Label
    {
        internal int Position = -1;
    }

    /// <summary>The encoded bytes, with every jump resolved.</summary>
    public byte[] ToArray()
    {
        var bytes = _code.ToArray();
        foreach (var (at, target) in _fixups)
        {
            if (target.Position < 0)
                throw new InvalidOperationException("a jump to a label that was never bound");
            BitConverter.TryWriteBytes(bytes.AsSpan(at, 4), target.Position - (at + 4));
        }
        return bytes;
    }

    public void Bind(Label label) => label.Position = _code.Count;

    // ---- integer instructions ----------------------------------------------------------------------------------

    public void Push(Gpr r) { if (r.Id >= 8) Emit(0x41); Emit((byte)(0x50 + (r.Id & 7))); }

    public void Pop(Gpr r) { if (r.Id >= 8) Emit(0x41); Emit((byte)(0x58 + (r.Id & 7))); }

    /// <summary>push imm32 (sign-extended to 64 bits): a constant for a following load from [rsp].</summary>
    public void PushImm32(int imm) { Emit(0x68); Emit32(imm); }

    public void Ret() => Emit(0xC3);

    public void Vzeroupper() { Emit(0xC5); Emit(0xF8); Emit(0x77); }

    /// <summary>xor ecx, ecx; xgetbv; shl rdx, 32; or rax, rdx: XCR0 (the register state the OS saves) in rax.</summary>
    public void ReadXcr0()
    {
        Emit(0x31); Emit(0xC9);
        Emit(0x0F); Emit(0x01); Emit(0xD0);
        Emit(0x48); Emit(0xC1); Emit(0xE2); Emit(0x20);
        Emit(0x48); Emit(0x09); Emit(0xD0);
    }

    /// <summary>mov dst, [m] (64-bit load).</summary>
    public void MovLoad(Gpr dst, Mem m) => Rex(0x8B, dst.Id, m);

    /// <summary>lea dst, [m].</summary>
    public void Lea(Gpr dst, Mem m) => Rex(0x8D, dst.Id, m);

    /// <summary>add dst, imm32 (sign-extended).</summary>
    public void Add(Gpr dst, int imm) => AluImm(0, dst, imm);

    /// <summary>sub dst, imm32 (sign-extended): sets ZF for a following <see cref="Jnz"/>.</summary>
    public void Sub(Gpr dst, int imm) => AluImm(5, dst, imm);

    /// <summary>jnz rel32 to <paramref name="target"/>.</summary>
    public void Jnz(Label target) { Emit(0x0F); Emit(0x85); _fixups.Add((_code.Count, target)); Emit32(0); }

    // ---- vector instructions (EVEX) ----------------------------------------------------------------------------

    /// <summary>vpdpbusd zmm_acc, zmm_u, dword [m]{1to16}: each int32 lane += Σ of 4 products of zmm_u's unsigned bytes by
    /// the broadcast quad's signed bytes (AVX-512 VNNI).</summary>
    public void VpdpbusdBroadcast(Vec acc, Vec u, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x50, acc, u, m, len: 2, broadcast: true);

    /// <summary>vpbroadcastd zmm, dword [m].</summary>
    public void VpbroadcastdZmm(Vec dst, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x58, dst, null, m, len: 2);

    /// <summary>vmovdqu8 ymm, [m] (32 bytes).</summary>
    public void Vmovdqu8Ymm(Vec dst, Mem m) => EvexMem(Map.M0F, Pp.F2, w: false, 0x6F, dst, null, m, len: 1);

    /// <summary>vinserti64x4 zmm_dst, zmm_src, ymmword [m], 1: zmm_src with its high 256 bits loaded from m.</summary>
    public void Vinserti64x4High(Vec dst, Vec src, Mem m) { EvexMem(Map.M0F3A, Pp.P66, w: true, 0x3A, dst, src, m, len: 2); Emit(1); }

    /// <summary>vinsertf64x4 zmm_dst, zmm_src, ymm_high, 1.</summary>
    public void Vinsertf64x4High(Vec dst, Vec src, Vec high) { EvexReg(Map.M0F3A, Pp.P66, w: true, 0x1A, dst, src, high, len: 2); Emit(1); }

    /// <summary>vinsertf64x4 zmm_dst, zmm_src, ymmword [m], 1.</summary>
    public void Vinsertf64x4High(Vec dst, Vec src, Mem m) { EvexMem(Map.M0F3A, Pp.P66, w: true, 0x1A, dst, src, m, len: 2); Emit(1); }

    /// <summary>vpxord zmm_dst, zmm_a, zmm_b.</summary>
    public void Vpxord(Vec dst, Vec a, Vec b) => EvexReg(Map.M0F, Pp.P66, w: false, 0xEF, dst, a, b, len: 2);

    /// <summary>vpandd zmm_dst, zmm_a, zmm_b.</summary>
    public void Vpandd(Vec dst, Vec a, Vec b) => EvexReg(Map.M0F, Pp.P66, w: false, 0xDB, dst, a, b, len: 2);

    /// <summary>vpsrlw zmm_dst, zmm_src, imm8: each 16-bit lane shifted right, zeros in.</summary>
    public void Vpsrlw(Vec dst, Vec src, byte imm)
    {
        // EVEX.512.66.0F.WIG 71 /2 ib: the destination in vvvv, the source in r/m, ModRM.reg the opcode extension 2.
        Evex(Map.M0F, Pp.P66, w: false, reg: 2, vvvv: dst.Id, bExt: src.Id >> 3 & 1, xExt: src.Id >> 4 & 1, len: 2, broadcast: false);
        Emit(0x71);
        Emit(ModRm(3, 2, src.Id));
        Emit(imm);
    }

    /// <summary>vpsllw zmm_dst, zmm_src, imm8: each 16-bit lane shifted left, zeros in.</summary>
    public void Vpsllw(Vec dst, Vec src, byte imm)
    {
        // EVEX.512.66.0F.WIG 71 /6 ib, the destination in vvvv (as vpsrlw's /2).
        Evex(Map.M0F, Pp.P66, w: false, reg: 6, vvvv: dst.Id, bExt: src.Id >> 3 & 1, xExt: src.Id >> 4 & 1, len: 2, broadcast: false);
        Emit(0x71);
        Emit(ModRm(3, 6, src.Id));
        Emit(imm);
    }

    /// <summary>vpternlogd zmm_a, zmm_b, zmm_c, imm8: each bit of a becomes bit (a · 4 + b · 2 + c) of imm8.</summary>
    public void Vpternlogd(Vec a, Vec b, Vec c, byte imm) { EvexReg(Map.M0F3A, Pp.P66, w: false, 0x25, a, b, c, len: 2); Emit(imm); }

    /// <summary>vpmovsxbd ymm, qword [m]: eight bytes sign-extended to int32.</summary>
    public void VpmovsxbdYmm(Vec dst, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x21, dst, null, m, len: 1);

    /// <summary>vpmovzxbd ymm, qword [m]: eight bytes zero-extended to int32.</summary>
    public void VpmovzxbdYmm(Vec dst, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x31, dst, null, m, len: 1);

    /// <summary>vpmovzxbw ymm, xmmword [m]: sixteen bytes zero-extended to int16.</summary>
    public void VpmovzxbwYmm(Vec dst, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x30, dst, null, m, len: 1);

    /// <summary>vinserti64x4 zmm_dst, zmm_src, ymm_high, 1.</summary>
    public void Vinserti64x4High(Vec dst, Vec src, Vec high) { EvexReg(Map.M0F3A, Pp.P66, w: true, 0x3A, dst, src, high, len: 2); Emit(1); }

    /// <summary>vpmulld zmm_dst, zmm_a, zmm_b (the low 32 bits of each product).</summary>
    public void Vpmulld(Vec dst, Vec a, Vec b) => EvexReg(Map.M0F38, Pp.P66, w: false, 0x40, dst, a, b, len: 2);

    /// <summary>vpaddd zmm_dst, zmm_a, zmm_b.</summary>
    public void Vpaddd(Vec dst, Vec a, Vec b) => EvexReg(Map.M0F, Pp.P66, w: false, 0xFE, dst, a, b, len: 2);

    /// <summary>vpmaddwd zmm_dst, zmm_a, zmm_b: int16 pairs multiplied and summed into int32.</summary>
    public void Vpmaddwd(Vec dst, Vec a, Vec b) => EvexReg(Map.M0F, Pp.P66, w: false, 0xF5, dst, a, b, len: 2);

    /// <summary>vcvtph2ps ymm, xmmword [m]: eight fp16 values to fp32 (exact).</summary>
    public void Vcvtph2psYmm(Vec dst, Mem m) => EvexMem(Map.M0F38, Pp.P66, w: false, 0x13, dst, null, m, len: 1);

    /// <summary>vmovups ymm, [m] (eight fp32).</summary>
    public void VmovupsYmm(Vec dst, Mem m) => EvexMem(Map.M0F, Pp.None, w: false, 0x10, dst, null, m, len: 1);

    /// <summary>vcvtdq2ps zmm_dst, zmm_src (int32 to fp32; exact below 2^24).</summary>
    public void Vcvtdq2ps(Vec dst, Vec src) => EvexReg(Map.M0F, Pp.None, w: false, 0x5B, dst, null, src, len: 2);

    /// <summary>vmulps zmm_dst, zmm_a, dword [m]{1to16}.</summary>
    public void VmulpsBroadcast(Vec dst, Vec a, Mem m) => EvexMem(Map.M0F, Pp.None, w: false, 0x59, dst, a, m, len: 2, broadcast: true);

    /// <summary>vfmadd231ps zmm_acc, zmm_a, zmm_b: acc = a · b + acc, one rounding.</summary>
    public void Vfmadd231ps(Vec acc, Vec a, Vec b) => EvexReg(Map.M0F38, Pp.P66, w: false, 0xB8, acc, a, b, len: 2);

    /// <summary>vaddps zmm_dst, zmm_a, zmmword [m].</summary>
    public void Vaddps(Vec dst, Vec a, Mem m) => EvexMem(Map.M0F, Pp.None, w: false, 0x58, dst, a, m, len: 2);

    /// <summary>vmovups zmmword [m], zmm_src.</summary>
    public void VmovupsStore(Mem m, Vec src) => EvexMem(Map.M0F, Pp.None, w: false, 0x11, src, null, m, len: 2);

    // ---- encoding -----------------------------------------------------------------------------------------------

    private enum Map { M0F = 1, M0F38 = 2, M0F3A = 3 }

    private enum Pp { None = 0, P66 = 1, F3 = 2, F2 = 3 }

    private void EvexReg(Map map, Pp pp, bool w, byte opcode, Vec reg, Vec? vvvv, Vec rm, int len)
    {
        // rm a register: EVEX.B and EVEX.X extend its number to 5 bits.
        Evex(map, pp, w, reg.Id, vvvv?.Id, bExt: rm.Id >> 3 & 1, xExt: rm.Id >> 4 & 1, len, broadcast: false);
        Emit(opcode);
        Emit(ModRm(3, reg.Id, rm.Id));
    }

    private void EvexMem(Map map, Pp pp, bool w, byte opcode, Vec reg, Vec? vvvv, Mem m, int len, bool broadcast = false)
    {
        Evex(map, pp, w, reg.Id, vvvv?.Id, bExt: m.Base.Id >> 3 & 1, xExt: (m.Index?.Id ?? 0) >> 3 & 1, len, broadcast);
        Emit(opcode);
        Address(reg.Id, m);
    }

    /// <summary>The four EVEX bytes (62, P0, P1, P2) with no masking: R, X, B, R', vvvv and V' stored inverted.</summary>
    private void Evex(Map map, Pp pp, bool w, int reg, int? vvvv, int bExt, int xExt, int len, bool broadcast)
    {
        int v = vvvv ?? 0;
        Emit(0x62);
        Emit((byte)((~reg >> 3 & 1) << 7 | (~xExt & 1) << 6 | (~bExt & 1) << 5 | (~reg >> 4 & 1) << 4 | (int)map));
        Emit((byte)((w ? 1 : 0) << 7 | (~v & 15) << 3 | 1 << 2 | (int)pp));
        Emit((byte)(len << 5 | (broadcast ? 1 : 0) << 4 | (~v >> 4 & 1) << 3));
    }

    /// <summary>REX.W opcode /r with a memory operand.</summary>
    private void Rex(byte opcode, int reg, Mem m)
    {
        Emit(RexByte(true, reg, m.Index?.Id ?? 0, m.Base.Id));
        Emit(opcode);
        Address(reg, m);
    }

    private void AluImm(int ext, Gpr dst, int imm)
    {
        Emit(RexByte(true, 0, 0, dst.Id));
        Emit(0x81);
        Emit(ModRm(3, ext, dst.Id));
        Emit32(imm);
    }

    private static byte RexByte(bool w, int reg, int index, int rm) =>
        (byte)(0x40 | (w ? 8 : 0) | (reg >> 3 & 1) << 2 | (index >> 3 & 1) << 1 | (rm >> 3 & 1));

    private static byte ModRm(int mod, int reg, int rm) => (byte)(mod << 6 | (reg & 7) << 3 | (rm & 7));

    /// <summary>ModRM (mod = 10: disp32), a SIB byte where there is an index or the base is rsp/r12, and the disp32.</summary>
    private void Address(int reg, Mem m)
    {
        if (m.Index is { } index && index.Id == 4)
            throw new ArgumentException("rsp cannot be an index register");
        if (m.Index is null && (m.Base.Id & 7) != 4)
        {
            Emit(ModRm(2, reg, m.Base.Id));
        }
        else
        {
            int scaleBits = m.Scale switch
            {
                1 => 0, 2 => 1, 4 => 2, 8 => 3,
                _ => throw new ArgumentException($"scale {m.Scale} is not 1, 2, 4 or 8"),
            };
            Emit(ModRm(2, reg, 4));
            Emit((byte)(scaleBits << 6 | ((m.Index?.Id ?? 4) & 7) << 3 | (m.Base.Id & 7)));
        }
        Emit32(m.Disp);
    }

    private void Emit(byte b) => _code.Add(b);

    private void Emit32(int v)
    {
        Emit((byte)v); Emit((byte)(v >> 8)); Emit((byte)(v >> 16)); Emit((byte)(v >> 24));
    }
}
