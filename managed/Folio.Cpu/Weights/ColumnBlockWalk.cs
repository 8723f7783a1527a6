namespace Folio.Cpu.Weights;

/// <summary>The tiles of an int8-activation GEMM over 8-column weight panels, for <see cref="ColumnBlockWalk"/>.</summary>
internal interface IPanelTiles<TWeight>
{
    /// <summary>Output columns per weight panel.</summary>
    static abstract int Panel { get; }

    /// <summary>Rows r .. r + 7 × two panels from column c (a kernel that has this tile; the walk asks for it only when
    /// told to).</summary>
    static virtual void Tile8x16(Int8Activations act, int r, TWeight w, int c, float[]? bias, float[] y) =>
        throw new NotSupportedException("this kernel has no 8 × 16 tile");

    /// <summary>Whether <see cref="TileNx16"/> runs a strip's last 4–7 rows as one tile (after the 8-row strips).</summary>
    static virtual bool HasShortStripTile => false;

    /// <summary>Rows r .. r + n − 1 (n from 4 to 7) × two panels from column c (a kernel with
    /// <see cref="HasShortStripTile"/>).</summary>
    static virtual void TileNx16(Int8Activations act, int r, int n, TWeight w, int c, float[]? bias, float[] y) =>
        throw new NotSupportedException("this kernel has no 4–7 row tile");

    /// <summary>Rows r .. r + 3 × two panels from column c.</summary>
    static abstract void Tile4x16(Int8Activations act, int r, TWeight w, int c, float[]? bias, float[] y);

    /// <summary>Whether the kernel has <see cref="Tile3x1Panel"/>: then a strip's last three rows run together, each
    /// weight read once for the three (else a pair and then a single row read it twice).</summary>
    static virtual bool HasThreeRowTile => false;

    /// <summary>Rows r .. r + 2 × one panel from column c (a kernel with <see cref="HasThreeRowTile"/>).</summary>
    static virtual void Tile3x1Panel(Int8Activations act, int r, TWeight w, int c, float[]? bias, float[] y) =>
        throw new NotSupportedException("this kernel has no 3-row tile");

    /// <summary>Rows r and r + 1 × four panels from column c.</summary>
    static abstract void Tile2x4Panels(Int8Activations act, int r, TWeight w, int c, float[]? bias, float[] y);

    /// <summary>Row r × <paramref name="panels"/> panels from column c.</summary>
    static abstract void Tile1xN(Int8Activations act, int r, TWeight w, int c, int panels, float[]? bias, float[] y);

    /// <summary>One output element in the tiles' order (the partial last panel, the portable path).</summary>
    static abstract float Element(Int8Activations act, int r, TWeight w, int c);
}

/// <summary>
/// Columns c0 .. c1 of an int8-activation GEMM (int8 and int4 weights): blocks of 256 columns, so that a block's
/// weights (k × 256 bytes or nibbles) stay in L2 while every 4-row strip runs over them (without the blocks each strip
/// streamed a whole chunk of lm_head from memory again); in a block, 8 × 16 tiles where the caller asks for them
/// (<c>eightRows</c>) and, where the kernel has one, a 4–7 row tile for the rest, then 4 × 16 tiles, then the last three rows together where the kernel has a 3-row tile, else
/// pairs of rows over 4 panels (each weight load serves both), then single rows over 4 or 1 panels; the partial last
/// panel, and everything on the portable path, element by element. Every element is the same arithmetic whichever
/// tile computes it.
/// </summary>
internal static class ColumnBlockWalk
{
    private const int BlockCols = 256;

    public static void Columns<TWeight, TTiles>(Int8Activations act, int rows, TWeight w, int o, int c0, int c1,
        float[]? bias, float[] y, bool vectors, bool eightRows = false) where TTiles : IPanelTiles<TWeight>
    {
        int panel = TTiles.Panel;
        int full = c1 == o ? c0 + (c1 - c0) / panel * panel : c1;   // only the last panel can be partial
        if (!vectors)
            full = c0;
        for (int cb = c0; cb < full; cb += BlockCols)
        {
            int cEnd = Math.Min(full, cb + BlockCols);
            int r = 0;
            for (; eightRows && r + 8 <= rows; r += 8)
            {
                int c = cb;
                for (; c + 2 * panel <= cEnd; c += 2 * panel)
                    TTiles.Tile8x16(act, r, w, c, bias, y);
                for (; c < cEnd; c += panel)
                    for (int rr = r; rr < r + 8; rr++)
                        TTiles.Tile1xN(act, rr, w, c, 1, bias, y);
            }
            if (eightRows && TTiles.HasShortStripTile && rows - r >= 4)
            {
                int n = rows - r, c = cb;
                for (; c + 2 * panel <= cEnd; c += 2 * panel)
                    TTiles.TileNx16(act, r, n, w, c, bias, y);
                for (; c < cEnd; c += panel)
                    for (int rr = r; rr < rows; rr++)
                        TTiles.Tile1xN(act, rr, w, c, 1, bias, y);
                r = rows;
            }
            for (; r + 4 <= rows; r += 4)
            {
                int c = cb;
                for (; c + 2 * panel <= cEnd; c += 2 * panel)
                    TTiles.Tile4x16(act, r, w, c, bias, y);
                for (; c < cEnd; c += panel)
                    for (int rr = r; rr < r + 4; rr++)
                        TTiles.Tile1xN(act, rr, w, c, 1, bias, y);
            }
            if (TTiles.HasThreeRowTile && rows - r == 3)
            {
                for (int c = cb; c < cEnd; c += panel)
                    TTiles.Tile3x1Panel(act, r, w, c, bias, y);
                r += 3;
            }
            for (; r + 2 <= rows; r += 2)
            {
                int c = cb;
                for (; c + 4 * panel <= cEnd; c += 4 * panel)
                    TTiles.Tile2x4Panels(act, r, w, c, bias, y);
                for (; c < cEnd; c += panel)
                {
                    TTiles.Tile1xN(act, r, w, c, 1, bias, y);
                    TTiles.Tile1xN(act, r + 1, w, c, 1, bias, y);
                }
            }
            for (; r < rows; r++)
            {
                int c = cb;
                for (; c + 4 * panel <= cEnd; c += 4 * panel)
                    TTiles.Tile1xN(act, r, w, c, 4, bias, y);
                for (; c < cEnd; c += panel)
                    TTiles.Tile1xN(act, r, w, c, 1, bias, y);
            }
        }
        for (int c = full; c < c1; c++)
            for (int r = 0; r < rows; r++)
                y[r * o + c] = TTiles.Element(act, r, w, c) + (bias?[c] ?? 0f);
    }
}
