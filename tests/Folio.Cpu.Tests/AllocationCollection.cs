namespace Folio.Cpu.Tests;

/// <summary>Tests that read the thread's allocation counter (GC.GetAllocatedBytesForCurrentThread) run alone, not
/// beside this assembly's other test classes: a collection that another class triggers between the two reads leaves
/// the counter off by part of the thread's allocation context (CI read 1,120, 4,024, 4,152 and 6,760 bytes for steps
/// that allocate nothing, once each, on code that passed the run before).</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;
