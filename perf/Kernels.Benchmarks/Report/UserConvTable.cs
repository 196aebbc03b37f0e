using System.Globalization;
using BenchmarkDotNet.Reports;
using Kernels.Benchmarks.Convolution;

namespace Kernels.Benchmarks.Report;

/// <summary>The one table of a <c>--conv</c> run: per shape and thread count, every method's median and ours / the fastest peer.</summary>
public static class UserConvTable
{
    private static readonly string[] Ours = ["Auto", "Im2ColGemm", "Winograd", "Direct"], Peers = ["OnnxRuntimeAll", "OnnxRuntimeExtended", "LibTorch"];

    public static void Print(IEnumerable<Summary> summaries, TextWriter output)
    {
        var medians = new Dictionary<(string Shape, int Threads, string Method), double>();
        var shapes = new Dictionary<string, ConvShape>();
        foreach (Summary summary in summaries)
            foreach (BenchmarkReport report in summary.Reports)
            {
                if (report.BenchmarkCase.Descriptor.Type != typeof(UserConvBenchmarks) || report.ResultStatistics is null) continue;
                var shape = (ConvShape)report.BenchmarkCase.Parameters["Shape"];
                int threads = (int)report.BenchmarkCase.Parameters["Threads"];
                shapes[shape.Name] = shape;
                medians[(shape.Name, threads, report.BenchmarkCase.Descriptor.WorkloadMethod.Name)] = report.ResultStatistics.Median / 1e6;
            }
        string[] columns = [.. Ours, .. Peers.Where(p => medians.Keys.Any(k => k.Method == p))];
        output.WriteLine();
        output.WriteLine("Median ms; the last column is ours (Auto) / the fastest peer at the same thread count: below 1 means Kernels is faster.");
        output.WriteLine($"| shape | threads | {string.Join(" | ", columns)} | Auto / fastest peer |");
        output.WriteLine($"| --- | --- |{string.Concat(Enumerable.Repeat(" --- |", columns.Length + 1))}");
        foreach (var group in medians.GroupBy(k => (k.Key.Shape, k.Key.Threads)).OrderBy(g => g.Key.Shape).ThenBy(g => g.Key.Threads))
        {
            string Cell(string method)
            {
                if (!medians.TryGetValue((group.Key.Shape, group.Key.Threads, method), out double ms)) return "-";
                // The Winograd and Direct methods are empty calls where the algorithm does not apply.
                bool applies = method switch
                {
                    "Winograd" => Kernels.Convolution.Winograd.Supports(shapes[group.Key.Shape].W, shapes[group.Key.Shape].P),
                    "Direct" => Kernels.Convolution.Direct.Supports(shapes[group.Key.Shape].W, shapes[group.Key.Shape].P),
                    _ => true,
                };
                return applies ? ms.ToString(ms >= 1 ? "F2" : "G3", CultureInfo.InvariantCulture) : "n/a";
            }
            double fastestPeer = Peers.Select(p => medians.TryGetValue((group.Key.Shape, group.Key.Threads, p), out double v) ? v : double.PositiveInfinity).Min();
            double auto = medians.TryGetValue((group.Key.Shape, group.Key.Threads, "Auto"), out double a) ? a : double.NaN;
            output.WriteLine($"| {group.Key.Shape} | {group.Key.Threads} | {string.Join(" | ", columns.Select(Cell))} | " +
                             $"{(auto / fastestPeer).ToString("F2", CultureInfo.InvariantCulture)} |");
        }
    }
}
