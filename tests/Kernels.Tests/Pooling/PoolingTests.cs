using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Pooling;

public static class PoolArbitraries
{
    // Half the cases take the vectorized 2x2/2 and 3x3/2 paths on rows long enough for Vector512 (W up to 45);
    // the rest are general windows, overlapping or with stride larger than the window.
    public static Arbitrary<PoolCase> Pool() => Arb.From(
        from fast in Gen.Elements(0, 1, 2, 3)
        from c in CaseGen.Pool(new Bounds(MaxN: 3, MaxC: 4, MaxHW: 45, MaxF: 0, MaxK: 4, MaxStride: 3, MaxMat: 0))
        let h = Math.Max(c.H, 3)
        let w = Math.Max(c.W, 3)
        select fast switch
        {
            1 => c with { H = h, W = w, PoolHeight = 2, PoolWidth = 2, Stride = 2 },
            2 => c with { H = h, W = w, PoolHeight = 3, PoolWidth = 3, Stride = 2 },
            _ => c,
        },
        CaseGen.Shrink);
}

public sealed class PoolPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public PoolPropertyAttribute()
    {
        Arbitrary = [typeof(PoolArbitraries)];
        MaxTest = 200;
    }
}

/// <summary>Pooling is exact: the fast kernels equal the oracle bit for bit, ties and NaN included.</summary>
[Trait("Category", "Kernel")]
public class PoolingTests
{
    /// <summary>Values from a tiny set so windows are full of ties, plus NaN, infinities and signed zeros.</summary>
    private static float[] TieHeavy(int seed, int n)
    {
        var rng = new Random(seed);
        float[] pool = [-1, 0, -0f, 1, 2, 2, 2, float.NegativeInfinity, float.PositiveInfinity];
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.Next(40) == 0 ? float.NaN : pool[rng.Next(pool.Length)];
        return x;
    }

    [PoolProperty]
    public void MaxPool_forward_and_backward_equal_the_oracle(PoolCase k)
    {
        float[] x = TieHeavy(k.Seed, k.X.Length), dout = TestData.Floats(k.Seed + 1, k.Y.Length);
        float[] ey = new float[k.Y.Length], edx = new float[k.X.Length];
        Kernels.Reference.MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(ey, k.Y));
        Kernels.Reference.MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(dout, k.Y), new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(edx, k.X));

        var y = new Guarded(k.Y.Length);
        MaxPool2D.Forward(new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(y.Span, k.Y));
        y.AssertIntact("y");
        FloatAssert.BitwiseEqual(ey, y.Span, "y");

        var dx = new Guarded(k.X.Length);
        MaxPool2D.Backward(new ReadOnlyNchwSpan<float>(dout, k.Y), new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(dx.Span, k.X), 2);
        dx.AssertIntact("dx");
        FloatAssert.BitwiseEqual(edx, dx.Span, "dx");
    }

    [PoolProperty]
    public void AvgPool_forward_and_backward_equal_the_oracle(PoolCase k)
    {
        float[] x = TestData.Floats(k.Seed, k.X.Length), dout = TestData.Floats(k.Seed + 1, k.Y.Length);
        float[] ey = new float[k.Y.Length], edx = new float[k.X.Length];
        Kernels.Reference.AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(ey, k.Y));
        Kernels.Reference.AvgPool2D.Backward(new ReadOnlyNchwSpan<float>(dout, k.Y), k.X, k.P, new NchwSpan<float>(edx, k.X));

        var y = new Guarded(k.Y.Length);
        AvgPool2D.Forward(new ReadOnlyNchwSpan<float>(x, k.X), k.P, new NchwSpan<float>(y.Span, k.Y), 2);
        y.AssertIntact("y");
        FloatAssert.BitwiseEqual(ey, y.Span, "y");

        var dx = new Guarded(k.X.Length);
        AvgPool2D.Backward(new ReadOnlyNchwSpan<float>(dout, k.Y), k.X, k.P, new NchwSpan<float>(dx.Span, k.X));
        dx.AssertIntact("dx");
        FloatAssert.BitwiseEqual(edx, dx.Span, "dx");
    }

    [Theory]
    [InlineData(2, 2, 2)]
    [InlineData(3, 3, 2)]
    public void Fast_windows_at_every_row_length_around_the_vector_widths(int ph, int pw, int stride)
    {
        for (int w = 3; w <= 70; w++)
        {
            var k = new PoolCase(1, 2, 5, w, ph, pw, stride, w);
            MaxPool_forward_and_backward_equal_the_oracle(k);
            AvgPool_forward_and_backward_equal_the_oracle(k);
        }
    }
}
