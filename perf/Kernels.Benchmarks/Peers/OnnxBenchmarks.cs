using BenchmarkDotNet.Attributes;
using CommunityToolkit.HighPerformance;
using Microsoft.ML.OnnxRuntime;
using static Kernels.Benchmarks.Peers.OneNodeModel;

namespace Kernels.Benchmarks.Peers;

/// <summary>
/// Conv forward: ours vs ONNX Runtime at optimisation level ALL (NCHWc blocked direct convolution) and EXTENDED
/// (its im2col + SGEMM), same shapes, same thread count, outputs checked against ours at setup.
/// </summary>
[BenchmarkCategory("Conv", "Peers")]
public class ConvVsOnnxBenchmarks : ConvWorkload
{
    private float[] _yOrt = [];
    private OnnxRunner _all = null!, _extended = null!;

    [GlobalSetup]
    public void Setup()
    {
        ConvShape s = Shape;
        CreateData();
        _yOrt = new float[s.Y.Length];
        byte[] model = Build("Conv", [("x", OnnxRunner.Dims(s.X)), ("w", OnnxRunner.Dims(s.W)), ("b", [s.W.N])], ("y", OnnxRunner.Dims(s.Y)),
            new Attr("kernel_shape", Ints: [s.W.H, s.W.W]), new Attr("strides", Ints: [s.P.Stride, s.P.Stride]),
            new Attr("pads", Ints: [s.P.Pad, s.P.Pad, s.P.Pad, s.P.Pad]));
        (string, float[], long[])[] inputs = [("x", X, OnnxRunner.Dims(s.X)), ("w", W, OnnxRunner.Dims(s.W)), ("b", B, [s.W.N])];
        _all = new OnnxRunner(model, Threads, GraphOptimizationLevel.ORT_ENABLE_ALL, inputs, ("y", _yOrt, OnnxRunner.Dims(s.Y)));
        _extended = new OnnxRunner(model, Threads, GraphOptimizationLevel.ORT_ENABLE_EXTENDED, inputs, ("y", _yOrt, OnnxRunner.Dims(s.Y)));
        Ours();
        _all.Run();
        OnnxRunner.AssertAgrees($"conv {s.Name} (ALL)", Y, _yOrt, 1e-4);
        _extended.Run();
        OnnxRunner.AssertAgrees($"conv {s.Name} (EXTENDED)", Y, _yOrt, 1e-4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _all.Dispose();
        _extended.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Ours() => OursForward();

    [Benchmark]
    public void OnnxRuntimeAll() => _all.Run();

    [Benchmark]
    public void OnnxRuntimeExtended() => _extended.Run();
}

/// <summary>Pooling, ReLU and GEMM: ours vs ONNX Runtime one-node models, on 1 and 2 threads (IntraOpNumThreads).</summary>
[BenchmarkCategory("Peers")]
public class ElementaryVsOnnxBenchmarks
{
    private readonly Shape4 _poolX = new(50, 32, 32, 32);
    private float[] _x = [], _y = [], _yOrt = [], _relu = [], _reluOrt = [], _a = [], _bm = [], _c = [], _cOrt = [];
    private OnnxRunner _maxPool = null!, _avgPool = null!, _reluRunner = null!, _gemm = null!;
    private Shape4 _poolY;
    private const int ReluLength = 16 << 20, GemmSize = 1024;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var p = new Pool2DParams(2, 2, 2);
        _poolY = Geometry.Pool2DOutput(_poolX, p);
        (_x, _y, _yOrt) = (Shapes.Random(_poolX.Length, 1), new float[_poolY.Length], new float[_poolY.Length]);
        (string, float[], long[])[] poolIn = [("x", _x, OnnxRunner.Dims(_poolX))];
        Attr[] window = [new("kernel_shape", Ints: [2, 2]), new("strides", Ints: [2, 2])];
        _maxPool = new OnnxRunner(Build("MaxPool", [("x", OnnxRunner.Dims(_poolX))], ("y", OnnxRunner.Dims(_poolY)), window), Threads,
            GraphOptimizationLevel.ORT_ENABLE_ALL, poolIn, ("y", _yOrt, OnnxRunner.Dims(_poolY)));
        _maxPool.Run();
        MaxPool();
        OnnxRunner.AssertAgrees("max pool", _y, _yOrt, 0);
        _avgPool = new OnnxRunner(Build("AveragePool", [("x", OnnxRunner.Dims(_poolX))], ("y", OnnxRunner.Dims(_poolY)), window), Threads,
            GraphOptimizationLevel.ORT_ENABLE_ALL, poolIn, ("y", _yOrt, OnnxRunner.Dims(_poolY)));
        _avgPool.Run();
        AvgPool();
        OnnxRunner.AssertAgrees("average pool", _y, _yOrt, 1e-6);

        (_relu, _reluOrt) = (Shapes.Random(ReluLength, 2), new float[ReluLength]);
        _reluRunner = new OnnxRunner(Build("Relu", [("x", [ReluLength])], ("y", [ReluLength])), Threads, GraphOptimizationLevel.ORT_ENABLE_ALL,
            [("x", _relu, [ReluLength])], ("y", _reluOrt, [ReluLength]));

        (_a, _bm, _c, _cOrt) = (Shapes.Random(GemmSize * GemmSize, 3), Shapes.Random(GemmSize * GemmSize, 4), new float[GemmSize * GemmSize], new float[GemmSize * GemmSize]);
        _gemm = new OnnxRunner(Build("MatMul", [("a", [GemmSize, GemmSize]), ("b", [GemmSize, GemmSize])], ("c", [GemmSize, GemmSize])), Threads,
            GraphOptimizationLevel.ORT_ENABLE_ALL, [("a", _a, [GemmSize, GemmSize]), ("b", _bm, [GemmSize, GemmSize])], ("c", _cOrt, [GemmSize, GemmSize]));
        _gemm.Run();
        Gemm1024();
        OnnxRunner.AssertAgrees("gemm", _c, _cOrt, 1e-5);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _maxPool.Dispose();
        _avgPool.Dispose();
        _reluRunner.Dispose();
        _gemm.Dispose();
    }

    [Benchmark]
    public void MaxPool() => MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _poolX), new Pool2DParams(2, 2, 2), new NchwSpan<float>(_y, _poolY), Threads);

    [Benchmark]
    public void MaxPoolOnnxRuntime() => _maxPool.Run();

    [Benchmark]
    public void AvgPool() => AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _poolX), new Pool2DParams(2, 2, 2), new NchwSpan<float>(_y, _poolY), Threads);

    [Benchmark]
    public void AvgPoolOnnxRuntime() => _avgPool.Run();

    [Benchmark]
    public void Relu16M() => Relu.Forward(_relu, _reluOrt, Threads);

    [Benchmark]
    public void Relu16MOnnxRuntime() => _reluRunner.Run();

    [Benchmark]
    public void Gemm1024() => global::Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, GemmSize, GemmSize),
        new ReadOnlySpan2D<float>(_bm, GemmSize, GemmSize), 0f, new Span2D<float>(_c, GemmSize, GemmSize), Threads);

    [Benchmark]
    public void Gemm1024OnnxRuntime() => _gemm.Run();
}
