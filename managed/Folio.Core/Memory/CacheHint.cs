using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Folio.Core.Memory;

/// <summary>
/// Software prefetch for the step's per-sequence loops. At ~1,000 running sequences the objects a row reads (its
/// sequence and its block table) are no longer in the core's caches, and a row's first touch of them stalls the loop
/// (profile in bench/NOTES-scheduler.md, "sixth pass"). A loop that knows the objects of a row a few rows ahead asks
/// for their lines now, so they arrive while it works on the rows before.
/// </summary>
/// <remarks>
/// A hint only: nothing is read or written through the addresses, and a prefetch of any address (a stale one
/// after the collector moved the object, or one past the object's end) cannot fault. That is why this, alone in
/// Folio.Core, uses a pointer. On hardware without the instruction (not x86) it does nothing. The byte counts the
/// callers pass describe today's field layout (the runtime's choice); if it changes, only the speed does.
/// </remarks>
internal static class CacheHint
{
    /// <summary>Asks for the lines that hold the first <paramref name="bytes"/> bytes of <paramref name="o"/>'s fields
    /// (a constant at the call site, so the loop unrolls).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Object(object? o, int bytes)
    {
        if (!Sse.IsSupported || o is null)
            return;
        byte* p = (byte*)Unsafe.AsPointer(ref Unsafe.As<RawData>(o).Data);
        for (int at = 0; at < bytes; at += 64)
            Sse.Prefetch0(p + at);
        Sse.Prefetch0(p + bytes - 1);   // the last line, when the fields do not start on a line's start
    }

    // The layout trick of the runtime's own RuntimeHelpers.GetRawData: any object's first field sits where this
    // class's Data would.
    private sealed class RawData
    {
#pragma warning disable CS0649 // never assigned: only its address is taken
        public byte Data;
#pragma warning restore CS0649
    }
}
