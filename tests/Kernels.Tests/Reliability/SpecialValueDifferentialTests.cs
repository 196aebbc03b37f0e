using CommunityToolkit.HighPerformance;
using FsCheck;
using FsCheck.Fluent;
using Kernels.Tests.Convolution;
using Kernels.Tests.Gemm;

namespace Kernels.Tests.Reliability;

/// <summary>How many and which special values a case sprinkles into its inputs.</summary>
public sealed record Specials(int OneIn, bool FiniteOnly, int Seed)
{
    // Infinities, NaNs with payloads (quiet and signalling, both signs), signed zeros, values whose products
    // overflow float, and subnormals.
    private static readonly float[] All =
    [
        float.PositiveInfinity, float.NegativeInfinity, Bits(0x7fc00123), Bits(0x7f800077), Bits(unchecked((int)0xffc00042)),
        0f, -0f, 1e38f, -1e38f, float.MaxValue, float.Epsilon, -float.Epsilon,
    ];
    private static readonly float[] Finite = [0f, -0f, 1e38f, -1e38f, float.MaxValue, 3e30f, float.Epsilon];

    public static float Bits(int bits) => BitConverter.Int32BitsToSingle(bits);

    /// <summary>Random values in [-1, 1] with about one element in <see cref="OneIn"/> replaced by a special value.</summary>
    public float[] Floats(int salt, int count)
    {
        float[] a = TestData.Floats(Seed + salt, count);
        var rng = new Random(Seed * 31 + salt);
        float[] pool = FiniteOnly ? Finite : All;
        for (int i = 0; i < count; i++)
            if (rng.Next(OneIn) == 0) a[i] = pool[rng.Next(pool.Length)];
        return a;
    }

    public override string ToString() => $"1 in {OneIn} {(FiniteOnly ? "finite extremes" : "specials")} seed {Seed}";

    public static Arbitrary<Specials> Arbitrary() => Arb.From(
        from oneIn in Gen.Elements(3, 12, 60)
        from finite in Gen.Elements(false, false, true)
        from seed in Gen.Choose(0, 1 << 20)
        select new Specials(oneIn, finite, seed));
}

public static class SpecialArbitraries
{
    public static Arbitrary<Specials> Specials() => Reliability.Specials.Arbitrary();
    public static Arbitrary<ConvCase> Conv() => Convolution.ConvArbitraries.Conv();
    public static Arbitrary<PoolCase> Pool() => Pooling.PoolArbitraries.Pool();
    public static Arbitrary<MatCase> Mat() => DenseArbitraries.Mat();
    public static Arbitrary<WinogradCase> Winograd() => Convolution.WinogradArbitraries.Case();
}

public sealed class SpecialPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public SpecialPropertyAttribute()
    {
        Arbitrary = [typeof(SpecialArbitraries)];
        MaxTest = 80;
    }
}

/// <summary>
/// Random geometries with infinities, NaNs (with payloads), signed zeros, 1e38 and subnormals, fast kernels against
/// the oracle on whichever ISA leg runs them. The specification is the special-value table of docs/semantics.md:
/// sums follow <see cref="FloatAssert.FollowsIeeeSumRule"/>, pooling is bitwise with any NaN standing for any NaN,
/// ReLU is bitwise with NaN payloads kept.
/// </summary>
[Trait("Category", "Kernel")]
public class SpecialValueDifferentialTests
{
    [SpecialProperty]
    public void Conv_forward_and_backward_follow_ieee_over_the_zero_padded_input(ConvCase k, Specials s)
    {
        float[] x = s.Floats(0, k.X.Length), w = s.Floats(1, k.Filter.Length), b = s.Floats(2, k.F), dout = s.Floats(3, k.Y.Length);
        foreach (Conv2DAlgorithm algorithm in Convolution.Conv2DTests.SumRuleAlgorithms(k))
        foreach (int degree in new[] { 1, 2 })
        {
            float[] y = new float[k.Y.Length], dx = new float[k.X.Length], dw = new float[k.Filter.Length], db = new float[k.F];
            Conv2D.Forward(new(x, k.X), new(w, k.Filter), b, k.P, new(y, k.Y), degree, algorithm);
            Conv2D.Backward(new(dout, k.Y), new(x, k.X), new(w, k.Filter), k.P, new(dx, k.X), new(dw, k.Filter), db, degree, algorithm);

            double[] ey = new double[y.Length], sy = new double[y.Length];
            Kernels.Reference.Conv2D.Forward(new(D(x), k.X), new(D(w), k.Filter), D(b), k.P, new NchwSpan<double>(ey, k.Y));
            Kernels.Reference.Conv2D.Forward(new(FiniteAbs(x), k.X), new(FiniteAbs(w), k.Filter), FiniteAbs(b), k.P, new NchwSpan<double>(sy, k.Y));
            FloatAssert.FollowsIeeeSumRule(y, ey, sy, k.C * k.HH * k.WW + 1, "y");

            double[] ex = new double[dx.Length], ew = new double[dw.Length], eb = new double[db.Length];
            double[] sx = new double[dx.Length], sw = new double[dw.Length], sb = new double[db.Length];
            Kernels.Reference.Conv2D.Backward(new(D(dout), k.Y), new(D(x), k.X), new(D(w), k.Filter), k.P,
                new NchwSpan<double>(ex, k.X), new NchwSpan<double>(ew, k.Filter), eb);
            Kernels.Reference.Conv2D.Backward(new(FiniteAbs(dout), k.Y), new(FiniteAbs(x), k.X), new(FiniteAbs(w), k.Filter), k.P,
                new NchwSpan<double>(sx, k.X), new NchwSpan<double>(sw, k.Filter), sb);
            int pixels = k.N * k.Y.H * k.Y.W;
            FloatAssert.FollowsIeeeSumRule(dx, ex, sx, k.F * k.HH * k.WW, "dx");
            FloatAssert.FollowsIeeeSumRule(dw, ew, sw, pixels, "dw");
            FloatAssert.FollowsIeeeSumRule(db, eb, sb, pixels, "db");
        }
    }

    /// <summary>
    /// Winograd's special-value rule (docs/semantics.md): every output whose exact result is NaN or infinite comes out
    /// NaN or infinite (an infinity may turn into NaN), other outputs of the same 4x4 tile may too; outputs of tiles
    /// whose inputs and filters are all finite stay within the Winograd bound while their tile magnitude is far
    /// from float's range.
    /// </summary>
    [SpecialProperty]
    public void Winograd_follows_its_special_value_rule(WinogradCase wc, Specials s)
    {
        ConvCase k = wc.Conv;
        float[] x = s.Floats(0, k.X.Length), w = s.Floats(1, k.Filter.Length), b = s.Floats(2, k.F).Select(v => float.IsFinite(v) ? v : 0f).ToArray();
        float[] y = new float[k.Y.Length];
        Conv2D.Forward(new(x, k.X), new(w, k.Filter), b, k.P, new(y, k.Y), 2, Conv2DAlgorithm.Winograd);
        double[] e = new double[y.Length];
        Kernels.Reference.Conv2D.Forward(new(D(x), k.X), new(D(w), k.Filter), D(b), k.P, new NchwSpan<double>(e, k.Y));
        bool[] filterFinite = Enumerable.Range(0, k.F).Select(f => w.AsSpan(f * k.C * 9, k.C * 9).ToArray().All(float.IsFinite)).ToArray();
        // The largest magnitude among filter f and the output's tile window, over every channel.
        double Largest(int n, int f, int oy, int ox)
        {
            double largest = 0;
            for (int c = 0; c < k.C; c++)
            {
                for (int t = 0; t < 9; t++) largest = Math.Max(largest, Math.Abs(w[(f * k.C + c) * 9 + t]));
                for (int r = 0; r < 6; r++)
                    for (int q = 0; q < 6; q++)
                    {
                        int h = oy / 4 * 4 - k.Pad + r, v = ox / 4 * 4 - k.Pad + q;
                        if (h >= 0 && h < k.H && v >= 0 && v < k.W) largest = Math.Max(largest, Math.Abs(x[((n * k.C + c) * k.H + h) * k.W + v]));
                    }
            }
            return largest;
        }
        for (int n = 0; n < k.N; n++)
            for (int f = 0; f < k.F; f++)
                for (int oy = 0; oy < k.Y.H; oy++)
                    for (int ox = 0; ox < k.Y.W; ox++)
                    {
                        int i = ((n * k.F + f) * k.Y.H + oy) * k.Y.W + ox;
                        if (!double.IsFinite(e[i]))
                        {
                            Assert.True(!float.IsFinite(y[i]), $"y[{i}]: exact {e[i]} but Winograd gave {y[i]}");
                            continue;
                        }
                        // The tile's 6x6 input window over every channel, and the magnitude that bounds the error.
                        bool finite = filterFinite[f];
                        double magnitude = 0;
                        for (int c = 0; c < k.C && finite; c++)
                        {
                            double mx = 0, mw = 0;
                            for (int t = 0; t < 9; t++) mw = Math.Max(mw, Math.Abs(w[(f * k.C + c) * 9 + t]));
                            for (int r = 0; r < 6; r++)
                                for (int q = 0; q < 6; q++)
                                {
                                    int h = oy / 4 * 4 - k.Pad + r, v = ox / 4 * 4 - k.Pad + q;
                                    if (h < 0 || h >= k.H || v < 0 || v >= k.W) continue;
                                    float value = x[((n * k.C + c) * k.H + h) * k.W + v];
                                    finite &= float.IsFinite(value);
                                    mx = Math.Max(mx, Math.Abs(value));
                                }
                            magnitude += mx * mw;
                        }
                        // Unspecified: a special value, a product sum near float's range, or one input large enough
                        // that a transform overflows before anything is multiplied (inf * 0 = NaN): the input
                        // transform grows values up to 100x (B^T's rows add up to 10 per axis), the filter
                        // transform's sums up to 49x before its 1/24 scale.
                        if (!finite || magnitude > 1e30 || Largest(n, f, oy, ox) > TransformHeadroom) continue;
                        double err = Math.Abs(y[i] - e[i]), bound = Tolerance.WinogradBound(magnitude) + Tolerance.SumBound(1, Math.Abs(b[f]));
                        Assert.True(err <= bound, $"y[{i}]: got {y[i]:R}, exact {e[i]:R}, error {err:E3} > bound {bound:E3}");
                    }
    }

    /// <summary>Inputs above this may overflow inside a Winograd transform (see the rule above).</summary>
    private const double TransformHeadroom = float.MaxValue / 1024;

    [SpecialProperty]
    public void Gemm_and_affine_follow_ieee_sums(MatCase k, Specials s)
    {
        int n = k.N, d = k.D, m = k.M;
        float[] x = s.Floats(0, n * d), w = s.Floats(1, d * m), b = s.Floats(2, m), y = new float[n * m];
        Affine.Forward(new ReadOnlySpan2D<float>(x, n, d), new ReadOnlySpan2D<float>(w, d, m), b, new Span2D<float>(y, n, m), 2);
        double[] e = new double[n * m], sc = new double[n * m];
        Kernels.Reference.Affine.Forward(new ReadOnlySpan2D<double>(D(x), n, d), new ReadOnlySpan2D<double>(D(w), d, m), D(b), new Span2D<double>(e, n, m));
        Kernels.Reference.Affine.Forward(new ReadOnlySpan2D<double>(FiniteAbs(x), n, d), new ReadOnlySpan2D<double>(FiniteAbs(w), d, m), FiniteAbs(b),
            new Span2D<double>(sc, n, m));
        FloatAssert.FollowsIeeeSumRule(y, e, sc, d + 1, "y");
    }

    [SpecialProperty]
    public void Pooling_is_bitwise_with_nan_payloads_unspecified(PoolCase k, Specials s)
    {
        float[] x = s.Floats(0, k.X.Length), dout = s.Floats(1, k.Y.Length);
        foreach (int degree in new[] { 1, 2 })
        {
            float[] y = new float[k.Y.Length], ey = new float[k.Y.Length], dx = new float[k.X.Length], edx = new float[k.X.Length];
            MaxPool2D.Forward(new(x, k.X), k.P, new(y, k.Y), degree);
            Kernels.Reference.MaxPool2D.Forward(new(x, k.X), k.P, new NchwSpan<float>(ey, k.Y));
            FloatAssert.BitwiseEqualAnyNaN(ey, y, "max pool y");
            MaxPool2D.Backward(new(dout, k.Y), new(x, k.X), k.P, new(dx, k.X), degree);
            Kernels.Reference.MaxPool2D.Backward(new(dout, k.Y), new(x, k.X), k.P, new NchwSpan<float>(edx, k.X));
            FloatAssert.BitwiseEqualAnyNaN(edx, dx, "max pool dx");
            AvgPool2D.Forward(new(x, k.X), k.P, new(y, k.Y), degree);
            Kernels.Reference.AvgPool2D.Forward(new(x, k.X), k.P, new NchwSpan<float>(ey, k.Y));
            FloatAssert.BitwiseEqualAnyNaN(ey, y, "avg pool y");
            AvgPool2D.Backward(new(dout, k.Y), k.X, k.P, new(dx, k.X), degree);
            Kernels.Reference.AvgPool2D.Backward(new(dout, k.Y), k.X, k.P, new NchwSpan<float>(edx, k.X));
            FloatAssert.BitwiseEqualAnyNaN(edx, dx, "avg pool dx");
        }
    }

    [SpecialProperty]
    public void Relu_is_bitwise_with_nan_payloads_kept(MatCase k, Specials s)
    {
        int n = k.N * k.D;
        float[] x = s.Floats(0, n), dout = s.Floats(1, n);
        float[] y = new float[n], ey = new float[n], dx = new float[n], edx = new float[n];
        Relu.Forward(x, y);
        Kernels.Reference.Relu.Forward<float>(x, ey);
        FloatAssert.BitwiseEqual(ey, y, "relu y");
        Relu.Backward(dout, x, dx);
        Kernels.Reference.Relu.Backward<float>(dout, x, edx);
        FloatAssert.BitwiseEqual(edx, dx, "relu dx");
    }

    [SpecialProperty]
    public void Losses_agree_with_the_oracle_on_special_scores(MatCase k, Specials s)
    {
        int n = k.N, c = k.M;
        // Scores up to 1e38 (not float.MaxValue): shifted scores then stay finite in float as in double.
        float[] scores = s.Floats(0, n * c).Select(v => float.IsFinite(v) ? Math.Clamp(v, -1e38f, 1e38f) : v).ToArray();
        int[] labels = TestData.Labels(s.Seed, n, c);
        float[] d = new float[n * c], ed = new float[n * c];
        float svm = Kernels.Losses.Svm(new ReadOnlySpan2D<float>(scores, n, c), labels, new Span2D<float>(d, n, c));
        float esvm = Kernels.Reference.Losses.Svm(new ReadOnlySpan2D<float>(scores, n, c), labels, new Span2D<float>(ed, n, c));
        FloatAssert.BitwiseEqual(ed, d, "svm dscores"); // the same float margins decide the same counts
        // The loss sums the positive float margins (s_j - s_y) + 1: against that sum in double by the IEEE sum rule
        // (the float oracle, summing in float, may overflow where the fast kernel's double accumulator does not).
        double margins = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                float margin = scores[i * c + j] - scores[i * c + labels[i]] + 1f;
                if (j != labels[i] && margin > 0) margins += margin;
            }
        FloatAssert.FollowsIeeeSumRule([svm], [margins / n], [margins / n], n * c, "svm loss");
        Assert.True(FloatAssert.SameClass(esvm, svm) || float.IsInfinity(esvm), $"svm loss: oracle {esvm}, fast {svm}");

        double[] e = new double[n * c];
        float soft = Kernels.Losses.Softmax(new ReadOnlySpan2D<float>(scores, n, c), labels, new Span2D<float>(d, n, c));
        double esoft = Kernels.Reference.Losses.Softmax(new ReadOnlySpan2D<double>(D(scores), n, c), labels, new Span2D<double>(e, n, c));
        Assert.True(FloatAssert.SameClass(esoft, soft), $"softmax loss: oracle {esoft}, fast {soft}");
        for (int i = 0; i < d.Length; i++) Assert.True(FloatAssert.SameClass(e[i], d[i]), $"softmax dscores[{i}]: oracle {e[i]}, fast {d[i]}");
    }

    private static double[] D(float[] a) => FloatAssert.ToDouble(a);

    /// <summary>|a| with infinities and NaNs as 0: the magnitude of the finite products, which decides whether float can overflow.</summary>
    private static double[] FiniteAbs(float[] a) => a.Select(v => float.IsFinite(v) ? Math.Abs((double)v) : 0).ToArray();
}
