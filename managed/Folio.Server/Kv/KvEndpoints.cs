using Folio.Core.KvCache;
using Microsoft.AspNetCore.Http;

namespace Folio.Server.Kv;

/// <summary>
/// GET /kv: a self-contained HTML page (embedded in the assembly: no CDN, the server may be offline) that redraws the
/// physical block grid from GET /kv/state every 300 ms. /kv/state is the engine's <see cref="KvMap"/> as JSON: per
/// pool, per physical block, the owning request id (-1 none, -2 several), reference count, cached flag (0/1) and
/// slots used. Both stay open under --api-key, as /metrics does: they show block ids and request ids, no text.
/// </summary>
internal static class KvEndpoints
{
    private static readonly Lazy<byte[]> Page = new(LoadPage);

    public static async Task PageAsync(HttpContext http)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.WriteAsync(Page.Value, http.RequestAborted).ConfigureAwait(false);
    }

    public static Task StateAsync(HttpContext http, ServerState state)
    {
        var engine = state.Model.Engine;
        var map = engine.GetKvMap();
        var stats = engine.GetSchedulerStats();
        http.Response.Headers.CacheControl = "no-store";
        return Json.WriteAsync(http, 200, new KvStateResponse(state.Model.Name, stats.Steps, map.BlockSizeTokens,
            stats.NumRunning, stats.NumWaiting, stats.NumSwapped, ToJson(map.Gpu), map.Cpu is { } cpu ? ToJson(cpu) : null),
            KvJson.Default.KvStateResponse);
    }

    private static KvPoolState ToJson(KvMap.Pool pool) =>
        new(pool.Owner, pool.RefCount, Array.ConvertAll(pool.Cached, c => c ? 1 : 0), pool.Tokens);

    private static byte[] LoadPage()
    {
        using var stream = typeof(KvEndpoints).Assembly.GetManifestResourceStream("Folio.Server.Kv.KvPage.html")
            ?? throw new InvalidOperationException("the /kv page is not embedded in Folio.Server");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
