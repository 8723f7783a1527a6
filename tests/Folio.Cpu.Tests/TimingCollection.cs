namespace Folio.Cpu.Tests;

/// <summary>Tests that assert a wall-clock bound run alone, not beside this assembly's other test classes, which
/// would share the machine's cores with them.</summary>
[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection;
