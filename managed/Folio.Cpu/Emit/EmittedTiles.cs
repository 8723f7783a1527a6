using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Emit;

/// <summary>
/// What the emitted GEMM tiles (<see cref="Weights.Int8EmittedTile"/>, <see cref="Weights.Int4EmittedTile"/>) share: the
/// CPU check, the addressing of an 8-row table, and their variants' code, made executable once per process.
/// </summary>
internal static class EmittedTiles
{
    /// <summary>Whether the tiles can run here: Linux x64 (<see cref="ExecutableCode.Supported"/>), a CPU with AVX-512 F,
    /// DQ, BW, VL and VNNI (CPUID), and an OS that saves the AVX-512 register state (XCR0). Read from the hardware, not
    /// from .NET's <c>Avx512BW.IsSupported</c>: a NativeAOT libfolio.so published for x86-64-v3 compiles that to false, and
    /// the emitted code does not depend on what .NET compiled.</summary>
    public static bool CpuSupported { get; } = ExecutableCode.Supported && CpuHasAvx512Vnni() && OsSavesZmmState();

    /// <summary>Row j (0–7) of a table whose row 0 is at <paramref name="row0"/> and row 4 at <paramref name="row4"/>,
    /// rows <paramref name="one"/> bytes apart (<paramref name="three"/> = 3 · one), plus <paramref name="disp"/>: every
    /// row one addressing mode, with no register per row.</summary>
    public static Mem Row(int j, Gpr row0, Gpr row4, Gpr one, Gpr three, int disp) => (j & 3) switch
    {
        0 => new Mem(j < 4 ? row0 : row4, Disp: disp),
        1 => new Mem(j < 4 ? row0 : row4, one, 1, disp),
        2 => new Mem(j < 4 ? row0 : row4, one, 2, disp),
        _ => new Mem(j < 4 ? row0 : row4, three, 1, disp),
    };

    /// <summary>The fewest rows a tile takes (a strip's last 4–7 rows run as one tile; 1–3 rows run the managed decode
    /// tiles, which stream the weights once).</summary>
    public const int MinRows = 4;

    /// <summary>Row <paramref name="row"/>'s fp32 accumulator in every tile: zmm24 + row.</summary>
    public static Vec Acc(int row) => new(24 + row);

    private static readonly Gpr[] CalleeSaved = [Gpr.Rbx, Gpr.Rbp, Gpr.R12, Gpr.R13, Gpr.R14, Gpr.R15];

    /// <summary>Every tile's prologue (SysV: the Args pointer in rdi): saves rbx, rbp and r12–r15, then the Args pointer
    /// (the tile reuses rdi as its loop counter), zeroes the rows' accumulators and loads the rows of x_q from Args
    /// offsets 0 (X) and 8 (RowBytes): rsi row 0, rdx row 4, rcx one row's bytes, r8 three.</summary>
    public static void Enter(X64Assembler a, int rows)
    {
        foreach (var g in CalleeSaved)
            a.Push(g);
        a.Push(Gpr.Rdi);
        for (int row = 0; row < rows; row++)
            a.Vpxord(Acc(row), Acc(row), Acc(row));
        LoadTable(a, Gpr.Rsi, Gpr.Rdx, Gpr.Rcx, Gpr.R8, at: 0, strideAt: 8);
    }

    /// <summary>An 8-row table from the Args (rdi): <paramref name="row0"/> = [rdi + at], <paramref name="row4"/> = row 4;
    /// with <paramref name="strideAt"/>, <paramref name="one"/> = [rdi + strideAt] and <paramref name="three"/> = 3 · one
    /// are loaded first (else they hold a stride already).</summary>
    public static void LoadTable(X64Assembler a, Gpr row0, Gpr row4, Gpr one, Gpr three, int at, int? strideAt)
    {
        if (strideAt is { } s)
        {
            a.MovLoad(one, new Mem(Gpr.Rdi, Disp: s));
            a.Lea(three, new Mem(one, one, 2));
        }
        a.MovLoad(row0, new Mem(Gpr.Rdi, Disp: at));
        a.Lea(row4, new Mem(row0, one, 4));
    }

    /// <summary>dst = <paramref name="value"/> in every 32-bit lane (through the stack: the code has no data section).</summary>
    public static void Broadcast(X64Assembler a, Vec dst, int value)
    {
        a.PushImm32(value);
        a.VpbroadcastdZmm(dst, new Mem(Gpr.Rsp));
        a.Add(Gpr.Rsp, 8);
    }

    /// <summary>Every tile's epilogue: the Args pointer back, then for each row (× the row's scale from the float array
    /// at Args <paramref name="rowScalesAt"/>, where given) + the bias (Args yAt + 16, the variant with a bias) stored
    /// at y (Args <paramref name="yAt"/>, its row stride at yAt + 8); vzeroupper, the saved registers, ret.</summary>
    public static void Leave(X64Assembler a, int rows, bool withBias, int yAt, int? rowScalesAt = null)
    {
        a.Pop(Gpr.Rdi);
        LoadTable(a, Gpr.Rsi, Gpr.Rdx, Gpr.Rcx, Gpr.R8, at: yAt, strideAt: yAt + 8);
        a.MovLoad(Gpr.Rax, new Mem(Gpr.Rdi, Disp: yAt + 16));
        if (rowScalesAt is { } rs)
            a.MovLoad(Gpr.Rbx, new Mem(Gpr.Rdi, Disp: rs));
        for (int row = 0; row < rows; row++)
        {
            if (rowScalesAt is not null)
                a.VmulpsBroadcast(Acc(row), Acc(row), new Mem(Gpr.Rbx, Disp: 4 * row));
            if (withBias)
                a.Vaddps(Acc(row), Acc(row), new Mem(Gpr.Rax));
            a.VmovupsStore(Row(row, Gpr.Rsi, Gpr.Rdx, Gpr.Rcx, Gpr.R8, 0), Acc(row));
        }
        a.Vzeroupper();
        for (int i = CalleeSaved.Length - 1; i >= 0; i--)
            a.Pop(CalleeSaved[i]);
        a.Ret();
    }

    private static bool CpuHasAvx512Vnni()
    {
        if (!X86Base.IsSupported)
            return false;
        (int maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        if (maxLeaf < 7)
            return false;
        (_, _, int ecx1, _) = X86Base.CpuId(1, 0);
        const int osXsave = 1 << 27;
        (_, int ebx, int ecx, _) = X86Base.CpuId(7, 0);
        const int f = 1 << 16, dq = 1 << 17, bw = 1 << 30, vl = unchecked((int)(1u << 31)), vnni = 1 << 11;
        return (ecx1 & osXsave) != 0 && (ebx & (f | dq | bw | vl)) == (f | dq | bw | vl) && (ecx & vnni) != 0;
    }

    /// <summary>Whether XCR0 has the SSE, AVX, opmask and both upper-ZMM state bits (0xE6): read by a few emitted bytes
    /// (xgetbv), as .NET exposes no xgetbv.</summary>
    private static unsafe bool OsSavesZmmState()
    {
        var a = new X64Assembler();
        a.ReadXcr0();
        a.Ret();
        if (ExecutableCode.TryCreate(a.ToArray()) is not { } code)
            return false;
        ulong xcr0 = ((delegate* unmanaged<ulong>)code.Address)();
        return (xcr0 & 0xE6) == 0xE6;
    }

    /// <summary>A tile's variants (row counts, kinds of scale, with or without a bias: <paramref name="count"/> of them,
    /// numbered by the tile), emitted and made executable together on first use; unavailable where the CPU lacks the
    /// instructions or the code could not be made executable.</summary>
    public sealed class Variants(int count, Func<int, byte[]> emit)
    {
        private readonly Lazy<ExecutableCode[]?> _code = new(() =>
        {
            if (!CpuSupported)
                return null;
            var code = new ExecutableCode[count];
            for (int i = 0; i < count; i++)
            {
                if (ExecutableCode.TryCreate(emit(i)) is not { } made)
                    return null;
                code[i] = made;
            }
            return code;
        });

        public bool Available => _code.Value is not null;

        /// <summary>Variant <paramref name="index"/>'s first instruction.</summary>
        public nint For(int index) =>
            (_code.Value ?? throw new PlatformNotSupportedException("the emitted tiles need AVX-512 VNNI on Linux x64"))[index].Address;
    }
}
