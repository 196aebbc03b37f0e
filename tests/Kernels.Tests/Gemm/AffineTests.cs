using CommunityToolkit.HighPerformance;
using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Gemm;

public static class DenseArbitraries
{
    // Rows, features and outputs off the tile sizes; D sometimes past KC (256).
    public static Arbitrary<MatCase> Mat() => Arb.From(
        from n in Gen.Frequency((4, Gen.Choose(1, 20)), (1, Gen.Choose(21, 70)))
        from d in Gen.Frequency((4, Gen.Choose(1, 40)), (1, Gen.Choose(41, 300)))
        from m in Gen.Frequency((4, Gen.Choose(1, 40)), (1, Gen.Choose(41, 120)))
        from seed in Gen.Choose(0, int.MaxValue)
        select new MatCase(n, d, m, seed), CaseGen.Shrink);
}

public sealed class DensePropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public DensePropertyAttribute()
    {
        Arbitrary = [typeof(DenseArbitraries)];
        MaxTest = 100;
    }
}

[Trait("Category", "Kernel")]
public class AffineTests
{
    [DenseProperty]
    public void Forward_and_backward_match_the_oracle(MatCase k)
    {
        float[] x = TestData.Floats(k.Seed, k.N * k.D), w = TestData.Floats(k.Seed + 1, k.D * k.M);
        float[] b = TestData.Floats(k.Seed + 2, k.M), dout = TestData.Floats(k.Seed + 3, k.N * k.M);

        var y = new Guarded(k.N * k.M);
        Affine.Forward(new ReadOnlySpan2D<float>(x, k.N, k.D), new ReadOnlySpan2D<float>(w, k.D, k.M), b, y.Span.AsSpan2D(k.N, k.M), 2);
        y.AssertIntact("y");
        Guarded dx = new(k.N * k.D), dw = new(k.D * k.M), db = new(k.M);
        Affine.Backward(new ReadOnlySpan2D<float>(dout, k.N, k.M), new ReadOnlySpan2D<float>(x, k.N, k.D), new ReadOnlySpan2D<float>(w, k.D, k.M),
            dx.Span.AsSpan2D(k.N, k.D), dw.Span.AsSpan2D(k.D, k.M), db.Span);
        dx.AssertIntact("dx");
        dw.AssertIntact("dw");
        db.AssertIntact("db");

        (double[] y, double[] dx, double[] dw, double[] db) Oracle(Func<float[], double[]> f)
        {
            double[] ry = new double[k.N * k.M], rdx = new double[k.N * k.D], rdw = new double[k.D * k.M], rdb = new double[k.M];
            Kernels.Reference.Affine.Forward(new ReadOnlySpan2D<double>(f(x), k.N, k.D), new ReadOnlySpan2D<double>(f(w), k.D, k.M), f(b), new Span2D<double>(ry, k.N, k.M));
            Kernels.Reference.Affine.Backward(new ReadOnlySpan2D<double>(f(dout), k.N, k.M), new ReadOnlySpan2D<double>(f(x), k.N, k.D),
                new ReadOnlySpan2D<double>(f(w), k.D, k.M), new Span2D<double>(rdx, k.N, k.D), new Span2D<double>(rdw, k.D, k.M), rdb);
            return (ry, rdx, rdw, rdb);
        }
        var exact = Oracle(a => FloatAssert.ToDouble(a));
        var scale = Oracle(a => FloatAssert.Abs(a));
        FloatAssert.WithinSumBound(y.Span, exact.y, scale.y, k.D + 1, "y");
        FloatAssert.WithinSumBound(dx.Span, exact.dx, scale.dx, k.M, "dx");
        FloatAssert.WithinSumBound(dw.Span, exact.dw, scale.dw, k.N, "dw");
        FloatAssert.WithinSumBound(db.Span, exact.db, scale.db, k.N, "db");
    }
}
