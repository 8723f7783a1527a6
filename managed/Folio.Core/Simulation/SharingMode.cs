namespace Folio.Core.Simulation;

/// <summary>The two decoding methods of the paper's §4.4 whose sequences share KV blocks.</summary>
public enum SharingMode
{
    /// <summary>n samples of one prompt: they share the prompt's blocks, then diverge.</summary>
    ParallelSampling,
    /// <summary>Beam search of width k: beams share the prompt and most of their generated history.</summary>
    BeamSearch,
}
