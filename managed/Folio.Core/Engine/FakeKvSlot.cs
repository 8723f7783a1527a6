namespace Folio.Core.Engine;

/// <summary>What the <see cref="FakeExecutor"/>'s simulated K/V holds in one slot: a history hash and its position (-1 = empty).</summary>
internal readonly record struct FakeKvSlot(ulong History, int Position);
