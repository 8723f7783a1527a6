using System.Text.Json.Serialization;

namespace Folio.Server;

// The response bodies of the OpenAI API (and vLLM's /tokenize, /detokenize), serialized by ApiJson's source
// generator (snake_case names, nulls written: OpenAI clients expect e.g. "finish_reason": null while streaming).

public sealed record ErrorBody(ErrorDetail Error);

public sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record CompletionChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StopReason = null);

public sealed record CompletionLogprobs(List<string> Tokens, List<float> TokenLogprobs,
    List<Dictionary<string, float>> TopLogprobs, List<int> TextOffset);

public sealed record CompletionResponse(string Id, string Object, long Created, string Model,
    List<CompletionChoice> Choices, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

public sealed record ChatMessage(string Role, string Content);

public sealed record ChatChoice(int Index, ChatMessage Message, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ChatLogprobs(List<ChatTokenLogprob> Content);

public sealed record ChatTokenLogprob(string Token, float Logprob, List<int> Bytes, List<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(string Token, float Logprob, List<int> Bytes);

public sealed record ChatResponse(string Id, string Object, long Created, string Model, List<ChatChoice> Choices, Usage Usage);

/// <summary>A streamed chat delta: the first carries the role, later ones content; the last of a choice is empty.</summary>
public sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ChatChunk(string Id, string Object, long Created, string Model, List<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int MaxModelLen);

public sealed record ModelList(string Object, List<ModelCard> Data);

public sealed record TokenizeResponse(int Count, int MaxModelLen, int[] Tokens);

public sealed record DetokenizeResponse(string Prompt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(ChatChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(TokenizeResponse))]
[JsonSerializable(typeof(DetokenizeResponse))]
internal sealed partial class ApiJson : JsonSerializerContext;
