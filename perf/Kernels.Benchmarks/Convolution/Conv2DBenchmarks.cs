using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Convolution;

/// <summary>Convolution forward and backward on the shapes (a)-(e), 1 and 2 threads: Auto and im2col + GEMM.</summary>
[BenchmarkCategory("Conv")]
public class Conv2DBenchmarks : ConvWorkload
{
    private float[] _dx = [], _dw = [], _db = [];

    [GlobalSetup]
    public void Setup()
    {
        CreateData();
        (_dx, _dw, _db) = (new float[X.Length], new float[W.Length], new float[B.Length]);
    }

    /// <summary>Auto: the algorithm <see cref="Conv2D.Choose"/> picks for the shape.</summary>
    [Benchmark]
    public void Forward() => OursForward();

    /// <summary>The general algorithm, for comparison (the only one before Winograd and direct).</summary>
    [Benchmark]
    public void ForwardIm2Col() =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(X, Shape.X), new ReadOnlyNchwSpan<float>(W, Shape.W), B, Shape.P, new NchwSpan<float>(Y, Shape.Y), Threads,
            Conv2DAlgorithm.Im2ColGemm);

    [Benchmark]
    public void Backward() =>
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(Y, Shape.Y), new ReadOnlyNchwSpan<float>(X, Shape.X), new ReadOnlyNchwSpan<float>(W, Shape.W), Shape.P,
            new NchwSpan<float>(_dx, Shape.X), new NchwSpan<float>(_dw, Shape.W), _db, Threads);

    [Benchmark]
    public void BackwardIm2Col() =>
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(Y, Shape.Y), new ReadOnlyNchwSpan<float>(X, Shape.X), new ReadOnlyNchwSpan<float>(W, Shape.W), Shape.P,
            new NchwSpan<float>(_dx, Shape.X), new NchwSpan<float>(_dw, Shape.W), _db, Threads, Conv2DAlgorithm.Im2ColGemm);
}

/// <summary>Fast vs oracle convolution on a small batch of shape (a), side by side.</summary>
[BenchmarkCategory("Conv")]
public class Conv2DVsReferenceBenchmarks
{
    private float[] _x = [], _w = [], _b = [], _y = [];
    private readonly ConvShape _s = Shapes.ReferenceConv;

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(_s.X.Length, 1);
        _w = Shapes.Random(_s.W.Length, 2);
        _b = Shapes.Random(_s.W.N, 3);
        _y = new float[_s.Y.Length];
    }

    [Benchmark(Baseline = true)]
    public void Reference() =>
        global::Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, _s.X), new ReadOnlyNchwSpan<float>(_w, _s.W), _b, _s.P, new NchwSpan<float>(_y, _s.Y));

    [Benchmark]
    public void Ours() =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, _s.X), new ReadOnlyNchwSpan<float>(_w, _s.W), _b, _s.P, new NchwSpan<float>(_y, _s.Y));
}
