using System.Diagnostics;
using System.Text.Json;
using Kernels.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Kernels.Benchmarks.Onnx;

/// <summary>
/// <c>--profile MODEL.onnx [BATCH] [THREADS] [RUNS]</c>: our per-node profile (<see cref="OnnxModel.Profile"/>) beside
/// ONNX Runtime's own (<c>SessionOptions.EnableProfiling</c>, its JSON trace of per-node kernel times) for the same model,
/// input and thread count, medians of RUNS runs, then both whole-run medians measured alternately in one process.
/// ONNX Runtime rewrites nodes (its NCHWc layout, Conv + Relu and Conv + Add fusions) and names a rewritten node after
/// the value it writes ("/relu/Relu_output_0_nchwc"): its time shows on our row that writes that value (the Relu of a
/// fused Conv + Relu), and the rows it absorbed show "-". Its layout conversions (ReorderInput/Output) have no row of ours.
/// </summary>
public static class ProfileCommand
{
    public static void Run(string path, int batch, int threads, int runs, TextWriter output)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var watch = Stopwatch.StartNew();
        OnnxModel ours = OnnxModel.Load(bytes, Path.GetFileName(path), new OnnxModelOptions { MaxDegreeOfParallelism = threads });
        double ourLoad = watch.Elapsed.TotalMilliseconds;
        float[] x = Shapes.Random((int)ours.InputLength(batch), 1), y = new float[ours.OutputLength(batch)];
        IReadOnlyList<OnnxNodeProfile> profile = ours.Profile(x, runs);

        string prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}");
        string inputName = ours.InputMetadata.Keys.Single(), outputName = ours.OutputMetadata.Keys.First();
        long[] inputDims = [.. ours.InputMetadata[inputName].Dimensions.Select((d, i) => d < 0 ? batch : (long)d)];
        long[] outputDims = [.. ours.OutputMetadata[outputName].Dimensions.Select((d, i) => d < 0 ? batch : (long)d)];
        var theirs = new Dictionary<string, List<double>>();
        string trace;
        watch.Restart();
        using (var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = prefix; // ONNX Runtime 1.31 still writes onnxruntime_profile_*.json in the working folder

            using var session = new InferenceSession(bytes, options);
            double ortLoad = watch.Elapsed.TotalMilliseconds;
            using var inValue = OrtValue.CreateTensorValueFromMemory(x, inputDims);
            using var outValue = OrtValue.CreateTensorValueFromMemory(y, outputDims);
            using var run = new RunOptions();
            for (int i = 0; i <= runs; i++) session.Run(run, [inputName], [inValue], [outputName], [outValue]);
            trace = session.EndProfiling();
            output.WriteLine($"load: ours {ourLoad:F1} ms, ONNX Runtime session {ortLoad:F1} ms");
        }
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(trace)))
            foreach (JsonElement e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                string name = e.GetProperty("name").GetString()!;
                if (!name.EndsWith("_kernel_time")) continue;
                name = name[..^"_kernel_time".Length];
                if (name.EndsWith("_nchwc")) name = name[..^"_nchwc".Length];
                (theirs.TryGetValue(name, out List<double>? list) ? list : theirs[name] = []).Add(e.GetProperty("dur").GetDouble());
            }
        if (Environment.GetEnvironmentVariable("KERNELS_KEEP_ORT_TRACE") is null) File.Delete(trace);
        else output.WriteLine($"ONNX Runtime trace: {trace}");

        output.WriteLine($"{Path.GetFileName(path)}, batch {batch}, {threads} thread(s), medians of {runs} runs, microseconds");
        output.WriteLine($"| node | op | ours: what ran | output | ours | ORT |");
        output.WriteLine("| --- | --- | --- | --- | ---: | ---: |");
        double ourTotal = 0, theirTotal = 0;
        foreach (OnnxNodeProfile node in profile)
        {
            List<double>? d = theirs.GetValueOrDefault(node.Name) ?? theirs.GetValueOrDefault(node.OutputName);
            double? t = d is null ? null : Median(d.Skip(1).ToList()); // the first run is the warm-up
            theirs.Remove(node.Name);
            theirs.Remove(node.OutputName);
            ourTotal += node.MedianMicroseconds;
            theirTotal += t ?? 0;
            output.WriteLine($"| {node.Name} | {node.OpType} | {node.Detail} | ({string.Join(",", node.OutputDimensions)}) | {node.MedianMicroseconds:F0} | {(t is double v ? v.ToString("F0") : "-")} |");
        }
        foreach ((string name, List<double> d) in theirs)
        {
            double t = Median(d.Skip(1).ToList());
            theirTotal += t;
            output.WriteLine($"| {name} | (ONNX Runtime only) | | | - | {t:F0} |");
        }
        output.WriteLine($"| total of the nodes | | | | {ourTotal:F0} | {theirTotal:F0} |");
        foreach (var group in profile.GroupBy(p => p.OpType).OrderByDescending(g => g.Sum(p => p.MedianMicroseconds)))
            output.WriteLine($"  {group.Key}: ours {group.Sum(p => p.MedianMicroseconds):F0} us in {group.Count()} nodes");
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
