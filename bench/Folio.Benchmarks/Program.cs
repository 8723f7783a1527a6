using BenchmarkDotNet.Running;

namespace Folio.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs the benchmarks picked by BenchmarkDotNet's arguments (e.g. <c>--filter '*KvCache*'</c>), or with
    /// <c>cputime</c> the same methods timed by process CPU time (for a shared machine), or with
    /// <c>gemm-precision</c> one MatMul per weight format (fp32, bf16, int8), or with
    /// <c>cpu-step MODEL [THREADS] [none|int8|int4] [ROUNDS] [PHASES] [fp32|bf16 KV cache]</c> a forward pass's time by op (CpuStepBenchmark), or with
    /// <c>gemm-shapes [THREADS]</c> b8's MatMul shapes in fp32 and bf16 mapped (GemmShapesBenchmark), or with
    /// <c>gemm-step [THREADS] [PASSES] [ROWS] [fp32|bf16|int8|int4]</c> a decode step's MatMuls alone at ROWS rows (GemmStepBenchmark), or with
    /// <c>decode-read [THREADS] [PASSES] [ROWS] [none|int8|int4|bf16|bf16-plain]</c> batch-1 (or ROWS-row) decode's weight reads against the read bound (DecodeReadBenchmark), or with
    /// <c>attn-kernel [LAYERS] [CONTEXT] [fp32|bf16] [ROUNDS]</c> the one-pass decode attention kernel alone (AttentionKernelBenchmark), or with
    /// <c>fma-peak [THREADS]</c> the Vector512 FMA ceiling in GFLOP/s (FmaPeakBenchmark), or with
    /// <c>sampler-exp [ROWS] [VOCAB] [ROUNDS]</c> a decode step's sampler exponentials by method (SamplerExpBenchmark), or with
    /// <c>sampler-step [THREADS] [ROWS] [ROUNDS]</c> the CPU backend's sampler on one step (SamplerStepBenchmark), or with
    /// <c>tokenize-long-word</c> a 1 MiB single-word prompt through each tokenizer kind.
    /// </summary>
    public static void Main(string[] args)
    {
        if (args is ["cputime"])
            CpuTimeHarness.Run();
        else if (args is ["gemm-precision"])
            WeightGemmBenchmark.Run();
        else if (args is ["cpu-step", var model, ..])
            CpuStepBenchmark.Run(model, args.Length > 2 ? int.Parse(args[2]) : 2,
                args.Length > 3 ? Enum.Parse<Folio.Core.Compute.WeightQuantization>(args[3], ignoreCase: true) : Folio.Core.Compute.WeightQuantization.None,
                args.Length > 4 ? int.Parse(args[4]) : 3, args.Length > 5 ? args[5] : "prefill,decode32,pp128,decode1",
                args.Length > 6 && args[6] == "bf16" ? Folio.Core.Compute.DType.BF16 : Folio.Core.Compute.DType.F32);
        else if (args is ["gemm-shapes", ..])
            GemmShapesBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 1);
        else if (args is ["gemm-step", ..])
            GemmStepBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 2, args.Length > 2 ? int.Parse(args[2]) : 20,
                args.Length > 3 ? int.Parse(args[3]) : 32, args.Length > 4 ? args[4] : "bf16");
        else if (args is ["decode-read", ..])
            DecodeReadBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 2, args.Length > 2 ? int.Parse(args[2]) : 20, args.Length > 3 ? int.Parse(args[3]) : 1,
                args.Length > 4 && !args[4].StartsWith("bf16") ? Enum.Parse<Folio.Core.Compute.WeightQuantization>(args[4], ignoreCase: true) : Folio.Core.Compute.WeightQuantization.None,
                args.Length > 4 && args[4].StartsWith("bf16") ? Folio.Core.Compute.DType.BF16 : Folio.Core.Compute.DType.F32,
                codeBf16: !(args.Length > 4 && args[4] == "bf16-plain"));
        else if (args is ["attn-kernel", ..])
            AttentionKernelBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 1, args.Length > 2 ? int.Parse(args[2]) : 145,
                args.Length <= 3 || args[3] == "bf16", args.Length > 4 ? int.Parse(args[4]) : 10);
        else if (args is ["fma-peak", ..])
            FmaPeakBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 1);
        else if (args is ["sampler-exp", ..])
            SamplerExpBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 32, args.Length > 2 ? int.Parse(args[2]) : 32000,
                args.Length > 3 ? int.Parse(args[3]) : 15);
        else if (args is ["sampler-step", ..])
            SamplerStepBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 2, args.Length > 2 ? int.Parse(args[2]) : 32,
                args.Length > 3 ? int.Parse(args[3]) : 15);
        else if (args is ["tokenize-long-word"])
            LongWordTokenizeBenchmark.Run();
        else
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
