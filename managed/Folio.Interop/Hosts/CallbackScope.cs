namespace Folio.Interop.Hosts;

/// <summary>
/// Marks, per thread, the object whose host callback (log, stream) the thread is running, so that a call back
/// into that object from the callback is refused (FOLIO_STATUS_INVALID_STATE) instead of deadlocking or
/// corrupting a step.
/// </summary>
public static class CallbackScope
{
    [ThreadStatic] private static object? t_inside;

    public static bool IsInside(object owner) => ReferenceEquals(t_inside, owner);

    public static Exit Enter(object owner)
    {
        object? previous = t_inside;
        t_inside = owner;
        return new Exit(previous);
    }

    public readonly struct Exit(object? previous) : IDisposable
    {
        public void Dispose() => t_inside = previous;
    }
}
