using Microsoft.ML.OnnxRuntime;

namespace Kernels.Benchmarks.Peers;

/// <summary>
/// One ONNX Runtime session over a one-node model, with inputs and outputs pre-allocated as OrtValues over our
/// arrays (no copies or allocations per run), IntraOpNumThreads matching our thread count.
/// </summary>
public sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtValue[] _inputs, _outputs;
    private readonly string[] _inputNames, _outputNames;

    public OnnxRunner(byte[] model, int threads, GraphOptimizationLevel level, (string Name, float[] Data, long[] Shape)[] inputs, (string Name, float[] Data, long[] Shape) output)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = level, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(model, options);
        _inputNames = inputs.Select(i => i.Name).ToArray();
        _inputs = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(i.Data, i.Shape)).ToArray();
        _outputNames = [output.Name];
        _outputs = [OrtValue.CreateTensorValueFromMemory(output.Data, output.Shape)];
    }

    public void Run() => _session.Run(_run, _inputNames, _inputs, _outputNames, _outputs);

    public void Dispose()
    {
        foreach (OrtValue v in _inputs.Concat(_outputs)) v.Dispose();
        _run.Dispose();
        _session.Dispose();
    }

    public static long[] Dims(Shape4 s) => [s.N, s.C, s.H, s.W];

    /// <summary>Throws unless the peer's output matches ours: we must never time a different computation.</summary>
    public static void AssertAgrees(string what, ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs, double relative)
    {
        double scale = 0, diff = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(ours[i]));
            diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i]));
        }
        if (!(diff <= relative * Math.Max(scale, 1e-30)))
            throw new InvalidOperationException($"{what}: ONNX Runtime and Kernels disagree: max difference {diff:E3} on values up to {scale:E3}.");
    }
}
