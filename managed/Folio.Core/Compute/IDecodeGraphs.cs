namespace Folio.Core.Compute;

/// <summary>
/// A backend that replays decode steps from captured graphs (CUDA graphs): a decode step's forward pass is a fixed
/// sequence of launches whose shapes depend only on the batch size and the block-table width, so it is captured once
/// per (padded batch, width) bucket and replayed, with the step's metadata uploaded into the same buffers first.
/// The executor pads a decode step to <see cref="PaddedBatch"/> sequences and <see cref="BlockTableWidth"/> columns
/// (<see cref="Engine.DecodePadding"/>: padding rows have slot −1, so they write no K/V, and a context of one token
/// in block 0, so every read stays in the cache) and calls <see cref="RunGraphed"/> instead of running the forward.
/// </summary>
public interface IDecodeGraphs
{
    /// <summary>Whether graphs are used at all (the backend's option; off: every step runs eagerly).</summary>
    bool GraphsEnabled { get; }

    /// <summary>The batch a decode step of <paramref name="numSequences"/> sequences is padded to, or 0 when such a
    /// step is not graphed (too large).</summary>
    int PaddedBatch(int numSequences);

    /// <summary>The block-table width a step whose tables need <paramref name="columns"/> columns is padded to, or 0
    /// when it is not graphed.</summary>
    int BlockTableWidth(int columns);

    /// <summary>Runs <paramref name="forward"/> for the bound, padded decode step: replays the graph of its shape, or
    /// runs it eagerly and captures it when there is none (or when the backend's buffers moved since). Returns the
    /// logits tensor, [padded batch, vocabulary].</summary>
    DeviceTensor RunGraphed(StepContext step, Func<StepContext, DeviceTensor> forward);

    /// <summary>Graphs captured so far (each capture counts; a replay does not).</summary>
    int GraphsCaptured { get; }
}
