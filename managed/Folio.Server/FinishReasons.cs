using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>Engine finish reasons in OpenAI's words (vLLM's: "abort" for an aborted request).</summary>
internal static class FinishReasons
{
    public static string? Name(FinishReason reason) => reason switch
    {
        FinishReason.None => null,
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        FinishReason.Rejected => "abort",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
