using Folio.Core.Sampling;

namespace Folio.Core.Models;

/// <summary>
/// A model's <c>generation_config.json</c>: its end-of-sequence ids and the sampling defaults its authors chose.
/// Only what maps onto <see cref="SamplingParams"/> is used, as vLLM uses it: temperature, top_p, top_k, min_p,
/// repetition_penalty and max_new_tokens become request defaults (<see cref="Defaults"/>); <c>do_sample</c> is
/// read and type-checked but not applied (vLLM does not either: a model whose file says do_sample false with a
/// temperature still samples at that temperature unless the request asks for greedy). <c>max_length</c>
/// (prompt + output) has no per-request equivalent and is not read. A missing file is <see cref="None"/>.
/// </summary>
public sealed record GenerationConfig
{
    public static GenerationConfig None { get; } = new();

    /// <summary>End-of-sequence ids (an int or a list in the file); empty when unset.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? BosTokenId { get; init; }
    public int? PadTokenId { get; init; }
    public bool? DoSample { get; init; }
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public float? MinP { get; init; }
    public float? RepetitionPenalty { get; init; }
    public int? MaxNewTokens { get; init; }

    /// <summary>Reads <paramref name="path"/>; <see cref="None"/> when the file does not exist.</summary>
    public static GenerationConfig Load(string path) =>
        JsonFields.ReadOptionalFile(path) is { } text ? Parse(text, path) : None;

    /// <summary>Parses the JSON text; <paramref name="source"/> names it in errors.</summary>
    public static GenerationConfig Parse(string json, string source) => JsonFields.Read(json, source, f =>
    {
        double? temperature = f.Number("temperature"), topP = f.Number("top_p"), minP = f.Number("min_p"), rep = f.Number("repetition_penalty");
        int? topK = f.Int("top_k"), maxNew = f.Int("max_new_tokens");
        if (temperature < 0)
            f.Fail<int>("temperature", $"must be >= 0, is {temperature}");
        if (topP is <= 0 or > 1)
            f.Fail<int>("top_p", $"must be in (0, 1], is {topP}");
        if (minP is < 0 or > 1)
            f.Fail<int>("min_p", $"must be in [0, 1], is {minP}");
        if (rep <= 0)
            f.Fail<int>("repetition_penalty", $"must be > 0, is {rep}");
        if (topK < 0)
            f.Fail<int>("top_k", $"must be >= 0 (0 = all), is {topK}");
        if (maxNew <= 0)
            f.Fail<int>("max_new_tokens", $"must be > 0, is {maxNew}");
        return new GenerationConfig
        {
            EosTokenIds = f.IntOrList("eos_token_id"),
            BosTokenId = f.Int("bos_token_id"),
            PadTokenId = f.Int("pad_token_id"),
            DoSample = f.Bool("do_sample"),
            Temperature = (float?)temperature,
            TopP = (float?)topP,
            TopK = topK,
            MinP = (float?)minP,
            RepetitionPenalty = (float?)rep,
            MaxNewTokens = maxNew,
        };
    });

    /// <summary><paramref name="baseline"/> with every value this file sets in its place: the defaults a request
    /// starts from before its own explicit settings are applied.</summary>
    public SamplingParams Defaults(SamplingParams baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return baseline with
        {
            Temperature = Temperature ?? baseline.Temperature,
            TopP = TopP ?? baseline.TopP,
            TopK = TopK ?? baseline.TopK,   // HF's top_k 0 = no top-k filter, as Folio's 0
            MinP = MinP ?? baseline.MinP,
            RepetitionPenalty = RepetitionPenalty ?? baseline.RepetitionPenalty,
            MaxTokens = MaxNewTokens ?? baseline.MaxTokens,
        };
    }
}
