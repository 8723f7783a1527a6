using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>
/// The exception firewall and status helpers every export goes through: an export body is
/// <c>try { return Impl(...); } catch (Exception e) { return Guard.Catch(e, name); }</c>, its expected failures
/// return <see cref="Fail"/>, and its successes <see cref="Ok"/> (which clears the thread's last error).
/// </summary>
public static class Guard
{
    public static int Ok()
    {
        LastError.Clear();
        return (int)FolioStatus.Ok;
    }

    public static int Fail(FolioStatus status, string message)
    {
        LastError.Set(message);
        return (int)status;
    }

    /// <summary>Maps an exception that escaped an export to a status. The managed API reports bad arguments
    /// with <see cref="ArgumentException"/> (naming the field); anything else is a bug in Folio.</summary>
    public static int Catch(Exception exception, string function) => exception switch
    {
        ArgumentException a => Fail(FolioStatus.InvalidArgument, $"{function}: {a.Message}"),
        OutOfMemoryException => Fail(FolioStatus.Internal, $"{function}: out of memory"),
        _ => Fail(FolioStatus.Internal,
            $"{function}: internal error (please report): {exception.GetType().Name}: {exception.Message}"),
    };

    /// <summary>Runs a void export body (destroy functions) and swallows what it throws: they return nothing,
    /// so the message stays in folio_last_error.</summary>
    public static void CatchVoid(Exception exception, string function) => Catch(exception, function);
}
