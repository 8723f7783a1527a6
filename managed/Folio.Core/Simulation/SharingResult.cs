namespace Folio.Core.Simulation;

/// <summary>
/// Blocks saved by sharing, time-averaged: over every step of every request, the blocks in use with sharing
/// (the KV manager's used blocks) against the blocks the same sequences would hold without sharing (the sum of
/// their block tables' lengths). SavedPct = 100 × (1 − shared / unshared).
/// </summary>
public sealed record SharingResult(
    SharingMode Mode, int Width, int BlockSizeTokens, long Steps,
    double MeanBlocksShared, double MeanBlocksUnshared)
{
    public double SavedPct => MeanBlocksUnshared == 0 ? 0 : 100.0 * (1.0 - MeanBlocksShared / MeanBlocksUnshared);

    public string ModeName => Mode == SharingMode.ParallelSampling ? "parallel-sampling" : "beam-search";
}
