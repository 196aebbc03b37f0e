using Kernels.Threading;

namespace Kernels.Tests;

/// <summary>The runtime's ISA switches: a process with any of them set to 0 runs narrower SIMD than the machine offers.</summary>
public static class IsaSwitches
{
    /// <summary>The x64 ISA switch names .NET reads (some only in older versions), with both prefixes (COMPlus_ is the legacy one).</summary>
    public static readonly string[] Names =
        new[] { "HWIntrinsic", "SSE", "SSE2", "SSE3", "SSSE3", "SSE41", "SSE42", "AVX", "AVX2", "FMA", "AVX512", "AVX512F", "AVX10v1", "AVX10v2" }
        .SelectMany(isa => new[] { $"DOTNET_Enable{isa}", $"COMPlus_Enable{isa}" }).ToArray();

    /// <summary>The switches set in this process's environment, as NAME=value.</summary>
    public static string[] Set() =>
        Names.Select(n => (Name: n, Value: Environment.GetEnvironmentVariable(n))).Where(s => s.Value is { Length: > 0 }).Select(s => $"{s.Name}={s.Value}").ToArray();
}

/// <summary>A fact of the default leg (no ISA switch): skipped, with the reason, in a process run under a switch.</summary>
public sealed class DefaultLegFactAttribute : FactAttribute
{
    public DefaultLegFactAttribute()
    {
        string[] set = IsaSwitches.Set();
        if (set.Length > 0)
            Skip = $"belongs to the default leg: it compares this process's SIMD width with the machine's, and {string.Join(", ", set)} narrows this process";
    }
}

/// <summary>A fact that needs a fork-join team of two threads: skipped, with the reason, on a machine with one core.</summary>
public sealed class MultiThreadFactAttribute : FactAttribute
{
    public MultiThreadFactAttribute()
    {
        if (ForkJoin.MaxThreads < 2)
            Skip = $"needs two threads, but ForkJoin.MaxThreads is {ForkJoin.MaxThreads} (one core, or a platform without threads): every call runs on the caller alone";
    }
}
