using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>Argument checks shared by the exports; each returns 0 or a failed status with its message set.</summary>
public static unsafe class Args
{
    public static int NotNull(void* pointer, string function, string name) =>
        pointer != null ? 0 : Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");

    public static int Handle<T>(nint handle, HandleKind kind, string function, string name, out T target)
        where T : class
    {
        if (HandleTable.Shared.TryGet(handle, kind, out target)) return 0;
        string what = handle == 0 ? "NULL" : $"0x{(ulong)handle:X}, which is not a live {CType(kind)} handle " +
            "(destroyed, of another type, or not from this library)";
        return Guard.Fail(FolioStatus.InvalidHandle, $"{function}: {name} is {what}");
    }

    /// <summary>A 0/1 flag; <paramref name="name"/> is the argument as the header names it ("add_special",
    /// "params->ignore_eos").</summary>
    public static int Flag(int value, string function, string name) => value is 0 or 1
        ? 0
        : Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is {value}; a flag is 0 or 1");

    /// <summary>A count of elements that a pointer must back: absurd counts are corrupted arguments.</summary>
    public static int Count(ulong count, ulong max, string function, string name) =>
        count <= max ? 0 : Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is {count}, above the limit {max}");

    /// <summary>An array argument: NULL is accepted only with a zero count.</summary>
    public static int Array(void* pointer, ulong count, ulong max, string function, string name, string countName)
    {
        if (pointer == null && count > 0)
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL but {countName} is {count}");
        }
        return Count(count, max, function, countName);
    }

    /// <summary>Every id in [0, vocabSize).</summary>
    public static int TokenIds(ReadOnlySpan<int> ids, int vocabSize, string function, string name)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)vocabSize)
            {
                return Guard.Fail(FolioStatus.TokenOutOfRange,
                    $"{function}: {name}[{i}] is {ids[i]}, outside the vocabulary [0, {vocabSize})");
            }
        }
        return 0;
    }

    public static string CType(HandleKind kind) => kind switch
    {
        HandleKind.Engine => "folio_engine",
        HandleKind.KvManager => "folio_kv_manager",
        HandleKind.Scheduler => "folio_scheduler",
        HandleKind.StepPlan => "folio_step_plan",
        HandleKind.Outputs => "folio_outputs",
        _ => "folio",
    };
}
