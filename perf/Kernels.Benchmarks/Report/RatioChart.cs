namespace Kernels.Benchmarks.Report;

/// <summary>A horizontal bar chart of ours / theirs ratios with the parity line at 1 (below 1: Kernels is faster).</summary>
public static class RatioChart
{
    public static void Save(string path, IReadOnlyList<(string Label, double Ratio)> ratios)
    {
        var plot = new ScottPlot.Plot();
        var bars = ratios.Select((r, i) => new ScottPlot.Bar
        {
            Position = ratios.Count - i,
            Value = r.Ratio,
            FillColor = r.Ratio <= 1 ? ScottPlot.Colors.SeaGreen : ScottPlot.Colors.IndianRed,
            Label = r.Ratio.ToString("F2", System.Globalization.CultureInfo.InvariantCulture),
        }).ToList();
        var series = plot.Add.Bars(bars);
        series.Horizontal = true;
        series.ValueLabelStyle.FontSize = 12;
        plot.Add.VerticalLine(1, 2, ScottPlot.Colors.Black);
        plot.Axes.Left.SetTicks(ratios.Select((_, i) => (double)(ratios.Count - i)).ToArray(), ratios.Select(r => r.Label).ToArray());
        plot.Axes.Margins(left: 0, right: 0.15);
        plot.Title("Kernels / peer, one thread (below 1: Kernels is faster)");
        plot.XLabel("time ratio");
        plot.SavePng(path, 900, 60 + 34 * ratios.Count + 80);
    }
}
