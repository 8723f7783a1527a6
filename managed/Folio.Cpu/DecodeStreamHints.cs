namespace Folio.Cpu;

/// <summary>
/// Whether the one-row decode tiles (fp32 <c>Tile1x16Wide</c>, 16-bit <c>Tile1x32</c>, exponent-coded bf16
/// <c>Groups</c>), which read a weight once as one sequential stream, also hint the stream a few KiB ahead.
/// On the Intel Xeon VM (family 6 model 207, twenty-first session) the hardware prefetchers alone kept one row's reads
/// at 54–79 % of the read probe (`decode-read 2 30 1`), with hints at 88–100 %: a core there keeps too few lines in
/// flight on its own. On the AMD VMs (Zen 4, Zen 5) the same tiles read at the bound without them (nineteenth session),
/// and they were not measured with them there, so they stay off there. Hints are only hints: one past a weight's end
/// reads nothing and cannot fault.
/// Read <see cref="On"/> into a local before a tile's accumulators exist, or in its caller: the JIT (tiering off)
/// compiles the first static read as a class-initialisation call, and a vector live across that call was kept in
/// memory for the whole method, a load and a store in every iteration of the hot loop (the fp32 one-row tile ran
/// 2–4× slower from cache; twenty-second session, bench/RESULTS.md).
/// </summary>
internal static class DecodeStreamHints
{
    public static readonly bool On = !CpuVendor.IsAmd;

    /// <summary>Bytes ahead that a 64-byte-per-k one-row tile hints into L2 (best of 1–8 KiB in the measurement above).</summary>
    public const int L2Ahead = 4096;
}
