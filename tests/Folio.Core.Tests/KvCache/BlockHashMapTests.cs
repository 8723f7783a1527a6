using CsCheck;
using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

public class BlockHashMapTests
{
    [Fact]
    public void AddGetRemove_ExactOutcomes()
    {
        var map = new BlockHashMap(4);
        Assert.Equal(8, map.Capacity);
        Assert.True(map.TryAdd(10, 1));
        Assert.False(map.TryAdd(10, 2));
        Assert.True(map.TryGetValue(10, out int v));
        Assert.Equal(1, v);
        Assert.False(map.TryGetValue(11, out _));
        Assert.True(map.Remove(10));
        Assert.False(map.Remove(10));
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public void Full_RefusesAnotherKey()
    {
        var map = new BlockHashMap(2);
        map.TryAdd(1, 0);
        map.TryAdd(2, 1);
        Assert.False(map.TryAdd(2, 5));   // present: no error
        Assert.Throws<InvalidOperationException>(() => map.TryAdd(3, 2));
    }

    [Fact]
    public void RandomOperations_MatchADictionary()
    {
        // Keys from a small range in a small table: long probe runs, wrap-around and back-shifts happen often.
        Gen.Select(Gen.Int[1, 24], Gen.Select(Gen.Int[0, 2], Gen.ULong[0, 40]).Array[300]).Sample((max, ops) =>
        {
            var map = new BlockHashMap(max);
            var model = new Dictionary<ulong, int>();
            int next = 0;
            foreach ((int kind, ulong key) in ops)
            {
                if (kind == 0)
                {
                    if (model.Count == max && !model.ContainsKey(key))
                        continue;
                    Assert.Equal(model.TryAdd(key, next), map.TryAdd(key, next));
                    next++;
                }
                else if (kind == 1)
                {
                    Assert.Equal(model.Remove(key), map.Remove(key));
                }
                Assert.Equal(model.TryGetValue(key, out int expected), map.TryGetValue(key, out int actual));
                if (model.ContainsKey(key))
                    Assert.Equal(expected, actual);
                Assert.Equal(model.Count, map.Count);
                Assert.True(map.IsWellFormed(out string problem), problem);
            }
            foreach ((ulong key, int value) in model)
            {
                Assert.True(map.TryGetValue(key, out int v));
                Assert.Equal(value, v);
            }
        }, iter: 2000);
    }
}
