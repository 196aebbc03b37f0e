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
[TunedMalloc]
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
        Ours();
        using Tensor y = TorchForward();
        OnnxRunner.AssertAgrees($"conv {s.Name} (libtorch)", Y, y.data<float>().ToArray(), 1e-4);
    }

    private Tensor TorchForward() =>
        nn.functional.conv2d(_tx, _tw, _tb, strides: [Shape.P.Stride, Shape.P.Stride], padding: [Shape.P.Pad, Shape.P.Pad]);

    [Benchmark(Baseline = true)]
    public void Ours() => OursForward();

    [Benchmark]
    public void LibTorch()
    {
        using Tensor y = TorchForward();
    }
}

/// <summary>
/// Conv forward + backward: ours (Forward then Backward) against libtorch's conv2d with autograd (forward, then
/// backward from the same upstream gradient), on shapes (b), (c) and (d), the backward targets.
/// </summary>
[BenchmarkCategory("Conv", "Peers", "Torch")]
[TunedMalloc]
public class ConvBackwardVsTorchBenchmarks
{
    public static IEnumerable<ConvShape> BackwardShapes => [Shapes.Conv[1], Shapes.Conv[2], Shapes.Conv[3]];

    [ParamsSource(nameof(BackwardShapes))]
    public ConvShape Shape { get; set; } = Shapes.Conv[2];
    private float[] _x = [], _w = [], _b = [], _y = [], _dout = [], _dx = [], _dw = [], _db = [];
    private Tensor _tx = null!, _tw = null!, _tb = null!, _tdout = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        ConvShape s = Shape;
        (_x, _w, _b, _y) = (Shapes.Random(s.X.Length, 1), Shapes.Random(s.W.Length, 2), Shapes.Random(s.W.N, 3), new float[s.Y.Length]);
        (_dout, _dx, _dw, _db) = (Shapes.Random(s.Y.Length, 5), new float[_x.Length], new float[_w.Length], new float[_b.Length]);
        _tx = Torch.From(_x, OnnxRunner.Dims(s.X)).requires_grad_(true);
        _tw = Torch.From(_w, OnnxRunner.Dims(s.W)).requires_grad_(true);
        _tb = Torch.From(_b, s.W.N).requires_grad_(true);
        _tdout = Torch.From(_dout, OnnxRunner.Dims(s.Y));
        Ours();
        LibTorch();
        OnnxRunner.AssertAgrees($"conv {s.Name} dw (libtorch)", _dw, _tw.grad!.data<float>().ToArray(), 1e-4);
        OnnxRunner.AssertAgrees($"conv {s.Name} dx (libtorch)", _dx, _tx.grad!.data<float>().ToArray(), 1e-4);
    }

    [Benchmark(Baseline = true)]
    public void Ours()
    {
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), _b, Shape.P, new NchwSpan<float>(_y, Shape.Y), Threads);
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(_dout, Shape.Y), new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), Shape.P,
            new NchwSpan<float>(_dx, Shape.X), new NchwSpan<float>(_dw, Shape.W), _db, Threads);
    }

    [Benchmark]
    public void LibTorch()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        foreach (Tensor t in new[] { _tx, _tw, _tb }) t.grad?.zero_();
        Tensor y = nn.functional.conv2d(_tx, _tw, _tb, strides: [Shape.P.Stride, Shape.P.Stride], padding: [Shape.P.Pad, Shape.P.Pad]);
        y.backward([_tdout]);
    }
}

[BenchmarkCategory("Peers", "Torch")]
[TunedMalloc]
public class GemmVsTorchBenchmarks
{
    private float[] _a = [], _bm = [], _c = [];
    private Tensor _ta = null!, _tb = null!;

    [Params(1024, 2048)]
    public int GemmSize { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        (_a, _bm, _c) = (Shapes.Random(GemmSize * GemmSize, 3), Shapes.Random(GemmSize * GemmSize, 4), new float[GemmSize * GemmSize]);
        (_ta, _tb) = (Torch.From(_a, GemmSize, GemmSize), Torch.From(_bm, GemmSize, GemmSize));
        Gemm();
        using (Tensor c = torch.mm(_ta, _tb)) OnnxRunner.AssertAgrees($"gemm {GemmSize} (libtorch)", _c, c.data<float>().ToArray(), 1e-5);
    }

    [Benchmark]
    public void Gemm() => global::Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(_a, GemmSize, GemmSize),
        new ReadOnlySpan2D<float>(_bm, GemmSize, GemmSize), 0f, new Span2D<float>(_c, GemmSize, GemmSize), Threads);

    [Benchmark]
    public void GemmLibTorch()
    {
        using Tensor c = torch.mm(_ta, _tb);
    }
}

[BenchmarkCategory("Peers", "Torch")]
[TunedMalloc]
public class ElementaryVsTorchBenchmarks
{
    private readonly Shape4 _poolX = new(50, 32, 32, 32);
    private float[] _x = [], _y = [], _relu = [];
    private Tensor _tx = null!, _trelu = null!;
    private const int ReluLength = 16 << 20;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        (_x, _y) = (Shapes.Random(_poolX.Length, 1), new float[_poolX.Length / 4]);
        _tx = Torch.From(_x, OnnxRunner.Dims(_poolX));
        _relu = Shapes.Random(ReluLength, 2);
        _trelu = Torch.From((float[])_relu.Clone(), ReluLength);
        MaxPool();
        using (Tensor y = nn.functional.max_pool2d(_tx, 2, 2)) OnnxRunner.AssertAgrees("max pool (libtorch)", _y, y.data<float>().ToArray(), 0);
    }

    [Benchmark]
    public void MaxPool() => MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(_x, _poolX), new Pool2DParams(2, 2, 2), new NchwSpan<float>(_y, 50, 32, 16, 16), Threads);

    [Benchmark]
    public void MaxPoolLibTorch()
    {
        using Tensor y = nn.functional.max_pool2d(_tx, 2, 2);
    }

    [Benchmark]
    public void ReluInPlace() => Relu.Forward(_relu, _relu, Threads);

    [Benchmark]
    public void ReluInPlaceLibTorch() => _trelu.relu_();
}

/// <summary>The VGG-style stack of <see cref="Nn.VggBenchmarks"/> in libtorch: forward, softmax cross-entropy, backward.</summary>
[BenchmarkCategory("Train", "Peers", "Torch")]
[TunedMalloc]
public class VggVsTorchBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private Tensor _x = null!, _labels = null!;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int c = 3;
        foreach (int f in new[] { 64, 128, 256 })
        {
            layers.AddRange([nn.Conv2d(c, f, 3, padding: 1), nn.ReLU(), nn.Conv2d(f, f, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2, 2)]);
            c = f;
        }
        layers.AddRange([nn.Flatten(), nn.Linear(256 * 4 * 4, 10)]);
        _model = nn.Sequential(layers.ToArray());
        int n = Nn.VggBenchmarks.Batch;
        _x = Torch.From(Shapes.Random(n * 3 * 32 * 32, 1), n, 3, 32, 32);
        _labels = torch.tensor(Enumerable.Range(0, n).Select(i => (long)(i % 10)).ToArray());
    }

    [Benchmark]
    public float LibTorch()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        _model.zero_grad();
        Tensor loss = nn.functional.cross_entropy(_model.call(_x), _labels);
        loss.backward();
        return loss.item<float>();
    }
}

/// <summary>
/// One training step of the same ThreeLayerConvNet (32 filters 7x7 pad 3, 2x2 max pool, 100 hidden, 10 classes;
/// softmax cross-entropy; Adam) in libtorch: forward, backward and the optimizer step, batch 50, 1 and 2 threads.
/// </summary>
[BenchmarkCategory("Train", "Peers", "Torch")]
[TunedMalloc]
public class TrainingStepVsTorchBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private optim.Optimizer _adam = null!;
    private Tensor _x = null!, _labels = null!;

    [Params("3x32x32", "1x28x28")]
    public string Input { get; set; } = "3x32x32";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        Torch.EnsureLoaded(Threads);
        int[] d = Input.Split('x').Select(int.Parse).ToArray();
        _model = nn.Sequential(
            nn.Conv2d(d[0], 32, 7, padding: 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(32 * (d[1] / 2) * (d[2] / 2), 100), nn.ReLU(), nn.Linear(100, 10));
        _adam = optim.Adam(_model.parameters(), 1e-3);
        _x = Torch.From(Shapes.Random(50 * d[0] * d[1] * d[2], 1), 50, d[0], d[1], d[2]);
        _labels = torch.tensor(Enumerable.Range(0, 50).Select(i => (long)(i % 10)).ToArray());
    }

    [Benchmark]
    public float LibTorch()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        _adam.zero_grad();
        Tensor loss = nn.functional.cross_entropy(_model.call(_x), _labels);
        loss.backward();
        _adam.step();
        return loss.item<float>();
    }
}
#endif
