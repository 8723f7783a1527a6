using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Emit;

/// <summary>
/// What the emitted GEMM tiles (<see cref="Weights.Int8EmittedTile"/>, <see cref="Weights.Int4EmittedTile"/>) share: the
/// CPU check, the addressing of an 8-row table, and their variants' code, made executable once per process.
/// </summary>
internal static class EmittedTiles
{
    /// <summary>Whether the CPU has AVX-512 VNNI (CPUID leaf 7 ECX bit 11) with AVX-512 BW, on a system where emitted
    /// code can run (<see cref="ExecutableCode.Supported"/>).</summary>
    public static bool CpuSupported { get; } = ExecutableCode.Supported && Avx512BW.IsSupported && HasAvx512Vnni();

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

    private static bool HasAvx512Vnni()
    {
        if (!X86Base.IsSupported)
            return false;
        (int maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        if (maxLeaf < 7)
            return false;
        (_, _, int ecx, _) = X86Base.CpuId(7, 0);
        return (ecx & (1 << 11)) != 0;
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
