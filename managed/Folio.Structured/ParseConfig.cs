namespace Folio.Structured;

/// <summary>
/// One thread of the parse: inside terminal <see cref="Terminal"/> at automaton state <see cref="State"/>; when the
/// terminal ends, parsing resumes at stack node <see cref="Stack"/> (a grammar position over its parent, interned
/// by the matcher so equal stacks are equal ints).
/// </summary>
internal readonly record struct ParseConfig(int Terminal, int State, int Stack);
