using System.Text.Json.Serialization;

namespace Folio.Cli;

/// <summary>Source-generated JSON for <c>folio logits --tokens</c> (a list of token-id lists): NativeAOT-safe.</summary>
[JsonSerializable(typeof(int[][]))]
internal sealed partial class TokenListsJsonContext : JsonSerializerContext;
