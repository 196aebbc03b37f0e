using BenchmarkDotNet.Attributes;
using Kernels.Nn;

namespace Kernels.Benchmarks.Nn;

/// <summary>
/// A VGG-style stack, forward and backward of one batch (no update): three stages of conv3x3-relu-conv3x3-relu-
/// 2x2 max pool with 64, 128 and 256 channels on 3x32x32 images, batch 64, then one affine layer to 10 classes and
/// the softmax loss. The same network in libtorch: <c>VggVsTorchBenchmarks</c>.
/// </summary>
[BenchmarkCategory("Train")]
public class VggBenchmarks
{
    public const int Batch = 64;
    private Sequential<float> _net = null!;
    private NchwTensor<float> _x = null!;
    private int[] _labels = [];

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var kernels = new FastKernels(Threads);
        var rng = new Random(1);
        var p = new Conv2DParams(1, 1);
        var layers = new List<Layer<float>>();
        int c = 3;
        foreach (int f in new[] { 64, 128, 256 })
        {
            layers.Add(new Conv2DLayer<float>(kernels, $"W{layers.Count}a", c, f, 3, 3, p, rng, Math.Sqrt(2.0 / (c * 9))));
            layers.Add(new ReluLayer<float>(kernels));
            layers.Add(new Conv2DLayer<float>(kernels, $"W{layers.Count}b", f, f, 3, 3, p, rng, Math.Sqrt(2.0 / (f * 9))));
            layers.Add(new ReluLayer<float>(kernels));
            layers.Add(new MaxPool2DLayer<float>(kernels, new Pool2DParams()));
            c = f;
        }
        layers.Add(new AffineLayer<float>(kernels, "Wout", 256 * 4 * 4, 10, rng, 0.01));
        _net = new Sequential<float>(kernels, [.. layers]);
        _x = NchwTensor<float>.Wrap(Shapes.Random(Batch * 3 * 32 * 32, 1), new Shape4(Batch, 3, 32, 32));
        _labels = Enumerable.Range(0, Batch).Select(i => i % 10).ToArray();
    }

    [Benchmark]
    public float Ours() => _net.SoftmaxLoss(_x, _labels);
}
