using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Convolution;

/// <summary>Depthwise, grouped and dilated convolution (<see cref="Shapes.Modern"/>), 1 and 2 threads: Auto against im2col + GEMM per group.</summary>
[BenchmarkCategory("ConvModern")]
public class ModernConvBenchmarks
{
    private float[] _x = [], _w = [], _b = [], _y = [], _dx = [], _dw = [], _db = [];

    public static IEnumerable<ConvShape> AllShapes => Shapes.Modern;

    [ParamsSource(nameof(AllShapes))]
    public ConvShape Shape { get; set; } = Shapes.Modern[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_x, _w, _b, _y) = (Shapes.Random(Shape.X.Length, 1), Shapes.Random(Shape.W.Length, 2), Shapes.Random(Shape.W.N, 3), Shapes.Random(Shape.Y.Length, 4));
        (_dx, _dw, _db) = (new float[_x.Length], new float[_w.Length], new float[_b.Length]);
    }

    /// <summary>Auto: depthwise for one channel per filter, direct or im2col per group otherwise.</summary>
    [Benchmark(Baseline = true)]
    public void Forward() =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), _b, Shape.P, new NchwSpan<float>(_y, Shape.Y), Threads);

    [Benchmark]
    public void ForwardIm2Col() =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), _b, Shape.P, new NchwSpan<float>(_y, Shape.Y), Threads,
            Conv2DAlgorithm.Im2ColGemm);

    [Benchmark]
    public void Backward() =>
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(_y, Shape.Y), new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), Shape.P,
            new NchwSpan<float>(_dx, Shape.X), new NchwSpan<float>(_dw, Shape.W), _db, Threads);

    [Benchmark]
    public void BackwardIm2Col() =>
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(_y, Shape.Y), new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), Shape.P,
            new NchwSpan<float>(_dx, Shape.X), new NchwSpan<float>(_dw, Shape.W), _db, Threads, Conv2DAlgorithm.Im2ColGemm);
}
