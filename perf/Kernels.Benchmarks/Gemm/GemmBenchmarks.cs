using BenchmarkDotNet.Attributes;
using CommunityToolkit.HighPerformance;
using Kernels;

namespace Kernels.Benchmarks.Gemm;

/// <summary>Square single-precision GEMM, C = A * B.</summary>
[BenchmarkCategory("Gemm")]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>M = N = K.</summary>
    [Params(64, 256)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, Size * Size).Select(_ => rng.NextSingle()).ToArray();
        _b = Enumerable.Range(0, Size * Size).Select(_ => rng.NextSingle()).ToArray();
        _c = new float[Size * Size];
    }

    [Benchmark(Baseline = true)]
    public void Reference() =>
        Kernels.Reference.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, Size, Size),
            new ReadOnlySpan2D<float>(_b, Size, Size), 0f, new Span2D<float>(_c, Size, Size));
}
