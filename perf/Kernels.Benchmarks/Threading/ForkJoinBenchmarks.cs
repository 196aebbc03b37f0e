using BenchmarkDotNet.Attributes;
using Kernels.Threading;

namespace Kernels.Benchmarks.Threading;

/// <summary>
/// The cost of one fork + join of an empty call on 2 threads: the library's runtime (workers awake, as between the
/// kernels of a training step) against a Parallel.For over the shared ThreadPool, the dispatch it replaced.
/// </summary>
[BenchmarkCategory("Threads")]
public class ForkJoinBenchmarks
{
    private static int s_sink;

    [Benchmark(Baseline = true)]
    public void ParallelFor() => Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => Interlocked.Add(ref s_sink, i));

    [Benchmark]
    public void Ours()
    {
        var body = new Empty();
        ForkJoin.Run(2, ref body);
    }

    private struct Empty : ITeamBody
    {
        public readonly void Invoke(in Team team) => Interlocked.Add(ref s_sink, team.Index);
    }
}
