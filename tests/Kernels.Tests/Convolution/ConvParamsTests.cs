using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Convolution;

/// <summary>
/// A convolution with PyTorch's parameters, valid by construction: G groups of Cg channels and Fg filters each,
/// per-axis stride and dilation, four padding sides, and an image at least as large as the dilated filter once padded.
/// </summary>
public sealed record ParamsCase(int N, int G, int Cg, int Fg, int H, int W, int HH, int WW, int SH, int SW, int DH, int DW,
    int PT, int PB, int PL, int PR, int Seed) : IConvProblem
{
    public int C => G * Cg;
    public int F => G * Fg;
    public Shape4 X => new(N, C, H, W);
    public Shape4 Filter => new(F, Cg, HH, WW);
    public Conv2DParams P => new() { StrideH = SH, StrideW = SW, DilationH = DH, DilationW = DW, PadTop = PT, PadBottom = PB, PadLeft = PL, PadRight = PR, Groups = G };
    public Shape4 Y => Geometry.Conv2DOutput(X, Filter, F, P);
    public bool IsValid => H + PT + PB >= DH * (HH - 1) + 1 && W + PL + PR >= DW * (WW - 1) + 1;
    public override string ToString() =>
        $"x ({N},{C},{H},{W}) w ({F},{Cg},{HH},{WW}) groups {G} stride {SH}x{SW} dilation {DH}x{DW} pad {PT}/{PB}/{PL}/{PR} seed {Seed}";
}

public static class ParamsArbitraries
{
    internal static Gen<ParamsCase> Case(Gen<int> groups, int maxCg, int maxFg, Gen<int> kernel, int maxStride, int maxDilation, int maxHW, int maxN) =>
        from g in groups
        from cg in Gen.Choose(1, maxCg)
        from fg in Gen.Choose(1, maxFg)
        from hh in kernel
        from ww in Gen.Frequency((3, Gen.Constant(hh)), (1, kernel))
        from sh in Gen.Choose(1, maxStride)
        from sw in Gen.Frequency((3, Gen.Constant(sh)), (1, Gen.Choose(1, maxStride)))
        from dh in Gen.Choose(1, maxDilation)
        from dw in Gen.Frequency((3, Gen.Constant(dh)), (1, Gen.Choose(1, maxDilation)))
        from pt in Gen.Choose(0, dh * (hh - 1))
        from pb in Gen.Frequency((3, Gen.Constant(pt)), (1, Gen.Choose(0, dh * (hh - 1))))
        from pl in Gen.Choose(0, dw * (ww - 1))
        from pr in Gen.Frequency((3, Gen.Constant(pl)), (1, Gen.Choose(0, dw * (ww - 1))))
        // Images from 1 pixel (a filter larger than the image, padded) up to maxHW.
        from h in Gen.Choose(Math.Max(1, dh * (hh - 1) + 1 - pt - pb), Math.Max(maxHW, dh * (hh - 1) + 1))
        from w in Gen.Choose(Math.Max(1, dw * (ww - 1) + 1 - pl - pr), Math.Max(maxHW, dw * (ww - 1) + 1))
        from n in Gen.Choose(1, maxN)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ParamsCase(n, g, cg, fg, h, w, hh, ww, sh, sw, dh, dw, pt, pb, pl, pr, seed);

    /// <summary>Groups 1-4 of 1-3 channels and filters, 1-3 filters with dilations 1-3 and strides 1-3.</summary>
    public static readonly Gen<ParamsCase> Grouped = Case(Gen.Choose(1, 4), 3, 3, Gen.Choose(1, 3), 3, 3, 11, 3);

    /// <summary>ResNeXt / RegNet groups: 2-8 groups of 4-8 channels, 3x3 filters.</summary>
    public static readonly Gen<ParamsCase> WideGroups = Case(Gen.Choose(2, 8), 8, 8, Gen.Constant(3), 2, 2, 9, 2)
        .Where(k => k.Cg >= 4 && k.Fg >= 4);

    /// <summary>Depthwise: groups = C, multipliers 1-3, 1x1 to 7x7 filters, strides 1-2, dilations 1-2, rows up to 40 (off every vector width).</summary>
    public static readonly Gen<ParamsCase> Depthwise =
        Case(Gen.Choose(1, 6), 1, 3, Gen.Elements(1, 3, 5, 7, 2), 2, 2, 40, 2).Select(k => k with { Cg = 1, H = Math.Min(k.H, Math.Max(12, k.DH * (k.HH - 1) + 1)) });

    public static IEnumerable<ParamsCase> Shrink(ParamsCase x) =>
        new[]
        {
            x with { N = x.N - 1 }, x with { G = x.G - 1 }, x with { Cg = x.Cg - 1 }, x with { Fg = x.Fg - 1 },
            x with { H = x.H - 1 }, x with { W = x.W - 1 }, x with { HH = x.HH - 1 }, x with { WW = x.WW - 1 },
            x with { SH = x.SH - 1 }, x with { SW = x.SW - 1 }, x with { DH = x.DH - 1 }, x with { DW = x.DW - 1 },
            x with { PT = x.PT - 1 }, x with { PB = x.PB - 1 }, x with { PL = x.PL - 1 }, x with { PR = x.PR - 1 },
        }.Where(c => c.N >= 1 && c.G >= 1 && c.Cg >= 1 && c.Fg >= 1 && c.H >= 1 && c.W >= 1 && c.HH >= 1 && c.WW >= 1
                     && c.SH >= 1 && c.SW >= 1 && c.DH >= 1 && c.DW >= 1 && c.PT >= 0 && c.PB >= 0 && c.PL >= 0 && c.PR >= 0 && c.IsValid);

    public static Arbitrary<ParamsCase> Params() =>
        Arb.From(Gen.Frequency((4, Grouped), (1, WideGroups), (3, Depthwise)), Shrink);
}

public sealed class ParamsPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public ParamsPropertyAttribute()
    {
        Arbitrary = [typeof(ParamsArbitraries)];
        MaxTest = 100;
    }
}

/// <summary>Tiny cases for double-precision gradient checks of the oracle.</summary>
public static class ParamsGradArbitraries
{
    public static Arbitrary<ParamsCase> Params() =>
        Arb.From(Gen.Frequency((3, ParamsArbitraries.Case(Gen.Choose(1, 3), 2, 2, Gen.Choose(1, 3), 3, 3, 6, 2)),
            (1, ParamsArbitraries.Case(Gen.Choose(1, 3), 1, 2, Gen.Elements(1, 3, 5), 2, 2, 8, 1))), ParamsArbitraries.Shrink);
}

public sealed class ParamsGradPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public ParamsGradPropertyAttribute()
    {
        Arbitrary = [typeof(ParamsGradArbitraries)];
        MaxTest = 50;
    }
}

/// <summary>
/// Groups, dilation, per-axis stride and asymmetric padding: the oracle against central differences, and every fast
/// algorithm that applies against the oracle, across thread counts, through prepared filters, and inside its spans.
/// </summary>
[Trait("Category", "Kernel")]
public class ConvParamsTests
{
    /// <summary>Every algorithm that follows the IEEE sum rule and applies to the case (Winograd: WinogradTests).</summary>
    public static IEnumerable<Conv2DAlgorithm> Algorithms(ParamsCase k) =>
        new[] { Conv2DAlgorithm.Im2ColGemm, Conv2DAlgorithm.Direct, Conv2DAlgorithm.Depthwise }
            .Where(a => Kernels.ConvAlgorithms.Of(a).Supports(k.Filter, k.P));

    private static float[] Forward(ParamsCase k, Conv2DTests.Data d, int degree, Conv2DAlgorithm algorithm, Guarded? y = null) =>
        Conv2DTests.Forward(k, d, degree, y, algorithm);

    private static (float[] Dx, float[] Dw, float[] Db) Backward(ParamsCase k, Conv2DTests.Data d, int degree, Conv2DAlgorithm algorithm,
        Guarded? dx = null, Guarded? dw = null, Guarded? db = null) => Conv2DTests.Backward(k, d, degree, dx, dw, db, algorithm);

    [ParamsGradProperty]
    public void Oracle_backward_matches_numerical_gradient(ParamsCase k) => Reference.GradientCheckTests.CheckConv2D(k);

    /// <summary>
    /// Groups of the oracle are independent convolutions: the grouped oracle equals, group by group, the plain oracle
    /// on the group's channels and filters (an independent check of the group indexing).
    /// </summary>
    [ParamsProperty]
    public void Oracle_groups_are_independent_convolutions(ParamsCase k)
    {
        double[] x = TestData.Doubles(k.Seed, k.X.Length), w = TestData.Doubles(k.Seed + 1, k.Filter.Length), b = TestData.Doubles(k.Seed + 2, k.F);
        var y = new double[k.Y.Length];
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(x, k.X), new ReadOnlyNchwSpan<double>(w, k.Filter), b, k.P, new NchwSpan<double>(y, k.Y));
        Conv2DParams one = k.P with { Groups = 1 };
        var xs = new Shape4(1, k.Cg, k.H, k.W);
        var ws = new Shape4(k.Fg, k.Cg, k.HH, k.WW);
        Shape4 ys = Geometry.Conv2DOutput(xs, ws, k.Fg, one);
        for (int n = 0; n < k.N; n++)
        for (int g = 0; g < k.G; g++)
        {
            double[] xg = x.AsSpan((n * k.C + g * k.Cg) * k.H * k.W, xs.Length).ToArray(), yg = new double[ys.Length];
            Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(xg, xs), new ReadOnlyNchwSpan<double>(w.AsSpan(g * ws.Length, ws.Length).ToArray(), ws),
                b.AsSpan(g * k.Fg, k.Fg), one, new NchwSpan<double>(yg, ys));
            Assert.Equal(yg, y.AsSpan((n * k.F + g * k.Fg) * ys.H * ys.W, ys.Length).ToArray());
        }
    }

    [ParamsProperty]
    public void Forward_matches_the_oracle(ParamsCase k)
    {
        Conv2DTests.Data d = Conv2DTests.Make(k);
        double[] exact = new double[k.Y.Length], scale = new double[k.Y.Length];
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), k.X), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), k.Filter),
            FloatAssert.ToDouble(d.B), k.P, new NchwSpan<double>(exact, k.Y));
        Kernels.Reference.Conv2D.Forward(new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.X), k.X), new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.W), k.Filter),
            FloatAssert.Abs(d.B), k.P, new NchwSpan<double>(scale, k.Y));
        foreach (Conv2DAlgorithm algorithm in Algorithms(k).Append(Conv2DAlgorithm.Auto))
        {
            var y = new Guarded(k.Y.Length);
            float[] fast = Forward(k, d, 1, algorithm, y);
            y.AssertIntact($"y ({algorithm})");
            FloatAssert.WithinSumBound(fast, exact, scale, k.Cg * k.HH * k.WW + 1, $"y ({algorithm})");
        }
    }

    [ParamsProperty]
    public void Backward_matches_the_oracle(ParamsCase k)
    {
        Conv2DTests.Data d = Conv2DTests.Make(k);
        double[] ex = new double[k.X.Length], ew = new double[k.Filter.Length], eb = new double[k.F];
        double[] sx = new double[k.X.Length], sw = new double[k.Filter.Length], sb = new double[k.F];
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.Dout), k.Y), new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.X), k.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.ToDouble(d.W), k.Filter), k.P, new NchwSpan<double>(ex, k.X), new NchwSpan<double>(ew, k.Filter), eb);
        Kernels.Reference.Conv2D.Backward(new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.Dout), k.Y), new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.X), k.X),
            new ReadOnlyNchwSpan<double>(FloatAssert.Abs(d.W), k.Filter), k.P, new NchwSpan<double>(sx, k.X), new NchwSpan<double>(sw, k.Filter), sb);
        int pixels = k.Y.H * k.Y.W;
        foreach (Conv2DAlgorithm algorithm in Algorithms(k).Append(Conv2DAlgorithm.Auto))
        {
            Guarded gx = new(k.X.Length), gw = new(k.Filter.Length), gb = new(k.F);
            (float[] dx, float[] dw, float[] db) = Backward(k, d, 1, algorithm, gx, gw, gb);
            gx.AssertIntact($"dx ({algorithm})");
            gw.AssertIntact($"dw ({algorithm})");
            gb.AssertIntact($"db ({algorithm})");
            FloatAssert.WithinSumBound(dx, ex, sx, k.Fg * k.HH * k.WW, $"dx ({algorithm})");
            FloatAssert.WithinSumBound(dw, ew, sw, k.N * pixels, $"dw ({algorithm})");
            FloatAssert.WithinSumBound(db, eb, sb, k.N * pixels, $"db ({algorithm})");
        }
    }

    [ParamsProperty]
    public void Results_are_bitwise_identical_for_any_thread_count(ParamsCase k)
    {
        Conv2DTests.Data d = Conv2DTests.Make(k);
        foreach (Conv2DAlgorithm algorithm in Algorithms(k))
        {
            float[] y1 = Forward(k, d, 1, algorithm);
            (float[] dx1, float[] dw1, float[] db1) = Backward(k, d, 1, algorithm);
            foreach (int degree in new[] { 2, 4 })
            {
                FloatAssert.BitwiseEqual(y1, Forward(k, d, degree, algorithm), $"y ({algorithm}), {degree} threads");
                (float[] dx, float[] dw, float[] db) = Backward(k, d, degree, algorithm);
                FloatAssert.BitwiseEqual(dx1, dx, $"dx ({algorithm}), {degree} threads");
                FloatAssert.BitwiseEqual(dw1, dw, $"dw ({algorithm}), {degree} threads");
                FloatAssert.BitwiseEqual(db1, db, $"db ({algorithm}), {degree} threads");
            }
        }
    }

    [ParamsProperty]
    public void Prepared_filters_give_the_unprepared_result(ParamsCase k)
    {
        Conv2DTests.Data d = Conv2DTests.Make(k);
        foreach (Conv2DAlgorithm algorithm in Algorithms(k).Append(Conv2DAlgorithm.Auto))
        {
            PreparedConv2DFilters prepared = Conv2D.Prepare(new ReadOnlyNchwSpan<float>(d.W, k.Filter), d.B, k.P, algorithm);
            Conv2DAlgorithm run = algorithm != Conv2DAlgorithm.Auto ? algorithm : Conv2D.Choose(k.X, k.Filter, k.P);
            var y = new Guarded(k.Y.Length);
            Conv2D.Forward(new ReadOnlyNchwSpan<float>(d.X, k.X), prepared, new NchwSpan<float>(y.Span, k.Y), 2);
            y.AssertIntact($"y ({algorithm})");
            FloatAssert.BitwiseEqual(Forward(k, d, 1, run), y.ToArray(), $"prepared {algorithm} (ran {run})");
        }
    }

    [Fact]
    public void Auto_picks_depthwise_for_one_channel_per_filter_and_direct_for_small_groups()
    {
        var dw = new Conv2DParams(1, 1) { Groups = 32 };
        Assert.Equal(Conv2DAlgorithm.Depthwise, Conv2D.Choose(new Shape4(1, 32, 56, 56), new Shape4(64, 1, 3, 3), dw));
        // ResNeXt's 32 groups of 4: rows of 28 fill the direct tile's vectors on every ISA.
        Assert.Equal(Conv2DAlgorithm.Direct, Conv2D.Choose(new Shape4(1, 128, 28, 28), new Shape4(128, 4, 3, 3), new Conv2DParams(1, 1) { Groups = 32 }));
        // Winograd's transforms assume adjacent taps: never with dilation, even where it wins undilated.
        Assert.Equal(Conv2DAlgorithm.Winograd, Conv2D.Choose(new Shape4(1, 64, 56, 56), new Shape4(64, 64, 3, 3), new Conv2DParams(1, 1)));
        Assert.NotEqual(Conv2DAlgorithm.Winograd, Conv2D.Choose(new Shape4(1, 64, 56, 56), new Shape4(64, 64, 3, 3), new Conv2DParams(1, 2) { Dilation = 2 }));
    }

    [Fact]
    public void The_two_argument_params_mean_the_same_on_both_axes()
    {
        var p = new Conv2DParams(2, 1);
        Assert.Equal(new Conv2DParams { StrideH = 2, StrideW = 2, PadTop = 1, PadBottom = 1, PadLeft = 1, PadRight = 1 }, p);
        Assert.Equal((1, 1, 1), (p.DilationH, p.DilationW, p.Groups));
        Assert.Equal((2, 1, 1), (p.Stride, p.Pad, p.Dilation));
        Assert.Equal(new Conv2DParams(), new Conv2DParams(1, 0));
        var skew = p with { StrideW = 3, PadRight = 0 };
        Assert.Throws<InvalidOperationException>(() => skew.Stride);
        Assert.Throws<InvalidOperationException>(() => skew.Pad);
        Assert.Contains("StrideW = 3", skew.ToString());
    }

    [Theory]
    // (padded - dilated extent) / stride + 1, by hand
    [InlineData(10, 3, 1, 0, 0, 3, 4)]  // (10 - 7) / 1 + 1
    [InlineData(10, 3, 2, 1, 0, 2, 4)]  // (11 - 5) / 2 + 1
    [InlineData(7, 5, 2, 2, 1, 1, 3)]   // (10 - 5) / 2 + 1
    [InlineData(5, 3, 1, 1, 1, 2, 3)]   // (7 - 5) / 1 + 1
    public void Output_size_follows_pytorchs_rule(int input, int filter, int stride, int padBefore, int padAfter, int dilation, int expected) =>
        Assert.Equal(expected, Geometry.OutputSize(input, filter, stride, padBefore, padAfter, dilation));
}
