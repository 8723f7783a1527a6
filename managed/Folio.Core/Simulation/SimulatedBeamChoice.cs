namespace Folio.Core.Simulation;

/// <summary>A continuation chosen during one beam-search step: its cumulative log-probability and the beam it extends.</summary>
internal readonly record struct SimulatedBeamChoice(double LogProb, int Parent);
