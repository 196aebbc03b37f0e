#if WITH_TORCH
using BenchmarkDotNet.Attributes;
using CommunityToolkit.HighPerformance;
using TorchSharp;
using static TorchSharp.torch;

namespace Kernels.Benchmarks.Peers;

/// <summary>
/// TorchSharp-cpu (libtorch) baselines, opt-in with <c>-p:WithTorch=true</c>. libtorch allocates a new output per
/// call, as a stock user sees it. If libtorch cannot load (its wrapper needs libstdc++ with GLIBCXX_3.4.32), the
/// setup throws with the reason and BenchmarkDotNet marks these rows NA; the rest of the run goes on.
/// </summary>
public static class Torch
{
    public static void EnsureLoaded(int threads)
    {
        try
        {
            torch.set_num_threads(threads);
            using Tensor probe = torch.zeros(1);
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidOperationException($"libtorch could not be loaded, skipping TorchSharp rows: {(ex.InnerException ?? ex).Message}", ex);
        }
    }

    public static Tensor From(float[] data, params long[] shape) => torch.tensor(data, shape);
}

[BenchmarkCategory("Conv", "Peers", "Torch")]
public class ConvVsTorchBenchmarks : ConvWorkload
{
    private Tensor _tx = null!, _tw = null!, _tb = null!;

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        ConvShape s = Shape;
        CreateData();
        (_tx, _tw, _tb) = (Torch.From(X, OnnxRunner.Dims(s.X)), Torch.From(W, OnnxRunner.Dims(s.W)), Torch.From(B, s.W.N));
        Kernels();
        using Tensor y = TorchForward();
        OnnxRunner.AssertAgrees($"conv {s.Name} (libtorch)", Y, y.data<float>().ToArray(), 1e-4);
    }

    private Tensor TorchForward() =>
        nn.functional.conv2d(_tx, _tw, _tb, strides: [Shape.P.Stride, Shape.P.Stride], padding: [Shape.P.Pad, Shape.P.Pad]);

    [Benchmark(Baseline = true)]
    public void Kernels() => OursForward();

    [Benchmark]
    public void LibTorch()
    {
        using Tensor y = TorchForward();
    }
}

[BenchmarkCategory("Peers", "Torch")]
public class ElementaryVsTorchBenchmarks
{
    private readonly Shape4 _poolX = new(50, 32, 32, 32);
    private float[] _x = [], _y = [], _relu = [], _a = [], _bm = [], _c = [];
    private Tensor _tx = null!, _trelu = null!, _ta = null!, _tb = null!;
    private const int ReluLength = 16 << 20;

    [Params(1024, 2048)]
    public int GemmSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(1);
        (_x, _y) = (Shapes.Random(_poolX.Length, 1), new float[_poolX.Length / 4]);
        _tx = Torch.From(_x, OnnxRunner.Dims(_poolX));
        _relu = Shapes.Random(ReluLength, 2);
        _trelu = Torch.From((float[])_relu.Clone(), ReluLength);
        (_a, _bm, _c) = (Shapes.Random(GemmSize * GemmSize, 3), Shapes.Random(GemmSize * GemmSize, 4), new float[GemmSize * GemmSize]);
        (_ta, _tb) = (Torch.From(_a, GemmSize, GemmSize), Torch.From(_bm, GemmSize, GemmSize));
        MaxPool();
        using (Tensor y = nn.functional.max_pool2d(_tx, 2, 2)) OnnxRunner.AssertAgrees("max pool (libtorch)", _y, y.data<float>().ToArray(), 0);
        Gemm();
        using (Tensor c = torch.mm(_ta, _tb)) OnnxRunner.AssertAgrees($"gemm {GemmSize} (libtorch)", _c, c.data<float>().ToArray(), 1e-5);
    }

    [Benchmark]
    public void Gemm() => global::Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, GemmSize, GemmSize),
        new ReadOnlySpan2D<float>(_bm, GemmSize, GemmSize), 0f, new Span2D<float>(_c, GemmSize, GemmSize));

    [Benchmark]
    public void GemmLibTorch()
    {
        using Tensor c = torch.mm(_ta, _tb);
    }

    [Benchmark]
    public void MaxPool() => MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _poolX), new Pool2DParams(2, 2, 2), new NchwSpan<float>(_y, 50, 32, 16, 16));

    [Benchmark]
    public void MaxPoolLibTorch()
    {
        using Tensor y = nn.functional.max_pool2d(_tx, 2, 2);
    }

    [Benchmark]
    public void ReluInPlace() => Relu.Forward(_relu, _relu);

    [Benchmark]
    public void ReluInPlaceLibTorch() => _trelu.relu_();
}
#endif
