using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Convolution;

public static class ConvArbitraries
{
    // Channels up to 64 but then small images; spatial sizes off the vector widths; stride up to 3 (> filter
    // sometimes), pad up to filter - 1, rectangular filters; one case in eight is a pointwise 1x1 convolution.
    private static readonly Gen<ConvCase> General =
        from big in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from c in CaseGen.Conv(big ? new Bounds(MaxN: 2, MaxC: 64, MaxHW: 9, MaxF: 40, MaxK: 3, MaxStride: 2, MaxMat: 0)
                                   : new Bounds(MaxN: 3, MaxC: 5, MaxHW: 19, MaxF: 9, MaxK: 5, MaxStride: 3, MaxMat: 0))
        select c;

    private static readonly Gen<ConvCase> Pointwise =
        from c in CaseGen.Conv(new Bounds(MaxN: 3, MaxC: 20, MaxHW: 19, MaxF: 20, MaxK: 1, MaxStride: 1, MaxMat: 0))
        select c with { HH = 1, WW = 1, Stride = 1, Pad = 0 };

    public static Arbitrary<ConvCase> Conv() => Arb.From(Gen.Frequency((7, General), (1, Pointwise)), CaseGen.Shrink);
}

public sealed class ConvPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public ConvPropertyAttribute()
    {
        Arbitrary = [typeof(ConvArbitraries)];
        MaxTest = 100;
    }
}

/// <summary>The fast convolution against the double-precision oracle, within the summation bound of each output.</summary>
[Trait("Category", "Kernel")]
public class Conv2DTests
{
    internal sealed record Data(float[] X, float[] W, float[] B, float[] Dout);

    internal static Data Make(IConvProblem k) => new(TestData.Floats(k.Seed, k.X.Length), TestData.Floats(k.Seed + 1, k.Filter.Length),
        TestData.Floats(k.Seed + 2, k.F), TestData.Floats(k.Seed + 3, k.Y.Length));

    /// <summary>The algorithms that follow the IEEE sum rule (Winograd has its own bound: WinogradTests).</summary>
    public static IEnumerable<Conv2DAlgorithm> SumRuleAlgorithms(ConvCase k) =>
        Kernels.Convolution.Direct.Supports(k.Filter, k.P) ? [Conv2DAlgorithm.Im2ColGemm, Conv2DAlgorithm.Direct] : [Conv2DAlgorithm.Im2ColGemm];

    internal static float[] Forward(IConvProblem k, Data d, int degree, Guarded? y = null, Conv2DAlgorithm algorithm = Conv2DAlgorithm.Im2ColGemm)
    {
        y ??= new Guarded(k.Y.Length);
        Conv2D.Forward(new ReadOnlyNchwSpan<float>(d.X, k.X), new ReadOnlyNchwSpan<float>(d.W, k.Filter), d.B, k.P, new NchwSpan<float>(y.Span, k.Y), degree, algorithm);
        return y.ToArray();
    }

    internal static (float[] Dx, float[] Dw, float[] Db) Backward(IConvProblem k, Data d, int degree, Guarded? dx = null, Guarded? dw = null, Guarded? db = null,
        Conv2DAlgorithm algorithm = Conv2DAlgorithm.Im2ColGemm)
    {
        dx ??= new Guarded(k.X.Length);
        dw ??= new Guarded(k.Filter.Length);
        db ??= new Guarded(k.F);
        Conv2D.Backward(new ReadOnlyNchwSpan<float>(d.Dout, k.Y), new ReadOnlyNchwSpan<float>(d.X, k.X), new ReadOnlyNchwSpan<float>(d.W, k.Filter), k.P,
            new NchwSpan<float>(dx.Span, k.X), new NchwSpan<float>(dw.Span, k.Filter), db.Span, degree, algorithm);
        return (dx.ToArray(), dw.ToArray(), db.ToArray());
    }

    [ConvProperty]
    public void Forward_matches_the_oracle(ConvCase k)
    {
        foreach (Conv2DAlgorithm algorithm in SumRuleAlgorithms(k)) ForwardMatches(k, algorithm);
    }

    private static void ForwardMatches(ConvCase k, Conv2DAlgorithm algorithm)
    {
        Data d = Make(k);
        var y = new Guarded(k.Y.Length);
        float[] fast = Forward(k, d, 1, y, algorithm);
        y.AssertIntact($"y ({algorithm})");

        double[] exact = new double[k.Y.Length], scale = new double[k.Y.Length];
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), k.X), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), k.Filter),
            FloatAssert.ToDouble(d.B), k.P, new NchwSpan<double>(exact, k.Y));
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.X), k.X), new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.W), k.Filter),
            FloatAssert.Abs(d.B), k.P, new NchwSpan<double>(scale, k.Y));
        FloatAssert.WithinSumBound(fast, exact, scale, k.C * k.HH * k.WW + 1, $"y ({algorithm})");
    }

    [ConvProperty]
    public void Backward_matches_the_oracle(ConvCase k)
    {
        Data d = Make(k);
        Guarded gx = new(k.X.Length), gw = new(k.Filter.Length), gb = new(k.F);
        (float[] dx, float[] dw, float[] db) = Backward(k, d, 1, gx, gw, gb);
        gx.AssertIntact("dx");
        gw.AssertIntact("dw");
        gb.AssertIntact("db");

        double[] ex = new double[k.X.Length], ew = new double[k.Filter.Length], eb = new double[k.F];
        double[] sx = new double[k.X.Length], sw = new double[k.Filter.Length], sb = new double[k.F];
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.Dout), k.Y), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), k.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), k.Filter), k.P, new NchwSpan<double>(ex, k.X), new NchwSpan<double>(ew, k.Filter), eb);
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.Dout), k.Y), new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.X), k.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.W), k.Filter), k.P, new NchwSpan<double>(sx, k.X), new NchwSpan<double>(sw, k.Filter), sb);
        int pixels = k.Y.H * k.Y.W;
        FloatAssert.WithinSumBound(dx, ex, sx, k.F * k.HH * k.WW, "dx");
        FloatAssert.WithinSumBound(dw, ew, sw, k.N * pixels, "dw");
        FloatAssert.WithinSumBound(db, eb, sb, k.N * pixels, "db");
    }

    [ConvProperty]
    public void Results_are_bitwise_identical_for_any_thread_count(ConvCase k)
    {
        Data d = Make(k);
        float[] y1 = Forward(k, d, 1);
        (float[] dx1, float[] dw1, float[] db1) = Backward(k, d, 1);
        foreach (int degree in new[] { 2, 4 })
        {
            foreach (Conv2DAlgorithm algorithm in SumRuleAlgorithms(k))
                FloatAssert.BitwiseEqual(Forward(k, d, 1, algorithm: algorithm), Forward(k, d, degree, algorithm: algorithm), $"y ({algorithm}), {degree} threads");
            (float[] dx, float[] dw, float[] db) = Backward(k, d, degree);
            FloatAssert.BitwiseEqual(dx1, dx, $"dx, {degree} threads");
            FloatAssert.BitwiseEqual(dw1, dw, $"dw, {degree} threads");
            FloatAssert.BitwiseEqual(db1, db, $"db, {degree} threads");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Scratch_beyond_the_largest_array_is_refused_before_anything_is_written(int degree)
    {
        // K = 4096 * 32 * 32 = 2^22 and 529 output pixels: one 512-pixel chunk of columns would hold
        // (2^22 + 1) * 512 floats, more than an array can; the int product used to wrap to a small length.
        // The same exception type at every degree of parallelism (it was AggregateException on 2 threads).
        var xs = new Shape4(1, 4096, 54, 54);
        var ws = new Shape4(1, 4096, 32, 32);
        var ys = new Shape4(1, 1, 23, 23);
        float[] x = new float[xs.Length], w = new float[ws.Length], y = Enumerable.Repeat(7f, ys.Length).ToArray();
        var ex = Assert.Throws<OutOfMemoryException>(() =>
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(x, xs), new ReadOnlyNchwSpan<float>(w, ws), [0f], new Conv2DParams(1, 0), new NchwSpan<float>(y, ys), degree,
                Conv2DAlgorithm.Im2ColGemm)); // the direct path needs no such buffer and computes this one
        Assert.Contains("scratch", ex.Message);
        Assert.All(y, v => Assert.Equal(7f, v));

        float[] dx = new float[xs.Length], dw = new float[ws.Length], db = [7f];
        Assert.Throws<OutOfMemoryException>(() => Conv2D.Backward(new ReadOnlyNchwSpan<float>(y, ys), new ReadOnlyNchwSpan<float>(x, xs),
            new ReadOnlyNchwSpan<float>(w, ws), new Conv2DParams(1, 0), new NchwSpan<float>(dx, xs), new NchwSpan<float>(dw, ws), db, degree));
        Assert.Equal(7f, db[0]);
    }

    [Theory]
    [InlineData(3, 13, 9, 10, 5, 3, 3, 1, 1)]   // K = 117: four 32-wide dw panels (the last partial), split per thread
    [InlineData(1, 64, 30, 30, 4, 3, 3, 1, 1)]   // one image of two pixel chunks, shared by the threads (shifted im2col)
    [InlineData(1, 64, 50, 50, 4, 3, 3, 2, 2)]   // the same from the zero-padded copy (stride 2)
    public void Thread_splits_are_bitwise_identical(int n, int c, int h, int w, int f, int hh, int ww, int stride, int pad) =>
        Results_are_bitwise_identical_for_any_thread_count(new ConvCase(n, c, h, w, f, hh, ww, stride, pad, 3));

    [Theory]
    [InlineData(1, 64, 30, 30, 8, 3, 3, 1, 1)]   // K = 576, 900 pixels: im2col chunks of 512 and 388 pixels
    [InlineData(1, 64, 20, 41, 4, 3, 5, 1, 2)]   // Wout = W with a 3x5 filter: shifted-copy im2col, chunk ends mid-row
    [InlineData(2, 1, 70, 70, 3, 1, 1, 1, 0)]    // pointwise, 4900 pixels
    [InlineData(1, 3, 40, 40, 5, 7, 7, 1, 3)]    // the notes' 7x7 filter with pad 3
    [InlineData(1, 2, 9, 9, 2, 2, 2, 5, 0)]      // stride larger than the filter
    public void Chunked_and_special_shapes_match_the_oracle(int n, int c, int h, int w, int f, int hh, int ww, int stride, int pad)
    {
        var k = new ConvCase(n, c, h, w, f, hh, ww, stride, pad, 7);
        Forward_matches_the_oracle(k);
        Backward_matches_the_oracle(k);
    }
}
