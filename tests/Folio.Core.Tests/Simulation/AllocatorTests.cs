using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

public class AllocatorTests
{
    [Fact]
    public void First_fit_takes_the_lowest_hole_and_merges_on_free()
    {
        var a = new FirstFitAllocator(10);
        Assert.Equal(0, a.Allocate(3));
        Assert.Equal(3, a.Allocate(4));
        Assert.Equal(7, a.Allocate(3));
        Assert.Equal(0, a.FreeSlots);
        a.Free(0, 3);
        a.Free(7, 3);
        // Two holes of 3: 6 free slots, yet 4 contiguous slots cannot be placed (external fragmentation).
        Assert.Equal(6, a.FreeSlots);
        Assert.Equal(2, a.HoleCount);
        Assert.False(a.CanAllocate(4));
        a.Free(3, 4);
        Assert.Equal(1, a.HoleCount);
        Assert.Equal(10, a.LargestHole);
        Assert.Equal(0, a.Allocate(10));
    }

    [Fact]
    public void First_fit_rejects_a_double_free()
    {
        var a = new FirstFitAllocator(8);
        int start = a.Allocate(4);
        a.Free(start, 4);
        Assert.Throws<InvalidOperationException>(() => a.Free(start, 4));
    }

    [Fact]
    public void Buddy_rounds_to_powers_of_two_and_merges_buddies()
    {
        var b = new BuddyAllocator(16);
        Assert.Equal(0, b.Allocate(3));    // a block of 4 at 0
        Assert.Equal(4, b.Footprint(3));
        Assert.Equal(8, b.Allocate(5));    // a block of 8 at 8 (4..8 is only 4 slots)
        Assert.Equal(4, b.FreeSlots);
        Assert.False(b.CanAllocate(5));
        Assert.True(b.CanAllocate(4));
        b.Free(0, 3);
        b.Free(8, 5);
        Assert.Equal(16, b.FreeSlots);
        Assert.Equal(0, b.Allocate(16));   // everything merged back into one block
    }

    [Fact]
    public void Buddy_cuts_the_paper_capacity_into_power_of_two_pieces()
    {
        var b = new BuddyAllocator(15728);   // 8192 + 4096 + 2048 + 1024 + 256 + 64 + 32 + 16
        int placed = 0;
        while (b.CanAllocate(2048)) { b.Allocate(2048); placed++; }
        Assert.Equal(7, placed);              // what Orca-Max fits: 7 × 2048 = 14336 slots
        Assert.Equal(15728 - 7 * 2048, b.FreeSlots);
        Assert.True(b.CanAllocate(1024));
        Assert.False(b.CanAllocate(1025));
    }
}
