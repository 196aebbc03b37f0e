using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Elementwise;

/// <summary>ReLU on 16M floats (64 MiB) against a span copy of the same bytes.</summary>
[BenchmarkCategory("Relu")]
public class ReluBenchmarks
{
    private const int Length = 16 << 20;
    private float[] _x = [], _y = [], _dout = [];

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(Length, 1);
        _dout = Shapes.Random(Length, 2);
        _y = new float[Length];
    }

    [Benchmark(Baseline = true)]
    public void Copy() => _x.AsSpan().CopyTo(_y);

    [Benchmark]
    public void Forward() => Relu.Forward(_x, _y);

    [Benchmark]
    public void ForwardInPlace() => Relu.Forward(_y, _y);

    [Benchmark]
    public void Backward() => Relu.Backward(_dout, _x, _y);

    [Benchmark]
    public void TensorPrimitivesMax() => System.Numerics.Tensors.TensorPrimitives.Max(_x, 0f, _y);
}
