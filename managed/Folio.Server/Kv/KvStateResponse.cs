using System.Text.Json.Serialization;

namespace Folio.Server.Kv;

/// <summary>GET /kv/state: the KV cache between two steps (see <see cref="KvEndpoints"/>).</summary>
public sealed record KvStateResponse(string Model, long Step, int BlockSize, int Running, int Waiting, int Swapped,
    KvPoolState Gpu, KvPoolState? Cpu);

/// <summary>One pool's blocks by physical id (parallel arrays: compact JSON for thousands of blocks).</summary>
public sealed record KvPoolState(long[] Owner, int[] RefCount, int[] Cached, int[] Tokens);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(KvStateResponse))]
internal sealed partial class KvJson : JsonSerializerContext;
