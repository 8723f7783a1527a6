using Folio.Core.Sampling;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>folio_sampling_params' token constraints (ABI 1.3: structured output, logit bias, allowed token ids,
/// bad words) → the matching <see cref="SamplingParams"/> fields, checked field by field. What the texts mean is
/// checked when the engine admits the request (it compiles them).</summary>
public static unsafe class TokenConstraintsReader
{
    private const ulong MaxListEntries = 1 << 20;
    private const ulong MaxTextBytes = 64UL << 20;

    public static int Read(in FolioSamplingParams p, string function, SamplingParams source, out SamplingParams value)
    {
        value = source;
        int s;
        if (p.Reserved1 != 0)
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->reserved1 is {p.Reserved1}; it must be 0");
        if ((s = ReadStructured(p, function, out var structured)) != 0) return s;

        Dictionary<int, float>? bias = null;
        if (p.NumLogitBias > 0)
        {
            if ((s = Args.Array(p.LogitBiasTokenIds, p.NumLogitBias, MaxListEntries, function, "params->logit_bias_token_ids", "params->num_logit_bias")) != 0) return s;
            if ((s = Args.Array(p.LogitBiasValues, p.NumLogitBias, MaxListEntries, function, "params->logit_bias_values", "params->num_logit_bias")) != 0) return s;
            bias = [];
            for (ulong i = 0; i < p.NumLogitBias; i++)
                bias[p.LogitBiasTokenIds[i]] = p.LogitBiasValues[i];   // a repeated id: the last value wins, as a JSON object's
        }
        int[]? allowed = null;
        if (p.NumAllowedTokenIds > 0)
        {
            if ((s = Args.Array(p.AllowedTokenIds, p.NumAllowedTokenIds, MaxListEntries, function, "params->allowed_token_ids", "params->num_allowed_token_ids")) != 0) return s;
            allowed = new ReadOnlySpan<int>(p.AllowedTokenIds, (int)p.NumAllowedTokenIds).ToArray();
        }
        string[]? badWords = null;
        if (p.NumBadWords > 0 && (s = Strings(p.BadWords, p.BadWordLens, p.NumBadWords, function, "bad_words", "bad_word_lens", "num_bad_words", out badWords)) != 0)
            return s;
        value = source with { StructuredOutputs = structured, LogitBias = bias, AllowedTokenIds = allowed, BadWords = badWords };
        return 0;
    }

    private static int ReadStructured(in FolioSamplingParams p, string function, out StructuredOutputs? value)
    {
        value = null;
        int s;
        var kind = (FolioStructuredOutput)p.StructuredOutputKind;
        if (kind == FolioStructuredOutput.None)
            return 0;
        if (kind == FolioStructuredOutput.JsonObject)
        {
            value = new StructuredOutputs { JsonObject = true };
            return 0;
        }
        if (kind == FolioStructuredOutput.Choice)
        {
            if (p.NumChoices == 0)
                return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->num_choices is 0; FOLIO_STRUCTURED_CHOICE needs at least one choice");
            if ((s = Strings(p.Choices, p.ChoiceLens, p.NumChoices, function, "choices", "choice_lens", "num_choices", out var choices)) != 0) return s;
            value = new StructuredOutputs { Choice = choices };
            return 0;
        }
        if (kind is not (FolioStructuredOutput.Json or FolioStructuredOutput.Regex or FolioStructuredOutput.Grammar))
        {
            return Guard.Fail(FolioStatus.InvalidArgument,
                $"{function}: params->structured_output_kind is {p.StructuredOutputKind}; FOLIO_STRUCTURED_NONE (0) .. FOLIO_STRUCTURED_JSON_OBJECT (5)");
        }
        if (p.StructuredOutputLen == 0)
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->structured_output_len is 0; FOLIO_STRUCTURED_{Name(kind)} needs its text");
        if ((s = Args.Array(p.StructuredOutput, p.StructuredOutputLen, MaxTextBytes, function, "params->structured_output", "params->structured_output_len")) != 0) return s;
        if ((s = Utf8Text.Decode(p.StructuredOutput, p.StructuredOutputLen, function, "params->structured_output", out string text)) != 0) return s;
        value = kind switch
        {
            FolioStructuredOutput.Json => new StructuredOutputs { Json = text },
            FolioStructuredOutput.Regex => new StructuredOutputs { Regex = text },
            _ => new StructuredOutputs { Grammar = text },
        };
        return 0;
    }

    private static string Name(FolioStructuredOutput kind) => kind switch
    {
        FolioStructuredOutput.Json => "JSON",
        FolioStructuredOutput.Regex => "REGEX",
        _ => "GRAMMAR",
    };

    private static int Strings(byte** texts, ulong* lens, ulong count, string function, string name, string lensName, string countName, out string[] value)
    {
        value = [];
        int s;
        if ((s = Args.Array(texts, count, MaxListEntries, function, $"params->{name}", $"params->{countName}")) != 0) return s;
        if ((s = Args.Array(lens, count, MaxListEntries, function, $"params->{lensName}", $"params->{countName}")) != 0) return s;
        var result = new string[count];
        for (ulong i = 0; i < count; i++)
        {
            if ((s = Utf8Text.Decode(texts[i], lens[i], function, $"params->{name}[{i}]", out result[i])) != 0) return s;
        }
        value = result;
        return 0;
    }
}
