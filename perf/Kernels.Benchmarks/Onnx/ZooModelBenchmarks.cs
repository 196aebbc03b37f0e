using BenchmarkDotNet.Attributes;
using Kernels.Benchmarks.Peers;
using Kernels.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Kernels.Benchmarks.Onnx;

/// <summary>
/// The torchvision classifiers of tests/Kernels.Onnx.Interop.Tests (Zoo/make_zoo.py writes them into Zoo/cache;
/// $KERNELS_ZOO moves it) on Kernels.Onnx and ONNX Runtime (ENABLE_ALL, same thread count), one 224 x 224 image or a
/// batch, side by side in one run. `dotnet run -c Release --project perf/Kernels.Benchmarks -- --models` runs them.
/// </summary>
[BenchmarkCategory("Zoo", "Peers")]
public class ZooModelBenchmarks
{
    private OnnxModel _ours = null!;
    private OnnxRunner _peer = null!;
    private float[] _x = [], _y = [], _yPeer = [];

    public static string Folder => Environment.GetEnvironmentVariable("KERNELS_ZOO") is { Length: > 0 } chosen ? chosen
        : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "tests", "Kernels.Onnx.Interop.Tests", "Zoo", "cache"));

    [Params("resnet18", "resnet50", "densenet121", "googlenet", "alexnet", "mobilenet_v2", "efficientnet_b0")]
    public string Model { get; set; } = "";

    [Params(1)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(Folder, Model + ".op13.onnx");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: run tests/Kernels.Onnx.Interop.Tests once (it makes the zoo) or set KERNELS_ZOO.", path);
        byte[] bytes = File.ReadAllBytes(path);
        _ours = OnnxModel.Load(bytes, Model, new OnnxModelOptions { MaxDegreeOfParallelism = Threads });
        _x = Shapes.Random((int)_ours.InputLength(Batch), 1);
        (_y, _yPeer) = (new float[_ours.OutputLength(Batch)], new float[_ours.OutputLength(Batch)]);
        _peer = new OnnxRunner(bytes, Threads, GraphOptimizationLevel.ORT_ENABLE_ALL, [("x", _x, [Batch, 3, 224, 224])], ("y", _yPeer, [Batch, _y.Length / Batch]));
        KernelsOnnx();
        _peer.Run();
        OnnxRunner.AssertAgrees($"model {Model}", _y, _yPeer, 1e-4);
    }

    [GlobalCleanup]
    public void Cleanup() => _peer.Dispose();

    [Benchmark]
    public void KernelsOnnx() => _ours.Run(_x, _y);

    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _peer.Run();
}
