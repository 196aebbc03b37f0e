using BenchmarkDotNet.Attributes;
using Kernels.Benchmarks.Peers;
using Kernels.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Kernels.Benchmarks.Onnx;

/// <summary>
/// Whole-model inference of the PyTorch-exported fixtures (tests/Kernels.Onnx.Tests/Fixtures) on Kernels.Onnx and
/// on ONNX Runtime (ENABLE_ALL) with the same thread count, batch 1 and 64; and the time to load each.
/// </summary>
[BenchmarkCategory("Onnx", "Peers")]
public class OnnxModelBenchmarks
{
    private OnnxModel _ours = null!;
    private OnnxRunner _peer = null!;
    private byte[] _bytes = [];
    private float[] _x = [], _y = [], _yPeer = [];

    [Params("lenet5", "convbn", "vggblock", "stem")]
    public string Model { get; set; } = "";

    [Params(1, 64)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Model + ".onnx"));
        _ours = OnnxModel.Load(_bytes, Model, new OnnxModelOptions { MaxDegreeOfParallelism = Threads });
        int[] input = [.. _ours.InputMetadata["x"].Dimensions], output = [.. _ours.OutputMetadata["y"].Dimensions];
        _x = Shapes.Random((int)_ours.InputLength(Batch), 1);
        (_y, _yPeer) = (new float[_ours.OutputLength(Batch)], new float[_ours.OutputLength(Batch)]);
        long[] Dims(int[] d) => [Batch, .. d.Skip(1).Select(v => (long)v)];
        _peer = new OnnxRunner(_bytes, Threads, GraphOptimizationLevel.ORT_ENABLE_ALL, [("x", _x, Dims(input))], ("y", _yPeer, Dims(output)));
        KernelsOnnx();
        _peer.Run();
        OnnxRunner.AssertAgrees($"model {Model}", _y, _yPeer, 1e-4);
    }

    [GlobalCleanup]
    public void Cleanup() => _peer.Dispose();

    [Benchmark]
    public void KernelsOnnx() => _ours.Run(_x, _y);

    [Benchmark]
    public void OnnxRuntime() => _peer.Run();

    [Benchmark]
    public OnnxModel KernelsOnnxLoad() => OnnxModel.Load(_bytes, Model, new OnnxModelOptions { MaxDegreeOfParallelism = Threads });

    [Benchmark]
    public void OnnxRuntimeLoad()
    {
        using var options = new SessionOptions { IntraOpNumThreads = Threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(_bytes, options);
    }
}
