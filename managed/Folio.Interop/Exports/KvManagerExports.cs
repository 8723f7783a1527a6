using System.Runtime.InteropServices;
using Folio.Core.KvCache;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>folio_kv_manager_*: the paged KV cache manager on its own (level 2).</summary>
public static unsafe class KvManagerExports
{
    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_create")]
    public static int Create(FolioKvManagerParams* parameters, nint* outKv)
    {
        const string fn = "folio_kv_manager_create";
        try
        {
            int s;
            if ((s = StructIo.Read(parameters, fn, "params", "folio_kv_manager_params", out FolioKvManagerParams p)) != 0) return s;
            if ((s = Args.NotNull(outKv, fn, "out_kv")) != 0) return s;
            if (p.NumGpuBlocks < 1) return Bad(fn, "num_gpu_blocks", p.NumGpuBlocks, ">= 1");
            if (p.BlockSizeTokens is < 1 or > 1024) return Bad(fn, "block_size_tokens", p.BlockSizeTokens, "1..1024");
            if (p.NumCpuBlocks < 0) return Bad(fn, "num_cpu_blocks", p.NumCpuBlocks, ">= 0");
            if ((s = Args.Flag(p.EnablePrefixCaching, fn, "params->enable_prefix_caching")) != 0) return s;
            var options = new KvCacheOptions
            {
                NumGpuBlocks = p.NumGpuBlocks,
                BlockSizeTokens = p.BlockSizeTokens,
                NumCpuBlocks = p.NumCpuBlocks,
                EnablePrefixCaching = p.EnablePrefixCaching != 0,
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params: {e.Message}");
            }
            return Handles.Publish(HandleKind.KvManager, new KvManagerHost(new KvCacheManager(options)), outKv, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_destroy")]
    public static void Destroy(nint kv)
    {
        try { HandleTable.Shared.Remove<KvManagerHost>(kv, HandleKind.KvManager); }
        catch (Exception e) { Guard.CatchVoid(e, "folio_kv_manager_destroy"); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_get_stats")]
    public static int GetStats(nint kv, FolioStats* outStats)
    {
        const string fn = "folio_kv_manager_get_stats";
        try
        {
            int s;
            if ((s = Args.Handle(kv, HandleKind.KvManager, fn, "kv", out KvManagerHost host)) != 0) return s;
            if ((s = StructIo.CheckOut<FolioStats>(outStats, fn, "out_stats", "folio_stats")) != 0) return s;
            StructIo.Write(outStats, host.GetStats());
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_kv_manager_check")]
    public static int Check(nint kv)
    {
        const string fn = "folio_kv_manager_check";
        try
        {
            int s;
            if ((s = Args.Handle(kv, HandleKind.KvManager, fn, "kv", out KvManagerHost host)) != 0) return s;
            try
            {
                lock (host.Gate) KvInvariants.Check(host.Kv);
            }
            catch (KvInvariantException e)
            {
                return Guard.Fail(FolioStatus.Internal, $"{fn}: a KV cache invariant is broken: {e.Message}");
            }
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    internal static int Bad(string fn, string field, int value, string expected) =>
        Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params->{field} is {value}; expected {expected}");
}
