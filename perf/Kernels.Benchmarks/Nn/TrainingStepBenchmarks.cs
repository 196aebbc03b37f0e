using BenchmarkDotNet.Attributes;
using Kernels.Nn;

namespace Kernels.Benchmarks.Nn;

/// <summary>One ThreeLayerConvNet training step (forward, backward, Adam) on a batch of 50, on 1 and 2 threads (the reference on 1).</summary>
[BenchmarkCategory("Train")]
public class TrainingStepBenchmarks
{
    private ThreeLayerConvNet<float> _fast = null!, _reference = null!;
    private Adam<float> _fastRule = null!, _referenceRule = null!;
    private NchwTensor<float> _x = null!;
    private int[] _labels = [];

    [Params("3x32x32", "1x28x28")]
    public string Input { get; set; } = "3x32x32";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        int[] d = Input.Split('x').Select(int.Parse).ToArray();
        // cs231n's default network: 32 filters of 7x7, 100 hidden units.
        var options = new ConvNetOptions(d[0], d[1], d[2], Filters: 32, FilterSize: 7, Hidden: 100, Classes: 10, WeightScale: 1e-3);
        _fast = new ThreeLayerConvNet<float>(new FastKernels(Threads), options);
        _reference = new ThreeLayerConvNet<float>(ReferenceKernels<float>.Instance, options);
        _fastRule = new Adam<float>();
        _referenceRule = new Adam<float>();
        _x = NchwTensor<float>.Wrap(Shapes.Random(50 * d[0] * d[1] * d[2], 1), new Shape4(50, d[0], d[1], d[2]));
        _labels = Enumerable.Range(0, 50).Select(i => i % 10).ToArray();
    }

    [Benchmark]
    public float Ours()
    {
        float loss = _fast.Loss(_x, _labels);
        _fastRule.Step(_fast.Parameters, Threads);
        return loss;
    }

    [Benchmark]
    public float Reference()
    {
        if (Threads > 1) return 0; // the oracles are single-threaded: measured once
        float loss = _reference.Loss(_x, _labels);
        _referenceRule.Step(_reference.Parameters);
        return loss;
    }
}
