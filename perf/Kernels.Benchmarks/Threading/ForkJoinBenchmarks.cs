using BenchmarkDotNet.Attributes;
using Kernels.Threading;

namespace Kernels.Benchmarks.Threading;

/// <summary>
/// The cost of a fork + join of an empty call on 2 threads, 1000 calls per invocation (one call is too short for the
/// CSV's millisecond column): the library's runtime (workers awake, as between the kernels of a training step)
/// against a Parallel.For over the shared ThreadPool, the dispatch it replaced.
/// </summary>
[BenchmarkCategory("Threads")]
public class ForkJoinBenchmarks
{
    private static int s_sink;

    private static readonly ParallelOptions Two = new() { MaxDegreeOfParallelism = 2 };

    [Benchmark(Baseline = true)]
    public void ParallelFor()
    {
        for (int i = 0; i < 1000; i++) Parallel.For(0, 2, Two, j => Interlocked.Add(ref s_sink, j));
    }

    [Benchmark]
    public void Ours()
    {
        for (int i = 0; i < 1000; i++)
        {
            var body = new Empty();
            ForkJoin.Run(2, ref body);
        }
    }

    private struct Empty : ITeamBody
    {
        public readonly void Invoke(in Team team) => Interlocked.Add(ref s_sink, team.Index);
    }
}
