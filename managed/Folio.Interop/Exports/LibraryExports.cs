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

    // The _init functions write only the fields within the caller's struct_size: a host built against an older
    // folio.h has a smaller struct, and writing today's whole struct would overrun its memory.
    [UnmanagedCallersOnly(EntryPoint = "folio_engine_params_init")]
    public static int EngineParamsInit(FolioEngineParams* p) =>
        Init(p, "folio_engine_params_init", "folio_engine_params", Defaults.EngineParams());

    [UnmanagedCallersOnly(EntryPoint = "folio_sampling_params_init")]
    public static int SamplingParamsInit(FolioSamplingParams* p) =>
        Init(p, "folio_sampling_params_init", "folio_sampling_params", Defaults.SamplingParams());

    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_params_init")]
    public static int KvManagerParamsInit(FolioKvManagerParams* p) =>
        Init(p, "folio_kv_manager_params_init", "folio_kv_manager_params", Defaults.KvManagerParams());

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_params_init")]
    public static int SchedulerParamsInit(FolioSchedulerParams* p) =>
        Init(p, "folio_scheduler_params_init", "folio_scheduler_params", Defaults.SchedulerParams());

    private static int Init<T>(T* p, string fn, string cType, in T defaults) where T : unmanaged
    {
        try
        {
            int s = StructIo.Init(p, fn, cType, defaults);
            return s != 0 ? s : Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
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
