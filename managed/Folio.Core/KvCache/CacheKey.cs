namespace Folio.Core.KvCache;

/// <summary>
/// The extra keys of a sequence's prefix-cache hashes: a per-request cache salt (hashed into the first block
/// only, so it isolates the whole chain) and an adapter name (hashed into every block). Default = none.
/// Two keys match only when both strings are equal (ordinal).
/// </summary>
public readonly record struct CacheKey(string? Salt = null, string? Adapter = null);
