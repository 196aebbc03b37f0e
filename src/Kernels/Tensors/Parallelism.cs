using System.Runtime.CompilerServices;
using Kernels.Threading;

namespace Kernels;

/// <summary>A loop body over independent indices, as a struct so no call allocates.</summary>
internal interface IIndexAction
{
    void Invoke(int index);
}

/// <summary>
/// Independent blocks over the library's fork-join runtime (<see cref="ForkJoin"/>): each member of the team takes
/// one contiguous range of the indices (a static partition, <see cref="Partition.Range"/>). Callers make each
/// index's work independent of every other, so results never depend on the thread count.
/// </summary>
internal static class Parallelism
{
    /// <summary>Validates a max degree of parallelism: -1 (use every core) or &gt;= 1.</summary>
    public static int Resolve(int maxDegreeOfParallelism, string name = "maxDegreeOfParallelism")
    {
        if (maxDegreeOfParallelism == -1) return Environment.ProcessorCount;
        if (maxDegreeOfParallelism < 1)
            Guard.ThrowOutOfRange(name, maxDegreeOfParallelism, $"{name} must be -1 (all cores) or >= 1 but is {maxDegreeOfParallelism}.");
        return maxDegreeOfParallelism;
    }

    /// <summary>Runs action(0) ... action(count - 1) on at most <paramref name="threads"/> threads, each a contiguous range.</summary>
    public static void For<TAction>(int count, int threads, TAction action) where TAction : struct, IIndexAction
    {
        if (threads <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++) action.Invoke(i);
            return;
        }
        var body = new Ranges<TAction>(count, action);
        ForkJoin.Run(Math.Min(threads, count), ref body);
    }

    private readonly struct Ranges<TAction>(int count, TAction action) : ITeamBody where TAction : struct, IIndexAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(in Team team)
        {
            (int begin, int end) = Partition.Range(count, team.Index, team.Size);
            for (int i = begin; i < end; i++) action.Invoke(i);
        }
    }
}
