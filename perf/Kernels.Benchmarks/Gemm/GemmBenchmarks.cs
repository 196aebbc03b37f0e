using BenchmarkDotNet.Attributes;
using CommunityToolkit.HighPerformance;

namespace Kernels.Benchmarks.Gemm;

/// <summary>Square SGEMM C = A * B (2 * Size^3 FLOPs); the oracle only at 256.</summary>
[BenchmarkCategory("Gemm")]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [Params(256, 512, 1024, 2048)]
    public int Size { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = Shapes.Random(Size * Size, 1);
        _b = Shapes.Random(Size * Size, 2);
        _c = new float[Size * Size];
    }

    [Benchmark]
    public void Ours() =>
        global::Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, Size, Size),
            new ReadOnlySpan2D<float>(_b, Size, Size), 0f, new Span2D<float>(_c, Size, Size), Threads);

    [Benchmark]
    public void Reference()
    {
        if (Size > 256 || Threads > 1) return; // the triple loop at 2048^3 would take minutes: measured at 256 only
        global::Kernels.Reference.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, Size, Size),
            new ReadOnlySpan2D<float>(_b, Size, Size), 0f, new Span2D<float>(_c, Size, Size));
    }
}
