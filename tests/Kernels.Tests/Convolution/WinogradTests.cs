using FsCheck;
using FsCheck.Fluent;
using Kernels.GemmInternals;
using Kernels.Nn;
using Kernels.Simd;

namespace Kernels.Tests.Convolution;

/// <summary>A Winograd problem: 3x3 filters, stride 1, pad 0-2, with the input scaled by Scale and shifted by Offset.</summary>
public sealed record WinogradCase(int N, int C, int H, int W, int F, int Pad, float Scale, float Offset, int Seed)
{
    public ConvCase Conv => new(N, C, H, W, F, 3, 3, 1, Pad, Seed);
    public override string ToString() => $"{Conv} scale {Scale} offset {Offset}";
}

public static class WinogradArbitraries
{
    // Odd sizes and H or W below a tile (4), N = 1 and more, C and F off the vector widths, sometimes many channels
    // (small images then) and large values with an offset (the tile magnitude, not the output, sets the error).
    public static Arbitrary<WinogradCase> Case() => Arb.From(
        from many in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
        from pad in Gen.Choose(0, 2)
        from h in Gen.Choose(Math.Max(1, 3 - 2 * pad), many ? 7 : 19)
        from w in Gen.Choose(Math.Max(1, 3 - 2 * pad), many ? 7 : 19)
        from n in Gen.Choose(1, 3)
        from c in many ? Gen.Choose(40, 130) : Gen.Choose(1, 20)
        from f in Gen.Choose(1, many ? 40 : 20)
        from scale in Gen.Elements(1f, 1f, 1e3f, 1e-3f)
        from offset in Gen.Elements(0f, 0f, 5f)
        from seed in Gen.Choose(0, int.MaxValue)
        select new WinogradCase(n, c, h, w, f, pad, scale, offset * scale, seed),
        k => CaseGen.Shrink(k.Conv).Where(c => c.HH == 3 && c.WW == 3 && c.Stride == 1 && c.Pad <= 2)
            .Select(c => k with { N = c.N, C = c.C, H = c.H, W = c.W, F = c.F, Pad = c.Pad }));
}

public sealed class WinogradPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public WinogradPropertyAttribute()
    {
        Arbitrary = [typeof(WinogradArbitraries)];
        MaxTest = 100;
    }
}

/// <summary>
/// Winograd F(4x4, 3x3) against the double-precision oracle within <see cref="Tolerance.WinogradBound"/> (its error
/// follows each output tile's input magnitude), forward and input gradient; bitwise identical for any thread count.
/// </summary>
[Trait("Category", "Kernel")]
public class WinogradTests
{
    private sealed record Data(float[] X, float[] W, float[] B, float[] Dout);

    private static Data Make(WinogradCase k)
    {
        ConvCase c = k.Conv;
        float[] x = TestData.Floats(k.Seed, c.X.Length).Select(v => v * k.Scale + k.Offset).ToArray();
        return new(x, TestData.Floats(k.Seed + 1, c.Filter.Length), TestData.Floats(k.Seed + 2, c.F), TestData.Floats(k.Seed + 3, c.Y.Length));
    }

    /// <summary>
    /// Per output: sum over the input channels of max|filter| times max|input over the output tile's 6x6 window|.
    /// For the input gradient, input = dout padded by 2 - pad and the filters are w[:, c] over f.
    /// </summary>
    private static double[] TileMagnitude(float[] input, Shape4 inShape, float[] w, int outputs, bool gradient, int pad, Shape4 outShape)
    {
        int n = inShape.N, ci = inShape.C, h = inShape.H, wd = inShape.W;
        double[] maxW = new double[outputs * ci];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < ci; i++)
                for (int t = 0; t < 9; t++)
                    maxW[o * ci + i] = Math.Max(maxW[o * ci + i], Math.Abs(gradient ? w[(i * outputs + o) * 9 + t] : w[(o * ci + i) * 9 + t]));
        int ty = (outShape.H + 3) / 4, tx = (outShape.W + 3) / 4;
        double[] maxX = new double[n * ci * ty * tx];
        for (int b = 0; b < n; b++)
            for (int i = 0; i < ci; i++)
                for (int a = 0; a < ty; a++)
                    for (int q = 0; q < tx; q++)
                        for (int r = 0; r < 6; r++)
                            for (int s = 0; s < 6; s++)
                            {
                                int hh = 4 * a - pad + r, ww = 4 * q - pad + s;
                                if (hh < 0 || hh >= h || ww < 0 || ww >= wd) continue;
                                ref double m = ref maxX[((b * ci + i) * ty + a) * tx + q];
                                m = Math.Max(m, Math.Abs(input[((b * ci + i) * h + hh) * wd + ww]));
                            }
        var result = new double[outShape.Length];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < outputs; o++)
                for (int y = 0; y < outShape.H; y++)
                    for (int x = 0; x < outShape.W; x++)
                    {
                        double s = 0;
                        for (int i = 0; i < ci; i++) s += maxW[o * ci + i] * maxX[((b * ci + i) * ty + y / 4) * tx + x / 4];
                        result[((b * outputs + o) * outShape.H + y) * outShape.W + x] = s;
                    }
        return result;
    }

    private static void WithinWinogradBound(ReadOnlySpan<float> actual, double[] exact, double[] magnitude, double[] biasAbs, string what)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double bound = Tolerance.WinogradBound(magnitude[i]) + Tolerance.SumBound(1, biasAbs[i]);
            double err = Math.Abs(actual[i] - exact[i]);
            Assert.True(err <= bound, $"{what}[{i}]: got {actual[i]:R}, exact {exact[i]:R}, error {err:E3} > bound {bound:E3}");
        }
    }

    [WinogradProperty]
    public void Forward_matches_the_oracle_within_the_winograd_bound(WinogradCase k)
    {
        ConvCase c = k.Conv;
        Data d = Make(k);
        var y = new Guarded(c.Y.Length);
        Conv2D.Forward(new(d.X, c.X), new(d.W, c.Filter), d.B, c.P, new(y.Span, c.Y), 1, Conv2DAlgorithm.Winograd);
        y.AssertIntact("y");
        double[] exact = new double[c.Y.Length];
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), c.X), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), c.Filter),
            FloatAssert.ToDouble(d.B), c.P, new NchwSpan<double>(exact, c.Y));
        double[] biasAbs = Enumerable.Range(0, c.Y.Length).Select(i => (double)Math.Abs(d.B[i / (c.Y.H * c.Y.W) % c.F])).ToArray();
        WithinWinogradBound(y.Span, exact, TileMagnitude(d.X, c.X, d.W, c.F, false, c.Pad, c.Y), biasAbs, "y");
    }

    [WinogradProperty]
    public void Input_gradient_matches_the_oracle_within_the_winograd_bound(WinogradCase k)
    {
        ConvCase c = k.Conv;
        Data d = Make(k);
        Guarded dx = new(c.X.Length), dw = new(c.Filter.Length), db = new(c.F);
        Conv2D.Backward(new(d.Dout, c.Y), new(d.X, c.X), new(d.W, c.Filter), c.P, new(dx.Span, c.X), new(dw.Span, c.Filter), db.Span, 1, Conv2DAlgorithm.Winograd);
        dx.AssertIntact("dx");
        dw.AssertIntact("dw");
        db.AssertIntact("db");
        double[] ex = new double[c.X.Length], ew = new double[c.Filter.Length], eb = new double[c.F];
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.Dout), c.Y), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), c.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), c.Filter), c.P, new NchwSpan<double>(ex, c.X), new NchwSpan<double>(ew, c.Filter), eb);
        WithinWinogradBound(dx.Span, ex, TileMagnitude(d.Dout, c.Y, d.W, c.C, true, 2 - c.Pad, c.X), new double[c.X.Length], "dx");
        // dw and db stay on im2col + GEMM: the sum bound.
        double[] sw = new double[c.Filter.Length], sb = new double[c.F], sx = new double[c.X.Length];
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.Dout), c.Y), new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.X), c.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.W), c.Filter), c.P, new NchwSpan<double>(sx, c.X), new NchwSpan<double>(sw, c.Filter), sb);
        FloatAssert.WithinSumBound(dw.Span, ew, sw, c.N * c.Y.H * c.Y.W, "dw");
        FloatAssert.WithinSumBound(db.Span, eb, sb, c.N * c.Y.H * c.Y.W, "db");
    }

    [WinogradProperty]
    public void Results_are_bitwise_identical_for_any_thread_count(WinogradCase k)
    {
        ConvCase c = k.Conv;
        Data d = Make(k);
        float[] Run(int degree)
        {
            float[] y = new float[c.Y.Length], dx = new float[c.X.Length], dw = new float[c.Filter.Length], db = new float[c.F];
            Conv2D.Forward(new(d.X, c.X), new(d.W, c.Filter), d.B, c.P, new(y, c.Y), degree, Conv2DAlgorithm.Winograd);
            Conv2D.Backward(new(d.Dout, c.Y), new(d.X, c.X), new(d.W, c.Filter), c.P, new(dx, c.X), new(dw, c.Filter), db, degree, Conv2DAlgorithm.Winograd);
            return [.. y, .. dx, .. dw, .. db];
        }
        float[] one = Run(1);
        foreach (int degree in new[] { 2, 4 }) FloatAssert.BitwiseEqual(one, Run(degree), $"{degree} threads");
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 1, 1)]      // one pixel: a single tile, mostly padding
    [InlineData(2, 3, 3, 3, 2, 0)]      // the smallest valid output (1x1), no padding
    [InlineData(1, 64, 56, 56, 64, 1)]  // shape (e): several blocks of tiles
    [InlineData(3, 33, 9, 30, 47, 2)]   // C and F off every panel size, tile rows split between blocks
    public void Special_shapes_match_the_oracle(int n, int c, int h, int w, int f, int pad)
    {
        var k = new WinogradCase(n, c, h, w, f, pad, 1f, 0f, 11);
        Forward_matches_the_oracle_within_the_winograd_bound(k);
        Input_gradient_matches_the_oracle_within_the_winograd_bound(k);
    }

    [Fact]
    public void Auto_picks_by_geometry()
    {
        Shape4 wide = new(8, 64, 56, 56), narrow = new(8, 64, 8, 8), rgb = new(50, 3, 32, 32);
        Assert.Equal(Conv2DAlgorithm.Winograd, Conv2D.Choose(wide, new Shape4(64, 64, 3, 3), new Conv2DParams(1, 1)));
        Assert.Equal(Conv2DAlgorithm.Winograd, Conv2D.Choose(new(8, 128, 8, 8), new Shape4(128, 128, 3, 3), new Conv2DParams(1, 1))); // small plane, large product
        // 32 filters: Winograd with AVX2's narrow tile, direct with AVX-512's.
        Assert.Equal(Isa.Width == SimdWidth.Vector512 ? Conv2DAlgorithm.Direct : Conv2DAlgorithm.Winograd,
            Conv2D.Choose(wide, new Shape4(32, 64, 3, 3), new Conv2DParams(1, 1)));
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(wide, new Shape4(8, 64, 3, 3), new Conv2DParams(1, 1)));    // 8 filters
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(new(8, 8, 56, 56), new Shape4(64, 8, 3, 3), new Conv2DParams(1, 1))); // 8 inputs
        // An 8x8 plane: not Winograd. 8-wide rows fill half the register tile's columns with Vector256 and narrower
        // (direct); with AVX-512 they leave half idle (im2col).
        Conv2DAlgorithm eightWide = 8 >= PrePackedGemm.PanelWidth(64) / 2 ? Conv2DAlgorithm.Direct : Conv2DAlgorithm.Im2ColGemm;
        Assert.Equal(eightWide, Conv2D.Choose(narrow, new Shape4(64, 64, 3, 3), new Conv2DParams(1, 1)));
        Assert.Equal(eightWide, Conv2D.Choose(narrow, new Shape4(32, 64, 3, 3), new Conv2DParams(1, 1)));
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(wide, new Shape4(64, 64, 3, 3), new Conv2DParams(2, 1)));   // stride 2
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(wide, new Shape4(64, 64, 3, 3), new Conv2DParams(1, 3)));   // pad 3 would crop dx
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(rgb, new Shape4(32, 3, 7, 7), new Conv2DParams(1, 3)));
        Assert.Equal(Conv2DAlgorithm.Im2ColGemm, Conv2D.Choose(rgb, new Shape4(32, 3, 7, 7), new Conv2DParams(3, 3)));  // stride 3
        Assert.Equal(Conv2DAlgorithm.Im2ColGemm, Conv2D.Choose(rgb, new Shape4(32, 3, 1, 1), new Conv2DParams(1, 0)));  // pointwise
    }

    [Fact]
    public void Forcing_winograd_where_it_does_not_apply_is_refused_before_writing()
    {
        float[] x = new float[1 * 2 * 8 * 8], w = new float[3 * 2 * 5 * 5], y = Enumerable.Repeat(7f, 3 * 4 * 4).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => Conv2D.Forward(new(x, 1, 2, 8, 8), new(w, 3, 2, 5, 5), new float[3], new Conv2DParams(1, 0),
            new(y, 1, 3, 4, 4), 1, Conv2DAlgorithm.Winograd));
        Assert.Equal("algorithm", ex.ParamName);
        Assert.Contains("3x3 filters, stride 1 and pad 0-2, but w is 5x5 with stride 1 and pad 0", ex.Message);
        Assert.All(y, v => Assert.Equal(7f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2D.Forward(new(x, 1, 2, 8, 8), new(w, 3, 2, 5, 5), new float[3], new Conv2DParams(1, 0),
            new(y, 1, 3, 4, 4), 1, (Conv2DAlgorithm)42));
    }

    /// <summary>
    /// A Conv2DLayer on Winograd trained against the same layer on im2col: its gradients must be those of its own
    /// forward pass, checked by central differences of the float loss (h = 1e-2; float noise ~1e-6 / h bounds the check
    /// at 1e-2 relative) on a small layer.
    /// </summary>
    [Fact]
    public void Conv_layer_on_winograd_passes_a_gradient_check()
    {
        var layer = new Conv2DLayer<float>(new FastKernels(), "W", 3, 4, 3, 3, new Conv2DParams(1, 1), new Random(3), 0.5) { Algorithm = Conv2DAlgorithm.Winograd };
        var x = NchwTensor<float>.Create(new Shape4(2, 3, 6, 5));
        TestData.Floats(4, x.Span.Length).CopyTo(x.Span);
        float[] dout = TestData.Floats(5, 2 * 4 * 6 * 5);
        double Loss()
        {
            NchwTensor<float> y = layer.Forward(x);
            double s = 0;
            for (int i = 0; i < dout.Length; i++) s += (double)y.Span[i] * dout[i];
            return s;
        }
        Loss();
        NchwTensor<float> dx = layer.Backward(NchwTensor<float>.Wrap((float[])dout.Clone(), new Shape4(2, 4, 6, 5)));
        float[] analyticX = dx.Span.ToArray(), analyticW = (float[])layer.W.Grad.Clone();
        const float h = 1e-2f;
        double Numeric(float[] values, int i)
        {
            float old = values[i];
            values[i] = old + h; layer.W.MarkChanged(); double plus = Loss();
            values[i] = old - h; layer.W.MarkChanged(); double minus = Loss();
            values[i] = old; layer.W.MarkChanged();
            return (plus - minus) / (2 * h);
        }
        float[] xs = x.Span.ToArray();
        for (int i = 0; i < xs.Length; i += 7)
        {
            float old = x.Span[i];
            x.Span[i] = old + h; double plus = Loss();
            x.Span[i] = old - h; double minus = Loss();
            x.Span[i] = old;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analyticX[i]) <= 1e-2 * Math.Max(1, Math.Abs(numeric)), $"dx[{i}]: numeric {numeric}, analytic {analyticX[i]}");
        }
        for (int i = 0; i < analyticW.Length; i += 5)
        {
            double numeric = Numeric(layer.W.Value, i);
            Assert.True(Math.Abs(numeric - analyticW[i]) <= 1e-2 * Math.Max(1, Math.Abs(numeric)), $"dw[{i}]: numeric {numeric}, analytic {analyticW[i]}");
        }
    }
}
