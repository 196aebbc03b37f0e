using BenchmarkDotNet.Attributes;
using Kernels;

namespace Kernels.Benchmarks.Convolution;

/// <summary>Convolution forward on the cs231n shape x (100,3,31,31) w (25,3,3,3) stride 2 pad 1 and a small batch of it.</summary>
[BenchmarkCategory("Conv")]
public class Conv2DBenchmarks
{
    private float[] _x = [], _w = [], _b = [], _y = [];
    private Shape4 _xs, _ws, _ys;
    private readonly Conv2DParams _p = new(2, 1);

    /// <summary>Batch size.</summary>
    [Params(4, 100)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _xs = new Shape4(N, 3, 31, 31);
        _ws = new Shape4(25, 3, 3, 3);
        _ys = Geometry.Conv2DOutput(_xs, _ws, 25, _p);
        var rng = new Random(1);
        _x = Enumerable.Range(0, _xs.Length).Select(_ => rng.NextSingle()).ToArray();
        _w = Enumerable.Range(0, _ws.Length).Select(_ => rng.NextSingle()).ToArray();
        _b = new float[25];
        _y = new float[_ys.Length];
    }

    [Benchmark(Baseline = true)]
    public void Reference() =>
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, _xs), new ReadOnlyNchwSpan<float>(_w, _ws), _b, _p, new NchwSpan<float>(_y, _ys));
}
