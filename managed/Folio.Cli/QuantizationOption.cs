using System.CommandLine;
using Folio.Core.Compute;

namespace Folio.Cli;

/// <summary><c>--quantization none|int8|int4</c>, shared by the commands that load a model on the CPU.</summary>
internal static class QuantizationOption
{
    public static Option<string> Create() => new("--quantization")
    {
        Description = "MatMul weights: none (the checkpoint's precision: fp32, bf16 or fp16) int8 or int4 (group-wise symmetric, 32 weights per fp16 scale, quantized at load; int4 as llama.cpp's Q4_0).",
        DefaultValueFactory = _ => "none",
    };

    /// <summary><c>--no-mmap</c>: bf16 weights and the embedding copied into memory instead of used in place from the file.</summary>
    public static Option<bool> CreateNoMmap() => new("--no-mmap")
    {
        Description = "CPU: copy bf16 checkpoint weights (packed) and the embedding table into memory instead of using the file's bytes in place through a read-only mapping (as llama.cpp's --no-mmap).",
    };

    /// <summary><c>--kv-cache-dtype fp32|bf16</c>: the CPU KV cache's element type.</summary>
    public static Option<string> CreateKvCacheDtype() => new("--kv-cache-dtype")
    {
        Description = "CPU: the KV cache's element type: fp32 (exact) or bf16 (half the bytes attention reads; K and V rounded to nearest even, computed in fp32).",
        DefaultValueFactory = _ => "fp32",
    };

    public static DType ParseKvCacheDtype(string? text) => text?.ToLowerInvariant() switch
    {
        "fp32" or "f32" or "float32" => DType.F32,
        "bf16" or "bfloat16" => DType.BF16,
        _ => throw new UsageException($"--kv-cache-dtype '{text}' must be fp32 or bf16"),
    };

    public static WeightQuantization Parse(string? text) => WeightQuantizations.TryParse(text, out var q)
        ? q
        : throw new UsageException($"--quantization '{text}' must be none, int8 or int4");
}
