namespace Folio.Core.Models;

/// <summary>
/// A model's <c>tokenizer_config.json</c>, the fields Folio uses: whether a BOS token starts each prompt
/// (<c>add_bos_token</c>; <c>add_eos_token</c> is read too), the special tokens by text, and
/// <c>model_max_length</c> (transformers writes 1e30 for "no limit": null here). A missing file is
/// <see cref="None"/>. Chat templates are not read.
/// </summary>
public sealed record TokenizerConfig
{
    public static TokenizerConfig None { get; } = new();

    public bool? AddBosToken { get; init; }
    public bool? AddEosToken { get; init; }
    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }
    public int? ModelMaxLength { get; init; }

    /// <summary>Reads <paramref name="path"/>; <see cref="None"/> when the file does not exist.</summary>
    public static TokenizerConfig Load(string path) =>
        JsonFields.ReadOptionalFile(path) is { } text ? Parse(text, path) : None;

    /// <summary>Parses the JSON text; <paramref name="source"/> names it in errors.</summary>
    public static TokenizerConfig Parse(string json, string source) => JsonFields.Read(json, source, f => new TokenizerConfig
    {
        AddBosToken = f.Bool("add_bos_token"),
        AddEosToken = f.Bool("add_eos_token"),
        BosToken = f.Token("bos_token"),
        EosToken = f.Token("eos_token"),
        PadToken = f.Token("pad_token"),
        UnkToken = f.Token("unk_token"),
        ModelMaxLength = f.Length("model_max_length"),
    });
}
