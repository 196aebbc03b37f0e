using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Pooling;

/// <summary>Max and average pooling, forward and backward, on 1 and 2 threads.</summary>
[BenchmarkCategory("Pool")]
public class PoolingBenchmarks
{
    private float[] _x = [], _y = [], _dx = [];
    private Shape4 _xs, _ys;
    private Pool2DParams _p;

    [Params("50x32x32x32", "8x64x56x56")]
    public string Input { get; set; } = "50x32x32x32";

    [Params("2x2s2", "3x3s2")]
    public string Window { get; set; } = "2x2s2";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        int[] d = Input.Split('x').Select(int.Parse).ToArray();
        _xs = new Shape4(d[0], d[1], d[2], d[3]);
        _p = Window == "2x2s2" ? new Pool2DParams(2, 2, 2) : new Pool2DParams(3, 3, 2);
        _ys = Geometry.Pool2DOutput(_xs, _p);
        _x = Shapes.Random(_xs.Length, 1);
        _y = Shapes.Random(_ys.Length, 2);
        _dx = new float[_xs.Length];
    }

    [Benchmark]
    public void MaxForward() => MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _xs), _p, new NchwSpan<float>(_y, _ys), Threads);

    [Benchmark]
    public void MaxBackward() => MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(_y, _ys), new ReadOnlyNchwSpan<float>(_x, _xs), _p, new NchwSpan<float>(_dx, _xs), Threads);

    [Benchmark]
    public void AvgForward() => AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _xs), _p, new NchwSpan<float>(_y, _ys), Threads);

    [Benchmark]
    public void AvgBackward() => AvgPool2D.Backward(new ReadOnlyNchwSpan<float>(_y, _ys), _xs, _p, new NchwSpan<float>(_dx, _xs), Threads);

    /// <summary>Bandwidth reference: copying the input's bytes once, split between the threads.</summary>
    [Benchmark]
    public void CopyInput() => Copies.Run(_x, _dx, Threads);
}
