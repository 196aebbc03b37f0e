using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Elementwise;

/// <summary>
/// Every activation forward and backward on 16M floats (64 MiB) against the span copy of the same bytes (forward:
/// 64 MiB in, 64 MiB out, as <see cref="Copy"/>); sigmoid also through TensorPrimitives, which it does not use (it
/// flushes the tail below -88.7). Inputs in [-1, 1] (the random data the other benchmarks use).
/// </summary>
[BenchmarkCategory("Activations")]
public class ActivationBenchmarks
{
    private const int Length = 16 << 20;
    private float[] _x = [], _y = [], _dout = [];

    public static IEnumerable<Activation> Functions =>
    [
        Activation.Sigmoid, Activation.Tanh, Activation.HardSigmoid, Activation.HardSwish, Activation.Silu, Activation.Gelu(),
        Activation.Gelu(GeluApproximation.Tanh), Activation.LeakyRelu(), Activation.Elu(), Activation.Relu6,
    ];

    [ParamsSource(nameof(Functions))]
    public Activation Function { get; set; } = Activation.Sigmoid;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(Length, 1);
        _dout = Shapes.Random(Length, 2);
        _y = new float[Length];
    }

    [Benchmark(Baseline = true)]
    public void Copy() => Copies.Run(_x, _y, Threads);

    [Benchmark]
    public void Forward() => Activations.Forward(Function, _x, _y, Threads);

    [Benchmark]
    public void Backward() => Activations.Backward(Function, _dout, _x, _y, Threads);

    [Benchmark]
    public void TensorPrimitivesSigmoid() => System.Numerics.Tensors.TensorPrimitives.Sigmoid(_x, _y);
}
