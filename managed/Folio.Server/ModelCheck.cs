namespace Folio.Server;

/// <summary>The "model" field: absent means the served model; any other name is a 404, as OpenAI's.</summary>
internal static class ModelCheck
{
    public static void Require(RequestFields f, ServedModel model)
    {
        string? name = f.String("model");
        if (name is not null && name != model.Name)
            throw new ApiException(404, $"The model `{name}` does not exist.", "model");
    }
}
