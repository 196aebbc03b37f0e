using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Normalization;

/// <summary>
/// BatchNorm2D training forward + backward on (8, 64, 56, 56) (a ResNet stage, 6.4 MB per tensor), and inference,
/// against copies of the same tensor: forward reads x twice for the statistics and once to write y; backward reads
/// dout and x twice and writes dx. Channels split between threads.
/// </summary>
[BenchmarkCategory("BatchNorm")]
public class BatchNormBenchmarks
{
    private static readonly Shape4 S = new(8, 64, 56, 56);
    private float[] _x = [], _y = [], _dout = [], _dx = [];
    private readonly float[] _gamma = new float[64], _beta = new float[64], _mean = new float[64], _var = new float[64];
    private readonly float[] _savedMean = new float[64], _savedInvStd = new float[64], _dgamma = new float[64], _dbeta = new float[64];

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(S.Length, 1);
        _dout = Shapes.Random(S.Length, 2);
        (_y, _dx) = (new float[S.Length], new float[S.Length]);
        _gamma.AsSpan().Fill(1);
        _var.AsSpan().Fill(1);
    }

    [Benchmark(Baseline = true)]
    public void Copy() => Copies.Run(_x, _y, Threads);

    [Benchmark]
    public void TrainingForwardBackward()
    {
        BatchNorm2D.ForwardTraining(new(_x, S), _gamma, _beta, new BatchNormParams(), new(_y, S), _mean, _var, _savedMean, _savedInvStd, Threads);
        BatchNorm2D.Backward(new(_dout, S), new(_x, S), _gamma, _savedMean, _savedInvStd, new(_dx, S), _dgamma, _dbeta, Threads);
    }

    [Benchmark]
    public void Inference() => BatchNorm2D.ForwardInference(new(_x, S), _gamma, _beta, _mean, _var, 1e-5, new(_y, S), Threads);
}
