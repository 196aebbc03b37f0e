using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks.Peak;

/// <summary>
/// The machine's FMA peak: 12 independent chains of vector fused multiply-adds per thread (enough to cover the
/// 4-cycle latency of two FMA ports), the denominator of every efficiency figure in the report.
/// FLOPs per invoke: threads * Iterations * 12 chains * lanes * 2.
/// </summary>
[BenchmarkCategory("Peak")]
public class FmaPeakBenchmarks
{
    public const int Iterations = 1 << 20;

    [Params(1, 2)]
    public int Threads { get; set; }

    [Benchmark]
    public float Vector512Fma() => Run(Chains512);

    [Benchmark]
    public float Vector256Fma() => Run(Chains256);

    private float Run(Func<float> chains)
    {
        if (Threads == 1) return chains();
        var results = new float[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => results[t] = chains());
        return results.Sum();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains512()
    {
        if (!Vector512.IsHardwareAccelerated) return 0;
        Vector512<float> m = Vector512.Create(0.999999f), a = Vector512.Create(1e-7f);
        Vector512<float> c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, cA = m, cB = m;
        for (int i = 0; i < Iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a); c2 = Vector512.FusedMultiplyAdd(c2, m, a);
            c3 = Vector512.FusedMultiplyAdd(c3, m, a); c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a); c8 = Vector512.FusedMultiplyAdd(c8, m, a);
            c9 = Vector512.FusedMultiplyAdd(c9, m, a); cA = Vector512.FusedMultiplyAdd(cA, m, a); cB = Vector512.FusedMultiplyAdd(cB, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + cA + cB);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains256()
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        Vector256<float> m = Vector256.Create(0.999999f), a = Vector256.Create(1e-7f);
        Vector256<float> c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, cA = m, cB = m;
        for (int i = 0; i < Iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a); c2 = Vector256.FusedMultiplyAdd(c2, m, a);
            c3 = Vector256.FusedMultiplyAdd(c3, m, a); c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a); c8 = Vector256.FusedMultiplyAdd(c8, m, a);
            c9 = Vector256.FusedMultiplyAdd(c9, m, a); cA = Vector256.FusedMultiplyAdd(cA, m, a); cB = Vector256.FusedMultiplyAdd(cB, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + cA + cB);
    }
}
