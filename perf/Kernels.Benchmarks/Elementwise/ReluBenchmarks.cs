using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Elementwise;

/// <summary>
/// ReLU on 16M floats (64 MiB) against span copies of the same bytes: forward reads 64 MiB and writes 64 MiB like
/// <see cref="Copy"/>; backward reads 128 MiB (x, dout) and writes 64 MiB, the traffic of <see cref="CopySameBytesAsBackward"/>
/// (24M floats). On 1 and 2 threads; the copies split between the threads too (the 2-thread bandwidth).
/// </summary>
[BenchmarkCategory("Relu")]
public class ReluBenchmarks
{
    private const int Length = 16 << 20;
    private float[] _x = [], _y = [], _dout = [], _big = [], _bigOut = [];

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(Length, 1);
        _dout = Shapes.Random(Length, 2);
        _y = new float[Length];
        _big = Shapes.Random(Length * 3 / 2, 3);
        _bigOut = new float[Length * 3 / 2];
    }

    [Benchmark(Baseline = true)]
    public void Copy() => Copies.Run(_x, _y, Threads);

    [Benchmark]
    public void CopySameBytesAsBackward() => Copies.Run(_big, _bigOut, Threads);

    [Benchmark]
    public void Forward() => Relu.Forward(_x, _y, Threads);

    [Benchmark]
    public void ForwardInPlace() => Relu.Forward(_y, _y, Threads);

    [Benchmark]
    public void Backward() => Relu.Backward(_dout, _x, _y, Threads);

    [Benchmark]
    public void TensorPrimitivesMax() => System.Numerics.Tensors.TensorPrimitives.Max(_x, 0f, _y);
}
