using System.Text.Json;

namespace Folio.Server;

/// <summary>Prompt text or ids → checked token ids.</summary>
internal static class PromptTokens
{
    public static int[] Encode(string text, ServedModel model, bool addSpecial)
    {
        int[] ids;
        try
        {
            ids = model.Tokenizer.Encode(text, addSpecial);
        }
        catch (ArgumentException e)
        {
            throw new ApiException(400, $"the prompt cannot be tokenized: {e.Message}", "prompt");
        }
        if (ids.Length == 0) throw new ApiException(400, "the prompt is empty (0 tokens)", "prompt");
        return ids;
    }

    public static int[] Ids(JsonElement list, ServedModel model)
    {
        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                throw RequestFields.Wrong("prompt", "a list of token ids", list);
            if ((uint)id >= (uint)model.VocabSize)
                throw new ApiException(400, $"prompt token id {id} is outside the vocabulary (size {model.VocabSize})", "prompt");
            ids[i++] = id;
        }
        if (ids.Length == 0) throw new ApiException(400, "the prompt is empty (0 tokens)", "prompt");
        return ids;
    }
}
