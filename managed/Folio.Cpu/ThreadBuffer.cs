namespace Folio.Cpu;

/// <summary>The grow-on-demand rule of the kernels' per-thread scratch arrays (each a [ThreadStatic] field of its
/// kernel): reuse the array while it is long enough, else replace it with one of at least <c>minimum</c> elements, so
/// that a steady stream of steps allocates nothing.</summary>
internal static class ThreadBuffer
{
    public static T[] AtLeast<T>(ref T[]? buffer, int length, int minimum) =>
        buffer is { } b && b.Length >= length ? b : buffer = new T[Math.Max(length, minimum)];
}
