using Folio.Core.Compute;
using Folio.Cuda.Backend;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Hosts;

/// <summary>folio_engine_create: checks folio_engine_params field by field, resolves the model, builds the engine.</summary>
public static unsafe class EngineFactory
{
    private const string Fn = "folio_engine_create";
    public const string DefaultModel = "builtin:tiny";

    public static int Create(in FolioEngineParams p, out EngineHost host)
    {
        host = null!;
        int s;
        if (p.Device is not ((int)FolioDevice.Cpu or (int)FolioDevice.Cuda)) return Bad("device", p.Device, "FOLIO_DEVICE_CPU (0) or FOLIO_DEVICE_CUDA (1)");
        bool cuda = p.Device == (int)FolioDevice.Cuda;
        if (p.Dtype is < (int)FolioDtype.Auto or > (int)FolioDtype.Float16) return Bad("dtype", p.Dtype, "FOLIO_DTYPE_AUTO (0) .. FOLIO_DTYPE_FLOAT16 (3)");
        if (!cuda && p.Dtype != (int)FolioDtype.Auto)
        {
            return Guard.Fail(FolioStatus.InvalidArgument,
                $"{Fn}: params->dtype is {p.Dtype}, but the CPU backend computes in fp32: only FOLIO_DTYPE_AUTO (0)");
        }
        float utilization = p.GpuMemoryUtilization;
        if (!(utilization == 0 || (utilization > 0 && utilization <= 1)))
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{Fn}: params->gpu_memory_utilization is {utilization}; expected (0, 1], or 0 for 0.9");
        }
        if (cuda && p.Quantization != (int)FolioQuantization.None)
        {
            return Guard.Fail(FolioStatus.Unsupported, $"{Fn}: params->quantization is a CPU backend option; FOLIO_DEVICE_CUDA takes NONE");
        }
        if (p.KvCacheDtype is not ((int)FolioKvCacheDtype.Auto or (int)FolioKvCacheDtype.F32 or (int)FolioKvCacheDtype.Bf16))
        {
            return Bad("kv_cache_dtype", p.KvCacheDtype, "FOLIO_KV_CACHE_DTYPE_AUTO (0), FOLIO_KV_CACHE_DTYPE_F32 (1) or FOLIO_KV_CACHE_DTYPE_BF16 (2)");
        }
        if (cuda && p.KvCacheDtype != (int)FolioKvCacheDtype.Auto)
        {
            return Guard.Fail(FolioStatus.Unsupported,
                $"{Fn}: params->kv_cache_dtype is a CPU backend option; FOLIO_DEVICE_CUDA takes AUTO (its KV cache is in params->dtype)");
        }
        if (p.BlockSizeTokens is < 1 or > 1024) return Bad("block_size_tokens", p.BlockSizeTokens, "1..1024");
        if (p.NumGpuBlocks < 0) return Bad("num_gpu_blocks", p.NumGpuBlocks, ">= 0 (0 = from kv_memory_bytes)");
        if (p.NumCpuBlocks < 0) return Bad("num_cpu_blocks", p.NumCpuBlocks, ">= 0");
        if (p.MaxNumSeqs < 1) return Bad("max_num_seqs", p.MaxNumSeqs, ">= 1");
        if (p.MaxNumBatchedTokens < 1) return Bad("max_num_batched_tokens", p.MaxNumBatchedTokens, ">= 1");
        if ((s = Args.Flag(p.EnablePrefixCaching, Fn, "params->enable_prefix_caching")) != 0) return s;
        if (p.PreemptionMode is not ((int)FolioPreemptionMode.Recompute or (int)FolioPreemptionMode.Swap))
        {
            return Bad("preemption_mode", p.PreemptionMode, "FOLIO_PREEMPTION_RECOMPUTE (0) or FOLIO_PREEMPTION_SWAP (1)");
        }
        if (p.SchedulingPolicy is not ((int)FolioSchedulingPolicy.Fcfs or (int)FolioSchedulingPolicy.Priority))
        {
            return Bad("scheduling_policy", p.SchedulingPolicy, "FOLIO_SCHEDULING_FCFS (0) or FOLIO_SCHEDULING_PRIORITY (1)");
        }
        if (p.LogLevel is < 0 or > (int)FolioLogLevel.None) return Bad("log_level", p.LogLevel, "FOLIO_LOG_TRACE (0) .. FOLIO_LOG_NONE (5)");
        if (p.NumThreads < 0) return Bad("num_threads", p.NumThreads, ">= 0 (0 = all cores)");
        if (p.Quantization is not ((int)FolioQuantization.None or (int)FolioQuantization.Int8 or (int)FolioQuantization.Int4))
        {
            return Bad("quantization", p.Quantization, "FOLIO_QUANTIZATION_NONE (0), FOLIO_QUANTIZATION_INT8 (1) or FOLIO_QUANTIZATION_INT4 (2)");
        }
        var quantization = (FolioQuantization)p.Quantization switch
        {
            FolioQuantization.Int8 => WeightQuantization.Int8,
            FolioQuantization.Int4 => WeightQuantization.Int4,
            _ => WeightQuantization.None,
        };
        DType kvCacheType = p.KvCacheDtype == (int)FolioKvCacheDtype.Bf16 ? DType.BF16 : DType.F32;   // AUTO: the CPU's fp32
        string model = DefaultModel;
        if (p.Model != null && (s = Utf8Text.Decode(p.Model, p.ModelLen, Fn, "params->model", out model)) != 0) return s;
        if (model.Length == 0) model = DefaultModel;

        var log = new LogSink(p.LogCallback, p.LogUserData, (FolioLogLevel)p.LogLevel);
        var device = new DeviceChoice(cuda, DtypeOf(p.Dtype), utilization == 0 ? CudaModel.DefaultMemoryUtilization : utilization);
        if ((s = ResolveModel(model, p.NumThreads, unchecked((long)p.Seed), quantization, kvCacheType, device, out IEngineModel? resolved)) != 0) return s;
        // Options are checked before the executor allocates the KV cache; a model that fails here is released.
        int blocks;
        try
        {
            blocks = p.NumGpuBlocks > 0 ? p.NumGpuBlocks : resolved!.BlocksFor(p.KvMemoryBytes, p.BlockSizeTokens, p.MaxNumBatchedTokens, p.MaxNumSeqs);
        }
        catch (InvalidOperationException e)
        {
            (resolved as IDisposable)?.Dispose();
            return Guard.Fail(FolioStatus.ModelLoad, $"{Fn}: {e.Message}");
        }
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions
            {
                NumGpuBlocks = blocks,
                BlockSizeTokens = p.BlockSizeTokens,
                NumCpuBlocks = p.NumCpuBlocks,
                EnablePrefixCaching = p.EnablePrefixCaching != 0,
            },
            Scheduler = new SchedulerOptions
            {
                MaxNumSeqs = p.MaxNumSeqs,
                MaxNumBatchedTokens = p.MaxNumBatchedTokens,
                PreemptionMode = p.PreemptionMode == (int)FolioPreemptionMode.Swap ? PreemptionMode.Swap : PreemptionMode.Recompute,
                EosTokenId = resolved!.EosTokenId,
                Policy = p.SchedulingPolicy == (int)FolioSchedulingPolicy.Priority ? SchedulingPolicy.Priority : SchedulingPolicy.Fcfs,
            },
            TokenConstraints = resolved.TokenConstraints,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            (resolved as IDisposable)?.Dispose();
            return Guard.Fail(FolioStatus.InvalidArgument, $"{Fn}: params: {e.Message}");
        }
        IModelExecutor executor = resolved.CreateExecutor(options, unchecked((long)p.Seed));
        var logger = new LogSinkLogger(log);
        var engine = new LlmEngine(options, executor, resolved.TextDecoder, logger) { ChatTemplate = resolved.ChatTemplate };
        host = new EngineHost(engine, resolved, log, executor as IDisposable, resolved as IDisposable);
        logger.Owner = host;
        log.Write(FolioLogLevel.Info,
            $"engine created: model {resolved.Name}{(resolved.Backend.Length > 0 ? $" on {resolved.Backend}" : "")}, {blocks} KV blocks of {p.BlockSizeTokens} tokens, " +
            $"{p.NumCpuBlocks} CPU swap blocks, max {p.MaxNumSeqs} sequences / {p.MaxNumBatchedTokens} tokens per step", host);
        return 0;
    }

    // ModelName's rule (one for every host); "fake" is a built-in only the ABI has.
    private static readonly string[] AbiBuiltins = ["fake"];

    /// <summary>The backend engine params ask for: CUDA (with its activation type, null = the checkpoint's) or the CPU.</summary>
    private readonly record struct DeviceChoice(bool Cuda, DType? Dtype, double MemoryUtilization);

    private static DType? DtypeOf(int dtype) => dtype switch
    {
        (int)FolioDtype.Float32 => DType.F32,
        (int)FolioDtype.Bfloat16 => DType.BF16,
        (int)FolioDtype.Float16 => DType.F16,
        _ => null,
    };

    private static int ResolveModel(string model, int threads, long seed, WeightQuantization quantization, DType kvCacheType,
        DeviceChoice device, out IEngineModel? resolved)
    {
        resolved = null;
        if (!ModelName.TryResolve(model, AbiBuiltins, out ModelName name, out string error))
        {
            return Guard.Fail(FolioStatus.ModelLoad, $"{Fn}: params->model: {error}");
        }
        if (name.Builtin == "fake" && device.Cuda)
        {
            return Guard.Fail(FolioStatus.InvalidArgument,
                $"{Fn}: params->device is FOLIO_DEVICE_CUDA, but builtin:fake runs no model (it is the scheduler's fake): use FOLIO_DEVICE_CPU");
        }
        if (name.Builtin == "fake")
        {
            resolved = new FakeEngineModel();
            return 0;
        }
        // A folder goes on as a full path, so that CpuModel never reads it as a built-in name.
        string source = name.Builtin ?? Path.GetFullPath(name.Folder!);
        bool ok = device.Cuda
            ? EngineModel.TryLoadCuda(source, device.Dtype, seed, device.MemoryUtilization, out EngineModel? loaded, out error)
            : EngineModel.TryLoad(source, threads, seed, quantization, kvCacheType, out loaded, out error);
        if (!ok)
        {
            return Guard.Fail(FolioStatus.ModelLoad, $"{Fn}: params->model: {error}");
        }
        resolved = loaded;
        return 0;
    }

    private static int Bad(string field, int value, string expected) =>
        Guard.Fail(FolioStatus.InvalidArgument, $"{Fn}: params->{field} is {value}; expected {expected}");
}
