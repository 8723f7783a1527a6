using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>Hands a new object to C through an out-parameter (the last step of a create call).</summary>
public static unsafe class Handles
{
    public static int Publish(HandleKind kind, object target, nint* outHandle, string function)
    {
        nint handle = HandleTable.Shared.Add(kind, target);
        if (handle == 0)
        {
            return Guard.Fail(FolioStatus.Internal,
                $"{function}: over a million live handles; destroy the outputs and plans no longer needed");
        }
        *outHandle = handle;
        return Guard.Ok();
    }
}
