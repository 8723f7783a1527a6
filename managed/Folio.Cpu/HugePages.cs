using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Folio.Cpu;

/// <summary>
/// Arrays for what the kernels stream through once a step (packed weights, the KV cache), backed by transparent huge
/// pages where Linux gives them: madvise(MADV_HUGEPAGE) on every 2 MiB page the array touches, then
/// madvise(MADV_COLLAPSE) for pages already touched. On 4 KiB pages every 4 KiB of such a stream costs a TLB miss and
/// stops the hardware prefetcher: on the development VM (AMD EPYC Zen 5) the 32-sequence fp32 decode step ran ~1.13×
/// faster on 2 MiB pages, and on the Zen 4 VM a C model of a bf16 one-row tile (<c>bench/cpu_stream_model.c
/// pages</c>) ran in 0.93–0.97× the time (bench/RESULTS.md). The pages an array shares with its neighbours on the
/// pinned heap are advised too: only whole 2 MiB pages can be huge, and most of a model's weights are smaller than
/// one (b8's q/k/v and o in bf16, all but lm_head in int4), so advising only the pages inside each array left 45 % of
/// b8's bf16 weights and 85 % of its int4 ones on 4 KiB pages; with the shared pages, 4 % and 18 %. Both hints leave
/// every byte's content as it is. A hint: where the OS refuses (THP off, no free huge page, not Linux) the memory
/// stays on small pages and only the speed differs. The arrays are pinned, so the GC never moves them off the
/// advised range.
/// </summary>
internal static partial class HugePages
{
    internal const long PageBytes = 2L << 20;
    private const int MadvHugePage = 14;
    private const int MadvCollapse = 25;

    /// <summary>A zeroed pinned array of <paramref name="length"/> elements on huge pages where the OS allows.</summary>
    public static T[] NewArray<T>(long length) where T : unmanaged
    {
        var array = GC.AllocateArray<T>(checked((int)length), pinned: true);
        Advise(array);
        return array;
    }

    /// <summary>Advises every 2 MiB page a pinned array touches; returns the bytes advised and collapsed (0 where the
    /// OS refused).</summary>
    internal static unsafe long Advise<T>(T[] array) where T : unmanaged
    {
        if (!OperatingSystem.IsLinux() || array.Length == 0)
            return 0;
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        long start = address / PageBytes * PageBytes;
        long end = (address + (long)array.Length * sizeof(T) + PageBytes - 1) / PageBytes * PageBytes;
        if (end <= start || MAdvise((nint)start, (nuint)(end - start), MadvHugePage) != 0)
            return 0;
        return MAdvise((nint)start, (nuint)(end - start), MadvCollapse) == 0 ? end - start : 0;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int MAdvise(nint address, nuint length, int advice);
}
