namespace Folio.Core.Models;

/// <summary>
/// The one rule for what a model name means, in every host (the CLI's <c>--model</c>, the C ABI's
/// <c>folio_engine_params.model</c>, Python's <c>folio.LLM(model)</c>), so that one name works everywhere:
/// <list type="number">
/// <item><c>builtin:NAME</c> is the built-in model NAME, always (the unambiguous spelling).</item>
/// <item>Otherwise, when a folder of that name exists, it is that folder: a folder the user made is what they
/// mean, even if it is called <c>tiny</c>.</item>
/// <item>Otherwise, when a file of that name ending in <c>.gguf</c> exists, it is that llama.cpp GGUF file.</item>
/// <item>Otherwise a bare built-in name (<c>tiny</c>, <c>b8</c>, … and a host's own, such as the ABI's
/// <c>fake</c>) is that built-in model.</item>
/// <item>Anything else is an error that names the choices.</item>
/// </list>
/// </summary>
public readonly record struct ModelName
{
    public const string BuiltinPrefix = "builtin:";

    private ModelName(string? builtin, string? folder)
    {
        Builtin = builtin;
        Folder = folder;
    }

    /// <summary>The built-in model's bare name ("tiny"), or null for a folder.</summary>
    public string? Builtin { get; }

    /// <summary>The folder as given (relative paths stay relative), or null for a built-in model.</summary>
    public string? Folder { get; }

    /// <param name="hostBuiltins">Built-in names only this host has (the ABI's "fake"), besides <see cref="BuiltinModels.Names"/>.</param>
    public static bool TryResolve(string model, IReadOnlyCollection<string> hostBuiltins, out ModelName resolved, out string error)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hostBuiltins);
        resolved = default;
        error = "";
        bool IsBuiltin(string name) => BuiltinModels.TryGet(name, out _) || hostBuiltins.Contains(name);
        string choices = string.Join(", ", BuiltinModels.Names.Concat(hostBuiltins));
        if (model.StartsWith(BuiltinPrefix, StringComparison.Ordinal))
        {
            string name = model[BuiltinPrefix.Length..];
            if (!IsBuiltin(name))
            {
                error = $"'{model}' is not a built-in model (built-in: {choices}; each also as builtin:NAME)";
                return false;
            }
            resolved = new ModelName(name, null);
            return true;
        }
        // A GGUF file is named by its path; Folder holds it (ModelSource tells a file from a folder).
        if (model.Length > 0 && (Directory.Exists(model) || (File.Exists(model) && model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))))
        {
            resolved = new ModelName(null, model);
            return true;
        }
        if (IsBuiltin(model))
        {
            resolved = new ModelName(model, null);
            return true;
        }
        error = $"the model folder '{model}' does not exist, and '{model}' is not a built-in model (built-in: {choices}; each also as builtin:NAME)";
        return false;
    }
}
