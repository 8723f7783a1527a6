using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>vLLM's POST /tokenize ({"prompt"} or {"messages"} through the chat template) and POST /detokenize ({"tokens"}).</summary>
internal static class TokenizeEndpoints
{
    public static async Task TokenizeAsync(HttpContext http, ServerState state)
    {
        var (document, f) = await RequestBody.ReadAsync(http).ConfigureAwait(false);
        int[] ids;
        using (document)
        {
            ModelCheck.Require(f, state.Model);
            if (f.TryGet("messages", out _))
            {
                // The prompt a chat completion would run: parse it as one (max_tokens set so the length check passes).
                ids = ChatRequestParser.Parse(f, state.Model).Prompts[0];
            }
            else
            {
                string text = f.String("prompt") ?? throw new ApiException(400, "'prompt' (a string) or 'messages' is required", "prompt");
                ids = text.Length == 0 ? [] : Encode(state.Model, text, f.Bool("add_special_tokens") ?? true);
            }
        }
        await Json.WriteAsync(http, 200, new TokenizeResponse(ids.Length, state.Model.MaxModelLen, ids), ApiJson.Default.TokenizeResponse)
            .ConfigureAwait(false);
    }

    public static async Task DetokenizeAsync(HttpContext http, ServerState state)
    {
        var (document, f) = await RequestBody.ReadAsync(http).ConfigureAwait(false);
        string text;
        using (document)
        {
            ModelCheck.Require(f, state.Model);
            if (!f.TryGet("tokens", out var tokens)) throw new ApiException(400, "'tokens' is required", "tokens");
            if (tokens.ValueKind != JsonValueKind.Array) throw RequestFields.Wrong("tokens", "a list of token ids", tokens);
            var ids = f.Ints("tokens")!;
            foreach (int id in ids)
                if ((uint)id >= (uint)state.Model.VocabSize)
                    throw new ApiException(400, $"token id {id} is outside the vocabulary (size {state.Model.VocabSize})", "tokens");
            text = state.Model.Tokenizer.Decode([.. ids]);
        }
        await Json.WriteAsync(http, 200, new DetokenizeResponse(text), ApiJson.Default.DetokenizeResponse).ConfigureAwait(false);
    }

    private static int[] Encode(ServedModel model, string text, bool addSpecial)
    {
        try
        {
            return model.Tokenizer.Encode(text, addSpecial);
        }
        catch (ArgumentException e)
        {
            throw new ApiException(400, $"the prompt cannot be tokenized: {e.Message}", "prompt");
        }
    }
}
