using System.Text.Json;

namespace Folio.Server;

/// <summary>stream_options.include_usage (only with stream: true, as OpenAI's).</summary>
internal static class StreamOptions
{
    public static bool IncludeUsage(RequestFields f, bool stream)
    {
        if (!f.TryGet("stream_options", out var o)) return false;
        if (!stream) throw new ApiException(400, "'stream_options' is only allowed with stream: true", "stream_options");
        if (o.ValueKind != JsonValueKind.Object) throw RequestFields.Wrong("stream_options", "an object", o);
        return new RequestFields(o).Bool("include_usage") ?? false;
    }
}
