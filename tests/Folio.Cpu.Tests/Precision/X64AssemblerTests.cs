using Folio.Cpu.Emit;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>
/// The emitter's encodings against GNU as (binutils 2.40, <c>as</c> of the Intel-syntax lines in each case's comment
/// with the <c>{evex}</c> and <c>{disp32}</c> pseudo-prefixes, which make as pick the forms the emitter always uses:
/// EVEX, a 32-bit displacement), read back with <c>objdump -d</c>. Each instruction form the emitted int8 tile uses,
/// with registers that exercise every extension bit (zmm16–31, r8–r15 as base and index, rsp/r12 bases that need a SIB
/// byte, r13 as a base).
/// </summary>
public sealed class X64AssemblerTests
{
    private static readonly Vec Z0 = new(0), Z1 = new(1), Z2 = new(2), Z3 = new(3), Z4 = new(4);

    public static TheoryData<string, string> Cases => new()
    {
        { "vpdpbusd zmm16, zmm0, dword ptr [rsi+0x4]{1to16}", "62 e2 7d 58 50 86 04 00 00 00" },
        { "vpdpbusd zmm23, zmm0, dword ptr [rdx+r8*1+0x1c]{1to16}", "62 a2 7d 58 50 bc 02 1c 00 00 00" },
        { "vpdpbusd zmm19, zmm0, dword ptr [rsi+rcx*2+0x8]{1to16}", "62 e2 7d 58 50 9c 4e 08 00 00 00" },
        { "vpbroadcastd zmm16, dword ptr [r12]", "62 c2 7d 48 58 84 24 00 00 00 00" },
        { "vpbroadcastd zmm21, dword ptr [r13+r14*1]", "62 82 7d 48 58 ac 35 00 00 00 00" },
        { "vpbroadcastd zmm1, dword ptr [rsp]", "62 f2 7d 48 58 8c 24 00 00 00 00" },
        { "vmovdqu8 ymm0, ymmword ptr [r9+0x60]", "62 d1 7f 28 6f 81 60 00 00 00" },
        { "vinserti64x4 zmm0, zmm0, ymmword ptr [r9+r10*1+0xe0], 1", "62 93 fd 48 3a 84 11 e0 00 00 00 01" },
        { "vpxord zmm0, zmm0, zmm1", "62 f1 7d 48 ef c1" },
        { "vpxord zmm31, zmm31, zmm31", "62 01 05 40 ef ff" },
        { "vpandd zmm0, zmm0, zmm1", "62 f1 7d 48 db c1" },
        { "vpandd zmm5, zmm21, zmm17", "62 b1 55 40 db e9" },
        { "vpsrlw zmm5, zmm0, 4", "62 f1 55 48 71 d0 04" },
        { "vpsrlw zmm22, zmm19, 4", "62 b1 4d 40 71 d3 04" },
        { "vcvtph2ps ymm2, xmmword ptr [r11]", "62 d2 7d 28 13 93 00 00 00 00" },
        { "vcvtph2ps ymm3, xmmword ptr [r11+rax*1]", "62 d2 7d 28 13 9c 03 00 00 00 00" },
        { "vinsertf64x4 zmm2, zmm2, ymm3, 1", "62 f3 ed 48 1a d3 01" },
        { "vmovups ymm2, ymmword ptr [r11]", "62 d1 7c 28 10 93 00 00 00 00" },
        { "vinsertf64x4 zmm2, zmm2, ymmword ptr [r11+rax*1], 1", "62 d3 ed 48 1a 94 03 00 00 00 00 01" },
        { "vcvtdq2ps zmm3, zmm23", "62 b1 7c 48 5b df" },
        { "vmulps zmm4, zmm2, dword ptr [rbp+r15*1]{1to16}", "62 b1 6c 58 59 a4 3d 00 00 00 00" },
        { "vfmadd231ps zmm31, zmm3, zmm4", "62 62 65 48 b8 fc" },
        { "vaddps zmm24, zmm24, zmmword ptr [rax]", "62 61 3c 40 58 80 00 00 00 00" },
        { "vmovups zmmword ptr [rdx+r8*1], zmm27", "62 21 7c 48 11 9c 02 00 00 00 00" },
        { "vpmovzxbd ymm3, qword ptr [r9+0x400]", "62 d2 7d 28 31 99 00 04 00 00" },
        { "vpmovzxbd ymm4, qword ptr [r9+r10*1+0x408]", "62 92 7d 28 31 a4 11 08 04 00 00" },
        { "vpmovzxbw ymm8, xmmword ptr [r9+0x440]", "62 52 7d 28 30 81 40 04 00 00" },
        { "vpmovzxbw ymm4, xmmword ptr [r9+r10*1+0x450]", "62 92 7d 28 30 a4 11 50 04 00 00" },
        { "vinserti64x4 zmm3, zmm3, ymm4, 1", "62 f3 e5 48 3a dc 01" },
        { "vinserti64x4 zmm11, zmm11, ymm4, 1", "62 73 a5 48 3a dc 01" },
        { "vpmulld zmm8, zmm8, zmm3", "62 72 3d 48 40 c3" },
        { "vpmulld zmm15, zmm15, zmm3", "62 72 05 48 40 fb" },
        { "vpaddd zmm16, zmm16, zmm8", "62 c1 7d 40 fe c0" },
        { "vpaddd zmm23, zmm23, zmm15", "62 c1 45 40 fe ff" },
        { "vpmaddwd zmm5, zmm8, zmm4", "62 f1 3d 48 f5 ec" },
        { "vpmaddwd zmm7, zmm11, zmm7", "62 f1 25 48 f5 ff" },
        { "vpxord zmm15, zmm15, zmm15", "62 51 05 48 ef ff" },
        { "vpsllw zmm3, zmm2, 4", "62 f1 65 48 71 f2 04" },
        { "vpsllw zmm3, zmm18, 2", "62 b1 65 48 71 f2 02" },
        { "vpternlogd zmm3, zmm0, zmm4, 0xf8", "62 f3 7d 48 25 dc f8" },
        { "vpternlogd zmm3, zmm7, zmm4, 0xf8", "62 f3 45 48 25 dc f8" },
        { "vpmovsxbd ymm6, qword ptr [r9+0x600]", "62 d2 7d 28 21 b1 00 06 00 00" },
        { "vpmovsxbd ymm7, qword ptr [r9+r10*1+0x608]", "62 92 7d 28 21 bc 11 08 06 00 00" },
        { "xor ecx, ecx; xgetbv; shl rdx, 32; or rax, rdx", "31 c9 0f 01 d0 48 c1 e2 20 48 09 d0" },
        { "push rbx", "53" },
        { "push r15", "41 57" },
        { "pop r12", "41 5c" },
        { "pop rdi", "5f" },
        { "push 0xffffffff80808080", "68 80 80 80 80" },
        { "mov rsi, qword ptr [rdi]", "48 8b b7 00 00 00 00" },
        { "mov r14, qword ptr [rdi+0x40]", "4c 8b b7 40 00 00 00" },
        { "lea r8, [rcx+rcx*2]", "4c 8d 84 49 00 00 00 00" },
        { "lea rbp, [rbx+r14*4]", "4a 8d ac b3 00 00 00 00" },
        { "lea r13, [r12+r14*4]", "4f 8d ac b4 00 00 00 00" },
        { "add rsp, 0x1000", "48 81 c4 00 10 00 00" },
        { "add r9, 0x100", "49 81 c1 00 01 00 00" },
        { "sub rdi, 0x1001", "48 81 ef 01 10 00 00" },
        { "vzeroupper", "c5 f8 77" },
        { "ret", "c3" },
    };

    private static readonly Dictionary<string, Action<X64Assembler>> Emitters = new()
    {
        ["vpdpbusd zmm16, zmm0, dword ptr [rsi+0x4]{1to16}"] = a => a.VpdpbusdBroadcast(new(16), Z0, new Mem(Gpr.Rsi, Disp: 4)),
        ["vpdpbusd zmm23, zmm0, dword ptr [rdx+r8*1+0x1c]{1to16}"] = a => a.VpdpbusdBroadcast(new(23), Z0, new Mem(Gpr.Rdx, Gpr.R8, 1, 0x1c)),
        ["vpdpbusd zmm19, zmm0, dword ptr [rsi+rcx*2+0x8]{1to16}"] = a => a.VpdpbusdBroadcast(new(19), Z0, new Mem(Gpr.Rsi, Gpr.Rcx, 2, 8)),
        ["vpbroadcastd zmm16, dword ptr [r12]"] = a => a.VpbroadcastdZmm(new(16), new Mem(Gpr.R12)),
        ["vpbroadcastd zmm21, dword ptr [r13+r14*1]"] = a => a.VpbroadcastdZmm(new(21), new Mem(Gpr.R13, Gpr.R14)),
        ["vpbroadcastd zmm1, dword ptr [rsp]"] = a => a.VpbroadcastdZmm(Z1, new Mem(Gpr.Rsp)),
        ["vmovdqu8 ymm0, ymmword ptr [r9+0x60]"] = a => a.Vmovdqu8Ymm(Z0, new Mem(Gpr.R9, Disp: 0x60)),
        ["vinserti64x4 zmm0, zmm0, ymmword ptr [r9+r10*1+0xe0], 1"] = a => a.Vinserti64x4High(Z0, Z0, new Mem(Gpr.R9, Gpr.R10, 1, 0xe0)),
        ["vpxord zmm0, zmm0, zmm1"] = a => a.Vpxord(Z0, Z0, Z1),
        ["vpxord zmm31, zmm31, zmm31"] = a => a.Vpxord(new(31), new(31), new(31)),
        ["vpandd zmm0, zmm0, zmm1"] = a => a.Vpandd(Z0, Z0, Z1),
        ["vpandd zmm5, zmm21, zmm17"] = a => a.Vpandd(new(5), new(21), new(17)),
        ["vpsrlw zmm5, zmm0, 4"] = a => a.Vpsrlw(new(5), Z0, 4),
        ["vpsrlw zmm22, zmm19, 4"] = a => a.Vpsrlw(new(22), new(19), 4),
        ["vcvtph2ps ymm2, xmmword ptr [r11]"] = a => a.Vcvtph2psYmm(Z2, new Mem(Gpr.R11)),
        ["vcvtph2ps ymm3, xmmword ptr [r11+rax*1]"] = a => a.Vcvtph2psYmm(Z3, new Mem(Gpr.R11, Gpr.Rax)),
        ["vinsertf64x4 zmm2, zmm2, ymm3, 1"] = a => a.Vinsertf64x4High(Z2, Z2, Z3),
        ["vmovups ymm2, ymmword ptr [r11]"] = a => a.VmovupsYmm(Z2, new Mem(Gpr.R11)),
        ["vinsertf64x4 zmm2, zmm2, ymmword ptr [r11+rax*1], 1"] = a => a.Vinsertf64x4High(Z2, Z2, new Mem(Gpr.R11, Gpr.Rax)),
        ["vcvtdq2ps zmm3, zmm23"] = a => a.Vcvtdq2ps(Z3, new(23)),
        ["vmulps zmm4, zmm2, dword ptr [rbp+r15*1]{1to16}"] = a => a.VmulpsBroadcast(Z4, Z2, new Mem(Gpr.Rbp, Gpr.R15)),
        ["vfmadd231ps zmm31, zmm3, zmm4"] = a => a.Vfmadd231ps(new(31), Z3, Z4),
        ["vaddps zmm24, zmm24, zmmword ptr [rax]"] = a => a.Vaddps(new(24), new(24), new Mem(Gpr.Rax)),
        ["vmovups zmmword ptr [rdx+r8*1], zmm27"] = a => a.VmovupsStore(new Mem(Gpr.Rdx, Gpr.R8), new(27)),
        ["vpmovzxbd ymm3, qword ptr [r9+0x400]"] = a => a.VpmovzxbdYmm(Z3, new Mem(Gpr.R9, Disp: 0x400)),
        ["vpmovzxbd ymm4, qword ptr [r9+r10*1+0x408]"] = a => a.VpmovzxbdYmm(Z4, new Mem(Gpr.R9, Gpr.R10, 1, 0x408)),
        ["vpmovzxbw ymm8, xmmword ptr [r9+0x440]"] = a => a.VpmovzxbwYmm(new(8), new Mem(Gpr.R9, Disp: 0x440)),
        ["vpmovzxbw ymm4, xmmword ptr [r9+r10*1+0x450]"] = a => a.VpmovzxbwYmm(Z4, new Mem(Gpr.R9, Gpr.R10, 1, 0x450)),
        ["vinserti64x4 zmm3, zmm3, ymm4, 1"] = a => a.Vinserti64x4High(Z3, Z3, Z4),
        ["vinserti64x4 zmm11, zmm11, ymm4, 1"] = a => a.Vinserti64x4High(new(11), new(11), Z4),
        ["vpmulld zmm8, zmm8, zmm3"] = a => a.Vpmulld(new(8), new(8), Z3),
        ["vpmulld zmm15, zmm15, zmm3"] = a => a.Vpmulld(new(15), new(15), Z3),
        ["vpaddd zmm16, zmm16, zmm8"] = a => a.Vpaddd(new(16), new(16), new(8)),
        ["vpaddd zmm23, zmm23, zmm15"] = a => a.Vpaddd(new(23), new(23), new(15)),
        ["vpmaddwd zmm5, zmm8, zmm4"] = a => a.Vpmaddwd(new(5), new(8), Z4),
        ["vpmaddwd zmm7, zmm11, zmm7"] = a => a.Vpmaddwd(new(7), new(11), new(7)),
        ["vpxord zmm15, zmm15, zmm15"] = a => a.Vpxord(new(15), new(15), new(15)),
        ["vpsllw zmm3, zmm2, 4"] = a => a.Vpsllw(Z3, Z2, 4),
        ["vpsllw zmm3, zmm18, 2"] = a => a.Vpsllw(Z3, new(18), 2),
        ["vpternlogd zmm3, zmm0, zmm4, 0xf8"] = a => a.Vpternlogd(Z3, Z0, Z4, 0xf8),
        ["vpternlogd zmm3, zmm7, zmm4, 0xf8"] = a => a.Vpternlogd(Z3, new(7), Z4, 0xf8),
        ["vpmovsxbd ymm6, qword ptr [r9+0x600]"] = a => a.VpmovsxbdYmm(new(6), new Mem(Gpr.R9, Disp: 0x600)),
        ["vpmovsxbd ymm7, qword ptr [r9+r10*1+0x608]"] = a => a.VpmovsxbdYmm(new(7), new Mem(Gpr.R9, Gpr.R10, 1, 0x608)),
        ["xor ecx, ecx; xgetbv; shl rdx, 32; or rax, rdx"] = a => a.ReadXcr0(),
        ["push rbx"] = a => a.Push(Gpr.Rbx),
        ["push r15"] = a => a.Push(Gpr.R15),
        ["pop r12"] = a => a.Pop(Gpr.R12),
        ["pop rdi"] = a => a.Pop(Gpr.Rdi),
        ["push 0xffffffff80808080"] = a => a.PushImm32(unchecked((int)0x80808080)),
        ["mov rsi, qword ptr [rdi]"] = a => a.MovLoad(Gpr.Rsi, new Mem(Gpr.Rdi)),
        ["mov r14, qword ptr [rdi+0x40]"] = a => a.MovLoad(Gpr.R14, new Mem(Gpr.Rdi, Disp: 0x40)),
        ["lea r8, [rcx+rcx*2]"] = a => a.Lea(Gpr.R8, new Mem(Gpr.Rcx, Gpr.Rcx, 2)),
        ["lea rbp, [rbx+r14*4]"] = a => a.Lea(Gpr.Rbp, new Mem(Gpr.Rbx, Gpr.R14, 4)),
        ["lea r13, [r12+r14*4]"] = a => a.Lea(Gpr.R13, new Mem(Gpr.R12, Gpr.R14, 4)),
        ["add rsp, 0x1000"] = a => a.Add(Gpr.Rsp, 0x1000),
        ["add r9, 0x100"] = a => a.Add(Gpr.R9, 0x100),
        ["sub rdi, 0x1001"] = a => a.Sub(Gpr.Rdi, 0x1001),
        ["vzeroupper"] = a => a.Vzeroupper(),
        ["ret"] = a => a.Ret(),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAsGnuAsDoes(string instruction, string expected)
    {
        var a = new X64Assembler();
        Emitters[instruction](a);
        Assert.Equal(expected, string.Join(' ', a.ToArray().Select(b => b.ToString("x2"))));
    }

    [Fact]
    public void AJumpLandsOnItsLabel()
    {
        var a = new X64Assembler();
        var top = new X64Assembler.Label();
        a.Bind(top);
        a.Sub(Gpr.Rdi, 1);
        a.Jnz(top);
        // sub (7 bytes) then jnz rel32 (6): the jump goes back 13 bytes from its end.
        Assert.Equal("48 81 ef 01 00 00 00 0f 85 f3 ff ff ff", string.Join(' ', a.ToArray().Select(b => b.ToString("x2"))));
        var never = new X64Assembler();
        never.Jnz(new X64Assembler.Label());
        Assert.Throws<InvalidOperationException>(() => never.ToArray());
    }

    [Fact]
    public void RefusesWhatItCannotEncode()
    {
        var a = new X64Assembler();
        Assert.Throws<ArgumentException>(() => a.Lea(Gpr.Rax, new Mem(Gpr.Rbx, Gpr.Rsp)));
        Assert.Throws<ArgumentException>(() => a.Lea(Gpr.Rax, new Mem(Gpr.Rbx, Gpr.Rcx, 3)));
    }

    /// <summary>The int8 and int4 tiles' code for each variant is made executable where the CPU has AVX-512 VNNI on Linux
    /// x64, and not offered elsewhere.</summary>
    [Fact]
    public void TheEmittedTileIsOfferedExactlyWhereItCanRun()
    {
        // Where .NET reports AVX-512 BW (the runtime read CPUID and XCR0 itself), the tiles' own CPUID + xgetbv check must
        // agree with it: offered exactly when the CPU also reports AVX-512 VNNI (leaf 7, ECX bit 11).
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported && OperatingSystem.IsLinux())
        {
            bool vnni = (System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;
            Assert.Equal(vnni, EmittedTiles.CpuSupported);
        }
        Assert.Equal(EmittedTiles.CpuSupported, Int8EmittedTile.Available);
        Assert.Equal(EmittedTiles.CpuSupported, Int4EmittedTile.Available);
        Assert.Equal(Int8EmittedTile.Available, Int8Gemm.UsesEmitted);
        Assert.Equal(Int4EmittedTile.Available, Int4Gemm.UsesEmitted);
        Assert.Equal(EmittedTiles.CpuSupported, KQuantGemm.UsesEmitted);
        if (Int8EmittedTile.Available)
        {
            Assert.Contains("AVX-512 VNNI", Int8Gemm.KernelName);
            Assert.Contains("AVX-512 VNNI", Int4Gemm.KernelName);
        }
        for (int rows = EmittedTiles.MinRows; rows <= 8; rows++)
            foreach (bool bias in new[] { true, false })
            {
                Assert.InRange(Int8EmittedTile.Emit(rows, true, bias).Length, 500, 4096);
                Assert.InRange(Int8EmittedTile.Emit(rows, false, bias).Length, 500, 4096);
                Assert.InRange(Int4EmittedTile.Emit(rows, bias).Length, 500, 4096);
                Assert.InRange(Q4KEmittedTile.Emit(rows, bias, five: false).Length, 500, 32768);
                Assert.InRange(Q4KEmittedTile.Emit(rows, bias, five: true).Length, 500, 32768);
                Assert.InRange(Q6KEmittedTile.Emit(rows, bias).Length, 500, 32768);
            }
    }
}
