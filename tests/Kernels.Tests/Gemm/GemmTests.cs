using CommunityToolkit.HighPerformance;
using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Gemm;

/// <summary>A GEMM problem with transposes, scalars and pitches (leading dimension = width + pitch).</summary>
public sealed record GemmCase(int M, int N, int K, bool TransA, bool TransB, int PitchA, int PitchB, int PitchC, float Alpha, float Beta, int Seed)
{
    public override string ToString() =>
        $"M {M} N {N} K {K} op(A) {(TransA ? "T" : "N")} op(B) {(TransB ? "T" : "N")} pitch {PitchA}/{PitchB}/{PitchC} alpha {Alpha} beta {Beta} seed {Seed}";
}

public static class GemmArbitraries
{
    // Mostly small sizes around the tiles (MR 6/12, NR 8/16/32), sometimes past MC (144) and KC (256).
    private static Gen<int> Size(int big) => Gen.Frequency((6, Gen.Choose(1, 40)), (1, Gen.Choose(41, big)));

    public static Arbitrary<GemmCase> Gemm() => Arb.From(
        from m in Size(160)
        from n in Size(100)
        from k in Size(300)
        from ta in Gen.Elements(false, true)
        from tb in Gen.Elements(false, true)
        from pa in Gen.Choose(0, 3)
        from pb in Gen.Choose(0, 3)
        from pc in Gen.Choose(0, 3)
        from alpha in Gen.Elements(1f, -0.5f, 2f)
        from beta in Gen.Elements(0f, 1f, -1.5f)
        from seed in Gen.Choose(0, int.MaxValue)
        select new GemmCase(m, n, k, ta, tb, pa, pb, pc, alpha, beta, seed),
        c => new[] { c with { M = c.M - 1 }, c with { N = c.N - 1 }, c with { K = c.K - 1 }, c with { M = c.M / 2 }, c with { N = c.N / 2 }, c with { K = c.K / 2 },
                     c with { PitchA = 0 }, c with { PitchB = 0 }, c with { PitchC = 0 } }
            .Where(x => x.M >= 1 && x.N >= 1 && x.K >= 1 && x != c));
}

public sealed class GemmPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public GemmPropertyAttribute()
    {
        Arbitrary = [typeof(GemmArbitraries)];
        MaxTest = 150;
    }
}

[Trait("Category", "Kernel")]
public class GemmTests
{
    private const float Guard = -777.25f;

    /// <summary>Runs the fast GEMM on a case: returns C's buffer (with pitch columns as a guard zone) and the double oracle and its |.| scale.</summary>
    private static (float[] C, double[] Exact, double[] Scale) Run(GemmCase g, int degree = 1)
    {
        int aRows = g.TransA ? g.K : g.M, aCols = g.TransA ? g.M : g.K;
        int bRows = g.TransB ? g.N : g.K, bCols = g.TransB ? g.K : g.N;
        float[] a = TestData.Floats(g.Seed, aRows * (aCols + g.PitchA)), b = TestData.Floats(g.Seed + 1, bRows * (bCols + g.PitchB));
        float[] c0 = TestData.Floats(g.Seed + 2, g.M * (g.N + g.PitchC));
        var c = (float[])c0.Clone();
        for (int i = 0; i < g.M; i++)
        for (int j = 0; j < g.N + g.PitchC; j++)
            c[i * (g.N + g.PitchC) + j] = j >= g.N ? Guard : g.Beta == 0 ? float.NaN : c0[i * (g.N + g.PitchC) + j]; // NaN: beta = 0 must not read C

        var av = new ReadOnlySpan2D<float>(a, 0, aRows, aCols, g.PitchA);
        var bv = new ReadOnlySpan2D<float>(b, 0, bRows, bCols, g.PitchB);
        var ta = g.TransA ? MatrixTranspose.Transpose : MatrixTranspose.None;
        var tb = g.TransB ? MatrixTranspose.Transpose : MatrixTranspose.None;
        Kernels.Gemm.Multiply(ta, tb, g.Alpha, av, bv, g.Beta, new Span2D<float>(c, 0, g.M, g.N, g.PitchC), degree);

        // Oracle in double on the same float inputs, and on their absolute values for the error bound.
        double[] exact = new double[g.M * g.N], scale = new double[g.M * g.N];
        double[] cd = new double[g.M * g.N], cabs = new double[g.M * g.N];
        for (int i = 0; i < g.M; i++)
        for (int j = 0; j < g.N; j++)
        {
            cd[i * g.N + j] = g.Beta == 0 ? double.NaN : c0[i * (g.N + g.PitchC) + j];
            cabs[i * g.N + j] = Math.Abs(cd[i * g.N + j]);
        }
        var ad = FloatAssert.ToDouble(a); var bd = FloatAssert.ToDouble(b);
        var aa = FloatAssert.Abs(a); var ba = FloatAssert.Abs(b);
        Array.Copy(cd, exact, cd.Length);
        Array.Copy(cabs, scale, cabs.Length);
        Kernels.Reference.Gemm.Multiply(ta, tb, (double)g.Alpha, new ReadOnlySpan2D<double>(ad, 0, aRows, aCols, g.PitchA),
            new ReadOnlySpan2D<double>(bd, 0, bRows, bCols, g.PitchB), g.Beta, new Span2D<double>(exact, g.M, g.N));
        Kernels.Reference.Gemm.Multiply(ta, tb, Math.Abs((double)g.Alpha), new ReadOnlySpan2D<double>(aa, 0, aRows, aCols, g.PitchA),
            new ReadOnlySpan2D<double>(ba, 0, bRows, bCols, g.PitchB), Math.Abs(g.Beta), new Span2D<double>(scale, g.M, g.N));
        return (c, exact, scale);
    }

    private static float[] Valid(GemmCase g, float[] c)
    {
        var v = new float[g.M * g.N];
        for (int i = 0; i < g.M; i++) Array.Copy(c, i * (g.N + g.PitchC), v, i * g.N, g.N);
        return v;
    }

    [GemmProperty]
    public void Matches_the_oracle_within_the_summation_bound(GemmCase g)
    {
        (float[] c, double[] exact, double[] scale) = Run(g);
        FloatAssert.WithinSumBound(Valid(g, c), exact, scale, g.K, "C");
        for (int i = 0; i < g.M; i++)
        for (int j = g.N; j < g.N + g.PitchC; j++)
            Assert.Equal(Guard, c[i * (g.N + g.PitchC) + j]); // the pitch between rows is never written
    }

    [GemmProperty]
    public void Is_bitwise_identical_for_any_thread_count(GemmCase g)
    {
        float[] one = Run(g, 1).C;
        FloatAssert.BitwiseEqual(one, Run(g, 2).C, "C with 2 threads");
        FloatAssert.BitwiseEqual(one, Run(g, 4).C, "C with 4 threads");
    }

    [Theory]
    [InlineData(3, 4100, 5)]     // more than one NC block of columns
    [InlineData(300, 3, 520)]    // several MC blocks and three KC slices
    [InlineData(1, 1, 1)]
    [InlineData(12, 32, 256)]    // exactly one Vector512 tile and one KC slice
    [InlineData(13, 33, 257)]    // one past each
    public void Block_boundaries(int m, int n, int k)
    {
        var g = new GemmCase(m, n, k, false, false, 1, 0, 2, 1f, 1f, 42);
        (float[] c, double[] exact, double[] scale) = Run(g, 2);
        FloatAssert.WithinSumBound(Valid(g, c), exact, scale, k, "C");
    }

    [Fact]
    public void Empty_inner_dimension_scales_C_by_beta()
    {
        float[] c = [1, 2, 3, 4];
        Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f, new ReadOnlySpan2D<float>(Array.Empty<float>(), 2, 0),
            new ReadOnlySpan2D<float>(Array.Empty<float>(), 0, 2), 0.5f, new Span2D<float>(c, 2, 2));
        Assert.Equal([0.5f, 1, 1.5f, 2], c);
    }

    [Fact]
    public void Rejects_a_bad_degree_of_parallelism()
    {
        var c = new float[4];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.Gemm.Multiply(MatrixTranspose.None, MatrixTranspose.None, 1f,
            new ReadOnlySpan2D<float>(new float[4], 2, 2), new ReadOnlySpan2D<float>(new float[4], 2, 2), 0f, new Span2D<float>(c, 2, 2), 0));
        Assert.Contains("maxDegreeOfParallelism", ex.Message);
        Assert.Contains("0", ex.Message);
    }
}
