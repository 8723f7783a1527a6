using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// A sequence's structured-output state: its <see cref="ITokenConstraint"/>, the mask computed for its next token,
/// and how the constraint ended it. A token the constraint refuses (an executor that did not apply the mask, or a
/// host of the C ABI's level 2 that samples on its own) ends the sequence as aborted: its output is not valid.
/// </summary>
internal sealed class SequenceConstraint(ITokenConstraint constraint, int maskWords)
{
    private ulong[]? _mask;

    /// <summary>Stop once the output is complete; Abort after a refused token; None otherwise.</summary>
    public FinishReason Outcome { get; private set; }

    /// <summary>Why a refused token ended the sequence (null otherwise).</summary>
    public string? Violation { get; private set; }

    /// <summary>The mask of the last <see cref="ComputeMask"/>.</summary>
    public ReadOnlySpan<ulong> Mask => _mask;

    /// <summary>Computes the allowed next tokens (before sampling; may run on a worker thread, one per sequence).</summary>
    public void ComputeMask() => constraint.ComputeMask(_mask ??= new ulong[maskWords]);

    public void Accept(int token)
    {
        if (Outcome != FinishReason.None)
            return;
        if (!constraint.Accept(token))
        {
            Outcome = FinishReason.Abort;
            Violation = $"token {token} is not allowed by the structured output";
        }
        else if (constraint.IsTerminated)
        {
            Outcome = FinishReason.Stop;
        }
    }

    /// <summary>Tokens forced next (see <see cref="ITokenConstraint.ForcedTokens"/>); none once the outcome is decided.</summary>
    public int ForcedTokens(Span<int> destination) => Outcome == FinishReason.None ? constraint.ForcedTokens(destination) : 0;

    public SequenceConstraint Clone() => new(constraint.Clone(), maskWords) { Outcome = Outcome, Violation = Violation };
}
