namespace Folio.Core.Engine;

/// <summary>Tokens an engine has taken in (prompts added) and generated (streamed per step) since it was created.</summary>
public readonly record struct TokenCounts(long PromptTokens, long GeneratedTokens);
