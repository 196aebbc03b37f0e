namespace Kernels;

/// <summary>A loop body over independent indices, as a struct so the sequential path allocates nothing.</summary>
internal interface IIndexAction
{
    void Invoke(int index);
}

/// <summary>
/// Runs independent blocks, sequentially when one thread is asked for (no allocation, no thread hop), otherwise
/// through <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>. Callers make each index's work
/// independent of every other, so results never depend on the thread count.
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

    public static void For<TAction>(int count, int degree, TAction action) where TAction : struct, IIndexAction
    {
        if (degree <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++) action.Invoke(i);
            return;
        }
        InParallel(count, degree, action);
    }

    // Separate method: a lambda capturing `action` makes the compiler allocate its closure on entry to the
    // enclosing method, which would tax the sequential path too.
    // A failure on a worker surfaces as the exception itself, as on one thread, not wrapped in an AggregateException.
    private static void InParallel<TAction>(int count, int degree, TAction action) where TAction : struct, IIndexAction
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = degree }, i => action.Invoke(i));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
