namespace Folio.Core.Sampling;

/// <summary>
/// One sequence's structured-output state: which tokens may come next, advanced by every token the sequence
/// appends. Implemented outside Core (Folio.Structured's grammar matcher); made by an
/// <see cref="ITokenConstraintFactory"/>. Not thread-safe: one instance per sequence, used by one thread at a time.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>Writes the allowed next tokens into <paramref name="mask"/> (bit i of word i/64 set = token i allowed;
    /// <see cref="ITokenConstraintFactory.MaskWords"/> words). The end-of-sequence token is allowed only where the
    /// output so far is complete.</summary>
    void ComputeMask(Span<ulong> mask);

    /// <summary>Advances by one token; false (state unchanged) when the constraint does not allow it.</summary>
    bool Accept(int tokenId);

    /// <summary>The output is complete and nothing may follow (end-of-sequence accepted, or no continuation left).</summary>
    bool IsTerminated { get; }

    /// <summary>An independent copy of the current state (a forked sequence continues from here on its own).</summary>
    ITokenConstraint Clone();

    /// <summary>
    /// Tokens the constraint forces next (the output has one continuation only), written to
    /// <paramref name="destination"/>; returns how many (0 when the next token is a choice, or never end-of-sequence).
    /// Does not advance: the engine appends them (<see cref="Accept"/> each) without sampling, "fast-forward", and
    /// computes their K/V in the next step as one chunk. The default forces nothing.
    /// </summary>
    int ForcedTokens(Span<int> destination) => 0;
}
