using BenchmarkDotNet.Attributes;
using CommunityToolkit.HighPerformance;

namespace Kernels.Benchmarks.Losses;

/// <summary>Affine (N=50, D=6272, M=100) and softmax loss (N=50, C=10 and N=256, C=1000).</summary>
[BenchmarkCategory("Dense")]
public class DenseBenchmarks
{
    private float[] _x = [], _w = [], _b = [], _y = [], _dx = [], _dw = [], _db = [];
    private float[] _s10 = [], _d10 = [], _s1000 = [], _d1000 = [];
    private int[] _l10 = [], _l1000 = [];

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(50 * 6272, 1);
        _w = Shapes.Random(6272 * 100, 2);
        _b = Shapes.Random(100, 3);
        _y = Shapes.Random(50 * 100, 4);
        _dx = new float[_x.Length];
        _dw = new float[_w.Length];
        _db = new float[100];
        _s10 = Shapes.Random(50 * 10, 5);
        _d10 = new float[500];
        _l10 = Enumerable.Range(0, 50).Select(i => i % 10).ToArray();
        _s1000 = Shapes.Random(256 * 1000, 6);
        _d1000 = new float[256 * 1000];
        _l1000 = Enumerable.Range(0, 256).Select(i => i * 7 % 1000).ToArray();
    }

    [Benchmark]
    public void AffineForward() => Affine.Forward(new ReadOnlySpan2D<float>(_x, 50, 6272), new ReadOnlySpan2D<float>(_w, 6272, 100), _b, new Span2D<float>(_y, 50, 100));

    [Benchmark]
    public void AffineBackward() => Affine.Backward(new ReadOnlySpan2D<float>(_y, 50, 100), new ReadOnlySpan2D<float>(_x, 50, 6272), new ReadOnlySpan2D<float>(_w, 6272, 100),
        new Span2D<float>(_dx, 50, 6272), new Span2D<float>(_dw, 6272, 100), _db);

    [Benchmark]
    public float Softmax50x10() => global::Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(_s10, 50, 10), _l10, new Span2D<float>(_d10, 50, 10));

    [Benchmark]
    public float Softmax256x1000() => global::Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(_s1000, 256, 1000), _l1000, new Span2D<float>(_d1000, 256, 1000));

    [Benchmark]
    public float Softmax256x1000Reference() =>
        global::Kernels.Reference.Losses.Softmax(new ReadOnlySpan2D<float>(_s1000, 256, 1000), _l1000, new Span2D<float>(_d1000, 256, 1000));
}
