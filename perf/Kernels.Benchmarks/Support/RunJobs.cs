using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Kernels.Benchmarks;

/// <summary>
/// The jobs of a run, decided once by Program from the command line. The standard run is out of process: one
/// launch, 3 warm-up and 15 measured iterations of at least 250 ms per benchmark case (BenchmarkDotNet's own
/// default job, which picks 15-100 iterations, would take hours for this suite on 2 cores; pass <c>--job default</c>
/// for it). <c>--quick</c> is one process, 1 warm-up and 5 iterations of 150 ms.
/// </summary>
public static class RunJobs
{
    /// <summary>Job id of the libtorch rows measured with glibc's malloc tuned (see <see cref="TunedMallocAttribute"/>).</summary>
    public const string TunedMallocId = "TunedMalloc";

    public static bool Quick { get; set; }

    /// <summary>The job every benchmark runs with (marked default, so a --job on the command line replaces it).</summary>
    public static Job Main => Quick
        ? Job.ShortRun.WithWarmupCount(1).WithIterationCount(5).WithLaunchCount(1)
            .WithIterationTime(TimeInterval.FromMilliseconds(150)).WithToolchain(InProcessEmitToolchain.Instance)
        : WithBuildArguments(new Job("Full").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)));

    /// <summary>
    /// Main with glibc told to keep large freed blocks in the heap: libtorch allocates each output anew, and with the
    /// stock thresholds every call maps fresh pages and faults them in. Environment variables need a process of
    /// their own, so quick (in-process) runs have no such job.
    /// </summary>
    public static Job? TunedMalloc => Quick ? null : Main
        .WithEnvironmentVariables(new EnvironmentVariable("MALLOC_MMAP_THRESHOLD_", "33554432"), new EnvironmentVariable("MALLOC_TRIM_THRESHOLD_", "1073741824"))
        .WithId(TunedMallocId);

    // The benchmark project is rebuilt for out-of-process runs: carry the opt-in peers over to that build.
    private static Job WithBuildArguments(Job job) =>
#if WITH_TORCH
        job.WithArguments([new MsBuildArgument("/p:WithTorch=true")]);
#else
        job;
#endif
}

/// <summary>Runs a libtorch benchmark class both as a stock user sees it and with the tuned allocator (out of process only).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class TunedMallocAttribute : Attribute, IConfigSource
{
    public IConfig Config
    {
        get
        {
            var config = ManualConfig.CreateEmpty();
            if (RunJobs.TunedMalloc is { } tuned) config.AddJob(RunJobs.Main, tuned);
            return config;
        }
    }
}
