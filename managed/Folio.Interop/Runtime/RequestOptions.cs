using Folio.Core.KvCache;

namespace Folio.Interop.Runtime;

/// <summary>The fields of folio_sampling_params that <c>LlmEngine.AddRequest</c> takes beside its
/// SamplingParams (ABI 1.2): the priority (used by the priority scheduling policy) and the prefix-cache salt.</summary>
public readonly record struct RequestOptions(int Priority, CacheKey CacheKey);
