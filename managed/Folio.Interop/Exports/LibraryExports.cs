using System.Runtime.InteropServices;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>Library-wide exports: version, last error, status names, params defaults.</summary>
public static unsafe class LibraryExports
{
    private static readonly Dictionary<int, nint> StatusNames = BuildStatusNames();
    private static readonly byte* Unknown = NativeStrings.Intern("UNKNOWN");

    [UnmanagedCallersOnly(EntryPoint = "folio_abi_version")]
    public static uint AbiVersionExport() => AbiVersion.Packed;

    [UnmanagedCallersOnly(EntryPoint = "folio_last_error")]
    public static byte* LastErrorExport() => LastError.Current;

    [UnmanagedCallersOnly(EntryPoint = "folio_status_name")]
    public static byte* StatusName(int status) =>
        StatusNames.TryGetValue(status, out nint name) ? (byte*)name : Unknown;

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_params_init")]
    public static int EngineParamsInit(FolioEngineParams* p)
    {
        if (p == null) return Guard.Fail(FolioStatus.InvalidArgument, "folio_engine_params_init: params is NULL");
        *p = Defaults.EngineParams();
        return Guard.Ok();
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_sampling_params_init")]
    public static int SamplingParamsInit(FolioSamplingParams* p)
    {
        if (p == null) return Guard.Fail(FolioStatus.InvalidArgument, "folio_sampling_params_init: params is NULL");
        *p = Defaults.SamplingParams();
        return Guard.Ok();
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_params_init")]
    public static int KvManagerParamsInit(FolioKvManagerParams* p)
    {
        if (p == null) return Guard.Fail(FolioStatus.InvalidArgument, "folio_kv_manager_params_init: params is NULL");
        *p = Defaults.KvManagerParams();
        return Guard.Ok();
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_params_init")]
    public static int SchedulerParamsInit(FolioSchedulerParams* p)
    {
        if (p == null) return Guard.Fail(FolioStatus.InvalidArgument, "folio_scheduler_params_init: params is NULL");
        *p = Defaults.SchedulerParams();
        return Guard.Ok();
    }

    private static Dictionary<int, nint> BuildStatusNames()
    {
        var names = new Dictionary<int, nint>();
        foreach (FolioStatus status in Enum.GetValues<FolioStatus>())
        {
            names[(int)status] = (nint)NativeStrings.Intern(ScreamingCase(status.ToString()));
        }
        return names;
    }

    // "InvalidHandle" -> "INVALID_HANDLE", "StructSize" -> "STRUCT_SIZE" (the constant minus FOLIO_STATUS_).
    private static string ScreamingCase(string pascal)
    {
        var builder = new System.Text.StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && !char.IsDigit(pascal[i - 1])) builder.Append('_');
            builder.Append(char.ToUpperInvariant(pascal[i]));
        }
        return builder.ToString();
    }
}
