using System.Globalization;
using System.Net;
using System.Text;

namespace Folio.Cli;

/// <summary>
/// Draws the paper's Fig. 2 for a simulation: one stacked bar per policy, token states at the bottom, then
/// reserved, internal and external fragmentation, each labelled with its share of the KV capacity.
/// Plain SVG text, so it needs no graphics library and stays NativeAOT-friendly.
/// </summary>
public static class SvgMemoryChart
{
    private const int BarWidth = 90, BarGap = 40, PlotHeight = 360, Left = 70, Top = 60, LegendWidth = 270;

    private static readonly (string Label, string Color)[] Segments =
    [
        ("Token states", "#4c9a2a"),
        ("Reserved", "#f2a541"),
        ("Internal fragmentation", "#d1495b"),
        ("External fragmentation & others", "#9e9e9e"),
    ];

    public static string Render(SimulateReport report)
    {
        int bars = Math.Max(1, report.Policies.Count);
        int plotWidth = bars * (BarWidth + BarGap) + BarGap;
        int width = Left + plotWidth + LegendWidth;
        int height = Top + PlotHeight + 70;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        string title = report.TraceFile is null ? report.Workload : $"trace {report.TraceFile}";
        Text(svg, Left, 28, 16, "start", "bold",
            $"KV cache usage by policy ({title}, {report.Requests} requests, {report.KvTokens} slots)");

        // Y axis with gridlines every 20%.
        for (int pct = 0; pct <= 100; pct += 20)
        {
            double y = Top + PlotHeight - PlotHeight * pct / 100.0;
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + plotWidth}\" y2=\"{y:F1}\" stroke=\"#dddddd\"/>\n");
            Text(svg, Left - 8, y + 4, 12, "end", "normal", $"{pct}%");
        }
        svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + PlotHeight}\" stroke=\"black\"/>\n");
        Text(svg, 18, Top + PlotHeight / 2.0, 13, "middle", "normal", "KV cache usage (%)", rotate: true);

        for (int i = 0; i < report.Policies.Count; i++)
        {
            PolicyReport p = report.Policies[i];
            double x = Left + BarGap + i * (BarWidth + BarGap);
            double[] values = [p.TokenStatePct, p.ReservedPct, p.InternalFragPct, p.ExternalFragPct];
            double bottom = Top + PlotHeight;
            for (int s = 0; s < values.Length; s++)
            {
                double h = PlotHeight * values[s] / 100.0;
                if (h <= 0) continue;
                double y = bottom - h;
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x:F1}\" y=\"{y:F1}\" width=\"{BarWidth}\" height=\"{h:F2}\" fill=\"{Segments[s].Color}\" stroke=\"white\" stroke-width=\"0.5\"/>\n");
                if (h >= 14)
                    Text(svg, x + BarWidth / 2.0, y + h / 2 + 4, 12, "middle", "bold", $"{values[s]:F1}%", fill: "white");
                bottom = y;
            }
            string name = p.BlockSize is int b ? $"{p.Name} ({b})" : p.Name;
            Text(svg, x + BarWidth / 2.0, Top + PlotHeight + 20, 13, "middle", "normal", name);
            Text(svg, x + BarWidth / 2.0, Top + PlotHeight + 38, 11, "middle", "normal",
                $"batch {p.MeanBatch:F1}", fill: "#555555");
        }

        double legendX = Left + plotWidth + 20;
        for (int s = 0; s < Segments.Length; s++)
        {
            double y = Top + 10 + s * 26;
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect x=\"{legendX:F1}\" y=\"{y:F1}\" width=\"16\" height=\"16\" fill=\"{Segments[s].Color}\"/>\n");
            Text(svg, legendX + 24, y + 13, 12, "start", "normal", Segments[s].Label);
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Text(StringBuilder svg, double x, double y, int size, string anchor, string weight, string text,
        string fill = "black", bool rotate = false)
    {
        string transform = rotate ? string.Create(CultureInfo.InvariantCulture, $" transform=\"rotate(-90 {x:F1} {y:F1})\"") : "";
        svg.Append(CultureInfo.InvariantCulture,
            $"<text x=\"{x:F1}\" y=\"{y:F1}\" font-size=\"{size}\" text-anchor=\"{anchor}\" font-weight=\"{weight}\" fill=\"{fill}\"{transform}>{WebUtility.HtmlEncode(text)}</text>\n");
    }
}
