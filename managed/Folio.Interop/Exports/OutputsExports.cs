using System.Runtime.InteropServices;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>folio_outputs_*: read and release the outputs of a step, an update or a generate call.</summary>
public static unsafe class OutputsExports
{
    [UnmanagedCallersOnly(EntryPoint = "folio_outputs_count")]
    public static int Count(nint outputs, ulong* outCount)
    {
        try
        {
            int s;
            if ((s = Args.Handle(outputs, HandleKind.Outputs, "folio_outputs_count", "outputs", out OutputList list)) != 0) return s;
            if ((s = Args.NotNull(outCount, "folio_outputs_count", "out_count")) != 0) return s;
            *outCount = (ulong)list.Count;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, "folio_outputs_count"); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_outputs_get")]
    public static int Get(nint outputs, ulong index, FolioRequestOutput* output)
    {
        const string fn = "folio_outputs_get";
        try
        {
            int s;
            if ((s = Args.Handle(outputs, HandleKind.Outputs, fn, "outputs", out OutputList list)) != 0) return s;
            if ((s = StructIo.CheckOut<FolioRequestOutput>(output, fn, "out", "folio_request_output")) != 0) return s;
            if (index >= (ulong)list.Count)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: index {index} is not below the count {list.Count}");
            }
            StructIo.Write(output, list[(int)index]);
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_outputs_destroy")]
    public static void Destroy(nint outputs)
    {
        try { HandleTable.Shared.Remove<OutputList>(outputs, HandleKind.Outputs); }
        catch (Exception e) { Guard.CatchVoid(e, "folio_outputs_destroy"); }
    }
}
