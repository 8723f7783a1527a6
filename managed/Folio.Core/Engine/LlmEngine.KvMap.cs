using Folio.Core.KvCache;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

public sealed partial class LlmEngine
{
    /// <summary>
    /// A picture of the KV cache between two steps, or while the model executes one (then as that step scheduled
    /// it: its new slots counted): every physical block with its state and the request that holds it (see
    /// <see cref="KvMap"/>). Walks the unfinished requests' sequences under the engine's state lock, only when
    /// called: O(blocks + block-table entries), nothing on the step's path.
    /// </summary>
    public KvMap GetKvMap()
    {
        lock (_gate)
            return KvMap.Capture(_core.KvCache, TablesOf(_core.Outputs.Unfinished));
    }

    private static IEnumerable<(long, BlockTable)> TablesOf(IEnumerable<Request> requests)
    {
        foreach (var r in requests)
            foreach (var s in r.Sequences)
                if (s.Table is { } t)
                    yield return (r.Id, t);
    }
}
