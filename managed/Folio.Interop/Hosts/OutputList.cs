using Folio.Interop.Abi;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_outputs handle: finished <see cref="FolioRequestOutput"/> records whose pointers
/// point into pinned arrays this object owns, so they stay valid for as long as the handle lives and need no
/// manual freeing (the arrays go with the object). Immutable once built.
/// </summary>
public sealed unsafe class OutputList
{
    private readonly FolioRequestOutput[] _items;
    // Pinned storage the records point into; held only to keep it alive.
    private readonly int[] _ints;
    private readonly float[] _floats;
    private readonly byte[] _text;

    internal OutputList(FolioRequestOutput[] items, int[] ints, float[] floats, byte[] text)
    {
        _items = items;
        _ints = ints;
        _floats = floats;
        _text = text;
    }

    public static OutputList Empty { get; } = new OutputListBuilder().Build();

    public int Count => _items.Length;

    public ref readonly FolioRequestOutput this[int index] => ref _items[index];

    /// <summary>Bytes of pinned storage (for tests: the records must not outlive it).</summary>
    internal int StorageBytes => _ints.Length * 4 + _floats.Length * 4 + _text.Length;
}
