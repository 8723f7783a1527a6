namespace Folio.Cli;

/// <summary>Blocks saved by sharing for one parallel-sampling or beam-search width.</summary>
public sealed record SharingReport(
    string Mode,
    int Width,
    int BlockSize,
    double SavedPct,
    double MeanBlocksShared,
    double MeanBlocksUnshared);
