using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>
/// sizeof each folio.h struct in each released header, oldest first (<see cref="Versions"/>; the headers are
/// kept in tests/abi-history). These are the struct_size values a host built against any release sends, and
/// the only ones below this library's own size that it accepts: a size between two releases is no header's.
/// A struct that grows appends a size here in the same minor release that bumps <see cref="AbiVersion.Minor"/>.
/// </summary>
public static unsafe class StructSizes
{
    public static readonly string[] Versions = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"];

    private static readonly int[] EngineParams = [96, 96, 104, 112, 120, sizeof(FolioEngineParams)];   // 1.3 quantization (past the 1.2 padding), 1.4 dtype and GPU memory share (past the 1.3 padding), 1.5 kv_cache_dtype
    private static readonly int[] SamplingParams = [104, 112, 136, sizeof(FolioSamplingParams), sizeof(FolioSamplingParams), sizeof(FolioSamplingParams)];   // 1.1 beam search, 1.3 token constraints
    private static readonly int[] RequestOutput = [96, 96, sizeof(FolioRequestOutput), sizeof(FolioRequestOutput), sizeof(FolioRequestOutput), sizeof(FolioRequestOutput)];
    private static readonly int[] SchedulerParams = [24, 24, sizeof(FolioSchedulerParams), sizeof(FolioSchedulerParams), sizeof(FolioSchedulerParams), sizeof(FolioSchedulerParams)];
    private static readonly int[] Stats = [sizeof(FolioStats), sizeof(FolioStats), sizeof(FolioStats), sizeof(FolioStats), sizeof(FolioStats), sizeof(FolioStats)];
    private static readonly int[] KvManagerParams = [sizeof(FolioKvManagerParams), sizeof(FolioKvManagerParams), sizeof(FolioKvManagerParams), sizeof(FolioKvManagerParams), sizeof(FolioKvManagerParams), sizeof(FolioKvManagerParams)];
    private static readonly int[] StepPlanView = [200, 200, sizeof(FolioStepPlanView), sizeof(FolioStepPlanView), sizeof(FolioStepPlanView), sizeof(FolioStepPlanView)];   // 1.2 added slot_mapping_i64

    /// <summary>The struct's size in each of <see cref="Versions"/>; the last is sizeof(T).</summary>
    public static int[] Of<T>() where T : unmanaged
    {
        Type t = typeof(T);
        if (t == typeof(FolioEngineParams)) return EngineParams;
        if (t == typeof(FolioSamplingParams)) return SamplingParams;
        if (t == typeof(FolioRequestOutput)) return RequestOutput;
        if (t == typeof(FolioSchedulerParams)) return SchedulerParams;
        if (t == typeof(FolioStats)) return Stats;
        if (t == typeof(FolioKvManagerParams)) return KvManagerParams;
        if (t == typeof(FolioStepPlanView)) return StepPlanView;
        throw new ArgumentException($"{t.Name} is not a folio.h struct");
    }

    /// <summary>"1.0: 104, 1.1: 112, 1.2: 136 bytes" for error messages.</summary>
    public static string Describe<T>() where T : unmanaged
    {
        int[] sizes = Of<T>();
        var parts = new List<string>();
        for (int i = 0; i < sizes.Length; i++)
        {
            if (i == 0 || sizes[i] != sizes[i - 1]) parts.Add($"{Versions[i]}: {sizes[i]}");
        }
        return string.Join(", ", parts) + " bytes";
    }
}
