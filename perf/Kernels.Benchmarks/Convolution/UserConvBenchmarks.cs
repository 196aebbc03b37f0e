using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Kernels.Benchmarks.Peers;
using static Kernels.Benchmarks.Peers.OneNodeModel;
#if WITH_TORCH
using TorchSharp;
using static TorchSharp.torch;
#endif

namespace Kernels.Benchmarks.Convolution;

/// <summary>
/// Convolution forward on the user's own shapes (<c>--conv N,C,H,W,F,KH,KW,STRIDE,PAD</c>, repeatable): every
/// algorithm, Auto, ONNX Runtime (ALL and EXTENDED) and, built with <c>-p:WithTorch=true</c>, libtorch, at 1 and 2
/// threads. The shapes reach the benchmark processes through <see cref="UserShapes.Variable"/>.
/// </summary>
[BenchmarkCategory("UserConv")]
public class UserConvBenchmarks
{
    private float[] _x = [], _w = [], _b = [], _y = [], _yPeer = [];
    private OnnxRunner _all = null!, _extended = null!;
    private bool _winograd, _direct;
#if WITH_TORCH
    private Tensor _tx = null!, _tw = null!, _tb = null!;
#endif

    public static IEnumerable<ConvShape> AllShapes => UserShapes.FromEnvironment();

    [ParamsSource(nameof(AllShapes))]
    public ConvShape Shape { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ConvShape s = Shape;
        (_x, _w, _b, _y, _yPeer) = (Shapes.Random(s.X.Length, 1), Shapes.Random(s.W.Length, 2), Shapes.Random(s.W.N, 3), new float[s.Y.Length], new float[s.Y.Length]);
        _winograd = Kernels.Convolution.Winograd.Supports(s.W, s.P);
        _direct = Kernels.Convolution.Direct.Supports(s.W, s.P);
        byte[] model = Build("Conv", [("x", OnnxRunner.Dims(s.X)), ("w", OnnxRunner.Dims(s.W)), ("b", [s.W.N])], ("y", OnnxRunner.Dims(s.Y)),
            new Attr("kernel_shape", Ints: [s.W.H, s.W.W]), new Attr("strides", Ints: [s.P.Stride, s.P.Stride]), new Attr("pads", Ints: [s.P.Pad, s.P.Pad, s.P.Pad, s.P.Pad]));
        (string, float[], long[])[] inputs = [("x", _x, OnnxRunner.Dims(s.X)), ("w", _w, OnnxRunner.Dims(s.W)), ("b", _b, [s.W.N])];
        _all = new OnnxRunner(model, Threads, GraphOptimizationLevel.ORT_ENABLE_ALL, inputs, ("y", _yPeer, OnnxRunner.Dims(s.Y)));
        _extended = new OnnxRunner(model, Threads, GraphOptimizationLevel.ORT_ENABLE_EXTENDED, inputs, ("y", _yPeer, OnnxRunner.Dims(s.Y)));
        Im2ColGemm();
        _all.Run();
        OnnxRunner.AssertAgrees($"conv {s.Name}", _y, _yPeer, 1e-4);
        if (_winograd)
        {
            Winograd();
            OnnxRunner.AssertAgrees($"conv {s.Name} (Winograd)", _y, _yPeer, 1e-3);
        }
        if (_direct)
        {
            Direct();
            OnnxRunner.AssertAgrees($"conv {s.Name} (Direct)", _y, _yPeer, 1e-4);
        }
#if WITH_TORCH
        Torch.EnsureLoaded(Threads);
        (_tx, _tw, _tb) = (Torch.From(_x, OnnxRunner.Dims(s.X)), Torch.From(_w, OnnxRunner.Dims(s.W)), Torch.From(_b, s.W.N));
#endif
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _all.Dispose();
        _extended.Dispose();
    }

    private void Run(Conv2DAlgorithm algorithm) =>
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(_x, Shape.X), new ReadOnlyNchwSpan<float>(_w, Shape.W), _b, Shape.P, new NchwSpan<float>(_y, Shape.Y), Threads, algorithm);

    [Benchmark]
    public void Auto() => Run(Conv2DAlgorithm.Auto);

    [Benchmark]
    public void Im2ColGemm() => Run(Conv2DAlgorithm.Im2ColGemm);

    /// <summary>Only where Winograd applies (3x3, stride 1, pad 0-2); elsewhere an empty call the table shows as n/a.</summary>
    [Benchmark]
    public void Winograd()
    {
        if (_winograd) Run(Conv2DAlgorithm.Winograd);
    }

    /// <summary>Only where the direct path applies (stride 1 or 2, not an unpadded 1x1); elsewhere shown as n/a.</summary>
    [Benchmark]
    public void Direct()
    {
        if (_direct) Run(Conv2DAlgorithm.Direct);
    }

    [Benchmark]
    public void OnnxRuntimeAll() => _all.Run();

    [Benchmark]
    public void OnnxRuntimeExtended() => _extended.Run();

#if WITH_TORCH
    [Benchmark]
    public void LibTorch()
    {
        using Tensor y = nn.functional.conv2d(_tx, _tw, _tb, strides: [Shape.P.Stride, Shape.P.Stride], padding: [Shape.P.Pad, Shape.P.Pad]);
    }
#endif
}

/// <summary>The user's shapes, from <c>--conv</c> arguments into an environment variable and back.</summary>
public static class UserShapes
{
    public const string Variable = "KERNELS_BENCH_CONV";

    /// <summary>Parses N,C,H,W,F,KH,KW,STRIDE,PAD; throws with the offending text.</summary>
    public static ConvShape Parse(string text)
    {
        int[] v;
        try { v = text.Split(',').Select(t => int.Parse(t.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray(); }
        catch (FormatException) { throw new ArgumentException($"--conv {text}: expected nine integers N,C,H,W,F,KH,KW,STRIDE,PAD."); }
        if (v.Length != 9) throw new ArgumentException($"--conv {text}: expected nine integers N,C,H,W,F,KH,KW,STRIDE,PAD but got {v.Length}.");
        var x = new Shape4(v[0], v[1], v[2], v[3]);
        var w = new Shape4(v[4], v[1], v[5], v[6]);
        var p = new Conv2DParams(v[7], v[8]);
        _ = Geometry.Conv2DOutput(x, w, w.N, p); // a geometry that does not fit throws here, before any run
        return new ConvShape(text.Replace(",", "x"), $"x ({v[0]},{v[1]},{v[2]},{v[3]}) w ({v[4]},{v[1]},{v[5]},{v[6]}) stride {v[7]} pad {v[8]}", x, w, p);
    }

    public static IEnumerable<ConvShape> FromEnvironment() =>
        (Environment.GetEnvironmentVariable(Variable) ?? "8,64,56,56,64,3,3,1,1").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Parse);
}
