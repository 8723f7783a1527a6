using System.CommandLine;
using Folio.Core.Compute;

namespace Folio.Cli;

/// <summary>Where a model runs: the CPU, or the current CUDA device computing in <see cref="ActivationType"/> (null:
/// the checkpoint's 16-bit type, bf16 for fp32 checkpoints).</summary>
internal readonly record struct DeviceSelection(bool Cuda, DType? ActivationType, bool CudaGraphs = true)
{
    public static DeviceSelection Cpu => new(false, null);
}

/// <summary><c>--device cpu|cuda</c> and <c>--dtype auto|float32|bfloat16|float16</c>, shared by the commands that
/// load a model.</summary>
internal static class DeviceOption
{
    public static Option<string> CreateDevice() => new("--device")
    {
        Description = "cpu, or cuda (the current GPU, through libfolio_cuda.so beside the program or at FOLIO_CUDA_LIB).",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> CreateDtype() => new("--dtype")
    {
        Description = "With --device cuda: auto (fp16 checkpoints in fp16, others in bf16), float32 (exact, no TF32), bfloat16 or float16.",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<bool> CreateNoGraphs() => new("--no-cuda-graphs")
    {
        Description = "With --device cuda: run every decode step eagerly instead of replaying CUDA graphs (for comparison).",
    };

    public static DeviceSelection Parse(string? device, string? dtype, bool noGraphs = false)
    {
        DType? type = dtype switch
        {
            null or "auto" => null,
            "float32" or "fp32" => DType.F32,
            "bfloat16" or "bf16" => DType.BF16,
            "float16" or "fp16" => DType.F16,
            _ => throw new UsageException($"--dtype '{dtype}' must be auto, float32, bfloat16 or float16"),
        };
        return device switch
        {
            "cpu" when type is null => DeviceSelection.Cpu,
            "cpu" => throw new UsageException($"--dtype {dtype}: the CPU backend computes in fp32 (use --quantization for its weights)"),
            "cuda" => new DeviceSelection(true, type, !noGraphs),
            _ => throw new UsageException($"--device '{device}' must be cpu or cuda"),
        };
    }
}
