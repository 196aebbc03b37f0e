using CommunityToolkit.HighPerformance;
using Kernels.Tests.Gemm;

namespace Kernels.Tests.Losses;

/// <summary>The float losses against the double oracle within <see cref="Tolerance.LossBound"/>.</summary>
[Trait("Category", "Kernel")]
public class LossTests
{
    private delegate double Oracle(ReadOnlySpan2D<double> s, ReadOnlySpan<int> y, Span2D<double> d);
    private delegate float Fast(ReadOnlySpan2D<float> s, ReadOnlySpan<int> y, Span2D<float> d, int maxDegreeOfParallelism);

    private static void Check(MatCase k, float[] scores, Oracle oracle, Fast fast)
    {
        int n = k.N, c = k.M;
        int[] labels = TestData.Labels(k.Seed + 1, n, c);
        var ed = new double[n * c];
        double expected = oracle(new ReadOnlySpan2D<double>(FloatAssert.ToDouble(scores), n, c), labels, new Span2D<double>(ed, n, c));
        var d = new Guarded(n * c);
        float loss = fast(new ReadOnlySpan2D<float>(scores, n, c), labels, d.Span.AsSpan2D(n, c), 2);
        d.AssertIntact("dscores");
        double bound = Tolerance.LossBound(c, n, Math.Abs(expected) + 1);
        Assert.True(Math.Abs(loss - expected) <= bound, $"loss {loss:R} vs exact {expected:R}: error {Math.Abs(loss - expected):E3} > {bound:E3}");
        for (int i = 0; i < ed.Length; i++)
        {
            double gb = Tolerance.LossBound(c, n, Math.Max(Math.Abs(ed[i]), 1.0 / n));
            Assert.True(Math.Abs(d.Span[i] - ed[i]) <= gb, $"dscores[{i}] {d.Span[i]:R} vs exact {ed[i]:R} (bound {gb:E3})");
        }
    }

    [DenseProperty]
    public void Softmax_matches_the_oracle(MatCase k) =>
        Check(k, TestData.Floats(k.Seed, k.N * k.M, -20, 20), Kernels.Reference.Losses.Softmax, Kernels.Losses.Softmax);

    [DenseProperty]
    public void Softmax_is_finite_for_huge_scores(MatCase k) =>
        Check(k, TestData.Floats(k.Seed, k.N * k.M, -1000, 1000), Kernels.Reference.Losses.Softmax, Kernels.Losses.Softmax);

    [DenseProperty]
    public void Svm_matches_the_oracle(MatCase k)
    {
        // Scores on a grid of 1/8 (exact in float): every margin s_j - s_y + 1 is computed exactly in both
        // precisions, so float and double agree on which margins are positive (a margin of exactly 0 is not).
        var rng = new Random(k.Seed);
        float[] s = Enumerable.Range(0, k.N * k.M).Select(_ => rng.Next(-24, 25) / 8f).ToArray();
        Check(k, s, Kernels.Reference.Losses.Svm, Kernels.Losses.Svm);
    }

    [DenseProperty]
    public void Mse_matches_the_oracle(MatCase k)
    {
        float[] p = TestData.Floats(k.Seed, k.N * k.M), t = TestData.Floats(k.Seed + 1, k.N * k.M);
        var ed = new double[p.Length];
        double expected = Kernels.Reference.Losses.MeanSquaredError(new ReadOnlySpan2D<double>(FloatAssert.ToDouble(p), k.N, k.M),
            new ReadOnlySpan2D<double>(FloatAssert.ToDouble(t), k.N, k.M), new Span2D<double>(ed, k.N, k.M));
        var d = new Guarded(p.Length);
        float loss = Kernels.Losses.MeanSquaredError(new ReadOnlySpan2D<float>(p, k.N, k.M), new ReadOnlySpan2D<float>(t, k.N, k.M), d.Span.AsSpan2D(k.N, k.M));
        d.AssertIntact("dpred");
        Assert.True(Math.Abs(loss - expected) <= Tolerance.LossBound(k.M, k.N, expected + 1));
        for (int i = 0; i < ed.Length; i++)
            Assert.True(Math.Abs(d.Span[i] - ed[i]) <= Tolerance.LossBound(k.M, k.N, Math.Max(Math.Abs(ed[i]), 1.0 / k.N)), $"dpred[{i}]");
    }

    [Fact]
    public void Probabilities_are_the_max_shifted_softmax_even_for_huge_scores()
    {
        float[] scores = [1e4f, 1e4f - 1, -3f, 0f], p = new float[4];
        Kernels.Losses.Probabilities(scores, p);
        double max = scores.Max(), sum = scores.Sum(v => Math.Exp(v - max));
        for (int k = 0; k < 4; k++) Assert.True(Math.Abs(p[k] - Math.Exp(scores[k] - max) / sum) <= 1e-7, $"p[{k}] = {p[k]}");
        Kernels.Losses.Probabilities(scores, scores); // in place
        Assert.Equal(p, scores);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Kernels.Losses.Probabilities(new float[3], new float[4])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Kernels.Losses.Probabilities([], [])).ParamName);
    }
}
