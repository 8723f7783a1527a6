using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// One forward pass: the tokens to compute (rows of the batch, sequences back to back), their positions, the
/// cache slot each token's K/V goes to, the attention metadata, and which rows need logits. An engine points it
/// at its step plan's arrays every step (no copy): the arrays may be longer than the batch, and
/// <see cref="NumRows"/> / <see cref="NumLogitRows"/> say how much of them is this pass (all when left unset).
/// </summary>
public sealed class ModelInput
{
    private int _numRows = -1;
    private int _numLogitRows = -1;

    public required int[] TokenIds { get; set; }
    public required int[] Positions { get; set; }
    /// <summary>Slot of each row: block × block size + offset (int64, as the kernels take it).</summary>
    public required long[] SlotMapping { get; set; }
    public required AttentionBatch Attention { get; set; }
    /// <summary>Rows whose logits are returned, in this order.</summary>
    public required int[] LogitRows { get; set; }

    public int NumRows
    {
        get => _numRows >= 0 ? _numRows : TokenIds.Length;
        set => _numRows = value;
    }

    public int NumLogitRows
    {
        get => _numLogitRows >= 0 ? _numLogitRows : LogitRows.Length;
        set => _numLogitRows = value;
    }
}
