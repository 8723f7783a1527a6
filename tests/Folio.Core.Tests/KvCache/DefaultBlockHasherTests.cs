using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

public class DefaultBlockHasherTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    public void NearbyBlocks_AndParents_AllHashApart(int blockSize)
    {
        var h = DefaultBlockHasher.Instance;
        var seen = new HashSet<ulong>();
        var block = new int[blockSize];
        // Every single-token change at every position, and the same blocks under other parents / extra keys.
        for (int pos = 0; pos < blockSize; pos++)
        {
            for (int v = 0; v < 2000; v++)
            {
                Array.Clear(block);
                block[pos] = v;
                Assert.True(seen.Add(h.Hash(0, block, 0)) || v == 0);
                Assert.True(seen.Add(h.Hash((ulong)v + 1, block, 0)) || v == 0);
                Assert.True(seen.Add(h.Hash(0, block, (ulong)v + 1)) || v == 0);
            }
        }
        Assert.True(seen.Count >= blockSize * 6000 - 3 * blockSize);
    }

    [Fact]
    public void EachInputBitChangesAboutHalfTheOutputBits()
    {
        var h = DefaultBlockHasher.Instance;
        int[] block = Enumerable.Range(1000, 16).ToArray();
        ulong baseHash = h.Hash(12345, block, 6789);
        long flipped = 0, trials = 0;
        for (int word = 0; word < 16; word++)
        {
            for (int bit = 0; bit < 32; bit++)
            {
                block[word] ^= 1 << bit;
                flipped += (long)ulong.PopCount(baseHash ^ h.Hash(12345, block, 6789));
                trials++;
                block[word] ^= 1 << bit;
            }
        }
        for (int bit = 0; bit < 64; bit++)
        {
            flipped += (long)ulong.PopCount(baseHash ^ h.Hash(12345UL ^ (1UL << bit), block, 6789));
            flipped += (long)ulong.PopCount(baseHash ^ h.Hash(12345, block, 6789UL ^ (1UL << bit)));
            trials += 2;
        }
        double mean = (double)flipped / trials;
        Assert.InRange(mean, 28.0, 36.0);
    }
}
