using FsCheck;
using FsCheck.Fluent;

namespace Kernels.Tests.Normalization;

/// <summary>A batch norm problem: x (N, C, H, W) with N*H*W &gt;= 2, values mean + spread * U(-1, 1) per channel.</summary>
public sealed record BnCase(int N, int C, int H, int W, float Mean, float Spread, int Seed)
{
    public Shape4 X => new(N, C, H, W);
    public override string ToString() => $"x ({N},{C},{H},{W}) mean {Mean} spread {Spread} seed {Seed}";
}

public static class BnArbitraries
{
    // W up to 37 crosses every vector width and the 64-vector chunk of PlaneSums at H*W > 1024.
    public static Arbitrary<BnCase> Bn() => Arb.From(
        from n in Gen.Choose(1, 3)
        from c in Gen.Choose(1, 4)
        from h in Gen.Choose(1, 9)
        from w in Gen.Choose(1, 37)
        from mean in Gen.Elements(0f, 3f, -50f, 1e4f)
        from spread in Gen.Elements(1f, 0.01f, 20f)
        from seed in Gen.Choose(0, int.MaxValue)
        where n * h * w >= 2
        select new BnCase(n, c, h, w, mean, spread, seed),
        k => new[] { k with { N = k.N - 1 }, k with { C = k.C - 1 }, k with { H = k.H - 1 }, k with { W = k.W - 1 } }
            .Where(s => s.N >= 1 && s.C >= 1 && s.H >= 1 && s.W >= 1 && s.N * s.H * s.W >= 2));
}

public sealed class BnPropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public BnPropertyAttribute()
    {
        Arbitrary = [typeof(BnArbitraries)];
        MaxTest = 150;
    }
}

/// <summary>BatchNorm2D's fast kernels against the double oracle within <see cref="Tolerance.BatchNorm"/>.</summary>
[Trait("Category", "Kernel")]
public class BatchNormTests
{
    public static float[] Input(BnCase k)
    {
        float[] x = TestData.Floats(k.Seed, k.X.Length);
        for (int i = 0; i < x.Length; i++) x[i] = k.Mean + k.Spread * x[i];
        return x;
    }

    public sealed record Forward(float[] Y, float[] RunningMean, float[] RunningVar, float[] SavedMean, float[] SavedInvStd);

    public static Forward RunFast(BnCase k, float[] x, float[] gamma, float[] beta, int degree, bool inPlace = false)
    {
        float[] rm = TestData.Floats(k.Seed + 3, k.C), rv = TestData.Floats(k.Seed + 4, k.C, 0.5f, 2f), sm = new float[k.C], si = new float[k.C];
        float[] y = inPlace ? (float[])x.Clone() : new float[x.Length];
        BatchNorm2D.ForwardTraining(new(inPlace ? y : x, k.X), gamma, beta, new BatchNormParams(1e-5, 0.1), new(y, k.X), rm, rv, sm, si, degree);
        return new(y, rm, rv, sm, si);
    }

    [BnProperty]
    public void Training_forward_matches_the_oracle(BnCase k, bool inPlace)
    {
        float[] x = Input(k), gamma = TestData.Floats(k.Seed + 1, k.C, 0.5f, 2f), beta = TestData.Floats(k.Seed + 2, k.C);
        Forward fast = RunFast(k, x, gamma, beta, 1, inPlace);

        double[] yd = new double[x.Length], rm = FloatAssert.ToDouble(TestData.Floats(k.Seed + 3, k.C));
        double[] rv = FloatAssert.ToDouble(TestData.Floats(k.Seed + 4, k.C, 0.5f, 2f)), sm = new double[k.C], si = new double[k.C];
        Kernels.Reference.BatchNorm2D.ForwardTraining<double>(new(FloatAssert.ToDouble(x), k.X), FloatAssert.ToDouble(gamma), FloatAssert.ToDouble(beta),
            new BatchNormParams(1e-5, 0.1), new(yd, k.X), rm, rv, sm, si);
        for (int c = 0; c < k.C; c++)
        {
            double sigma = Math.Sqrt(1 / (si[c] * si[c]) - 1e-5);
            Assert.True(Math.Abs(fast.SavedMean[c] - sm[c]) <= Tolerance.BatchNorm.Mean(sm[c], sigma), $"{k}: mean[{c}] {fast.SavedMean[c]:R} vs {sm[c]:R}");
            Assert.True(Math.Abs(fast.SavedInvStd[c] - si[c]) <= Tolerance.BatchNorm.Relative(si[c]), $"{k}: invStd[{c}] {fast.SavedInvStd[c]:R} vs {si[c]:R}");
            Assert.True(Math.Abs(fast.RunningMean[c] - rm[c]) <= Tolerance.BatchNorm.Mean(rm[c], sigma), $"{k}: running mean[{c}]");
            Assert.True(Math.Abs(fast.RunningVar[c] - rv[c]) <= Tolerance.BatchNorm.Relative(rv[c]) + 2 * Tolerance.FloatUnitRoundoff, $"{k}: running var[{c}]");
        }
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / k.X.PlaneLength % k.C;
            double xhat = (x[i] - sm[c]) * si[c];
            Assert.True(Math.Abs(fast.Y[i] - yd[i]) <= Tolerance.BatchNorm.Output(gamma[c], xhat, yd[i]), $"{k}: y[{i}] {fast.Y[i]:R} vs {yd[i]:R}");
        }
    }

    [BnProperty]
    public void Backward_matches_the_oracle(BnCase k, bool inPlace)
    {
        float[] x = Input(k), gamma = TestData.Floats(k.Seed + 1, k.C, 0.5f, 2f), beta = TestData.Floats(k.Seed + 2, k.C);
        float[] dout = TestData.Floats(k.Seed + 5, x.Length);
        Forward f = RunFast(k, x, gamma, beta, 1);
        float[] dx = inPlace ? (float[])dout.Clone() : new float[x.Length], dg = new float[k.C], db = new float[k.C];
        BatchNorm2D.Backward(new(inPlace ? dx : dout, k.X), new(x, k.X), gamma, f.SavedMean, f.SavedInvStd, new(dx, k.X), dg, db);

        // The oracle gets the exact statistics of the double forward pass: the gradient of the computation the
        // fast forward approximates (the saved float mean alone is off by up to 0.5 ulp of a mean of 1e4).
        double[] yd = new double[x.Length], rmd = new double[k.C], rvd = new double[k.C], sm = new double[k.C], si = new double[k.C];
        Kernels.Reference.BatchNorm2D.ForwardTraining<double>(new(FloatAssert.ToDouble(x), k.X), FloatAssert.ToDouble(gamma), FloatAssert.ToDouble(beta),
            new BatchNormParams(), new(yd, k.X), rmd, rvd, sm, si);
        double[] dxd = new double[x.Length], dgd = new double[k.C], dbd = new double[k.C];
        Kernels.Reference.BatchNorm2D.Backward<double>(new(FloatAssert.ToDouble(dout), k.X), new(FloatAssert.ToDouble(x), k.X), FloatAssert.ToDouble(gamma),
            sm, si, new(dxd, k.X), dgd, dbd);
        int m = k.N * k.H * k.W;
        var absDout = new double[k.C];
        var absDoutXhat = new double[k.C];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / k.X.PlaneLength % k.C;
            absDout[c] += Math.Abs(dout[i]);
            absDoutXhat[c] += Math.Abs(dout[i] * (x[i] - sm[c]) * si[c]);
        }
        for (int c = 0; c < k.C; c++)
        {
            Assert.True(Math.Abs(db[c] - dbd[c]) <= Tolerance.BatchNorm.Sum(absDout[c]), $"{k}: dbeta[{c}] {db[c]:R} vs {dbd[c]:R}");
            Assert.True(Math.Abs(dg[c] - dgd[c]) <= Tolerance.BatchNorm.Sum(absDoutXhat[c]), $"{k}: dgamma[{c}] {dg[c]:R} vs {dgd[c]:R}");
        }
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / k.X.PlaneLength % k.C;
            double xhat = (x[i] - sm[c]) * si[c];
            double bound = Tolerance.BatchNorm.Dx(gamma[c] * si[c], dout[i], absDout[c] / m, xhat, absDoutXhat[c] / m);
            Assert.True(Math.Abs(dx[i] - dxd[i]) <= bound, $"{k}: dx[{i}] {dx[i]:R} vs {dxd[i]:R}, bound {bound:E3}");
        }
    }

    [BnProperty]
    public void Inference_matches_the_oracle(BnCase k, bool inPlace)
    {
        float[] x = Input(k), gamma = TestData.Floats(k.Seed + 1, k.C, 0.5f, 2f), beta = TestData.Floats(k.Seed + 2, k.C);
        float[] rm = TestData.Floats(k.Seed + 3, k.C), rv = TestData.Floats(k.Seed + 4, k.C, 0.5f, 2f);
        for (int c = 0; c < k.C; c++) rm[c] = k.Mean + k.Spread * rm[c];
        float[] y = inPlace ? (float[])x.Clone() : new float[x.Length];
        BatchNorm2D.ForwardInference(new(inPlace ? y : x, k.X), gamma, beta, rm, rv, 1e-3, new(y, k.X));
        double[] yd = new double[x.Length];
        Kernels.Reference.BatchNorm2D.ForwardInference<double>(new(FloatAssert.ToDouble(x), k.X), FloatAssert.ToDouble(gamma), FloatAssert.ToDouble(beta),
            FloatAssert.ToDouble(rm), FloatAssert.ToDouble(rv), 1e-3, new(yd, k.X));
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / k.X.PlaneLength % k.C;
            double xhat = (x[i] - (double)rm[c]) / Math.Sqrt(rv[c] + 1e-3);
            // Inference has no sums: only the roundings of the scale, the split mean, the FMA (a few u).
            double bound = 4 * Tolerance.FloatUnitRoundoff * (Math.Abs(gamma[c]) * (Math.Abs(xhat) + 1) + Math.Abs(yd[i]));
            Assert.True(Math.Abs(y[i] - yd[i]) <= bound, $"{k}: y[{i}] {y[i]:R} vs {yd[i]:R}");
        }
    }

    /// <summary>
    /// A mean of 1e4 and a spread of 1e-2 (relative 1e-6, near float's resolution): the statistics keep their digits.
    /// E[x^2] - E[x]^2 in float would give a variance off by ~1e8 u ~ 6 relative (often negative).
    /// </summary>
    [Theory]
    [InlineData(1, 1, 1000, 7)]
    [InlineData(8, 3, 17, 19)]
    public void Large_mean_small_spread_keeps_the_variance(int n, int c, int h, int w)
    {
        var k = new BnCase(n, c, h, w, 1e4f, 1e-2f, 42);
        float[] x = Input(k), gamma = Enumerable.Repeat(1f, c).ToArray(), beta = new float[c];
        Forward f = RunFast(k, x, gamma, beta, 1);
        double[] xd = FloatAssert.ToDouble(x);
        for (int ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n).SelectMany(i => xd.Skip((i * c + ch) * h * w).Take(h * w)).ToArray();
            double mean = values.Average(), variance = values.Select(v => (v - mean) * (v - mean)).Average();
            Assert.True(Math.Abs(f.SavedInvStd[ch] * Math.Sqrt(variance + 1e-5) - 1) <= 96 * Tolerance.FloatUnitRoundoff,
                $"channel {ch}: invStd {f.SavedInvStd[ch]:R}, exact {1 / Math.Sqrt(variance + 1e-5):R}");
        }
    }

    [Fact]
    public void Results_are_bitwise_identical_across_thread_counts()
    {
        var k = new BnCase(4, 6, 40, 41, 2f, 3f, 7);
        float[] x = Input(k), gamma = TestData.Floats(1, k.C), beta = TestData.Floats(2, k.C), dout = TestData.Floats(3, x.Length);
        float[]? first = null;
        foreach (int degree in new[] { 1, 2, 4 })
        {
            Forward f = RunFast(k, x, gamma, beta, degree);
            float[] dx = new float[x.Length], dg = new float[k.C], db = new float[k.C], yi = new float[x.Length];
            BatchNorm2D.Backward(new(dout, k.X), new(x, k.X), gamma, f.SavedMean, f.SavedInvStd, new(dx, k.X), dg, db, degree);
            BatchNorm2D.ForwardInference(new(x, k.X), gamma, beta, f.RunningMean, f.RunningVar, 1e-5, new(yi, k.X), degree);
            float[] all = [.. f.Y, .. f.RunningMean, .. f.RunningVar, .. f.SavedMean, .. f.SavedInvStd, .. dx, .. dg, .. db, .. yi];
            if (first is null) first = all;
            else FloatAssert.BitwiseEqual(first, all, $"degree {degree}");
        }
    }

    [Fact]
    public void Rejects_bad_arguments_before_writing()
    {
        var s = new Shape4(2, 3, 4, 5);
        float[] x = TestData.Floats(1, s.Length), y = new float[s.Length], c3 = new float[3], c2 = new float[2];
        var p = new BatchNormParams();
        Assert.Throws<ArgumentException>("gamma", () => BatchNorm2D.ForwardTraining(new(x, s), c2, c3, p, new(y, s), c3, c3, c3, c3));
        Assert.Throws<ArgumentException>("savedInvStd", () => BatchNorm2D.ForwardTraining(new(x, s), c3, c3, p, new(y, s), c3, c3, c3, c2));
        Assert.Throws<ArgumentOutOfRangeException>("p", () => BatchNorm2D.ForwardTraining(new(x, s), c3, c3, p with { Epsilon = 0 }, new(y, s), c3, c3, c3, c3));
        Assert.Throws<ArgumentOutOfRangeException>("p", () => BatchNorm2D.ForwardTraining(new(x, s), c3, c3, p with { Momentum = 1.5 }, new(y, s), c3, c3, c3, c3));
        var one = new Shape4(1, 3, 1, 1);
        Assert.Throws<ArgumentException>("x", () => BatchNorm2D.ForwardTraining(new(x.AsSpan(0, 3), one), c3, c3, p, new(y.AsSpan(0, 3), one), c3, c3, c3, c3));
        float[] big = new float[s.Length + 5];
        var ex = Assert.Throws<ArgumentException>("y", () => BatchNorm2D.ForwardTraining(new(big.AsSpan(0, s.Length), s), c3, c3, p, new(big.AsSpan(5, s.Length), s), c3, c3, c3, c3));
        Assert.Contains("shifted by", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>("epsilon", () => BatchNorm2D.ForwardInference(new(x, s), c3, c3, c3, c3, double.NaN, new(y, s)));
        Assert.Throws<ArgumentException>("runningVar", () => BatchNorm2D.ForwardInference(new(x, s), c3, c3, c3, c2, 1e-5, new(y, s)));
        Assert.Throws<ArgumentException>("dgamma", () => BatchNorm2D.Backward(new(x, s), new(x, s), c3, c3, c3, new(y, s), c2, c3));
        Assert.Throws<ArgumentException>("dout", () => BatchNorm2D.Backward(new(x.AsSpan(0, 60), new Shape4(1, 3, 4, 5)), new(x, s), c3, c3, c3, new(y, s), c3, c3));
        Assert.All(y, v => Assert.Equal(0f, v));
        Assert.All(c3, v => Assert.Equal(0f, v));
    }
}
