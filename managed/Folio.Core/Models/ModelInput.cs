using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// One forward pass: the tokens to compute (rows of the batch, sequences back to back), their positions, the
/// cache slot each token's K/V goes to, the attention metadata, and which rows need logits.
/// </summary>
public sealed class ModelInput
{
    public required int[] TokenIds { get; init; }
    public required int[] Positions { get; init; }
    public required int[] SlotMapping { get; init; }
    public required AttentionBatch Attention { get; init; }
    /// <summary>Rows whose logits are returned, in this order.</summary>
    public required int[] LogitRows { get; init; }

    public int NumRows => TokenIds.Length;
}
