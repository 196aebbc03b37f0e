using Kernels.Nn;

namespace Kernels.Demo;

internal static class DemoPlot
{
    /// <summary>Mean training loss (left axis) and train/validation accuracy (right axis) per epoch, as a PNG.</summary>
    public static void Save(string path, Solver<float> solver)
    {
        var plot = new ScottPlot.Plot();
        double[] epochs = solver.History.Select(r => (double)r.Epoch).ToArray();
        var loss = plot.Add.Scatter(epochs, solver.History.Select(r => r.MeanLoss).ToArray());
        loss.LegendText = "mean training loss (left)";
        var train = plot.Add.Scatter(epochs, solver.History.Select(r => 100 * r.TrainAccuracy).ToArray());
        train.LegendText = "train accuracy % (right)";
        train.Axes.YAxis = plot.Axes.Right;
        var val = plot.Add.Scatter(epochs, solver.History.Select(r => 100 * r.ValidationAccuracy).ToArray());
        val.LegendText = "validation accuracy % (right)";
        val.Axes.YAxis = plot.Axes.Right;
        plot.Title("ThreeLayerConvNet training");
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "loss";
        plot.Axes.Right.Label.Text = "accuracy (%)";
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        plot.SavePng(path, 900, 500);
    }
}
