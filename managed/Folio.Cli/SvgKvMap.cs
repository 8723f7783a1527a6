using System.Globalization;
using System.Net;
using System.Text;
using Folio.Core.KvCache;
using Folio.Core.Simulation;

namespace Folio.Cli;

/// <summary>
/// Draws a <see cref="KvMap"/> as the server's /kv page does (same colors and marks): one cell per physical block,
/// colored by the request that holds it and filled from the bottom as its slots fill; shared blocks outlined and
/// marked with their reference count; blocks held by several requests dark; free blocks that stay cached hatched;
/// the CPU swap pool as a second grid. Plain SVG text (no graphics library).
/// </summary>
public static class SvgKvMap
{
    private const int Cell = 14, Gap = 2, PerRow = 64, Left = 20, Width = Left * 2 + PerRow * (Cell + Gap);

    public static string Render(KvMapSimulation.Result r, string workload)
    {
        var map = r.Map;
        var svg = new StringBuilder();
        int gpuRows = (map.Gpu.NumBlocks + PerRow - 1) / PerRow;
        int cpuRows = map.Cpu is { } c ? (c.NumBlocks + PerRow - 1) / PerRow : 0;
        int gpuTop = 110, cpuTop = gpuTop + gpuRows * (Cell + Gap) + 40;
        int height = (map.Cpu is null ? gpuTop + gpuRows * (Cell + Gap) : cpuTop + cpuRows * (Cell + Gap)) + 20;
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"Helvetica, Arial, sans-serif\">\n");
        svg.Append("<defs><pattern id=\"cached\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">" +
            "<rect width=\"5\" height=\"5\" fill=\"#e6e6e6\"/><rect width=\"2\" height=\"5\" fill=\"#b9b9b9\"/></pattern></defs>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"#fbfbfa\"/>\n");
        Text(svg, Left, 26, 15, "bold", $"Paged KV cache at step {r.Step} of {r.TotalSteps} ({workload}, {r.Requests} requests, " +
            $"{map.Gpu.NumBlocks} GPU blocks of {map.BlockSizeTokens} tokens)");
        Text(svg, Left, 46, 12, "normal", $"{r.Running} running, {r.Waiting} waiting, {r.Swapped} swapped, {r.Preemptions} preemptions so far; " +
            $"every prompt starts with a {KvMapSimulation.SharedPrefixTokens}-token system prompt, every {KvMapSimulation.SharedEvery}th request samples n = 2");
        Legend(svg, 70);
        Pool(svg, map.Gpu, map.BlockSizeTokens, gpuTop, $"GPU blocks: {Count(map.Gpu)}");
        if (map.Cpu is { } cpu)
            Pool(svg, cpu, map.BlockSizeTokens, cpuTop, $"CPU swap blocks: {Count(cpu)}");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Count(KvMap.Pool p)
    {
        int used = 0, shared = 0, cached = 0;
        for (int b = 0; b < p.NumBlocks; b++)
        {
            if (p.RefCount[b] > 0) used++;
            if (p.RefCount[b] > 1) shared++;
            if (p.RefCount[b] == 0 && p.Cached[b]) cached++;
        }
        return $"{p.NumBlocks}, {used} used ({shared} shared), {p.NumBlocks - used} free ({cached} still cached)";
    }

    private static void Pool(StringBuilder svg, KvMap.Pool p, int blockSize, int top, string title)
    {
        Text(svg, Left, top - 8, 13, "bold", title);
        for (int b = 0; b < p.NumBlocks; b++)
        {
            int x = Left + b % PerRow * (Cell + Gap), y = top + b / PerRow * (Cell + Gap);
            int refCount = p.RefCount[b];
            if (refCount == 0)
            {
                Rect(svg, x, y, Cell, Cell, p.Cached[b] ? "url(#cached)" : "#e6e6e6");
                continue;
            }
            long owner = p.Owner[b];
            string dark = owner == KvMap.ManyOwners ? "#333" : owner == KvMap.NoOwner ? "#888" : Hsl(owner, 65, 45);
            string light = owner == KvMap.ManyOwners ? "#777" : owner == KvMap.NoOwner ? "#bbb" : Hsl(owner, 60, 80);
            int fill = (int)Math.Round(Cell * Math.Min(1.0, p.Tokens[b] / (double)blockSize));
            Rect(svg, x, y, Cell, Cell - fill, light);
            Rect(svg, x, y + Cell - fill, Cell, fill, dark);
            if (refCount > 1)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x + 1}\" y=\"{y + 1}\" width=\"{Cell - 2}\" height=\"{Cell - 2}\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\"/>");
                svg.Append(CultureInfo.InvariantCulture,
                    $"<text x=\"{x + Cell / 2}\" y=\"{y + Cell - 3}\" font-size=\"9\" fill=\"#fff\" text-anchor=\"middle\">{refCount}</text>\n");
            }
        }
    }

    private static void Legend(StringBuilder svg, int y)
    {
        var items = new (string Fill, bool Outline, string Label)[]
        {
            (Hsl(5, 65, 45), false, "one request (color; fill = slots used)"),
            (Hsl(5, 65, 45), true, "shared (reference count)"),
            ("#333", false, "several requests (prefix hit)"),
            ("url(#cached)", false, "free, still cached"),
            ("#e6e6e6", false, "free"),
        };
        int x = Left;
        foreach (var (fill, outline, label) in items)
        {
            Rect(svg, x, y, Cell, Cell, fill);
            if (outline)
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x + 1}\" y=\"{y + 1}\" width=\"{Cell - 2}\" height=\"{Cell - 2}\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\"/>");
            Text(svg, x + Cell + 5, y + Cell - 3, 11, "normal", label);
            x += Cell + 14 + label.Length * 6;
        }
    }

    /// <summary>The request's hue as the /kv page computes it (golden-angle steps: neighbours differ).</summary>
    private static string Hsl(long owner, int s, int l) =>
        string.Create(CultureInfo.InvariantCulture, $"hsl({owner * 137.508 % 360:F1},{s}%,{l}%)");

    private static void Rect(StringBuilder svg, int x, int y, int w, int h, string fill)
    {
        if (h <= 0) return;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"/>");
    }

    private static void Text(StringBuilder svg, int x, int y, int size, string weight, string text) =>
        svg.Append(CultureInfo.InvariantCulture,
            $"<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\" font-weight=\"{weight}\">{WebUtility.HtmlEncode(text)}</text>\n");
}
