using System.Text.Json;

namespace Folio.Server;

/// <summary>POST /v1/completions' body → <see cref="GenerationRequest"/>. "prompt" is a string, a list of strings,
/// a list of token ids, or a list of such lists; each prompt gets n choices (index = prompt × n + sample).</summary>
internal static class CompletionRequestParser
{
    public static GenerationRequest Parse(RequestFields f, ServedModel model)
    {
        ModelCheck.Require(f, model);
        if (!f.TryGet("prompt", out var prompt))
            throw new ApiException(400, "'prompt' is required", "prompt");
        bool addSpecial = f.Bool("add_special_tokens") ?? true;
        var texts = new List<string?>();
        var prompts = ReadPrompts(prompt, model, addSpecial, texts);
        int? logprobs = f.Int("logprobs", 0, SamplingFields.MaxTopLogprobs);
        var sampling = SamplingFields.Read(f, model, logprobs);
        bool echo = f.Bool("echo") ?? false;
        // With logprobs, echo returns the prompt's tokens' logprobs too: the engine does not compute those.
        if (echo && logprobs is not null)
            throw new ApiException(400, "'echo' together with 'logprobs' needs prompt logprobs, which this server does not compute", "echo");
        IReadOnlyList<string>? echoTexts = echo
            ? [.. texts.Select((t, i) => t ?? model.Tokenizer.Decode(prompts[i]))]
            : null;
        int? best = f.Int("best_of", 1);
        if (best is int b && b != sampling.N) throw new ApiException(400, "'best_of' other than n is not supported", "best_of");
        int longest = prompts.Max(p => p.Length);
        sampling = SamplingFields.WithMaxTokens(sampling, f.Int("max_tokens", 1), longest, model, defaultMax: 16);
        var (priority, key) = SamplingFields.ReadOptions(f);
        bool stream = f.Bool("stream") ?? false;
        return new GenerationRequest(prompts, sampling, stream, StreamOptions.IncludeUsage(f, stream), priority, key, logprobs, echoTexts);
    }

    /// <summary>The prompts' token ids; <paramref name="texts"/> gets each prompt's text (null for token ids).</summary>
    private static List<int[]> ReadPrompts(JsonElement prompt, ServedModel model, bool addSpecial, List<string?> texts)
    {
        var prompts = new List<int[]>();
        if (prompt.ValueKind == JsonValueKind.String)
        {
            prompts.Add(PromptTokens.Encode(prompt.GetString()!, model, addSpecial));
            texts.Add(prompt.GetString());
            return prompts;
        }
        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0)
            throw RequestFields.Wrong("prompt", "a string, a list of strings or a list of token ids (not empty)", prompt);
        var first = prompt[0];
        if (first.ValueKind == JsonValueKind.Number)
        {
            prompts.Add(PromptTokens.Ids(prompt, model));
            texts.Add(null);
            return prompts;
        }
        foreach (var item in prompt.EnumerateArray())
        {
            prompts.Add(item.ValueKind switch
            {
                JsonValueKind.String => PromptTokens.Encode(item.GetString()!, model, addSpecial),
                JsonValueKind.Array => PromptTokens.Ids(item, model),
                _ => throw RequestFields.Wrong("prompt", "a list of strings or of token-id lists", prompt),
            });
            texts.Add(item.ValueKind == JsonValueKind.String ? item.GetString() : null);
        }
        if (prompts.Count > 256) throw new ApiException(400, $"'prompt' has {prompts.Count} prompts; at most 256", "prompt");
        return prompts;
    }
}
