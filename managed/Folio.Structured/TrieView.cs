namespace Folio.Structured;

/// <summary>The flattened layout shared by <see cref="TokenTrie"/> and <see cref="SuffixTrie"/>, so one walk serves both.</summary>
internal readonly record struct TrieView(byte[] EdgeByte, int[] FirstChild, int[] ChildCount, int[] TokenStart, int[] TokenCount, int[] Tokens);
