using Folio.Core.Memory;

namespace Folio.Core.Tests.Memory;

/// <summary>CacheHint only asks the cache for lines: no address it is given may fault or change data.</summary>
public sealed class CacheHintTests
{
    [Fact]
    public void Null_and_spans_past_the_object_are_harmless()
    {
        var array = new int[] { 1, 2, 3 };
        CacheHint.Object(null, 160);
        CacheHint.Object(array, 1 << 20);   // a MiB past a 12-byte array: lines of whatever follows it
        Assert.Equal([1, 2, 3], array);
    }

    [Fact]
    public void An_object_moved_by_the_collector_is_harmless_and_unchanged()
    {
        var holder = new List<int[]>();
        for (int i = 0; i < 1_000; i++)
            holder.Add(new int[i % 64 + 1]);
        var target = new int[] { 7, 8, 9 };
        CacheHint.Object(target, 64);
        holder.Clear();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        CacheHint.Object(target, 4096);
        Assert.Equal([7, 8, 9], target);
    }
}
