using Folio.Core.Sampling;

namespace Folio.Core.Engine;

/// <summary>
/// A snapshot of a request's outputs. <see cref="FinishReason"/> is Abort or Rejected (with
/// <see cref="RejectReason"/>) when the request as a whole ended so; otherwise each output has its own reason.
/// </summary>
public sealed record RequestOutput(
    long RequestId,
    IReadOnlyList<int> PromptTokenIds,
    IReadOnlyList<CompletionOutput> Outputs,
    bool Finished,
    FinishReason FinishReason,
    string? RejectReason,
    int NumPreemptions);
