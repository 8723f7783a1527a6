namespace Folio.Core.Text;

/// <summary>Code points with their combining classes, kept in canonical order as they are appended.</summary>
internal struct CodePointBuffer(int capacity)
{
    public int[] CodePoints = new int[capacity];
    public byte[] Classes = new byte[capacity];
    public int Count;

    /// <summary>Appends, moving a non-starter back past the non-starters of a higher class (a stable insertion
    /// sort: the canonical ordering algorithm).</summary>
    public void AppendOrdered(int cp, byte combining)
    {
        if (Count == CodePoints.Length)
        {
            Array.Resize(ref CodePoints, Count * 2);
            Array.Resize(ref Classes, Count * 2);
        }
        int at = Count;
        if (combining != 0)
            for (; at > 0 && Classes[at - 1] > combining; at--)
            {
                CodePoints[at] = CodePoints[at - 1];
                Classes[at] = Classes[at - 1];
            }
        CodePoints[at] = cp;
        Classes[at] = combining;
        Count++;
    }
}
