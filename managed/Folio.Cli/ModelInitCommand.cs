using System.CommandLine;
using Folio.Core.Models;

namespace Folio.Cli;

/// <summary><c>folio model init --shape tiny|b8|llama-1b|llama-8b|qwen3-0.6b --out DIR</c>: writes a seeded random-weight
/// model as a Hugging Face folder (for benchmarks on the GPU machine).</summary>
public static class ModelInitCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = "tiny, b8, llama-1b, llama-8b or qwen3-0.6b.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write.", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "fp32 or bf16 (default: fp32 for tiny/b8, bf16 otherwise).", DefaultValueFactory = _ => "" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var init = new Command("init", "Write a seeded random-weight model as a Hugging Face folder.") { shape, output, dtype, seed };
        init.SetAction(r =>
        {
            string name = r.GetValue(shape)!;
            if (!BuiltinModels.TryGet(name, out var config))
                throw new UsageException($"--shape '{name}' is not one of {string.Join(", ", BuiltinModels.Names)}");
            string d = r.GetValue(dtype)!;
            bool bf16 = d switch
            {
                "" => name is "llama-1b" or "llama-8b" or "qwen3-0.6b",
                "bf16" => true,
                "fp32" => false,
                _ => throw new UsageException($"--dtype '{d}' must be fp32 or bf16"),
            };
            string folder = r.GetValue(output)!;
            HfFolderWriter.Write(config, new SeededWeights(r.GetValue(seed)), folder, bf16);
            Console.WriteLine($"wrote {name} ({config.ParameterCount() / 1e6:F1}M parameters, {(bf16 ? "bf16" : "fp32")}) to {folder}");
            return ExitCodes.Ok;
        });
        return new Command("model", "Model folders.") { init };
    }
}
