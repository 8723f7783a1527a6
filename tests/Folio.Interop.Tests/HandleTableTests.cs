using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

public class HandleTableTests
{
    [Fact]
    public void A_live_handle_resolves_to_its_object_and_only_as_its_kind()
    {
        var table = new HandleTable();
        var target = new object();
        nint handle = table.Add(HandleKind.Engine, target);
        Assert.True(table.TryGet(handle, HandleKind.Engine, out object found));
        Assert.Same(target, found);
        Assert.False(table.TryGet(handle, HandleKind.Outputs, out object _));
    }

    [Fact]
    public void A_destroyed_handle_stays_invalid_after_its_slot_is_reused()
    {
        var table = new HandleTable();
        nint stale = table.Add(HandleKind.Engine, "first");
        Assert.Equal("first", table.Remove<string>(stale, HandleKind.Engine));
        nint reused = table.Add(HandleKind.Engine, "second");
        Assert.NotEqual(stale, reused);
        Assert.False(table.TryGet(stale, HandleKind.Engine, out string _));
        Assert.Null(table.Remove<string>(stale, HandleKind.Engine));   // a stale destroy touches nothing
        Assert.True(table.TryGet(reused, HandleKind.Engine, out string live));
        Assert.Equal("second", live);
        Assert.Equal(1, table.LiveCount);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(0x1234L)]
    [InlineData(-1L)]
    [InlineData(0x00007F12_3456_7890L)]          // what a real heap pointer looks like
    [InlineData(unchecked((long)0xF000_0000_0010_0005UL))]   // right magic and kind, slot never issued
    [InlineData(unchecked((long)0xF000_0001_0010_0001UL))]   // the live slot, a generation not yet reached
    public void Values_never_issued_are_refused(long value)
    {
        var table = new HandleTable();
        table.Add(HandleKind.Engine, "live");
        Assert.False(table.TryGet((nint)value, HandleKind.Engine, out string _));
        Assert.Null(table.Remove<string>((nint)value, HandleKind.Engine));
        Assert.Equal(1, table.LiveCount);
    }

    [Fact]
    public void Many_handles_stay_distinct()
    {
        var table = new HandleTable();
        var handles = new HashSet<nint>();
        for (int i = 0; i < 10_000; i++) Assert.True(handles.Add(table.Add(HandleKind.Outputs, i)));
        foreach (nint h in handles) Assert.NotNull(table.Remove<object>(h, HandleKind.Outputs));
        Assert.Equal(0, table.LiveCount);
    }
}
